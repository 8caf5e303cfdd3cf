"""The server keeps CPython's full collections short (collector.gc_policy): the writer's
caches hold values the cyclic GC does not track, and start-up objects are frozen. A full
collection walks every tracked object with the GIL held, so a cache of Fold objects made
each one a pause of tens of milliseconds for every request in flight."""

from __future__ import annotations

import gc
from pathlib import Path

from collector import gc_policy
from collector.folding import Fold, add_event, pack
from collector.sessions import Interval, pack_intervals
from collector.storage.db import Store
from collector.storage.writer import BatchWriter
from tests._records import page_view

T0 = 1_700_000_000_000


def _collect() -> None:
    """A collection untracks a tuple only once its items are untracked, and may look at an
    outer tuple before its inner ones: one pass per level of nesting (a packed fold has
    four: fold, items, pairs, stamps), as the server's steady stream of collections does."""
    for _ in range(4):
        gc.collect()


def _fold() -> Fold:
    fold = Fold()
    add_event(
        fold,
        T0,
        1,
        {"ti": "Home", "plan": "pro"},
        {"url": "https://example.com/", "channel": "direct"},
        increment=True,
        implicit=True,
    )
    return fold


def test_a_packed_fold_is_not_tracked_after_a_collection() -> None:
    packed = pack(_fold())
    _collect()
    assert not gc.is_tracked(packed)


def test_packed_intervals_are_not_tracked_after_a_collection() -> None:
    packed = pack_intervals([Interval(T0, T0 + 5, "a"), Interval(T0 + 10, T0 + 20, "b")])
    _collect()
    assert not gc.is_tracked(packed)


def test_the_writer_caches_hold_only_untracked_values(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()
    batch = [
        (
            page_view(i, f"{i}.{100_000_000 + i}", T0 + i, True, lc="https://x.example/", plan="a"),
            None,
        )
        for i in range(1, 51)
    ]
    writer.process(cur, batch)
    writer.process(cur, [(page_view(60, "1.100000001", T0 + 60_000, plan="b"), None)])
    _collect()
    caches = (writer._intervals, writer._session_folds, writer._user_folds)
    assert all(len(cache) for cache in caches)
    tracked = [v for cache in caches for v in cache.values() if gc.is_tracked(v)]
    assert tracked == []
    # What comes out is still a working value: the second batch saw the stored fold.
    assert writer._user_folds.get_fresh(("s", "1.100000001")).value("plan") == "b"
    store.close()


def test_settle_freezes_what_is_alive() -> None:
    try:
        gc_policy.settle()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
