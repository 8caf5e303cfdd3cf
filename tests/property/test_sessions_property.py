"""Property tests of collector.sessions (hypothesis): placing new events into stored
sessions gives the sessionization of all events, whatever the batching and order (SPEC 4.1
"the result depends only on the set of events")."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.sessions import Interval, pack_intervals, place, sessionize, unpack_intervals

Span = tuple[int, int]

TIMES = st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=40)
TIMEOUTS = st.sampled_from([0, 1, 10, 30])


def spans_of(times: list[int], timeout: int) -> list[Span]:
    return [(start, end) for start, end, _ in sessionize(times, timeout)]


class Writer:
    """Keeps a user's stored sessions the way the writer does: each batch goes through
    place(); the intervals a group absorbs are removed and the group's interval added."""

    def __init__(self, timeout: int) -> None:
        self.timeout = timeout
        self.intervals: list[Interval] = []
        self.placed: list[int] = []
        self._next_id = 0

    def add(self, times: list[int]) -> None:
        groups = place(list(self.intervals), times, self.timeout)
        seen_indexes: list[int] = []
        absorbed: list[Interval] = []
        for group in groups:
            seen_indexes.extend(group.event_indexes)
            absorbed.extend(group.existing)
            for i in group.event_indexes:
                assert group.start_ms <= times[i] <= group.end_ms
            for iv in group.existing:
                assert group.start_ms <= iv.start_ms <= iv.end_ms <= group.end_ms
        # every new event lands in exactly one group; a stored session in at most one
        assert sorted(seen_indexes) == list(range(len(times)))
        assert len({iv.session_id for iv in absorbed}) == len(absorbed)
        for group in groups:
            for iv in group.existing:
                self.intervals.remove(iv)
            self._next_id += 1
            self.intervals.append(Interval(group.start_ms, group.end_ms, f"s{self._next_id}"))
        self.placed.extend(times)

    def spans(self) -> list[Span]:
        return sorted((iv.start_ms, iv.end_ms) for iv in self.intervals)


@settings(max_examples=200, deadline=None)
@given(times=TIMES, timeout=TIMEOUTS, data=st.data())
def test_place_over_stored_equals_sessionize_all(
    times: list[int], timeout: int, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(times)), label="cut")
    stored_times, new_times = times[:cut], times[cut:]
    stored = [
        Interval(start, end, f"stored{n}")
        for n, (start, end) in enumerate(spans_of(stored_times, timeout))
    ]
    groups = place(stored, new_times, timeout)

    touched = {iv.session_id for g in groups for iv in g.existing}
    result = sorted(
        [(iv.start_ms, iv.end_ms) for iv in stored if iv.session_id not in touched]
        + [(g.start_ms, g.end_ms) for g in groups]
    )
    assert result == spans_of(times, timeout)
    # groups come out by start time and never hold a stored session only
    assert [g.start_ms for g in groups] == sorted(g.start_ms for g in groups)
    assert all(g.event_indexes for g in groups)


@settings(max_examples=200, deadline=None)
@given(times=TIMES, timeout=TIMEOUTS, data=st.data())
def test_any_arrival_order_and_batching_gives_the_same_spans(
    times: list[int], timeout: int, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(times), label="arrival order")
    batch_sizes = data.draw(
        st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=len(times)),
        label="batch sizes",
    )
    writer = Writer(timeout)
    position = 0
    for size in batch_sizes:
        if position >= len(order):
            break
        writer.add(order[position : position + size])
        position += size
    if position < len(order):
        writer.add(order[position:])

    assert sorted(writer.placed) == sorted(times)
    assert writer.spans() == spans_of(times, timeout)


@settings(max_examples=200, deadline=None)
@given(times=TIMES, timeout=TIMEOUTS)
def test_sessionize_runs_obey_the_gap_rule(times: list[int], timeout: int) -> None:
    runs = sessionize(times, timeout)
    assert sorted(i for _, _, idx in runs for i in idx) == list(range(len(times)))
    for start, end, indexes in runs:
        inside = sorted(times[i] for i in indexes)
        assert (inside[0], inside[-1]) == (start, end)
        assert all(b - a <= timeout for a, b in zip(inside, inside[1:], strict=False))
    for (_, end, _), (start, _, _) in zip(runs, runs[1:], strict=False):
        assert start - end > timeout


@settings(max_examples=100, deadline=None)
@given(times=TIMES, timeout=TIMEOUTS, data=st.data())
def test_one_at_a_time_equals_all_at_once(
    times: list[int], timeout: int, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(times), label="arrival order")
    writer = Writer(timeout)
    for t in order:
        writer.add([t])
    assert writer.spans() == spans_of(times, timeout)


@given(
    st.lists(
        st.tuples(st.integers(0, 10**12), st.integers(0, 10**6), st.text(max_size=20)),
        max_size=20,
    )
)
def test_intervals_pack_round_trip(raw: list[tuple[int, int, str]]) -> None:
    intervals = [Interval(start, start + length, sid) for start, length, sid in raw]
    assert unpack_intervals(pack_intervals(intervals)) == intervals
