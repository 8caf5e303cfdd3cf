"""`make bench`: every figure of issue 5, measured side by side in one run, as a table.

    .venv/bin/python loadtests/bench.py              # full: ~15-25 min, writes docs/performance.md
    .venv/bin/python loadtests/bench.py --big        # also the API on ~10M events (~15 min)
    .venv/bin/python loadtests/bench.py --dry-run    # seconds per section, writes a temp file

Sections, in order (each later one uses the earlier's capacity):
  1. collector throughput: fakeboxer vs loadtests/bare_gif.py vs nginx empty_gif (if
     installed), wrk pinned to CPU 0 and each server to CPU 1, interleaved runs, medians;
     after each fakeboxer run the events stored must equal wrk's 2xx count;
  2. latency p50/p99 at half of fakeboxer's median capacity (paced wrk), bare alongside;
  3. freshness: 2xx to visible through the read API with `--read-your-writes off`;
  4. bulk ingest through `fakeboxer simulate --db`;
  5. read-API latency on ~100k leads / ~1M events (and ~1M / ~10M with --big);
  and the peak memory of every server. On this shared machine each run first waits for
  an idle moment, and a run that other processes or the hypervisor disturbed is repeated
  (bench_conditions.py). Prints the markdown and writes it between the
  bench markers of --out. Exit 0; 1 when a section failed or a 2xx hit was not stored; 2
  when a tool is missing. Loopback only; every process it starts is stopped at the end,
  also on Ctrl-C. Not a test: figures, no assertions (tests/sim/test_bench_dry_run.py runs
  --dry-run).
"""

from __future__ import annotations

import argparse
import functools
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import FrameType

from loadtests.bench_api import measure_api
from loadtests.bench_collector import FAKEBOXER, Baseline, baselines, compare, remove_db
from loadtests.bench_conditions import Patience, load_average, quietest_of
from loadtests.bench_freshness import freshness_run
from loadtests.bench_ingest import IngestRun, simulate_db
from loadtests.bench_machine import git_revision
from loadtests.bench_report import ApiCase, BenchResults, render, write_report
from loadtests.benchlib import COMMANDS, ROOT, BenchError, Processes, require_tool

DOCS = ROOT / "docs" / "performance.md"
SITE = "bench"


@dataclass(frozen=True)
class Plan:
    """How much of everything to run."""

    runs: int  # interleaved runs per comparison
    duration: int  # seconds per timed wrk run
    warmup: int  # seconds of wrk before each timed run's server is measured
    probes: int  # freshness probes per run
    ingest_users: int
    ingest_days: int
    ingest_runs: int
    api_sets: tuple[tuple[int, int], ...]  # (visitors, days) per API database
    repeat: int  # timed calls per API query
    build_timeout_s: float  # bound on building one API database
    retries: int  # repeats of a run that other processes disturbed (bench_conditions.disturbed)
    quiet_wait_s: float  # longest wait for an idle machine before each run
    patience_s: float  # all the time waits and repeats may take together (Patience)


# 140,000 visitors x 30 days gives ~1M events and ~140k leads; 30,000 x 14 about 190k.
FULL = Plan(3, 10, 2, 100, 30_000, 14, 3, ((140_000, 30),), 15, 3600, 2, 20, 360)
BIG_SET = (1_400_000, 30)  # ~10M events, ~1.4M leads
DRY = Plan(1, 1, 1, 10, 200, 3, 1, ((300, 7),), 3, 300, 0, 0, 0)


def build_plan(args: argparse.Namespace) -> Plan:
    plan = DRY if args.dry_run else FULL
    if args.big:
        plan = replace(plan, api_sets=(*plan.api_sets, BIG_SET), build_timeout_s=6 * 3600)
    overrides = {
        "runs": args.runs,
        "duration": args.duration,
        "probes": args.probes,
        "ingest_users": args.ingest_users,
        "ingest_days": args.ingest_days,
        "repeat": args.repeat,
        "retries": args.retries,
        "quiet_wait_s": args.quiet_wait,
        "patience_s": args.patience,
    }
    plan = replace(plan, **{k: v for k, v in overrides.items() if v is not None})
    if args.api_users is not None or args.api_days is not None:
        users, days = plan.api_sets[0]
        first = (args.api_users or users, args.api_days or days)
        plan = replace(plan, api_sets=(first, *plan.api_sets[1:]))
    return plan


class Log:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", flush=True)


