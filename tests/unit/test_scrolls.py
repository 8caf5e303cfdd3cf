"""The scroll registry: lifetime, bounds and query matching (api.scrolls)."""

from __future__ import annotations

import pyarrow as pa

from api.scrolls import SCROLL_TTL_S, FrozenIds, ScrollRegistry
from tests._aio import run


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ids(n: int, prefix: str = "u") -> FrozenIds:
    return FrozenIds(pa.chunked_array([[f"{prefix}{i}" for i in range(n)]]))


def fetch(registry: ScrollRegistry, scroll_id: str, fingerprint: str) -> FrozenIds | None:
    return run(registry.ids(scroll_id, fingerprint))


def test_frozen_ids_pages_in_order_and_stops_at_the_end() -> None:
    frozen = ids(25)
    assert len(frozen) == 25
    assert frozen.page(0, 10) == [f"u{i}" for i in range(10)]
    assert frozen.page(20, 10) == [f"u{i}" for i in range(20, 25)]
    assert frozen.page(25, 10) == []


def test_a_scroll_lives_ten_minutes_after_its_last_use() -> None:
    clock = FakeClock()
    registry = ScrollRegistry(clock=clock)
    scroll_id, pending = registry.open("q")
    pending.set_result(ids(3))
    clock.now += SCROLL_TTL_S - 1
    assert fetch(registry, scroll_id, "q") is not None  # use renews it
    clock.now += SCROLL_TTL_S - 1
    assert fetch(registry, scroll_id, "q") is not None
    clock.now += SCROLL_TTL_S + 1
    assert fetch(registry, scroll_id, "q") is None
    assert len(registry) == 0


def test_another_query_never_sees_a_scroll() -> None:
    registry = ScrollRegistry()
    scroll_id, pending = registry.open("site=a&sortBy=lastEvent|desc")
    pending.set_result(ids(3))
    assert fetch(registry, scroll_id, "site=a&sortBy=lastEvent|asc") is None
    assert fetch(registry, "unknown", "site=a&sortBy=lastEvent|desc") is None


def test_failed_snapshot_is_dropped() -> None:
    registry = ScrollRegistry()
    scroll_id, pending = registry.open("q")
    pending.set_result(None)
    assert fetch(registry, scroll_id, "q") is None
    assert len(registry) == 0


def test_number_of_scrolls_is_bounded_least_recently_used_first() -> None:
    registry = ScrollRegistry(capacity=3)
    opened = []
    for _ in range(3):
        scroll_id, pending = registry.open("q")
        pending.set_result(ids(2))
        opened.append(scroll_id)
    assert fetch(registry, opened[0], "q") is not None  # now the most recently used
    newest, pending = registry.open("q")
    pending.set_result(ids(2))
    assert len(registry) == 3
    assert fetch(registry, opened[1], "q") is None  # the least recently used went
    for kept in (opened[0], opened[2], newest):
        assert fetch(registry, kept, "q") is not None


def test_ids_held_are_bounded() -> None:
    registry = ScrollRegistry(max_ids=100)
    first, pending = registry.open("q")
    pending.set_result(ids(80))
    second, pending = registry.open("q")
    pending.set_result(ids(80))
    third, _ = registry.open("q")  # 160 held > 100: the oldest goes
    assert fetch(registry, first, "q") is None
    assert fetch(registry, second, "q") is not None
    assert len(registry) == 2 and third


def test_ids_held_stay_bounded_when_they_arrive_after_later_scrolls_opened() -> None:
    """A burst of calls opens scrolls faster than their id lists are read: the bound must
    hold when the lists arrive, not only when the next scroll opens."""
    registry = ScrollRegistry(max_ids=100)
    opened = [registry.open("q") for _ in range(4)]  # all pending: nothing counted yet
    for _, pending in opened:
        pending.set_result(ids(40))
    held = [fetch(registry, scroll_id, "q") for scroll_id, _ in opened]
    assert [h is not None for h in held] == [False, False, True, True]
    assert sum(len(h) for h in held if h is not None) <= 100
