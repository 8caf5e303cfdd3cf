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

# (value, event time ms, arrival seq). Stored as-is: orjson writes the tuple as a JSON
# array [value, ts, seq] without any conversion, which keeps the per-batch cost low.
Stamped = tuple[str, int, int]


def is_later(ts: int, seq: int, current: Stamped) -> bool:
    """Latest by event time wins; a tie goes to the later arrival."""
    return ts > current[1] or (ts == current[1] and seq > current[2])


def is_earlier(ts: int, seq: int, current: Stamped) -> bool:
    return ts < current[1] or (ts == current[1] and seq < current[2])


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
    return current is None or is_later(candidate[1], candidate[2], current)


def _earlier(current: Stamped | None, candidate: Stamped) -> bool:
    return current is None or is_earlier(candidate[1], candidate[2], current)


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
    # Inlined comparisons: this loop runs twice per event (session and user).
    target = fold.props
    for name, value in props.items():
        cur = target.get(name)
        if cur is None or ts > cur[1] or (ts == cur[1] and seq > cur[2]):
            target[name] = (value, ts, seq)
    first = fold.first
    last = fold.last
    for name, value in signals.items():
        cur = first.get(name)
        if cur is None or ts < cur[1] or (ts == cur[1] and seq < cur[2]):
            first[name] = (value, ts, seq)
        cur = last.get(name)
        if cur is None or ts > cur[1] or (ts == cur[1] and seq > cur[2]):
            last[name] = (value, ts, seq)


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


# A Fold as nested plain tuples: (start, end, istart, iend, events, pages, props, first,
# last), each of the last three a tuple of (name, (value, ts, seq)) pairs. Long-lived
# caches hold folds in this form because CPython's cyclic GC stops tracking a tuple whose
# items are all atoms or untracked tuples, while a Fold (or a tuple holding a dict) stays
# tracked; each full collection walks every tracked object with the GIL held, and 100,000
# cached Folds made that a ~45 ms pause of the collector.
StampedItems = tuple[tuple[str, Stamped], ...]
PackedFold = tuple[
    int | None,
    int | None,
    int | None,
    int | None,
    int,
    int,
    StampedItems,
    StampedItems,
    StampedItems,
]


def pack(fold: Fold) -> PackedFold:
    """The fold as nested tuples (a copy: later changes to the fold do not reach it)."""
    return (
        fold.start_ms,
        fold.end_ms,
        fold.implicit_start_ms,
        fold.implicit_end_ms,
        fold.events,
        fold.pages,
        tuple(fold.props.items()),
        tuple(fold.first.items()),
        tuple(fold.last.items()),
    )


def unpack(packed: PackedFold) -> Fold:
    """A new Fold equal to the one that was packed."""
    start, end, istart, iend, events, pages, props, first, last = packed
    return Fold(start, end, istart, iend, events, pages, dict(props), dict(first), dict(last))


def to_jsonable(fold: Fold) -> dict[str, Any]:
    """JSON-ready form; stamped values serialise as [value, ts, seq]."""
    return {
        "start": fold.start_ms,
        "end": fold.end_ms,
        "istart": fold.implicit_start_ms,
        "iend": fold.implicit_end_ms,
        "events": fold.events,
        "pages": fold.pages,
        "props": fold.props,
        "first": fold.first,
        "last": fold.last,
    }


def from_jsonable(data: dict[str, Any]) -> Fold:
    def stamped(d: dict[str, list[Any]]) -> dict[str, Stamped]:
        return {k: (str(v[0]), int(v[1]), int(v[2])) for k, v in d.items()}

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
