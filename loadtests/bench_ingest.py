"""Bulk ingest: `fakeboxer simulate --db` timed from the outside.

    .venv/bin/python loadtests/bench_ingest.py [--users 30000] [--days 14] [--runs 3]

Runs `fakeboxer simulate --db <fresh file> --users N --days D --site bench` (the writer's
identity, session and folding rules, no HTTP) and reports events stored per wall-clock
second of the whole command, with the writer-only rate simulate prints itself, the
sessions and leads stored, and the process's peak RSS. The events are counted in the
file afterwards, so the figure does not depend on simulate's wording. Not a test.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loadtests.bench_collector import remove_db
from loadtests.bench_conditions import (
    CLOCK_TICKS_PER_S,
    Conditions,
    conditions,
    cpu_ticks,
    wait_with_usage,
)
from loadtests.benchlib import BIN, BenchError, Processes

# simulate's summary ends "...; 9,213 events/s (3.47 s, generation 0.78 s)."; optional.
_WRITER_RATE_RE = re.compile(r"([\d,]+) events/s \(([\d.]+) s")


@dataclass(frozen=True)
class IngestRun:
    users: int
    days: int
    events: int
    sessions: int
    leads: int
    wall_s: float
    writer_rate: float | None  # events/s as simulate reports it (writing only), if printed
    peak_rss_mb: float
    # steal, and in others_cpu the share of the whole machine (not one CPU: simulate is
    # not pinned) that other processes used meanwhile
    during: Conditions

    @property
    def rate(self) -> float:
        return self.events / self.wall_s if self.wall_s else 0.0


def stored_counts(db: Path) -> tuple[int, int, int]:
    """(events, sessions, leads) in a DB file no server holds."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        counts = [
            con.execute(f"SELECT count(*) FROM {table}").fetchone()
            for table in ("events", "sessions", "users")
        ]
    finally:
        con.close()
    events, sessions, leads = (int(c[0]) if c else 0 for c in counts)
    return events, sessions, leads


def simulate_db(
    procs: Processes,
    db: Path,
    users: int,
    days: int,
    site: str = "bench",
    timeout_s: float = 1800,
    name: str = "simulate",
) -> IngestRun:
    """Build `db` with simulate --db (it must not exist) and time it."""
    argv = [
        str(BIN / "fakeboxer"),
        "simulate",
        "--users",
        str(users),
        "--days",
        str(days),
        "--db",
        str(db),
        "--site",
        site,
    ]
    with conditions() as during:
        busy0, total0 = cpu_ticks(None)
        started = time.perf_counter()
        proc = procs.start(name, argv)
        try:
            usage = wait_with_usage(proc, timeout_s)
        finally:
            procs.stop(proc)
        wall = time.perf_counter() - started
        busy1, total1 = cpu_ticks(None)
    others = 100.0 * (busy1 - busy0 - usage.cpu_s * CLOCK_TICKS_PER_S) / max(1, total1 - total0)
    during.others_cpu = max(0.0, others)
    if usage.exit_code != 0:
        raise BenchError(f"simulate --db exited with {usage.exit_code}: {procs.log_tail(proc)}")
    events, sessions, leads = stored_counts(db)
    log = procs.logs[proc.pid].read_text(errors="replace")
    found = _WRITER_RATE_RE.findall(log)
    writer_rate = float(found[-1][0].replace(",", "")) if found else None
    return IngestRun(
        users,
        days,
        events,
        sessions,
        leads,
        wall,
        writer_rate,
        usage.peak_rss_mb,
        during,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--users", type=int, default=30_000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fakeboxer-ingest-"))
    try:
        with Processes(tmp) as procs:
            for n in range(args.runs):
                db = tmp / "ingest.duckdb"
                remove_db(db)
                r = simulate_db(procs, db, args.users, args.days)
                print(
                    f"run {n + 1}: {r.events:,} events, {r.sessions:,} sessions, {r.leads:,} "
                    f"leads in {r.wall_s:.1f} s = {r.rate:,.0f} events/s (writer only: "
                    f"{r.writer_rate or float('nan'):,.0f}); peak RSS {r.peak_rss_mb:,.0f} MB"
                )
    except BenchError as exc:
        print(f"bench_ingest: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
