"""Unit tests of collector.sessions: sessionization by inactivity (SPEC 4.1)."""

from __future__ import annotations

import pytest

from collector.sessions import Group, Interval, place, sessionize

TIMEOUT = 10

A = Interval(0, 5, "a")
B = Interval(20, 30, "b")
C = Interval(100, 200, "c")

Row = tuple[int, int, list[str], list[int]]  # start, end, stored session ids, event indexes


def shape(groups: list[Group]) -> list[Row]:
    return [
        (g.start_ms, g.end_ms, [iv.session_id for iv in g.existing], sorted(g.event_indexes))
        for g in groups
    ]


@pytest.mark.parametrize(
    ("existing", "times", "timeout", "expected"),
    [
        pytest.param([], [], TIMEOUT, [], id="nothing"),
        pytest.param([A, B], [], TIMEOUT, [], id="no-new-events-no-groups"),
        pytest.param([], [7], TIMEOUT, [(7, 7, [], [0])], id="single-event"),
        pytest.param([], [0, 10, 20], TIMEOUT, [(0, 20, [], [0, 1, 2])], id="gaps-exactly-timeout"),
        pytest.param([], [0, 11], TIMEOUT, [(0, 0, [], [0]), (11, 11, [], [1])], id="gap-over"),
        pytest.param(
            [],
            [0, 10, 21, 31],
            TIMEOUT,
            [(0, 10, [], [0, 1]), (21, 31, [], [2, 3])],
            id="two-runs",
        ),
        pytest.param([], [20, 0, 10], TIMEOUT, [(0, 20, [], [0, 1, 2])], id="unsorted-input"),
        pytest.param([], [5, 5, 5], TIMEOUT, [(5, 5, [], [0, 1, 2])], id="duplicate-times"),
        pytest.param(
            [], [0, 0, 1], 0, [(0, 0, [], [0, 1]), (1, 1, [], [2])], id="zero-timeout-same-ms"
        ),
        pytest.param([A, B], [12], TIMEOUT, [(0, 30, ["a", "b"], [0])], id="bridge-two-stored"),
        pytest.param(
            [A, B], [15], TIMEOUT, [(0, 30, ["a", "b"], [0])], id="bridge-at-exact-timeouts"
        ),
        pytest.param(
            [A, Interval(27, 30, "b")],
            [16],
            TIMEOUT,
            [(16, 16, [], [0])],
            id="just-too-far-from-both",
        ),
        pytest.param(
            [A, Interval(26, 30, "b")],
            [16],
            TIMEOUT,
            [(16, 30, ["b"], [0])],
            id="joins-only-the-next",
        ),
        pytest.param(
            [A, B],
            [8, 16],
            TIMEOUT,
            [(0, 30, ["a", "b"], [0, 1])],
            id="two-events-bridge-together",
        ),
        pytest.param(
            [Interval(0, 10, "a"), Interval(21, 30, "b"), Interval(41, 50, "c")],
            [15, 35],
            TIMEOUT,
            [(0, 50, ["a", "b", "c"], [0, 1])],
            id="chain-of-three",
        ),
        pytest.param(
            [A, C], [8, 98], TIMEOUT, [(0, 8, ["a"], [0]), (98, 200, ["c"], [1])], id="two-groups"
        ),
        pytest.param([C], [95], TIMEOUT, [(95, 200, ["c"], [0])], id="before-start-moves-start"),
        pytest.param([C], [90], TIMEOUT, [(90, 200, ["c"], [0])], id="before-start-at-timeout"),
        pytest.param([C], [89], TIMEOUT, [(89, 89, [], [0])], id="before-start-too-early"),
        pytest.param([C], [150], TIMEOUT, [(100, 200, ["c"], [0])], id="inside-stored"),
        pytest.param([C], [100, 200], TIMEOUT, [(100, 200, ["c"], [0, 1])], id="on-the-edges"),
        pytest.param([C], [210], TIMEOUT, [(100, 210, ["c"], [0])], id="after-end-at-timeout"),
        pytest.param([C], [211], TIMEOUT, [(211, 211, [], [0])], id="after-end-too-late"),
        pytest.param([A, B, C], [50], TIMEOUT, [(50, 50, [], [0])], id="stored-untouched-omitted"),
        pytest.param([A, B, C], [108], TIMEOUT, [(100, 200, ["c"], [0])], id="only-touched-group"),
        pytest.param([C, A], [3], TIMEOUT, [(0, 5, ["a"], [0])], id="stored-list-in-any-order"),
        pytest.param(
            [Interval(0, 1_800_000, "x")],
            [3_600_000],
            1_800_000,
            [(0, 3_600_000, ["x"], [0])],
            id="thirty-minutes-exactly",
        ),
        pytest.param(
            [Interval(0, 1_800_000, "x")],
            [3_600_001],
            1_800_000,
            [(3_600_001, 3_600_001, [], [0])],
            id="thirty-minutes-and-a-ms",
        ),
    ],
)
def test_place(
    existing: list[Interval], times: list[int], timeout: int, expected: list[Row]
) -> None:
    groups = place(existing, times, timeout)
    assert shape(groups) == expected
    starts = [g.start_ms for g in groups]
    assert starts == sorted(starts)
    for g in groups:
        assert g.event_indexes, "a group without new events must be left out"
        for i in g.event_indexes:
            assert g.start_ms <= times[i] <= g.end_ms


@pytest.mark.parametrize(
    ("times", "timeout", "expected"),
    [
        ([], 10, []),
        ([3], 10, [(3, 3, [0])]),
        ([0, 10, 20, 30], 10, [(0, 30, [0, 1, 2, 3])]),
        ([0, 10, 20, 31], 10, [(0, 20, [0, 1, 2]), (31, 31, [3])]),
        ([31, 20, 10, 0], 10, [(0, 20, [1, 2, 3]), (31, 31, [0])]),
        ([100, 0, 50, 5], 10, [(0, 5, [1, 3]), (50, 50, [2]), (100, 100, [0])]),
        ([0, 5, 5, 16, 26], 10, [(0, 5, [0, 1, 2]), (16, 26, [3, 4])]),
        (
            [0, 1_800_000, 3_600_001, 3_600_002],
            1_800_000,
            [(0, 1_800_000, [0, 1]), (3_600_001, 3_600_002, [2, 3])],
        ),
    ],
)
def test_sessionize(
    times: list[int], timeout: int, expected: list[tuple[int, int, list[int]]]
) -> None:
    assert sessionize(times, timeout) == expected


def test_sessionize_gap_rule_between_runs() -> None:
    times = [0, 4, 9, 30, 41, 45, 60, 71]
    runs = sessionize(times, 10)
    for (_, end, _), (start, _, _) in zip(runs, runs[1:], strict=False):
        assert start - end > 10
    for start, end, indexes in runs:
        inside = sorted(times[i] for i in indexes)
        assert inside[0] == start and inside[-1] == end
        assert all(b - a <= 10 for a, b in zip(inside, inside[1:], strict=False))
    assert sorted(i for _, _, idx in runs for i in idx) == list(range(len(times)))


def test_place_does_not_change_its_inputs() -> None:
    existing = [A, B]
    times = [12, 3]
    place(existing, times, TIMEOUT)
    assert existing == [A, B]
    assert times == [12, 3]
