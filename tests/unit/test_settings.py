"""Unit tests of collector.settings: defaults, flag > env > default, parsing and one-line
errors that name the flag or the environment variable (SPEC 1)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from collector.settings import (
    SettingError,
    Settings,
    env_of,
    flag_of,
    load_settings,
    parse_duration_ms,
    setting_fields,
)

README = Path(__file__).resolve().parents[2] / "README.md"

FIELDS = {f.name: f for f in setting_fields()}


def load(flags: dict[str, object] | None = None, env: dict[str, str] | None = None) -> Settings:
    return load_settings(flags or {}, env or {})  # type: ignore[arg-type]


def error_of(flags: dict[str, object] | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(SettingError) as info:
        load(flags, env)
    message = str(info.value)
    assert "\n" not in message, "setting errors are one line"
    return message


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("host", "127.0.0.1"),
        ("port", 8080),
        ("db", "./fakeboxer.duckdb"),
        ("session_timeout_ms", 30 * 60 * 1000),
        ("api_keys", ()),
        ("strict", False),
        ("cookie_domain", None),
        ("cookie_secure", False),
        ("max_url", 8 * 1024),
        ("max_body", 64 * 1024),
        ("max_props", 200),
        ("max_name", 128),
        ("max_value", 4 * 1024),
        ("log_level", "info"),
        ("debug", False),
    ],
)
def test_defaults(name: str, default: object) -> None:
    assert getattr(load(), name) == default


def test_defaults_ignore_unrelated_env() -> None:
    assert load(env={"PORT": "1", "FAKEBOXER": "x", "fakeboxer_port": "2"}) == Settings()


def test_environment_is_not_read_when_a_mapping_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("FAKEBOXER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FAKEBOXER_PORT", "9999")
    assert load_settings({}, {}).port == 8080
    assert load_settings({}).port == 9999  # None: the process environment


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "flag", "env"),
    [
        ("host", "--host", "FAKEBOXER_HOST"),
        ("port", "--port", "FAKEBOXER_PORT"),
        ("db", "--db", "FAKEBOXER_DB"),
        ("session_timeout_ms", "--session-timeout", "FAKEBOXER_SESSION_TIMEOUT"),
        ("api_keys", "--api-key", "FAKEBOXER_API_KEYS"),
        ("strict", "--strict", "FAKEBOXER_STRICT"),
        ("cookie_domain", "--cookie-domain", "FAKEBOXER_COOKIE_DOMAIN"),
        ("cookie_secure", "--cookie-secure", "FAKEBOXER_COOKIE_SECURE"),
        ("queue_max", "--queue-max", "FAKEBOXER_QUEUE_MAX"),
        ("batch_max", "--batch-max", "FAKEBOXER_BATCH_MAX"),
        ("max_url", "--max-url", "FAKEBOXER_MAX_URL"),
        ("max_body", "--max-body", "FAKEBOXER_MAX_BODY"),
        ("max_props", "--max-props", "FAKEBOXER_MAX_PROPS"),
        ("max_name", "--max-name", "FAKEBOXER_MAX_NAME"),
        ("max_value", "--max-value", "FAKEBOXER_MAX_VALUE"),
        ("log_level", "--log-level", "FAKEBOXER_LOG_LEVEL"),
        ("debug", "--debug", "FAKEBOXER_DEBUG"),
    ],
)
def test_flag_and_env_names(name: str, flag: str, env: str) -> None:
    assert flag_of(FIELDS[name]) == flag
    assert env_of(FIELDS[name]) == env


def test_every_setting_has_a_distinct_flag_and_env_var() -> None:
    flags = [flag_of(f) for f in setting_fields()]
    envs = [env_of(f) for f in setting_fields()]
    assert len(set(flags)) == len(flags)
    assert len(set(envs)) == len(envs)
    for env in envs:
        assert re.fullmatch(r"FAKEBOXER_[A-Z0-9_]+", env), env
    for f in setting_fields():
        assert f.metadata["help"], f.name


# --------------------------------------------------------------------------- precedence


def test_flag_beats_env_beats_default() -> None:
    assert load().port == 8080
    assert load(env={"FAKEBOXER_PORT": "9001"}).port == 9001
    assert load({"port": "9000"}, {"FAKEBOXER_PORT": "9001"}).port == 9000


def test_none_flag_falls_back_to_env() -> None:
    assert load({"port": None}, {"FAKEBOXER_PORT": "9001"}).port == 9001


def test_env_is_not_consulted_when_the_flag_is_given() -> None:
    assert load({"port": "9000"}, {"FAKEBOXER_PORT": "not-a-port"}).port == 9000


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("host", "0.0.0.0", "0.0.0.0"),
        ("host", "::1", "::1"),
        ("host", "localhost", "localhost"),
        ("host", "my-host.local", "my-host.local"),
        ("port", "1", 1),
        ("port", "65535", 65535),
        ("db", ":memory:", ":memory:"),
        ("db", "/tmp/x.duckdb", "/tmp/x.duckdb"),
        ("session_timeout_ms", "90s", 90_000),
        ("strict", "true", True),
        ("strict", "1", True),
        ("strict", "YES", True),
        ("strict", "off", False),
        ("strict", "", False),
        ("cookie_domain", ".example.test", ".example.test"),
        ("cookie_domain", "  ", None),
        ("cookie_secure", "on", True),
        ("queue_max", "10", 10),
        ("max_props", "5", 5),
        ("log_level", "DEBUG", "debug"),
        ("log_level", "warning", "warning"),
        ("debug", "false", False),
    ],
)
def test_values_from_flag_and_env(name: str, raw: str, value: object) -> None:
    assert getattr(load({name: raw}), name) == value
    assert getattr(load(env={env_of(FIELDS[name]): raw}), name) == value


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30m", 1_800_000),
        ("90s", 90_000),
        ("1h", 3_600_000),
        ("250ms", 250),
        ("1.5m", 90_000),
        ("90", 90_000),
        ("0.5", 500),
        ("1d", 86_400_000),
        (" 10m ", 600_000),
        ("1ms", 1),
    ],
)
def test_parse_duration_ms(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize(
    "text", ["", "abc", "0", "0m", "-5m", "10x", "m", "1.m", "5 m", "1e3", "0.0001s", "30M"]
)
def test_parse_duration_ms_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration_ms(text)


@pytest.mark.parametrize("text", ["", "abc", "0", "-5m", "10x"])
def test_bad_session_timeout_names_the_flag_or_env(text: str) -> None:
    assert error_of({"session_timeout_ms": text}).startswith("--session-timeout")
    assert error_of(env={"FAKEBOXER_SESSION_TIMEOUT": text}).startswith("FAKEBOXER_SESSION_TIMEOUT")


# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("host", ""),
        ("host", "bad host"),
        ("host", "a/b"),
        ("port", "0"),
        ("port", "65536"),
        ("port", "http"),
        ("port", "-1"),
        ("port", "80.5"),
        ("strict", "maybe"),
        ("cookie_secure", "2"),
        ("queue_max", "0"),
        ("batch_max", "-3"),
        ("max_url", "8k"),
        ("max_body", ""),
        ("max_props", "ten"),
        ("max_name", "0"),
        ("max_value", "1.5"),
        ("log_level", "verbose"),
        ("debug", "yesplease"),
    ],
)
def test_bad_values_name_the_flag_or_env(name: str, raw: str) -> None:
    flag, env = flag_of(FIELDS[name]), env_of(FIELDS[name])
    message = error_of({name: raw})
    assert message.startswith(f"{flag}:")
    assert repr(raw) in message or raw == ""
    env_message = error_of(env={env: raw})
    assert env_message.startswith(f"{env}:")


def test_setting_error_is_a_value_error() -> None:
    assert issubclass(SettingError, ValueError)


# --------------------------------------------------------------------------- api keys

KEY1 = "key-one-1234"
KEY2 = "key_two.5678"
KEY3 = "ABCDEFGH"


@pytest.mark.parametrize(
    ("flag_values", "expected"),
    [
        ([KEY1], (KEY1,)),
        ([KEY1, KEY2], (KEY1, KEY2)),
        ([f"{KEY1}:site1,site2", KEY2], (f"{KEY1}:site1,site2", KEY2)),
        ([f"{KEY3}:example.com"], (f"{KEY3}:example.com",)),
        ([f"  {KEY1}  "], (KEY1,)),
    ],
)
def test_api_keys_from_repeated_flags(flag_values: list[str], expected: tuple[str, ...]) -> None:
    assert load({"api_keys": flag_values}).api_keys == expected


@pytest.mark.parametrize(
    ("env_value", "expected"),
    [
        (KEY1, (KEY1,)),
        (f"{KEY1} {KEY2}", (KEY1, KEY2)),
        (f"{KEY1};{KEY2}", (KEY1, KEY2)),
        (f" {KEY1} ;; {KEY2}\t{KEY3}; ", (KEY1, KEY2, KEY3)),
        (f"{KEY1}:site1,site2;{KEY2}:site3", (f"{KEY1}:site1,site2", f"{KEY2}:site3")),
        ("", ()),
        (" ; ", ()),
    ],
)
def test_api_keys_env_split_on_spaces_and_semicolons(
    env_value: str, expected: tuple[str, ...]
) -> None:
    assert load(env={"FAKEBOXER_API_KEYS": env_value}).api_keys == expected


def test_api_key_flags_beat_env() -> None:
    settings = load({"api_keys": [KEY1]}, {"FAKEBOXER_API_KEYS": f"{KEY2} {KEY3}"})
    assert settings.api_keys == (KEY1,)


def test_empty_api_key_flag_list_falls_back_to_env() -> None:
    assert load({"api_keys": []}, {"FAKEBOXER_API_KEYS": KEY2}).api_keys == (KEY2,)


@pytest.mark.parametrize(
    "bad",
    [
        "short",
        "1234567",
        "has space in it",
        "key-one-1234:",
        "key-one-1234:a:b",
        "key/one/1234",
        ":site1",
        "",
    ],
)
def test_bad_api_keys_rejected(bad: str) -> None:
    assert error_of({"api_keys": [KEY1, bad]}).startswith("--api-key:")


@pytest.mark.parametrize("bad", ["short", f"{KEY1};tiny", "key-one-1234:a:b"])
def test_bad_api_keys_in_env_rejected(bad: str) -> None:
    assert error_of(env={"FAKEBOXER_API_KEYS": bad}).startswith("FAKEBOXER_API_KEYS:")


# --------------------------------------------------------------------------- README


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        name
        for f in setting_fields()
        for name in (flag_of(f), env_of(f))
        if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)
    ]
    assert not missing, f"not in README.md: {missing}"
