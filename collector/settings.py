"""The one settings object. The only reader of os.environ.

Each field declares its flag, environment variable, parser and help text once; the CLI,
the README check and the validation all come from this table. Precedence: flag > env >
default. A bad value raises SettingError with a one-line message.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class SettingError(ValueError):
    """A setting could not be parsed; the message is one line naming it."""


_DURATION_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)?")
_DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration_ms(text: str) -> int:
    """'30m', '90s', '1h', '250ms', or a bare number of seconds → milliseconds (> 0)."""
    m = _DURATION_RE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"expected a duration like 30m, 90s, 1h or 250ms, got {text!r}")
    value = round(float(m.group(1)) * _DURATION_UNITS[m.group(2) or "s"])
    if value <= 0:
        raise ValueError(f"expected a duration above zero, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"expected a number above zero, got {text!r}")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise ValueError(f"expected a port between 1 and 65535, got {text!r}")
    return value


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _host(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError("expected a host name or IP address, got an empty value")
    if text not in ("localhost",):
        try:
            ipaddress.ip_address(text)
        except ValueError:
            if not re.fullmatch(r"[A-Za-z0-9.-]+", text):
                raise ValueError(f"expected a host name or IP address, got {text!r}") from None
    return text


def _text(text: str) -> str:
    return text


def _optional_text(text: str) -> str | None:
    return text.strip() or None


_API_KEY_RE = re.compile(r"[A-Za-z0-9_\-.]{8,200}(:[^:\s]+)?")


def _api_key(text: str) -> str:
    text = text.strip()
    if not _API_KEY_RE.fullmatch(text):
        raise ValueError(
            "expected KEY or KEY:site1,site2 with a key of at least 8 letters, digits, "
            f"'-', '_' or '.', got {text!r}"
        )
    return text


def _log_level(text: str) -> str:
    lowered = text.strip().lower()
    if lowered not in ("debug", "info", "warning", "error"):
        raise ValueError(f"expected debug, info, warning or error, got {text!r}")
    return lowered


def _opt(
    default: Any,
    help: str,
    parse: Callable[[str], Any],
    *,
    flag: str | None = None,
    metavar: str | None = None,
    repeatable: bool = False,
) -> Any:
    return field(
        default=default,
        metadata={
            "help": help,
            "parse": parse,
            "flag": flag,
            "metavar": metavar,
            "repeatable": repeatable,
        },
    )


@dataclass(frozen=True)
class Settings:
    host: str = _opt("127.0.0.1", "address to listen on", _host)
    port: int = _opt(8080, "port to listen on", _port)
    db: str = _opt(
        "./fakeboxer.duckdb", "DuckDB file (`:memory:` for a throw-away run)", _text, metavar="PATH"
    )
    session_timeout_ms: int = _opt(
        30 * 60_000,
        "inactivity that ends a session (30m, 90s, 1h...)",
        parse_duration_ms,
        flag="--session-timeout",
        metavar="DURATION",
    )
    api_keys: tuple[str, ...] = _opt(
        (),
        "API key for the read API, `KEY` or `KEY:site1,site2` (repeatable; the env var "
        "takes several separated by spaces or `;`)",
        _api_key,
        flag="--api-key",
        metavar="KEY",
        repeatable=True,
    )
    strict: bool = _opt(False, "answer every bad hit with 400 JSON, even pixel requests", _bool)
    cookie_domain: str | None = _opt(
        None, "Domain attribute of the cookies the collector sets", _optional_text, metavar="DOMAIN"
    )
    cookie_secure: bool = _opt(False, "always mark collector cookies Secure", _bool)
    queue_max: int = _opt(
        100_000, "hits waiting for the writer before answering 503", _positive_int, metavar="N"
    )
    batch_max: int = _opt(
        20_000, "most hits the writer commits in one transaction", _positive_int, metavar="N"
    )
    max_url: int = _opt(8 * 1024, "longest accepted URL in bytes", _positive_int, metavar="BYTES")
    max_body: int = _opt(
        64 * 1024, "longest accepted POST body in bytes", _positive_int, metavar="BYTES"
    )
    max_props: int = _opt(200, "most properties on one hit", _positive_int, metavar="N")
    max_name: int = _opt(128, "longest property name in bytes", _positive_int, metavar="BYTES")
    max_value: int = _opt(
        4 * 1024, "longest property value in bytes", _positive_int, metavar="BYTES"
    )
    db_memory_mb: int = _opt(
        256,
        "most memory DuckDB may hold for its buffers, in MiB (larger reads spill to "
        "temporary files instead of growing the process)",
        _positive_int,
        metavar="MIB",
    )
    read_your_writes: bool = _opt(
        True,
        "API and control reads wait until every hit acknowledged before them is committed "
        "(off: they see what is committed now; for measuring freshness)",
        _bool,
    )
    log_level: str = _opt("info", "debug, info, warning or error", _log_level, metavar="LEVEL")
    debug: bool = _opt(False, "show tracebacks instead of one-line errors", _bool)

    @property
    def in_memory(self) -> bool:
        return self.db == ":memory:"


def setting_fields() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(Settings))


def flag_of(f: dataclasses.Field[Any]) -> str:
    return f.metadata["flag"] or "--" + f.name.replace("_", "-")


def env_of(f: dataclasses.Field[Any]) -> str:
    return (
        "FAKEBOXER_"
        + flag_of(f).removeprefix("--").replace("-", "_").upper()
        + ("S" if f.metadata["repeatable"] else "")
    )


def load_settings(
    flags: Mapping[str, Sequence[str] | str | None], environ: Mapping[str, str] | None = None
) -> Settings:
    """Build Settings from parsed flag strings (by field name) and the environment."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in setting_fields():
        parse: Callable[[str], Any] = f.metadata["parse"]
        raw: Sequence[str] | str | None = flags.get(f.name)
        source = flag_of(f)
        if raw is None or (f.metadata["repeatable"] and not raw):
            env_value = environ.get(env_of(f))
            if env_value is None:
                continue
            source = env_of(f)
            raw = (
                [p for p in re.split(r"[\s;]+", env_value) if p]
                if f.metadata["repeatable"]
                else env_value
            )
        try:
            if f.metadata["repeatable"]:
                assert not isinstance(raw, str)
                values[f.name] = tuple(parse(item) for item in raw)
            else:
                assert isinstance(raw, str)
                values[f.name] = parse(raw)
        except ValueError as exc:
            raise SettingError(f"{source}: {exc}") from None
    return Settings(**values)
