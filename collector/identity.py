"""User and session identity rules (SPEC 3.1, 3.2, 4.1 explicit sessions). Pure.

LeadBoxer ids are `<milliseconds>.<random digits>`. The `_otui` cookie stores the user as
`<random>.<firstVisitMs>.<prevVisitMs>.<curVisitMs>.<sessions>.<events>[.x]`, so the user
id is its first two fields swapped. `_ots` stores the session as
`<eventsInSession>.<visitStartMs>.<prevEventMs>.<curEventMs>`, and the session id is
`<visitStartMs>.<user random part>`: a user's first session id equals the user id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from collector.model import Hit

_ID_RE = re.compile(r"[0-9]{1,20}\.[0-9]{1,20}")
_DIGITS_RE = re.compile(r"[0-9]{1,20}")

OTUI_MAX_AGE_S = 2 * 365 * 24 * 3600
OTS_MAX_AGE_S = 30 * 60
OTPE_MAX_AGE_S = 30 * 60


def is_valid_id(value: str) -> bool:
    """True for `<digits>.<digits>`, the only id shape ever stored."""
    return _ID_RE.fullmatch(value) is not None


def user_random_part(user_id: str) -> str:
    return user_id.partition(".")[2]


def session_id_for(visit_start_ms: int, user_id: str) -> str:
    return f"{visit_start_ms}.{user_random_part(user_id)}"


def new_user_id(now_ms: int, random_digits: Callable[[], int]) -> str:
    """A fresh id `<nowMs>.<9 digits>`; `random_digits` returns an int in [1e8, 1e9)."""
    return f"{now_ms}.{random_digits()}"


@dataclass(frozen=True, slots=True)
class OtuiState:
    random: str
    first_visit_ms: int
    prev_visit_ms: int
    cur_visit_ms: int
    sessions: int
    events: int

    @property
    def user_id(self) -> str:
        return f"{self.first_visit_ms}.{self.random}"

    def format(self) -> str:
        return (
            f"{self.random}.{self.first_visit_ms}.{self.prev_visit_ms}."
            f"{self.cur_visit_ms}.{self.sessions}.{self.events}"
        )


@dataclass(frozen=True, slots=True)
class OtsState:
    events: int
    visit_start_ms: int
    prev_event_ms: int
    cur_event_ms: int

    def format(self) -> str:
        return f"{self.events}.{self.visit_start_ms}.{self.prev_event_ms}.{self.cur_event_ms}"


def parse_otui(value: str) -> OtuiState | None:
    """Parse `_otui`/`otui`; None when it is not 6 or 7 dot-separated digit fields."""
    parts = value.split(".")
    if len(parts) not in (6, 7) or not all(_DIGITS_RE.fullmatch(p) for p in parts):
        return None
    return OtuiState(
        parts[0], int(parts[1]), int(parts[2]), int(parts[3]), int(parts[4]), int(parts[5])
    )


def parse_ots(value: str) -> OtsState | None:
    """Parse `_ots`/`ots`; None when it is not 4 dot-separated digit fields."""
    parts = value.split(".")
    if len(parts) != 4 or not all(_DIGITS_RE.fullmatch(p) for p in parts):
        return None
    return OtsState(int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]))


def new_otui(user_id: str, event_ms: int) -> OtuiState:
    """The `_otui` value the collector sets for a user it did not find in a cookie."""
    first, _, rand = user_id.partition(".")
    return OtuiState(rand, int(first), event_ms, event_ms, 1, 1)


def next_ots(previous: OtsState | None, event_ms: int, timeout_ms: int) -> OtsState:
    """The `_ots` after an event: continue the visit within the timeout, else start one.

    A late event (earlier than the visit's last event) leaves the visit as it is: its
    start, and so the session id the cookie names, must not move under later hits.
    """
    if previous is None or event_ms - previous.cur_event_ms > timeout_ms:
        return OtsState(1, event_ms, event_ms, event_ms)
    if event_ms >= previous.cur_event_ms:
        return OtsState(
            previous.events + 1, previous.visit_start_ms, previous.cur_event_ms, event_ms
        )
    return OtsState(
        previous.events + 1,
        previous.visit_start_ms,
        previous.prev_event_ms,
        previous.cur_event_ms,
    )


@dataclass(slots=True)
class UserResolution:
    user_id: str
    source: str  # "uid" | "lb_uid" | "otui" | "cookie" | "email" | "new"
    minted: bool  # a new id: the store has no state for it yet
    warnings: list[str] = field(default_factory=list)

    @property
    def from_request(self) -> bool:
        """The request itself carried the user (param or cookie)."""
        return self.source in ("uid", "lb_uid", "otui", "cookie")


def resolve_user(
    hit: Hit,
    cookie_otui: str | None,
    email_owner: Callable[[str, str], str | None],
    now_ms: int,
    random_digits: Callable[[], int],
) -> UserResolution:
    """SPEC 3.1: uid → lb_uid → otui → `_otui` cookie → email in the dataset → new id.

    Invalid values are ignored as if absent; each is reported as a warning code.
    """
    warnings: list[str] = []
    for source, raw in (("uid", hit.uid), ("lb_uid", hit.lb_uid)):
        if raw is None:
            continue
        if is_valid_id(raw):
            return UserResolution(raw, source, False, warnings)
        warnings.append(f"invalid_{source}")
    for source, raw in (("otui", hit.otui), ("cookie", cookie_otui)):
        if raw is None:
            continue
        state = parse_otui(raw)
        if state is not None:
            return UserResolution(state.user_id, source, False, warnings)
        warnings.append("invalid_otui" if source == "otui" else "invalid_otui_cookie")
    email = hit.props.get("email", "").strip()
    if email:
        owner = email_owner(hit.site, email.lower())
        if owner is not None:
            return UserResolution(owner, "email", False, warnings)
    return UserResolution(new_user_id(now_ms, random_digits), "new", True, warnings)


def explicit_session(
    hit: Hit,
    cookie_ots: str | None,
    user: UserResolution,
    event_ms: int,
    timeout_ms: int,
) -> tuple[str | None, list[str]]:
    """SPEC 4.1: the session a hit names, or None for the inactivity rule.

    `sid` is taken as given; `ots` names the visit that started at its visitStart; the
    `_ots` cookie counts only when the request also carried the user, and only while the
    visit it records is still open (the event is within the timeout of its last event).
    """
    warnings: list[str] = []
    if hit.sid is not None:
        if is_valid_id(hit.sid):
            return hit.sid, warnings
        warnings.append("invalid_sid")
    if hit.ots is not None:
        state = parse_ots(hit.ots)
        if state is not None:
            return session_id_for(state.visit_start_ms, user.user_id), warnings
        warnings.append("invalid_ots")
    if cookie_ots is not None and user.from_request:
        state = parse_ots(cookie_ots)
        if state is None:
            warnings.append("invalid_ots_cookie")
        elif state.visit_start_ms <= event_ms <= state.cur_event_ms + timeout_ms:
            return session_id_for(state.visit_start_ms, user.user_id), warnings
    return None, warnings


def parse_cookie_header(header: str) -> dict[str, str]:
    """Split a Cookie header; the first occurrence of a name wins (most specific path)."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.strip().partition("=")
        if sep and name and name not in cookies:
            cookies[name] = value.strip().strip('"')
    return cookies


def set_cookie_header(
    name: str, value: str, max_age_s: int, *, secure: bool, domain: str | None
) -> str:
    """A Set-Cookie value readable by the pixel script: Path=/, SameSite=Lax, no HttpOnly."""
    parts = [f"{name}={value}", f"Max-Age={max_age_s}", "Path=/", "SameSite=Lax"]
    if domain:
        parts.append(f"Domain={domain}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
