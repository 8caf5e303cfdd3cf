"""Unit tests of collector.identity: ids, _otui/_ots formats, user and session resolution
and cookie headers (SPEC 3.1, 3.2, 4.1). The shared vectors in tests/vectors/identity.json
are checked here and, later, against the JavaScript pixel."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.identity import (
    OTS_MAX_AGE_S,
    OTUI_MAX_AGE_S,
    OtsState,
    OtuiState,
    UserResolution,
    explicit_session,
    is_valid_id,
    new_otui,
    new_user_id,
    next_ots,
    parse_cookie_header,
    parse_ots,
    parse_otui,
    resolve_user,
    session_id_for,
    set_cookie_header,
    user_random_part,
)
from collector.model import Hit

VECTORS_PATH = Path(__file__).resolve().parent.parent / "vectors" / "identity.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))

NOW = 1_700_000_000_000
TIMEOUT = 30 * 60 * 1000
SITE = "example.com"

U_PARAM = "1606468777834.459913894"
U_LB = "1505135787782.1263221347"
OTUI = "602796880.1646657290585.1646657290585.1646657290585.1.1.0"
U_OTUI = "1646657290585.602796880"
COOKIE = "111111111.1600000000000.1600000000000.1600000000000.2.9"
U_COOKIE = "1600000000000.111111111"
OWNER = "1500000000000.222222222"
RANDOM = 987654321
U_NEW = f"{NOW}.{RANDOM}"


def make_hit(props: dict[str, str] | None = None, **fields: Any) -> Hit:
    all_props = {"ti": "Page"}
    all_props.update(props or {})
    return Hit(site=SITE, title=all_props["ti"], props=all_props, **fields)


class EmailBook:
    """A tiny fake of the email -> user lookup that records every question asked."""

    def __init__(self, owners: dict[tuple[str, str], str] | None = None) -> None:
        self.owners = owners or {}
        self.asked: list[tuple[str, str]] = []

    def __call__(self, site: str, email: str) -> str | None:
        self.asked.append((site, email))
        return self.owners.get((site, email))


def fixed_random(value: int = RANDOM) -> Callable[[], int]:
    return lambda: value


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1606468777834.459913894", True),
        ("1495157259.1528045459293", True),  # lb_uid doc example, parts the other way round
        ("0.0", True),
        ("1.2", True),
        ("12345678901234567890.12345678901234567890", True),
        ("123456789012345678901.1", False),  # over 20 digits
        ("1606468777834", False),
        ("1606468777834.", False),
        (".459913894", False),
        ("1.2.3", False),
        ("abc.def", False),
        ("1a.2", False),
        (" 1.2", False),
        ("1.2 ", False),
        ("1.2\n", False),
        ("-1.2", False),
        ("+1.2", False),
        ("1,2", False),
        ("1e3.2", False),
        ("١.٢", False),  # Arabic-Indic digits are not ASCII digits
        ("", False),
        (".", False),
    ],
)
def test_is_valid_id(value: str, valid: bool) -> None:
    assert is_valid_id(value) is valid


@pytest.mark.parametrize(
    ("user_id", "part"),
    [
        ("1606468777834.459913894", "459913894"),
        ("1700000000000.012345678", "012345678"),
        ("1.2", "2"),
    ],
)
def test_user_random_part(user_id: str, part: str) -> None:
    assert user_random_part(user_id) == part


@pytest.mark.parametrize(
    ("start", "user_id", "expected"),
    [
        (1646657290585, "1646657290585.602796880", "1646657290585.602796880"),
        (1513429739527, "1505135787782.1263221347", "1513429739527.1263221347"),
        (1700000000000, "1606468777834.012345678", "1700000000000.012345678"),
    ],
)
def test_session_id_for(start: int, user_id: str, expected: str) -> None:
    assert session_id_for(start, user_id) == expected
    assert is_valid_id(session_id_for(start, user_id))


def test_first_session_id_equals_user_id() -> None:
    user = new_user_id(NOW, fixed_random())
    assert session_id_for(NOW, user) == user


@pytest.mark.parametrize("random_value", [100_000_000, 123_456_789, 999_999_999])
def test_new_user_id_shape(random_value: int) -> None:
    user = new_user_id(NOW, fixed_random(random_value))
    assert re.fullmatch(r"[0-9]+\.[0-9]{9}", user)
    assert user == f"{NOW}.{random_value}"
    assert is_valid_id(user)
    assert user_random_part(user) == str(random_value)


@settings(max_examples=100, deadline=None)
@given(
    now=st.integers(min_value=0, max_value=4_102_444_800_000),
    random_value=st.integers(min_value=100_000_000, max_value=999_999_999),
)
def test_new_user_id_shape_property(now: int, random_value: int) -> None:
    user = new_user_id(now, fixed_random(random_value))
    ms, _, rand = user.partition(".")
    assert int(ms) == now
    assert re.fullmatch(r"[0-9]{9}", rand)
    assert is_valid_id(user)


# --------------------------------------------------------------------------- _otui / _ots


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "602796880.1646657290585.1646657290585.1646657290585.1.1",
            OtuiState("602796880", 1646657290585, 1646657290585, 1646657290585, 1, 1),
        ),
        (
            "602796880.1646657290585.1646657290585.1646657290585.1.1.0",
            OtuiState("602796880", 1646657290585, 1646657290585, 1646657290585, 1, 1),
        ),
        (
            "1263221347.1505135787782.1510000000000.1513429739527.7.42",
            OtuiState("1263221347", 1505135787782, 1510000000000, 1513429739527, 7, 42),
        ),
        (
            "012345678.1700000000000.1700000000000.1700000000000.1.1",
            OtuiState("012345678", 1700000000000, 1700000000000, 1700000000000, 1, 1),
        ),
    ],
)
def test_parse_otui(value: str, expected: OtuiState) -> None:
    state = parse_otui(value)
    assert state == expected
    assert state is not None
    assert state.user_id == f"{expected.first_visit_ms}.{expected.random}"


@pytest.mark.parametrize(
    "value",
    [
        "602796880.1646657290585.1646657290585.1646657290585.1.1",
        "459913894.1606468777834.1606468777834.1606468777834.3.17",
        "012345678.1700000000000.1700000000000.1700000000000.1.1",
    ],
)
def test_otui_format_round_trip_six_fields(value: str) -> None:
    state = parse_otui(value)
    assert state is not None
    assert state.format() == value
    assert parse_otui(state.format()) == state


def test_otui_format_round_trip_seven_fields() -> None:
    value = "602796880.1646657290585.1646657290585.1646657290585.1.1.0"
    state = parse_otui(value)
    assert state is not None
    formatted = state.format()
    assert formatted == value.rsplit(".", 1)[0]  # written back in the 6-field form
    assert parse_otui(formatted) == state


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "602796880",
        "602796880.1646657290585",
        "602796880.1646657290585.1646657290585.1646657290585.1",  # 5 fields
        "602796880.1646657290585.1646657290585.1646657290585.1.1.0.0",  # 8 fields
        "a02796880.1646657290585.1646657290585.1646657290585.1.1",
        "602796880..1646657290585.1646657290585.1.1",
        "602796880.1646657290585.1646657290585.1646657290585.1.1.",
        "-602796880.1646657290585.1646657290585.1646657290585.1.1",
        " 602796880.1646657290585.1646657290585.1646657290585.1.1",
        "602796880.1646657290585.1646657290585.1646657290585.1.1 ",
        "602796880.1646657290585.1646657290585.1646657290585.1.x",
        "602796880%2E1646657290585.1646657290585.1646657290585.1.1",
    ],
)
def test_parse_otui_rejects(value: str) -> None:
    assert parse_otui(value) is None


@settings(max_examples=150, deadline=None)
@given(
    random=st.from_regex(r"[0-9]{1,20}", fullmatch=True),
    numbers=st.lists(st.integers(min_value=0, max_value=10**15), min_size=5, max_size=5),
)
def test_otui_round_trip_property(random: str, numbers: list[int]) -> None:
    state = OtuiState(random, *numbers)
    assert parse_otui(state.format()) == state
    assert parse_otui(state.format() + ".0") == state
    assert is_valid_id(state.user_id)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "1.1646657290585.1646657290585.1646657290585",
            OtsState(1, 1646657290585, 1646657290585, 1646657290585),
        ),
        (
            "4.1700000000000.1700000060000.1700000120000",
            OtsState(4, 1700000000000, 1700000060000, 1700000120000),
        ),
        ("0.0.0.0", OtsState(0, 0, 0, 0)),
    ],
)
def test_parse_ots(value: str, expected: OtsState) -> None:
    state = parse_ots(value)
    assert state == expected
    assert state is not None
    assert state.format() == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1",
        "1.1700000000000.1700000000000",
        "1.1700000000000.1700000000000.1700000000000.5",
        "x.1700000000000.1700000000000.1700000000000",
        "1..1700000000000.1700000000000",
        "-1.1700000000000.1700000000000.1700000000000",
        "1.1700000000000.1700000000000.1700000000000 ",
    ],
)
def test_parse_ots_rejects(value: str) -> None:
    assert parse_ots(value) is None


@pytest.mark.parametrize(
    ("user_id", "event_ms", "expected"),
    [
        ("1700000000000.123456789", NOW, OtuiState("123456789", NOW, NOW, NOW, 1, 1)),
        (
            "1606468777834.459913894",
            NOW + 500,
            OtuiState("459913894", 1606468777834, NOW + 500, NOW + 500, 1, 1),
        ),
    ],
)
def test_new_otui(user_id: str, event_ms: int, expected: OtuiState) -> None:
    state = new_otui(user_id, event_ms)
    assert state == expected
    assert state.user_id == user_id
    assert parse_otui(state.format()) == state


T = NOW
OPEN = OtsState(3, T, T + 60_000, T + 120_000)


@pytest.mark.parametrize(
    ("previous", "event_ms", "expected"),
    [
        pytest.param(None, T, OtsState(1, T, T, T), id="no-cookie-new-visit"),
        pytest.param(
            OtsState(1, T, T, T), T + 60_000, OtsState(2, T, T, T + 60_000), id="continue"
        ),
        pytest.param(OPEN, T + 120_000, OtsState(4, T, T + 120_000, T + 120_000), id="same-ms"),
        pytest.param(
            OPEN,
            T + 120_000 + TIMEOUT,
            OtsState(4, T, T + 120_000, T + 120_000 + TIMEOUT),
            id="gap-exactly-timeout-continues",
        ),
        pytest.param(
            OPEN,
            T + 120_000 + TIMEOUT + 1,
            OtsState(1, T + 120_001 + TIMEOUT, T + 120_001 + TIMEOUT, T + 120_001 + TIMEOUT),
            id="gap-over-timeout-new-visit",
        ),
        pytest.param(OPEN, T + 30_000, OtsState(4, T, T + 60_000, T + 120_000), id="late-inside"),
        pytest.param(OPEN, T, OtsState(4, T, T + 60_000, T + 120_000), id="late-at-start"),
    ],
)
def test_next_ots(previous: OtsState | None, event_ms: int, expected: OtsState) -> None:
    assert next_ots(previous, event_ms, TIMEOUT) == expected


@pytest.mark.parametrize(
    ("event_ms", "visit_start"),
    [
        pytest.param(T - 3 * 3600_000, T, id="hours-before-the-visit"),
        pytest.param(T - 60_000, T, id="within-timeout-before-the-visit"),
    ],
)
def test_next_ots_late_event_before_the_visit_keeps_the_visit(
    event_ms: int, visit_start: int
) -> None:
    state = next_ots(OPEN, event_ms, TIMEOUT)
    assert state.cur_event_ms == OPEN.cur_event_ms  # the last event time must not go back
    assert state.visit_start_ms == visit_start  # kept: the cookie keeps naming one session


def test_next_ots_sequence_of_a_visit() -> None:
    state = next_ots(None, T, TIMEOUT)
    for minute in range(1, 6):
        state = next_ots(state, T + minute * 60_000, TIMEOUT)
    assert state == OtsState(6, T, T + 4 * 60_000, T + 5 * 60_000)
    after_break = next_ots(state, T + 5 * 60_000 + TIMEOUT + 1, TIMEOUT)
    assert after_break.events == 1
    assert after_break.visit_start_ms == T + 5 * 60_000 + TIMEOUT + 1


# --------------------------------------------------------------------------- resolve_user

R = dict  # short alias for the hit fields of a row


@pytest.mark.parametrize(
    ("fields", "email", "cookie", "expected", "warnings", "asked"),
    [
        pytest.param(
            R(uid=U_PARAM, lb_uid=U_LB, otui=OTUI),
            "ada@example.com",
            COOKIE,
            (U_PARAM, "uid", False),
            [],
            [],
            id="uid-first",
        ),
        pytest.param(
            R(lb_uid=U_LB, otui=OTUI),
            "ada@example.com",
            COOKIE,
            (U_LB, "lb_uid", False),
            [],
            [],
            id="lb_uid-second",
        ),
        pytest.param(
            R(otui=OTUI), "ada@example.com", COOKIE, (U_OTUI, "otui", False), [], [], id="otui"
        ),
        pytest.param(R(), "ada@example.com", COOKIE, (U_COOKIE, "cookie", False), [], [], id="ck"),
        pytest.param(
            R(), "ada@example.com", None, (OWNER, "email", False), [], [(SITE, "ada@example.com")]
        ),
        pytest.param(
            R(),
            "  Ada@Example.COM ",
            None,
            (OWNER, "email", False),
            [],
            [(SITE, "ada@example.com")],
            id="email-lowercased-and-stripped",
        ),
        pytest.param(
            R(),
            "bob@example.com",
            None,
            (U_NEW, "new", True),
            [],
            [(SITE, "bob@example.com")],
            id="email-unknown-new",
        ),
        pytest.param(R(), None, None, (U_NEW, "new", True), [], [], id="nothing-new"),
        pytest.param(R(), "   ", None, (U_NEW, "new", True), [], [], id="blank-email-not-asked"),
        pytest.param(
            R(uid="abc", lb_uid=U_LB),
            None,
            None,
            (U_LB, "lb_uid", False),
            ["invalid_uid"],
            [],
            id="bad-uid-ignored",
        ),
        pytest.param(
            R(uid="1.2.3", lb_uid="x", otui=OTUI),
            None,
            None,
            (U_OTUI, "otui", False),
            ["invalid_uid", "invalid_lb_uid"],
            [],
            id="bad-uid-and-lb_uid",
        ),
        pytest.param(
            R(otui="garbage"),
            None,
            COOKIE,
            (U_COOKIE, "cookie", False),
            ["invalid_otui"],
            [],
            id="bad-otui",
        ),
        pytest.param(
            R(otui="garbage"),
            "ada@example.com",
            "1.2.3",
            (OWNER, "email", False),
            ["invalid_otui", "invalid_otui_cookie"],
            [(SITE, "ada@example.com")],
            id="all-invalid-then-email",
        ),
        pytest.param(
            R(uid=" 1606468777834.459913894"),
            "ada@example.com",
            None,
            (OWNER, "email", False),
            ["invalid_uid"],
            [(SITE, "ada@example.com")],
            id="invalid-uid-email-consulted",
        ),
        pytest.param(
            R(uid="", lb_uid=""),
            None,
            "bad",
            (U_NEW, "new", True),
            ["invalid_uid", "invalid_lb_uid", "invalid_otui_cookie"],
            [],
            id="all-invalid-new",
        ),
        pytest.param(
            R(lb_uid="1495157259.1528045459293"),
            None,
            None,
            ("1495157259.1528045459293", "lb_uid", False),
            [],
            [],
            id="lb_uid-doc-example-taken-as-is",
        ),
    ],
)
def test_resolve_user(
    fields: dict[str, str],
    email: str | None,
    cookie: str | None,
    expected: tuple[str, str, bool],
    warnings: list[str],
    asked: list[tuple[str, str]],
) -> None:
    book = EmailBook({(SITE, "ada@example.com"): OWNER})
    hit = make_hit({"email": email} if email is not None else None, **fields)
    result = resolve_user(hit, cookie, book, NOW, fixed_random())
    assert (result.user_id, result.source, result.minted) == expected
    assert result.warnings == warnings
    assert book.asked == asked
    assert is_valid_id(result.user_id)


def test_resolve_user_email_is_per_dataset() -> None:
    book = EmailBook({("other.com", "ada@example.com"): OWNER})
    result = resolve_user(make_hit({"email": "ada@example.com"}), None, book, NOW, fixed_random())
    assert result.source == "new"
    assert result.user_id == U_NEW


@pytest.mark.parametrize(
    ("source", "from_request"),
    [
        ("uid", True),
        ("lb_uid", True),
        ("otui", True),
        ("cookie", True),
        ("email", False),
        ("new", False),
    ],
)
def test_user_resolution_from_request(source: str, from_request: bool) -> None:
    assert UserResolution(U_PARAM, source, source == "new").from_request is from_request


ID_TEXT = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.from_regex(r"[0-9]{1,14}\.[0-9]{1,10}", fullmatch=True),
    st.from_regex(r"[0-9]{1,10}(\.[0-9]{1,14}){5,6}", fullmatch=True),
)


@settings(max_examples=100, deadline=None)
@given(uid=ID_TEXT, lb_uid=ID_TEXT, otui=ID_TEXT, cookie=ID_TEXT)
def test_resolve_user_never_returns_an_invalid_id(
    uid: str | None, lb_uid: str | None, otui: str | None, cookie: str | None
) -> None:
    result = resolve_user(
        make_hit(uid=uid, lb_uid=lb_uid, otui=otui), cookie, EmailBook(), NOW, fixed_random()
    )
    assert is_valid_id(result.user_id)
    invalid_before_valid = 0
    for i, value in enumerate([uid, lb_uid, otui, cookie]):
        if value is None:
            continue
        if is_valid_id(value) if i < 2 else parse_otui(value) is not None:
            break
        invalid_before_valid += 1
    assert len(result.warnings) == invalid_before_valid
    assert result.minted is (result.source == "new")


# --------------------------------------------------------------------------- explicit_session

REQ_USER = UserResolution(U_COOKIE, "cookie", False)
PARAM_USER = UserResolution(U_PARAM, "uid", False)
NEW_USER = UserResolution(U_NEW, "new", True)
EMAIL_USER = UserResolution(OWNER, "email", False)
VISIT = T - 600_000
COOKIE_OTS = f"5.{VISIT}.{T - 120_000}.{T - 60_000}"  # last event a minute ago


def rand_of(user: UserResolution) -> str:
    return user.user_id.partition(".")[2]


@pytest.mark.parametrize(
    ("fields", "cookie_ots", "user", "event_ms", "expected", "warnings"),
    [
        pytest.param(R(), None, REQ_USER, T, None, [], id="nothing"),
        pytest.param(
            R(sid="1700000000000.5"), COOKIE_OTS, REQ_USER, T, "1700000000000.5", [], id="sid"
        ),
        pytest.param(
            R(sid="1700000000000.5", ots=f"1.{T}.{T}.{T}"),
            None,
            NEW_USER,
            T,
            "1700000000000.5",
            [],
            id="sid-beats-ots",
        ),
        pytest.param(
            R(sid="nope", ots="2.1690000000000.1690000000000.1690000000000"),
            None,
            NEW_USER,
            T,
            f"1690000000000.{RANDOM}",
            ["invalid_sid"],
            id="bad-sid-then-ots",
        ),
        pytest.param(
            R(ots="2.1690000000000.1690000000000.1690000000000"),
            COOKIE_OTS,
            REQ_USER,
            T,
            "1690000000000.111111111",
            [],
            id="ots-beats-cookie",
        ),
        pytest.param(
            R(ots="2.1690000000000.1690000000000.1690000000000"),
            None,
            EMAIL_USER,
            T,
            "1690000000000.222222222",
            [],
            id="ots-for-any-user",
        ),
        pytest.param(
            R(ots="1.2.3"),
            COOKIE_OTS,
            REQ_USER,
            T,
            f"{VISIT}.111111111",
            ["invalid_ots"],
            id="bad-ots-then-cookie",
        ),
        pytest.param(R(), COOKIE_OTS, REQ_USER, T, f"{VISIT}.111111111", [], id="cookie-open"),
        pytest.param(R(), COOKIE_OTS, PARAM_USER, T, f"{VISIT}.459913894", [], id="cookie-uid"),
        pytest.param(R(), COOKIE_OTS, NEW_USER, T, None, [], id="cookie-ignored-new-user"),
        pytest.param(R(), COOKIE_OTS, EMAIL_USER, T, None, [], id="cookie-ignored-email-user"),
        pytest.param(
            R(),
            COOKIE_OTS,
            REQ_USER,
            T - 60_000 + TIMEOUT,
            f"{VISIT}.111111111",
            [],
            id="cookie-at-exactly-timeout",
        ),
        pytest.param(
            R(), COOKIE_OTS, REQ_USER, T - 60_000 + TIMEOUT + 1, None, [], id="cookie-expired"
        ),
        pytest.param(R(), COOKIE_OTS, REQ_USER, VISIT, f"{VISIT}.111111111", [], id="at-start"),
        pytest.param(R(), COOKIE_OTS, REQ_USER, VISIT - 1, None, [], id="before-visit-start"),
        pytest.param(
            R(), "garbage", REQ_USER, T, None, ["invalid_ots_cookie"], id="bad-cookie-counted"
        ),
        pytest.param(R(), "garbage", NEW_USER, T, None, [], id="bad-cookie-not-consulted"),
    ],
)
def test_explicit_session(
    fields: dict[str, str],
    cookie_ots: str | None,
    user: UserResolution,
    event_ms: int,
    expected: str | None,
    warnings: list[str],
) -> None:
    session, got_warnings = explicit_session(
        make_hit(**fields), cookie_ots, user, event_ms, TIMEOUT
    )
    assert session == expected
    assert got_warnings == warnings
    if session is not None:
        assert is_valid_id(session)


def test_explicit_session_from_cookie_shares_user_random_part() -> None:
    session, _ = explicit_session(make_hit(), COOKIE_OTS, REQ_USER, T, TIMEOUT)
    assert session is not None
    assert user_random_part(session) == rand_of(REQ_USER)


# --------------------------------------------------------------------------- cookies


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", {}),
        (f"_otui={OTUI}; _ots=1.2.3.4", {"_otui": OTUI, "_ots": "1.2.3.4"}),
        ("_otui=first; _otui=second", {"_otui": "first"}),
        ('_otpe="https%3A//a.test/"', {"_otpe": "https%3A//a.test/"}),
        ("a=b=c", {"a": "b=c"}),
        ("flag; a=1", {"a": "1"}),
        ("a=; b=2", {"a": "", "b": "2"}),
        ("  a=1  ;b=2;", {"a": "1", "b": "2"}),
        ("=x; a=1", {"a": "1"}),
        (";;;", {}),
    ],
)
def test_parse_cookie_header(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


def cookie_attrs(header: str) -> tuple[str, dict[str, str | None]]:
    first, *rest = header.split("; ")
    attrs: dict[str, str | None] = {}
    for part in rest:
        name, sep, value = part.partition("=")
        attrs[name.lower()] = value if sep else None
    return first, attrs


@pytest.mark.parametrize(
    ("secure", "domain"),
    [(False, None), (True, None), (False, "example.test"), (True, ".example.test")],
)
@pytest.mark.parametrize(("name", "max_age"), [("_otui", OTUI_MAX_AGE_S), ("_ots", OTS_MAX_AGE_S)])
def test_set_cookie_header(name: str, max_age: int, secure: bool, domain: str | None) -> None:
    header = set_cookie_header(name, "1.2.3.4", max_age, secure=secure, domain=domain)
    pair, attrs = cookie_attrs(header)
    assert pair == f"{name}=1.2.3.4"
    assert attrs["path"] == "/"
    assert attrs["samesite"] == "Lax"
    assert attrs["max-age"] == str(max_age)
    assert "httponly" not in attrs
    assert "httponly" not in header.lower()
    assert ("secure" in attrs) is secure
    assert attrs.get("domain") == domain
    assert "\n" not in header and "\r" not in header


def test_cookie_lifetimes() -> None:
    assert OTUI_MAX_AGE_S == 2 * 365 * 24 * 3600
    assert OTS_MAX_AGE_S == 30 * 60


def test_set_cookie_header_round_trips_through_parse() -> None:
    header = set_cookie_header("_otui", OTUI, OTUI_MAX_AGE_S, secure=False, domain=None)
    pair = header.split("; ")[0]
    assert parse_cookie_header(pair) == {"_otui": OTUI}


# --------------------------------------------------------------------------- shared vectors


def test_vectors_file_has_every_section() -> None:
    for section in ("valid_ids", "otui_to_user_id", "session_id", "next_ots", "new_otui"):
        assert VECTORS[section], section


@pytest.mark.parametrize("case", VECTORS["valid_ids"], ids=lambda c: repr(c["id"]))
def test_vector_valid_ids(case: dict[str, Any]) -> None:
    assert is_valid_id(case["id"]) is case["valid"]


@pytest.mark.parametrize("case", VECTORS["otui_to_user_id"], ids=lambda c: repr(c["otui"]))
def test_vector_otui_to_user_id(case: dict[str, Any]) -> None:
    state = parse_otui(case["otui"])
    got = None if state is None else state.user_id
    assert got == case["user_id"]
    # the collector resolves the same id from the cookie and from the otui parameter
    from_cookie = resolve_user(make_hit(), case["otui"], EmailBook(), NOW, fixed_random())
    from_param = resolve_user(make_hit(otui=case["otui"]), None, EmailBook(), NOW, fixed_random())
    if case["user_id"] is None:
        assert from_cookie.source == "new" and from_param.source == "new"
    else:
        assert from_cookie.user_id == from_param.user_id == case["user_id"]


@pytest.mark.parametrize("case", VECTORS["session_id"], ids=lambda c: repr(c["ots"]))
def test_vector_session_id(case: dict[str, Any]) -> None:
    state = parse_ots(case["ots"])
    got = None if state is None else session_id_for(state.visit_start_ms, case["user_id"])
    assert got == case["session_id"]
    user = UserResolution(case["user_id"], "uid", False)
    session, _ = explicit_session(make_hit(ots=case["ots"]), None, user, NOW, TIMEOUT)
    assert session == case["session_id"]


@pytest.mark.parametrize("case", VECTORS["next_ots"], ids=lambda c: c["note"])
def test_vector_next_ots(case: dict[str, Any]) -> None:
    previous = None if case["previous"] is None else parse_ots(case["previous"])
    assert case["previous"] is None or previous is not None
    assert next_ots(previous, case["event_ms"], case["timeout_ms"]).format() == case["expected"]


@pytest.mark.parametrize("case", VECTORS["new_otui"], ids=lambda c: c["user_id"])
def test_vector_new_otui(case: dict[str, Any]) -> None:
    assert new_otui(case["user_id"], case["event_ms"]).format() == case["expected"]


def test_vector_numbers_are_safe_javascript_integers() -> None:
    def numbers(obj: Any) -> list[int]:
        if isinstance(obj, bool):
            return []
        if isinstance(obj, int):
            return [obj]
        if isinstance(obj, dict):
            return [n for v in obj.values() for n in numbers(v)]
        if isinstance(obj, list):
            return [n for v in obj for n in numbers(v)]
        if isinstance(obj, str):
            return [int(p) for p in re.findall(r"[0-9]+", obj)]
        return []

    found = numbers(VECTORS)
    assert found
    assert max(found) < 2**53
