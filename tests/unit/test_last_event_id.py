"""users.last_event_id (schema v5): each lead's latest event by (ts, seq), kept by the
writer (new hits, late hits, ties on the last ts) and backfilled when a v4 file opens.
The read API serves it as the lead's `event_id` without looking through the events."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from collector.model import EventRecord
from collector.storage.db import Store
from collector.storage.schema import SCHEMA_VERSION
from collector.storage.writer import BatchWriter
from tests._records import page_view
from tests._schema import downgrade, reopen

T0 = 1_700_000_000_000
ALICE, BOB = "1700000000000.111111111", "1700000000000.222222222"


def _latest(cur: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    return dict(cur.execute("SELECT user_id, last_event_id FROM users").fetchall())


# (batches of (seq, user, ts), the expected latest event's seq per user)
CASES = [
    pytest.param([[(1, ALICE, T0), (2, ALICE, T0 + 5)]], {ALICE: 2}, id="one-batch"),
    pytest.param([[(1, ALICE, T0)], [(2, ALICE, T0 + 5)]], {ALICE: 2}, id="a-later-hit"),
    pytest.param([[(1, ALICE, T0 + 5)], [(2, ALICE, T0)]], {ALICE: 1}, id="a-late-hit"),
    pytest.param([[(1, ALICE, T0 + 5)], [(2, ALICE, T0 + 5)]], {ALICE: 2}, id="tie-on-ts"),
    pytest.param(
        [[(1, ALICE, T0), (2, BOB, T0 + 9)], [(3, BOB, T0 + 1), (4, ALICE, T0 - 60_000)]],
        {ALICE: 1, BOB: 2},
        id="two-users-late-hits",
    ),
    pytest.param(
        [[(5, ALICE, T0 + 5)], [(3, ALICE, T0 + 5), (4, ALICE, T0 + 1)]],
        {ALICE: 5},
        id="tie-with-a-stored-higher-seq",
    ),
]


@pytest.mark.parametrize("cache_size", [1, 50_000])
@pytest.mark.parametrize(("batches", "want"), CASES)
def test_the_writer_keeps_the_latest_event(
    tmp_path: Path, batches: list[list[tuple[int, str, int]]], want: dict[str, int], cache_size: int
) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000, cache_size=cache_size)
    cur = store.cursor()
    made: dict[int, EventRecord] = {}
    for batch in batches:
        records = [page_view(seq, user, ts) for seq, user, ts in batch]
        made.update({r.seq: r for r in records})
        writer.process(cur, [(r, None) for r in records])
    assert _latest(cur) == {user: made[seq].event_id for user, seq in want.items()}
    store.close()


def test_a_version_4_file_gets_the_column_filled_in(tmp_path: Path) -> None:
    path = str(tmp_path / "v4.duckdb")
    store = Store(path)
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()
    records = [page_view(1, ALICE, T0), page_view(2, ALICE, T0 + 9), page_view(3, BOB, T0)]
    writer.process(cur, [(r, None) for r in records])
    wanted = _latest(cur)
    assert wanted == {ALICE: records[1].event_id, BOB: records[2].event_id}
    store.close()
    downgrade(path, 4, "ALTER TABLE users DROP COLUMN last_event_id")
    store, cur = reopen(path)
    assert _latest(cur) == wanted and SCHEMA_VERSION == 5
    store.close()
