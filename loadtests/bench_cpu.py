"""CPU time per hit, by thread, of the collector under full load. Not a test.

    .venv/bin/python loadtests/bench_cpu.py [--runs 3] [--duration 10]

Serves a fresh DB file pinned to CPU 1, warms it up, then runs the throughput benchmark's
wrk load (CPU 0, 64 connections, the 10-parameter hit, every hit a new lead) and reads
each thread's user + system CPU time from /proc before and after. Prints, per run and as
medians, the microseconds of CPU one hit costs on the event loop (the main thread), on
the writer (`fb-writer`) and on all other threads together (DuckDB's workers, which run
parts of the writer's statements), next to the bare starlette GIF endpoint's whole cost
per request measured the same way. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from loadtests.bench_collector import HIT, WARM_HIT, remove_db, start_bare
from loadtests.benchlib import BenchError, Processes, run_wrk, start_fakeboxer

_TICK_S = 1 / os.sysconf("SC_CLK_TCK")
_MAIN, _WRITER, _OTHERS = "event loop", "writer", "other threads"


def thread_cpu_s(pid: int) -> dict[int, tuple[str, float]]:
    """tid -> (OS thread name, user + system CPU seconds so far)."""
    found: dict[int, tuple[str, float]] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        except OSError:
            continue  # the thread ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(tid)] = (comm, (int(fields[11]) + int(fields[12])) * _TICK_S)
    return found


def cpu_by_role(pid: int, before: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds since `before`, summed into event loop / writer / other threads."""
    roles = {_MAIN: 0.0, _WRITER: 0.0, _OTHERS: 0.0}
    for tid, (comm, cpu) in thread_cpu_s(pid).items():
        spent = cpu - before.get(tid, (comm, 0.0))[1]
        role = _MAIN if tid == pid else _WRITER if comm == "fb-writer" else _OTHERS
        roles[role] += spent
    return roles


@dataclass(frozen=True)
class CpuRun:
    requests: int
    rate: float
    us_per_hit: dict[str, float]  # role -> µs of CPU per request

    @property
    def total(self) -> float:
        return sum(self.us_per_hit.values())


def measure(url: str, pid: int, duration_s: int) -> CpuRun:
    before = thread_cpu_s(pid)
    wrk = run_wrk(url + HIT, duration_s)
    spent = cpu_by_role(pid, before)
    if wrk.requests == 0:
        raise BenchError("wrk sent no request")
    per_hit = {role: s / wrk.requests * 1e6 for role, s in spent.items()}
    return CpuRun(wrk.requests, wrk.rate, per_hit)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run [10]")
    args = ap.parse_args()
    if not sys.platform.startswith("linux"):
        print("bench_cpu.py reads /proc: Linux only", file=sys.stderr)
        return 2
    ours: list[CpuRun] = []
    bare: list[CpuRun] = []
    with tempfile.TemporaryDirectory(prefix="fakeboxer-cpu-") as tmp, Processes(Path(tmp)) as procs:
        try:
            for run in range(1, args.runs + 1):
                db = Path(tmp) / "cpu.duckdb"
                remove_db(db)
                proc, url = start_fakeboxer(procs, "fakeboxer", db)
                run_wrk(url + WARM_HIT, 2)
                ours.append(measure(url, proc.pid, args.duration))
                procs.stop(proc)
                base = start_bare(procs)
                run_wrk(base.url + WARM_HIT, 2)
                bare.append(measure(base.url, base.proc.pid, args.duration))
                procs.stop(base.proc)
                o, b = ours[-1], bare[-1]
                print(
                    f"run {run}: fakeboxer {o.rate:,.0f} req/s, "
                    + ", ".join(f"{k} {v:.0f} µs" for k, v in o.us_per_hit.items())
                    + f", total {o.total:.0f} µs per hit; bare starlette GIF {b.rate:,.0f} "
                    f"req/s, {b.total:.0f} µs per request",
                    flush=True,
                )
        except BenchError as exc:
            print(f"bench_cpu.py: {exc}", file=sys.stderr)
            return 1
    print(f"\nCPU µs per request, median of {args.runs} runs (server alone on CPU 1):\n")
    print("| server | req/s | event loop | writer | other threads | total |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, runs in (("fakeboxer", ours), ("bare starlette GIF", bare)):
        cells = [
            f"{statistics.median(r.us_per_hit[role] for r in runs):.0f}"
            for role in (_MAIN, _WRITER, _OTHERS)
        ]
        rate = statistics.median(r.rate for r in runs)
        total = statistics.median(r.total for r in runs)
        print(f"| {name} | {rate:,.0f} | " + " | ".join(cells) + f" | {total:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
