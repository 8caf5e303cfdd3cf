"""Property tests of collector.folding (hypothesis): a fold depends only on the set of
events — not on arrival order, nor on how events were split into folds later merged
(SPEC 4.2 "Order of arrival does not change the result")."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.folding import (
    Fold,
    add_event,
    flat_props,
    from_jsonable,
    merge,
    pack,
    to_jsonable,
    unpack,
)

T = 1_700_000_000_000
SEQ = 1_700_000_000_000_000


@dataclass(frozen=True)
class Ev:
    ts: int
    seq: int
    props: dict[str, str]
    signals: dict[str, str]
    increment: bool
    implicit: bool


NAMES = st.sampled_from(["a", "b", "email", "ti", "name with space"])
SIGNAL_NAMES = st.sampled_from(["url", "channel", "utm_source", "referrer"])
VALUES = st.text(alphabet="xyz✓ ", max_size=3)


EVENT_FIELDS = st.tuples(
    st.integers(min_value=0, max_value=5),  # few distinct event times: many ties
    st.dictionaries(NAMES, VALUES, max_size=3),
    st.dictionaries(SIGNAL_NAMES, VALUES, max_size=3),
    st.booleans(),
    st.booleans(),
)


@st.composite
def event_lists(draw: st.DrawFn, max_size: int = 12) -> list[Ev]:
    fields = draw(st.lists(EVENT_FIELDS, max_size=max_size))
    # distinct arrival seqs (one per hit), in an order unrelated to event time
    seqs = draw(st.permutations(range(len(fields))))
    return [
        Ev(T + dt, SEQ + seq * 7, props, signals, increment, implicit)
        for (dt, props, signals, increment, implicit), seq in zip(fields, seqs, strict=True)
    ]


def fold_of(events: list[Ev]) -> Fold:
    fold = Fold()
    for e in events:
        add_event(
            fold,
            e.ts,
            e.seq,
            dict(e.props),
            dict(e.signals),
            increment=e.increment,
            implicit=e.implicit,
        )
    return fold


def split(events: list[Ev], cuts: list[int]) -> list[list[Ev]]:
    bounds = sorted({0, len(events), *(c % (len(events) + 1) for c in cuts)})
    return [events[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@settings(max_examples=200, deadline=None)
@given(events=event_lists(), data=st.data())
def test_any_order_and_partition_gives_the_same_fold(events: list[Ev], data: st.DataObject) -> None:
    expected = fold_of(events)
    shuffled = data.draw(st.permutations(events), label="arrival order")
    assert fold_of(shuffled) == expected

    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=100), max_size=5), label="cuts")
    parts = [fold_of(part) for part in split(shuffled, cuts)]
    assert reduce(merge, parts, Fold()) == expected
    assert reduce(lambda acc, f: merge(f, acc), parts, Fold()) == expected
    # a tree of merges: pairwise until one is left
    while len(parts) > 1:
        pairs = [parts[i : i + 2] for i in range(0, len(parts), 2)]
        parts = [merge(*pair) if len(pair) == 2 else pair[0] for pair in pairs]
    assert (parts[0] if parts else Fold()) == expected


@settings(max_examples=200, deadline=None)
@given(events=event_lists())
def test_fold_matches_a_reference_model(events: list[Ev]) -> None:
    fold = fold_of(events)

    def latest(name: str, attr: str) -> str | None:
        holders = [e for e in events if name in getattr(e, attr)]
        if not holders:
            return None
        return getattr(max(holders, key=lambda e: (e.ts, e.seq)), attr)[name]

    def earliest(name: str) -> str:
        holders = [e for e in events if name in e.signals]
        return min(holders, key=lambda e: (e.ts, e.seq)).signals[name] if holders else ""

    prop_names = {n for e in events for n in e.props}
    assert set(flat_props(fold)) == prop_names
    for name in prop_names:
        assert fold.value(name) == latest(name, "props")
    for name in {n for e in events for n in e.signals} | {"url", "channel"}:
        assert fold.first_value(name) == earliest(name)
        assert fold.last_value(name) == (latest(name, "signals") or "")
    assert fold.events == len(events)
    assert fold.pages == sum(e.increment for e in events)
    times = [e.ts for e in events]
    implicit_times = [e.ts for e in events if e.implicit]
    assert fold.start_ms == (min(times) if times else None)
    assert fold.end_ms == (max(times) if times else None)
    assert fold.implicit_start_ms == (min(implicit_times) if implicit_times else None)
    assert fold.implicit_end_ms == (max(implicit_times) if implicit_times else None)
    assert fold.duration_ms == (max(times) - min(times) if times else 0)


@settings(max_examples=100, deadline=None)
@given(a=event_lists(max_size=5), b=event_lists(max_size=5), c=event_lists(max_size=5))
def test_merge_is_associative_and_commutative(a: list[Ev], b: list[Ev], c: list[Ev]) -> None:
    # give the three sets disjoint arrival seqs, as real hits have
    b = [Ev(e.ts, e.seq + 1, e.props, e.signals, e.increment, e.implicit) for e in b]
    c = [Ev(e.ts, e.seq + 2, e.props, e.signals, e.increment, e.implicit) for e in c]
    fa, fb, fc = fold_of(a), fold_of(b), fold_of(c)
    assert merge(fa, fb) == merge(fb, fa)
    assert merge(merge(fa, fb), fc) == merge(fa, merge(fb, fc)) == fold_of(a + b + c)


@settings(max_examples=100, deadline=None)
@given(
    events=event_lists(),
    ts_shift=st.integers(min_value=-T, max_value=10**14),
    seq_base=st.integers(min_value=0, max_value=2**62),
)
def test_json_round_trip(events: list[Ev], ts_shift: int, seq_base: int) -> None:
    moved = [
        Ev(e.ts + ts_shift, e.seq - SEQ + seq_base, e.props, e.signals, e.increment, e.implicit)
        for e in events
    ]
    fold = fold_of(moved)
    assert from_jsonable(to_jsonable(fold)) == fold
    assert from_jsonable(orjson.loads(orjson.dumps(to_jsonable(fold)))) == fold


@given(events=event_lists())
def test_pack_round_trip_is_exact_and_a_copy(events: list[Ev]) -> None:
    fold = fold_of(events)
    packed = pack(fold)
    assert unpack(packed) == fold
    # The cache keeps the packed value while the fold goes on changing: it must not follow.
    before = unpack(packed)
    add_event(fold, T, SEQ * 3, {"late": "x"}, {"url": "u"}, increment=True, implicit=True)
    assert unpack(packed) == before
