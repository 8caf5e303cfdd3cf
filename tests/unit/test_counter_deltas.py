"""Counters (SPEC 7.1 stats) are kept as appended per-batch increments (counter_deltas)
that the writer folds into `counters` every 256 batches and when it stops. Whatever has
been folded, a reader sees the same totals."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from api.queries import stored_counters
from collector.model import BadRecord
from collector.storage.db import Store
from collector.storage.schema import SCHEMA_VERSION
from collector.storage.writer import BatchWriter, QueueItem
from tests._aio import run as run_coroutine
from tests._records import page_view
from tests._schema import downgrade, reopen

T0 = 1_700_000_000_000


def _bad(seq: int) -> BadRecord:
    return BadRecord(seq, T0, "s", ["missing_site"], "no si", "GET", "/", "", "", {}, "")


def _batches() -> list[list[QueueItem]]:
    """Three batches: new visitors, a returning one with a warning, and a bad hit."""
    first: list[QueueItem] = [
        (page_view(i, f"{i}.{100_000_000 + i}", T0 + i, True), None) for i in range(1, 6)
    ]
    warned = replace(page_view(10, "1.100000001", T0 + 60_000), warnings=["invalid_eid"])
    second: list[QueueItem] = [(warned, None)]
    return [first, second, [(_bad(20), None)]]


def _expected() -> Counter[str]:
    return Counter(
        {"events": 6, "hits": 7, "bad_hits": 1, "bad.missing_site": 1, "ignored.invalid_eid": 1}
    )


def _rows(cur: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]


def test_totals_are_the_same_before_and_after_folding(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()
    for batch in _batches():
        writer.process(cur, batch)
    before = stored_counters(cur)
    assert _rows(cur, "counter_deltas") > 0 and _rows(cur, "counters") == 0
    writer.compact_counters(cur)
    assert _rows(cur, "counter_deltas") == 0
    assert stored_counters(cur) == before
    for name, value in _expected().items():
        assert before[name] == value, name
    # More increments after a fold add up with what was folded.
    writer.process(cur, [(page_view(30, "9.100000009", T0 + 5, True), None)])
    assert stored_counters(cur)["events"] == before["events"] + 1
    store.close()


def test_every_256th_batch_folds_the_increments(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()
    for i in range(1, 257):
        writer.process(cur, [(page_view(i, f"{i}.{100_000_000 + i}", T0 + i, True), None)])
        if i == 255:
            assert _rows(cur, "counter_deltas") == 255 * 2  # events and hits per batch
    assert _rows(cur, "counter_deltas") == 0
    assert stored_counters(cur) == {"events": 256, "hits": 256}
    store.close()


def test_the_writer_folds_them_when_it_stops(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000)

    async def main() -> None:
        writer.start(asyncio.get_running_loop())
        for item in _batches()[0]:
            writer.submit(*item)
        await writer.barrier()
        await asyncio.to_thread(writer.close)

    run_coroutine(main())
    cur = store.cursor()
    assert _rows(cur, "counter_deltas") == 0
    assert stored_counters(cur) == {"events": 5, "hits": 5}
    store.close()


def test_reset_clears_folded_and_pending_counts(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()
    writer.process(cur, _batches()[0])
    writer.compact_counters(cur)
    writer.process(cur, _batches()[2])
    assert _rows(cur, "counters") > 0 and _rows(cur, "counter_deltas") > 0

    async def main() -> None:
        writer.start(asyncio.get_running_loop())
        await writer.control("reset")
        await asyncio.to_thread(writer.close)

    run_coroutine(main())
    assert stored_counters(store.cursor()) == {}
    store.close()


def test_a_version_3_file_upgrades_and_keeps_its_counters(tmp_path: Path) -> None:
    path = str(tmp_path / "t.duckdb")
    store = Store(path)
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()
    writer.process(cur, _batches()[0])
    writer.compact_counters(cur)
    store.close()
    downgrade(path, 3, "DROP TABLE counter_deltas")
    store, cur = reopen(path)
    assert stored_counters(cur) == {"events": 5, "hits": 5}
    assert _rows(cur, "counter_deltas") == 0
    store.close()


def test_an_older_fakeboxer_would_refuse_the_file(tmp_path: Path) -> None:
    """Version 4 is what makes a v3 fakeboxer (which would not see the increments) refuse
    such a file; this one refuses a file newer than itself the same way."""
    path = str(tmp_path / "t.duckdb")
    Store(path).close()
    con = duckdb.connect(path)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    with pytest.raises(Exception, match="schema version"):
        Store(path)
