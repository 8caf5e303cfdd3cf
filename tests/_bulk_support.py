"""Store the same EventRecords through BatchWriter.process and through the bulk path, each
into its own fresh DuckDB file, and read every table of both back for comparison."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

from collector.model import EventRecord
from collector.storage import bulk
from collector.storage.db import Store
from collector.storage.writer import BatchWriter
from tests.conftest import ROOT

Tables = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def via_writer(path: Path, records: list[EventRecord], timeout_ms: int, batch: int = 0) -> None:
    """BatchWriter.process over the records: in one call (batch=0) or in batches."""
    store = Store(str(path))
    try:
        cur = store.cursor()
        writer = BatchWriter(store, None, timeout_ms)
        size = batch or max(len(records), 1)
        for i in range(0, len(records), size):
            writer.process(cur, [(r, None) for r in records[i : i + size]])
        assert writer.stats.failures == 0, "the writer could not store a batch"
        cur.close()
    finally:
        store.close()


def via_bulk(path: Path, records: list[EventRecord], timeout_ms: int) -> bulk.BulkStats:
    store = Store(str(path))
    try:
        cur = store.cursor()
        stats = bulk.ingest(cur, bulk.EventBatch.from_records(records), timeout_ms)
        cur.close()
    finally:
        store.close()
    return stats


def tables(path: Path) -> Tables:
    """Every table of the file (whatever the schema holds now), each as its column names
    and all its rows sorted by all columns. Sorted, because a table's physical row order
    is not part of what is stored: no reader relies on it (every query orders), and the
    writer's own order depends on its batching and caches."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        out: Tables = {}
        for name in names:
            columns = [r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()]
            rows = con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
            out[name] = (columns, rows)
        # Counters compare as totals: the writer appends per-batch increments to
        # counter_deltas and folds them into counters now and then, bulk writes totals.
        totals = con.execute(
            "SELECT name, sum(value)::BIGINT FROM (SELECT * FROM counters "
            "UNION ALL SELECT * FROM counter_deltas) GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        out["counters"] = (out["counters"][0], totals)
        del out["counter_deltas"]
        return out
    finally:
        con.close()


def differences(a: Tables, b: Tables, limit: int = 8) -> list[str]:
    """Readable differences between two dumps (empty when identical)."""
    found: list[str] = []
    if sorted(a) != sorted(b):
        found.append(f"tables {sorted(a)} != {sorted(b)}")
    for name in sorted(set(a) & set(b)):
        (cols_a, rows_a), (cols_b, rows_b) = a[name], b[name]
        if cols_a != cols_b:
            found.append(f"{name}: columns {cols_a} != {cols_b}")
            continue
        if len(rows_a) != len(rows_b):
            found.append(f"{name}: {len(rows_a)} rows != {len(rows_b)} rows")
        for ra, rb in zip(rows_a, rows_b, strict=False):
            if ra != rb:
                cells = [
                    f"{c}: {x!r} != {y!r}" for c, x, y in zip(cols_a, ra, rb, strict=True) if x != y
                ]
                found.append(f"{name} row {ra[:3]}: " + "; ".join(cells))
                if len(found) >= limit:
                    return found
    return found


def run_simulate(*args: str) -> subprocess.CompletedProcess[str]:
    """`fakeboxer simulate` with these arguments, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "collector.simulate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
