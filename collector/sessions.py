"""Sessionization by inactivity (SPEC 4.1). Pure.

A session is a maximal run of one user's events whose consecutive times are at most
`timeout_ms` apart. Stored sessions are intervals [start, end] that already satisfy the
rule, so adding events only ever *joins* runs: treat every new event as the interval
[t, t], sort everything by start, and sweep, merging whenever the gap to the running end
is within the timeout. The result is the sessionization of the union of all events, so it
cannot depend on the order or batching in which events arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Interval:
    start_ms: int
    end_ms: int
    session_id: str


# Intervals as plain tuples (start, end, session id), for long-lived caches: CPython's
# cyclic GC stops tracking tuples of atoms, not dataclass instances (see folding.pack).
PackedIntervals = tuple[tuple[int, int, str], ...]


def pack_intervals(intervals: list[Interval]) -> PackedIntervals:
    return tuple((iv.start_ms, iv.end_ms, iv.session_id) for iv in intervals)


def unpack_intervals(packed: PackedIntervals) -> list[Interval]:
    return [Interval(start, end, sid) for start, end, sid in packed]


@dataclass(slots=True)
class Group:
    """One session after placing new events: which stored sessions and events it holds."""

    start_ms: int
    end_ms: int
    existing: list[Interval] = field(default_factory=list)
    event_indexes: list[int] = field(default_factory=list)


def place(existing: list[Interval], times: list[int], timeout_ms: int) -> list[Group]:
    """Sessionize stored intervals plus new event times; groups come out by start time.

    Groups that hold no new event are left out: nothing about them changes.
    """
    items: list[tuple[int, int, int, int]] = []  # (start, end, kind 0=stored 1=new, index)
    items.extend((iv.start_ms, iv.end_ms, 0, i) for i, iv in enumerate(existing))
    items.extend((t, t, 1, i) for i, t in enumerate(times))
    items.sort()
    groups: list[Group] = []
    current: Group | None = None
    for start, end, kind, index in items:
        if current is None or start - current.end_ms > timeout_ms:
            if current is not None and current.event_indexes:
                groups.append(current)
            current = Group(start, end)
        else:
            current.end_ms = max(current.end_ms, end)
        if kind == 0:
            current.existing.append(existing[index])
        else:
            current.event_indexes.append(index)
    if current is not None and current.event_indexes:
        groups.append(current)
    return groups


def sessionize(times: list[int], timeout_ms: int) -> list[tuple[int, int, list[int]]]:
    """Reference sessionization of a full event list: (start, end, event indexes) runs."""
    return [(g.start_ms, g.end_ms, sorted(g.event_indexes)) for g in place([], times, timeout_ms)]