def run_section(res: BenchResults, name: str, log: Log, body: Callable[[], None]) -> None:
    """Run one section; a failure is recorded in the report and the others still run."""
    res.loads.append(load_average())
    try:
        body()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one failed section must not lose the others
        res.failures[name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        log(f"{name} FAILED: {res.failures[name]}")


def run_all(procs: Processes, tmp: Path, plan: Plan, args: argparse.Namespace) -> BenchResults:
    log = Log()
    res = BenchResults(
        mode="dry run" if args.dry_run else ("full, with --big" if args.big else "full"),
        started=datetime.now().astimezone(),
        runs=plan.runs,
        duration_s=plan.duration,
        warmup_s=plan.warmup,
        poll_ms=args.poll_ms,
        command=shlex.join([".venv/bin/python", "loadtests/bench.py", *args.argv]),
        revision_at_start=git_revision(),
    )
    patience = Patience(plan.retries, plan.quiet_wait_s, plan.patience_s)
    res.patience = patience
    with baselines(procs, tmp, not args.no_nginx) as bases:
        started = [b for b in bases if isinstance(b, Baseline)]
        res.nginx_note = next((b for b in bases if isinstance(b, str)), "")

        def throughput() -> None:
            log(f"collector throughput: {plan.runs} x {plan.duration} s per server")
            res.throughput = compare(
                procs,
                tmp,
                started,
                plan.runs,
                plan.duration,
                plan.warmup,
                progress=log,
                patience=patience,
            )

        run_section(res, "throughput", log, throughput)
        if res.throughput is not None:
            capacity = statistics.median(r.wrk.rate for r in res.throughput.runs[FAKEBOXER])
            res.half_rate = max(1.0, capacity / 2)
        bare_only = [b for b in started if b.name != "nginx empty_gif"]

        def latency() -> None:
            if res.half_rate is None:
                raise BenchError("no capacity measured")
            log(f"latency at half capacity: {res.half_rate:,.0f} req/s")
            res.latency = compare(
                procs,
                tmp,
                bare_only,
                plan.runs,
                plan.duration,
                plan.warmup,
                rate=res.half_rate,
                progress=log,
                patience=patience,
            )

        run_section(res, "latency", log, latency)

    def freshness() -> None:
        if res.half_rate is None:
            raise BenchError("no capacity measured")
        rate = res.half_rate
        for n in range(plan.runs):
            once = functools.partial(
                freshness_run, procs, tmp, plan.probes, rate, args.poll_ms, seed=n
            )
            run, aside = quietest_of(
                once,
                lambda r: r.during,
                patience,
                lambda c: log(
                    f"    others took {c.others_cpu:.0f}% of CPU 1 and "
                    f"{c.others_load_cpu:.0f}% of CPU 0: repeating"
                ),
            )
            res.freshness.append(run)
            res.repeats["freshness"] = res.repeats.get("freshness", 0) + len(aside)
            log(
                f"  freshness run {n + 1}/{plan.runs}: p50 {run.p(50):,.0f} ms, p99 "
                f"{run.p(99):,.0f} ms, max {run.p(100):,.0f} ms over {len(run.freshness_ms)} "
                f"probes ({run.not_seen} not seen, {run.failed} not 2xx)"
            )

    log(f"freshness: {plan.runs} x {plan.probes} probes")
    run_section(res, "freshness", log, freshness)

    def ingest() -> None:
        db = tmp / "ingest.duckdb"

        def once() -> IngestRun:
            remove_db(db)
            try:
                return simulate_db(procs, db, plan.ingest_users, plan.ingest_days, SITE)
            finally:
                remove_db(db)

        for n in range(plan.ingest_runs):
            run, aside = quietest_of(
                once,
                lambda r: r.during,
                patience,
                lambda c: log(f"    others took {c.others_cpu:.0f}% of the machine: repeating"),
            )
            res.ingest.append(run)
            res.repeats["ingest"] = res.repeats.get("ingest", 0) + len(aside)
            log(
                f"  ingest run {n + 1}/{plan.ingest_runs}: {run.events:,} events in "
                f"{run.wall_s:.1f} s = {run.rate:,.0f} events/s"
            )

    log(f"bulk ingest: simulate --db --users {plan.ingest_users} --days {plan.ingest_days}")
    run_section(res, "ingest", log, ingest)

    for users, days in plan.api_sets:
        body = functools.partial(api_case, procs, tmp, plan, args, res, log, users, days)
        run_section(res, f"api {users}x{days}", log, body)
    res.loads.append(load_average())
    res.finished = datetime.now().astimezone()
    return res


def api_case(
    procs: Processes,
    tmp: Path,
    plan: Plan,
    args: argparse.Namespace,
    res: BenchResults,
    log: Log,
    users: int,
    days: int,
) -> None:
    folder = Path(args.db_dir) if args.db_dir else tmp
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"api-{users}x{days}.duckdb"
    case = ApiCase(f"{users:,} visitors × {days} days", None, None)
    res.api.append(case)
    if args.reuse_db and db.exists():
        log(f"API: reusing {db}")
    else:
        log(f"API: building {db.name} with simulate --db (bounded by {plan.build_timeout_s:.0f} s)")
        remove_db(db)
        case.build = simulate_db(
            procs, db, users, days, SITE, timeout_s=plan.build_timeout_s, name="simulate-api"
        )
        log(
            f"  built: {case.build.events:,} events, {case.build.leads:,} leads in "
            f"{case.build.wall_s:.0f} s ({case.build.rate:,.0f} events/s)"
        )
    try:
        case.result = measure_api(procs, db, SITE, plan.repeat)
    except Exception as exc:
        case.note = str(exc)
        raise
    finally:
        if not args.db_dir:
            remove_db(db)
    log(
        "  " + "; ".join(f"{name} {t.median_ms:,.1f} ms" for name, t in case.result.queries.items())
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="loadtests/bench.py",
        description="Every benchmark of issue 5, side by side, as one table.",
    )
    ap.add_argument("--dry-run", action="store_true", help="seconds-long run of every section")
    ap.add_argument("--big", action="store_true", help="also the API on ~1M leads / ~10M events")
    ap.add_argument(
        "--out",
        type=Path,
        help="where to write the table (default docs/performance.md; with --dry-run a "
        "file in the temp folder)",
    )
    ap.add_argument("--runs", type=int, help="interleaved runs per comparison [3]")
    ap.add_argument("--duration", type=int, help="seconds per timed wrk run [10]")
    ap.add_argument("--probes", type=int, help="freshness probes per run [100]")
    ap.add_argument("--poll-ms", type=float, default=5.0, help="freshness poll interval [5]")
    ap.add_argument("--ingest-users", type=int, help="visitors per bulk ingest run [30000]")
    ap.add_argument("--ingest-days", type=int, help="days per bulk ingest run [14]")
    ap.add_argument("--api-users", type=int, help="visitors of the API database [140000]")
    ap.add_argument("--api-days", type=int, help="days of the API database [30]")
    ap.add_argument("--repeat", type=int, help="timed calls per API query [15]")
    ap.add_argument(
        "--db-dir",
        help="keep the API databases in this folder (api-<visitors>x<days>.duckdb) "
        "instead of deleting them",
    )
    ap.add_argument(
        "--reuse-db",
        action="store_true",
        help="with --db-dir: use an existing file, do not rebuild",
    )
    ap.add_argument(
        "--retries",
        type=int,
        help="repeats of a run during which other processes took over 10%% of the server's "
        "CPU or steal was over 10%% [2; 0 with --dry-run]",
    )
    ap.add_argument(
        "--quiet-wait",
        type=float,
        help="before each run, wait up to this many seconds for the machine to be idle "
        "apart from the benchmark [20; 0 with --dry-run]",
    )
    ap.add_argument(
        "--patience",
        type=float,
        help="seconds that waiting for an idle machine and repeating disturbed runs may "
        "take in all [360; 0 with --dry-run]",
    )
    ap.add_argument("--no-nginx", action="store_true", help="skip the nginx baseline")
    args = ap.parse_args(argv)
    args.argv = list(argv)
    if args.reuse_db and not args.db_dir:
        ap.error("--reuse-db needs --db-dir")
    for name in ("runs", "duration", "probes", "ingest_users", "ingest_days", "repeat"):
        value = getattr(args, name)
        if value is not None and value < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.retries is not None and args.retries < 0:
        ap.error("--retries must be at least 0")
    for name in ("quiet_wait", "patience"):
        if getattr(args, name) is not None and getattr(args, name) < 0:
            ap.error(f"--{name.replace('_', '-')} must be at least 0")
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the `with` blocks that stop the servers


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    plan = build_plan(args)
    out: Path = args.out or (
        Path(tempfile.gettempdir()) / "fakeboxer-bench-dry-run.md" if args.dry_run else DOCS
    )
    try:
        require_tool("wrk", "apt-get install wrk")
        require_tool("taskset", "apt-get install util-linux")
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="fakeboxer-bench-"))
    COMMANDS.tmp = tmp
    try:
        with Processes(tmp) as procs:
            res = run_all(procs, tmp, plan, args)
    except KeyboardInterrupt:
        print("bench: interrupted; every server it started is stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res.commands = COMMANDS.lines
    block = render(res, plan.repeat)
    print()
    print(block)
    write_report(out, block)
    print(f"bench: wrote {out}")
    if res.failures:
        print(f"bench: {len(res.failures)} section(s) failed: {', '.join(res.failures)}")
    if not res.check_ok():
        print("bench: an answered hit was not stored (see the check line)", file=sys.stderr)
    return 0 if res.check_ok() and not res.failures else 1


if __name__ == "__main__":
    sys.exit(main())
