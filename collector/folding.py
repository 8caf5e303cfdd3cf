"""Property folding (SPEC 4.2). Pure.

A fold summarises a set of events (a session's or a user's). Every value is kept with
the (event time, arrival seq) that set it, so "latest by event time wins, ties: later
arrival" is a max over those keys, first-touch attribution is a min, and counters are
sums. All three are commutative and associative: folding events in any order, in any
batches, gives the same fold — a late event simply loses to a later one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from collector import enrich

# (value, order key): the key packs (event time ms, arrival seq) into one int, so
# "later" is one integer comparison on the hot path. See `order_key`.
Stamped = tuple[str, int]

_SEQ_BITS = 64


def order_key(ts: int, seq: int) -> int:
    """Event time first, arrival seq as the tie-break, as one comparable int."""
    return (ts << _SEQ_BITS) | seq


def split_key(key: int) -> tuple[int, int]:
    return key >> _SEQ_BITS, key & ((1 << _SEQ_BITS) - 1)


# Attribution values kept at both ends (first_* and last_*), plus what the lead shows
# as its technical last_* fields.
ATTRIBUTION_KEYS = (
    "url",
    "title",
    "referrer",
    "channel",
    *enrich.UTM_KEYS,
    *enrich.CLICK_IDS,
    "browser",
    "browser_version",
    "platform",
    "ip",
    "user_agent",
    "sw",
    "sh",
)


def event_signals(
    props: dict[str, str], lc: str, ref: str, ip: str, user_agent: str
) -> dict[str, str]:
    """The attribution values one event carries (only the ones it actually has)."""
    signals: dict[str, str] = {}
    if lc:
        signals["url"] = lc
    title = props.get("ti", "")
    if title:
        signals["title"] = title
    referrer = enrich.external_referrer(ref, lc)
    if referrer:
        signals["referrer"] = referrer
    channel = enrich.channel_of(props, referrer)
    if channel:
        signals["channel"] = channel
    for key in (*enrich.UTM_KEYS, *enrich.CLICK_IDS, "sw", "sh"):
        value = props.get(key)
        if value:
            signals[key] = value
    browser, version = (props.get("browser", ""), props.get("browserVersion", ""))
    if not browser and user_agent:
        browser, version = enrich.browser_of(user_agent)
    if browser:
        signals["browser"] = browser
        if version:
            signals["browser_version"] = version
    platform = props.get("platform", "") or (enrich.platform_of(user_agent) if user_agent else "")
    if platform:
        signals["platform"] = platform
    if ip:
        signals["ip"] = ip
    if user_agent:
        signals["user_agent"] = user_agent
    return signals


@dataclass(slots=True)
class Fold:
    start_ms: int | None = None
    end_ms: int | None = None
    # The span of the events placed by the inactivity rule (None: all were explicit).
    implicit_start_ms: int | None = None
    implicit_end_ms: int | None = None
    events: int = 0
    pages: int = 0
    props: dict[str, Stamped] = field(default_factory=dict)
    first: dict[str, Stamped] = field(default_factory=dict)
    last: dict[str, Stamped] = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        stamped = self.props.get(name)
        return stamped[0] if stamped else None

    def first_value(self, name: str, default: str = "") -> str:
        stamped = self.first.get(name)
        return stamped[0] if stamped else default

    def last_value(self, name: str, default: str = "") -> str:
        stamped = self.last.get(name)
        return stamped[0] if stamped else default

    @property
    def duration_ms(self) -> int:
        if self.start_ms is None or self.end_ms is None:
            return 0
        return self.end_ms - self.start_ms


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _later(current: Stamped | None, candidate: Stamped) -> bool:
    return current is None or candidate[1] > current[1]


def _earlier(current: Stamped | None, candidate: Stamped) -> bool:
    return current is None or candidate[1] < current[1]


def add_event(
    fold: Fold,
    ts: int,
    seq: int,
    props: dict[str, str],
    signals: dict[str, str],
    *,
    increment: bool,
    implicit: bool,
) -> None:
    """Fold one event in place."""
    fold.start_ms = _min(fold.start_ms, ts)
    fold.end_ms = _max(fold.end_ms, ts)
    if implicit:
        fold.implicit_start_ms = _min(fold.implicit_start_ms, ts)
        fold.implicit_end_ms = _max(fold.implicit_end_ms, ts)
    fold.events += 1
    if increment:
        fold.pages += 1
    key = order_key(ts, seq)
    target = fold.props
    for name, value in props.items():
        cur = target.get(name)
        if cur is None or key > cur[1]:
            target[name] = (value, key)
    first = fold.first
    last = fold.last
    for name, value in signals.items():
        cur = first.get(name)
        if cur is None or key < cur[1]:
            first[name] = (value, key)
        cur = last.get(name)
        if cur is None or key > cur[1]:
            last[name] = (value, key)


def merge(a: Fold, b: Fold) -> Fold:
    """The fold of the union of two disjoint event sets."""
    out = Fold(
        start_ms=_min(a.start_ms, b.start_ms),
        end_ms=_max(a.end_ms, b.end_ms),
        implicit_start_ms=_min(a.implicit_start_ms, b.implicit_start_ms),
        implicit_end_ms=_max(a.implicit_end_ms, b.implicit_end_ms),
        events=a.events + b.events,
        pages=a.pages + b.pages,
        props=dict(a.props),
        first=dict(a.first),
        last=dict(a.last),
    )
    for name, stamped in b.props.items():
        if _later(out.props.get(name), stamped):
            out.props[name] = stamped
    for name, stamped in b.first.items():
        if _earlier(out.first.get(name), stamped):
            out.first[name] = stamped
    for name, stamped in b.last.items():
        if _later(out.last.get(name), stamped):
            out.last[name] = stamped
    return out


def to_jsonable(fold: Fold) -> dict[str, Any]:
    """JSON-safe form: keys are split back into [value, ts, seq] (JSON ints are 64-bit)."""

    def plain(d: dict[str, Stamped]) -> dict[str, list[Any]]:
        return {k: [v[0], *split_key(v[1])] for k, v in d.items()}

    return {
        "start": fold.start_ms,
        "end": fold.end_ms,
        "istart": fold.implicit_start_ms,
        "iend": fold.implicit_end_ms,
        "events": fold.events,
        "pages": fold.pages,
        "props": plain(fold.props),
        "first": plain(fold.first),
        "last": plain(fold.last),
    }


def from_jsonable(data: dict[str, Any]) -> Fold:
    def stamped(d: dict[str, list[Any]]) -> dict[str, Stamped]:
        return {k: (str(v[0]), order_key(int(v[1]), int(v[2]))) for k, v in d.items()}

    return Fold(
        start_ms=data["start"],
        end_ms=data["end"],
        implicit_start_ms=data["istart"],
        implicit_end_ms=data["iend"],
        events=data["events"],
        pages=data["pages"],
        props=stamped(data["props"]),
        first=stamped(data["first"]),
        last=stamped(data["last"]),
    )


def flat_props(fold: Fold) -> dict[str, str]:
    """The folded properties as plain name → value."""
    return {name: stamped[0] for name, stamped in fold.props.items()}
