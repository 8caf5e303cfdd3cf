"""Time the writer's commit of record batches on a real DuckDB file (not a test).

    .venv/bin/python loadtests/bench_writer.py [--batch 10000] [--batches 5] [--users 2000]
        [--stored N]

Prints ms per batch (median of the batches after the first) and rows/s. `--stored N`
first stores N new visitors (untimed), so the timed batches write into a table of that
size; with `--users N` as well, the timed hits come from those stored visitors (returning
visitors scattered over the whole users table).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from collector.model import EventRecord
from collector.storage.db import Store
from collector.storage.writer import BatchWriter


def make_records(
    n: int, users: int, start_seq: int, t0: int, rng: random.Random
) -> list[EventRecord]:
    out = []
    for i in range(n):
        fresh = users == 0  # every hit a new visitor, as wrk without cookies
        u = start_seq + i if fresh else rng.randrange(users)
        ts = t0 + i * 50
        out.append(
            EventRecord(
                seq=start_seq + i,
                site="bench",
                event_id=f"{ts}.{100000000 + start_seq + i}",
                user_id=f"1700000000000.{100000000 + u}",
                session_id=None,
                ts=ts,
                received_ms=ts,
                title="Page",
                props={
                    "ti": "Page",
                    "lc": f"https://example.com/p/{i % 50}",
                    "utm_source": "news",
                    "utm_medium": "email",
                    "sw": "1920",
                    "sh": "1080",
                    "plan": str(i % 3),
                    "email": f"u{u}@example.com",
                },
                lc=f"https://example.com/p/{i % 50}",
                ref="https://www.google.com/",
                ip="127.0.0.1",
                user_agent="Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36",
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--users", type=int, default=2_000, help="0: every hit a new visitor")
    ap.add_argument("--stored", type=int, default=0, help="new visitors stored first, untimed")
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "bench.duckdb"))
        writer = BatchWriter(store, None, 30 * 60_000, args.batch)
        cur = store.cursor()
        times = []
        seq = 1
        while seq <= args.stored:  # visitor ids 1..stored, as make_records numbers them
            size = min(10_000, args.stored - seq + 1)
            prefill = make_records(size, 0, seq, 1_600_000_000_000 + seq * 50, rng)
            writer.process(cur, [(r, None) for r in prefill])
            seq += size
        for b in range(args.batches):
            records = make_records(args.batch, args.users, seq, 1_700_000_000_000 + b * 10**7, rng)
            seq += args.batch
            started = time.perf_counter()
            writer.process(cur, [(r, None) for r in records])
            times.append(time.perf_counter() - started)
        steady = times[1:] or times
        med = statistics.median(steady)
        print(
            f"batch {args.batch} rows, {args.users} users, {args.stored} stored: first {times[0] * 1000:.0f} ms, "
            f"median of the rest {med * 1000:.0f} ms, {args.batch / med:,.0f} rows/s"
        )
        store.close()


if __name__ == "__main__":
    main()
