"""The writer stores rows it knows are new with a plain INSERT and replaces the others by
delete + insert. Whatever path a row takes, the stored tables must be what a writer that
knows nothing (every cache empty, nothing trusted) stores for the same hits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collector.model import EventRecord
from collector.storage.db import Store
from collector.storage.writer import BatchWriter
from tests._records import page_view

T0 = 1_700_000_000_000
MIN = 60_000


def record(seq: int, user: str, ts: int, minted: bool = False, **props: str) -> EventRecord:
    lc, ref = f"https://example.com/{seq}", "https://www.google.com/" if seq % 2 else ""
    return page_view(seq, user, ts, minted, lc, ref, **props)


def tables(cur: Any) -> dict[str, list[Any]]:
    return {
        "users": cur.execute("SELECT * EXCLUDE (fold) FROM users ORDER BY user_id").fetchall(),
        "sessions": cur.execute(
            "SELECT * EXCLUDE (fold) FROM sessions ORDER BY user_id, session_id"
        ).fetchall(),
        "row_counts": cur.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM sessions)"
        ).fetchall(),
    }


BATCHES = [
    # new users, one minted, one arriving with a cookie but unknown
    [record(1, "1.111111111", T0, True, plan="free"), record(2, "2.222222222", T0 + 5_000)],
    # both return: one in the same session, one after the timeout (a new session)
    [record(3, "1.111111111", T0 + MIN, plan="pro"), record(4, "2.222222222", T0 + 40 * MIN)],
    # a late event that joins the second user's two sessions into one
    [record(5, "2.222222222", T0 + 20 * MIN), record(6, "3.333333333", T0, True)],
]


@pytest.mark.parametrize("cache_size", [50_000, 1])
def test_fast_path_stores_what_a_writer_with_cold_caches_stores(
    tmp_path: Path, cache_size: int
) -> None:
    fast_store = Store(str(tmp_path / "fast.duckdb"))
    fast = BatchWriter(fast_store, None, 30 * MIN, cache_size=cache_size)
    fast_cur = fast_store.cursor()
    cold_store = Store(str(tmp_path / "cold.duckdb"))
    cold_cur = cold_store.cursor()
    for batch in BATCHES:
        fast.process(fast_cur, [(r, None) for r in batch])
        # A fresh writer per batch: nothing cached; and careful: nothing trusted as new.
        cold = BatchWriter(cold_store, None, 30 * MIN)
        cold._careful = True
        cold.process(cold_cur, [(r, None) for r in batch])
    got, want = tables(fast_cur), tables(cold_cur)
    assert got == want
    assert fast.stats.failures == 0  # by the fast path itself, not by its careful retry
    # each user and session stored once; the late event joined the second user's two
    assert want["row_counts"] == [(3, 3)]
    fast_store.close()
    cold_store.close()


def test_a_minted_id_that_is_already_stored_is_merged_not_lost(tmp_path: Path) -> None:
    """A minted id is trusted to be new. Should one ever collide with a stored user, the
    plain INSERT fails, and the retry replaces instead: the hit is stored and folded in,
    not kept as a bad hit."""
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * MIN)
    cur = store.cursor()
    writer.process(cur, [(record(1, "1.111111111", T0, True, plan="free"), None)])
    writer._clear_caches()  # as after a restart
    writer.process(cur, [(record(2, "1.111111111", T0 + 1_000, True, plan="pro"), None)])
    assert cur.execute("SELECT count(*) FROM bad_hits").fetchone() == (0,)
    assert cur.execute("SELECT events, props->>'plan' FROM users").fetchall() == [(2, "pro")]
    assert cur.execute("SELECT count(*), sum(events) FROM sessions").fetchone() == (1, 2)
    assert writer.stats.failures == 1
    store.close()
