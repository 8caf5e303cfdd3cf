"""Collector throughput and latency against bare baselines, measured side by side.

    .venv/bin/python loadtests/bench_collector.py [--runs 3] [--duration 10] [--dry-run]

fakeboxer (full ingestion into a fresh DuckDB file per run), the bare starlette GIF
endpoint of loadtests/bare_gif.py and, when nginx is installed, nginx's `empty_gif`, each
pinned to CPU 1 and driven by wrk pinned to CPU 0 (`wrk -t1 -c64 --latency`), runs
interleaved. After each fakeboxer run the events stored are compared with wrk's 2xx
answers. `loadtests/bench.py` (`make bench`) uses these functions for its collector
rows; this script prints the throughput table alone. Loopback only; every run is bounded
by --duration. Not a test: figures, no assertions.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loadtests.bench_conditions import Conditions, Patience, conditions, peak_rss_mb, quietest_of
from loadtests.benchlib import (
    BIN,
    COMMANDS,
    SERVER_CPU,
    BenchError,
    Processes,
    WrkRun,
    free_port,
    pinned,
    require_tool,
    run_wrk,
    start_fakeboxer,
    wait_http,
)

# The realistic LeadBoxer pixel hit: 10 parameters, no cookie (every hit a new visitor,
# the worst case: each mints a lead, a session and two cookies).
HIT = (
    "/?si=bench&ti=Hello%20World&lc=https%3A%2F%2Fexample.com%2Fposts%2Fhello-world%3Fa%3D1"
    "&ref=https%3A%2F%2Fwww.google.com%2F&sw=1920&sh=1080&utm_source=news&utm_medium=email"
    "&utm_campaign=launch&plan=pro"
)
# Warm-up hits go to another dataset, so the check counts only the measured run's events.
WARM_HIT = HIT.replace("si=bench", "si=warm")
COMMANDS.alias(HIT, "$HIT")
COMMANDS.alias(WARM_HIT, "$WARM_HIT")
CONNECTIONS = 64

FAKEBOXER = "fakeboxer"
BARE = "bare starlette GIF"
NGINX = "nginx empty_gif"


@dataclass(frozen=True)
class Run:
    """One timed wrk run against one server."""

    wrk: WrkRun
    during: Conditions
    stored: int | None = None  # fakeboxer only: events of the measured dataset afterwards

    @property
    def missing(self) -> int:
        """2xx answers whose event is not stored (must be 0)."""
        return max(0, self.wrk.ok - self.stored) if self.stored is not None else 0

    @property
    def in_flight(self) -> int:
        """Events stored beyond wrk's count: requests the server took before wrk's deadline
        whose answers wrk no longer counted (at most one per connection)."""
        return max(0, self.stored - self.wrk.ok) if self.stored is not None else 0


@dataclass
class Comparison:
    """Interleaved runs per server, with each server's peak RSS over its runs."""

    runs: dict[str, list[Run]] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    rate: float | None = None  # the paced rate, when the load was paced
    # Runs repeated because other processes or the hypervisor took CPU (see disturbed()).
    set_aside: dict[str, list[Run]] = field(default_factory=dict)

    def add(self, server: str, run: Run, rss_mb: float) -> None:
        self.runs.setdefault(server, []).append(run)
        self.peak_rss_mb[server] = max(self.peak_rss_mb.get(server, 0.0), rss_mb)

    def median(self, server: str, value: Callable[[Run], float]) -> float:
        return statistics.median(value(r) for r in self.runs[server])

    def checked_runs(self) -> list[Run]:
        """Every fakeboxer run, the ones set aside too: none may have lost a hit."""
        return self.runs.get(FAKEBOXER, []) + self.set_aside.get(FAKEBOXER, [])

    def lost(self) -> int:
        return sum(r.missing for r in self.checked_runs())

    def check_ok(self) -> bool:
        return all(r.missing == 0 and r.in_flight <= CONNECTIONS for r in self.checked_runs())

    def repeats(self) -> int:
        return sum(len(runs) for runs in self.set_aside.values())


# --------------------------------------------------------------------------- baselines


@dataclass
class Baseline:
    name: str
    proc: subprocess.Popen[bytes]
    url: str


def start_bare(procs: Processes) -> Baseline:
    port = free_port()
    proc = procs.start(
        "bare",
        [
            *pinned(SERVER_CPU),
            str(BIN / "uvicorn"),
            "loadtests.bare_gif:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--http",
            "httptools",
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/", proc, procs)
    return Baseline(BARE, proc, url)


def nginx_config(folder: Path, port: int) -> Path:
    """A minimal foreground nginx: one process, loopback, the GIF with a cookie as the
    other baselines send ($request_id: 32 random hex digits per request), no access log."""
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            empty_gif;
            add_header Cache-Control "no-cache, no-store, must-revalidate";
            add_header Set-Cookie "_otui=$request_id; Max-Age=63072000; Path=/; SameSite=Lax";
        }}
    }}
}}
""",
        encoding="utf-8",
    )
    return conf


def start_nginx(procs: Processes, tmp: Path) -> Baseline | str:
    """nginx's empty_gif pinned like the others, or a note saying why it is skipped."""
    try:
        nginx = require_tool("nginx", "apt-get install nginx")
    except BenchError as exc:
        return f"skipped: {exc}"
    if shutil.which("nginx"):
        nginx = "nginx"  # found on PATH: the recorded command stays machine-neutral
    folder = tmp / "nginx"
    folder.mkdir(exist_ok=True)
    port = free_port()
    conf = nginx_config(folder, port)
    proc = procs.start(
        "nginx", [*pinned(SERVER_CPU), nginx, "-p", str(folder), "-c", str(conf), "-e", "stderr"]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/", proc, procs, timeout=20)
    except BenchError as exc:
        procs.stop(proc)
        return f"skipped: nginx did not start ({exc})"
    return Baseline(NGINX, proc, url)


@contextmanager
def baselines(procs: Processes, tmp: Path, with_nginx: bool) -> Iterator[list[Baseline | str]]:
    """The bare servers, started once for the whole benchmark (they keep no state)."""
    started: list[Baseline | str] = [start_bare(procs)]
    if with_nginx:
        started.append(start_nginx(procs, tmp))
    try:
        yield started
    finally:
        for b in started:
            if isinstance(b, Baseline):
                procs.stop(b.proc)


# --------------------------------------------------------------------------- runs


def stored_events(url: str, site: str) -> int:
    """Events of one dataset, after the writer committed every acknowledged hit."""
    r = httpx.get(f"{url}/_fakeboxer/events", params={"site": site, "limit": 1}, timeout=300)
    r.raise_for_status()
    return int(r.json()["total"])


def remove_db(db: Path) -> None:
    for path in (db, Path(f"{db}.wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(f"{db}.spool", ignore_errors=True)


def fakeboxer_run(
    procs: Processes, tmp: Path, duration: int, warmup: int, rate: float | None = None
) -> tuple[Run, float]:
    """One run on a fresh server and DB file: warm-up, the timed run, then the count of
    stored events. Returns the run and the server's peak RSS."""
    db = tmp / "collector.duckdb"
    remove_db(db)
    proc, url = start_fakeboxer(procs, "fakeboxer-collector", db)
    try:
        run_wrk(url + WARM_HIT, warmup, connections=CONNECTIONS, rate=rate)
        with conditions(proc.pid) as during:
            result = run_wrk(url + HIT, duration, connections=CONNECTIONS, rate=rate)
        # Requests still in flight at wrk's deadline may be stored a moment later.
        time.sleep(1)
        stored = stored_events(url, "bench")
        rss = peak_rss_mb(proc.pid)
    finally:
        procs.stop(proc)
        remove_db(db)
    return Run(result, during, stored), rss


def baseline_run(base: Baseline, duration: int, rate: float | None = None) -> tuple[Run, float]:
    with conditions(base.proc.pid) as during:
        result = run_wrk(base.url + HIT, duration, connections=CONNECTIONS, rate=rate)
    return Run(result, during), peak_rss_mb(base.proc.pid)


def compare(
    procs: Processes,
    tmp: Path,
    bases: list[Baseline],
    runs: int,
    duration: int,
    warmup: int,
    rate: float | None = None,
    progress: Callable[[str], None] = print,
    patience: Patience | None = None,
) -> Comparison:
    """`runs` rounds of fakeboxer and every baseline; the order rotates each round, so no
    server always runs first after a pause (or last, when the machine got busier). A run
    that other processes disturbed is repeated as `patience` allows; the quietest counts."""
    patience = patience or Patience()
    for base in bases:  # warm-up, not counted
        run_wrk(base.url + WARM_HIT, warmup, connections=CONNECTIONS, rate=rate)
    result = Comparison(rate=rate)
    names = [FAKEBOXER, *(b.name for b in bases)]
    by_name = {b.name: b for b in bases}
    for n in range(runs):
        order = names[n % len(names) :] + names[: n % len(names)]
        parts = []
        for name in order:

            def attempt(name: str = name) -> tuple[Run, float]:
                if name == FAKEBOXER:
                    return fakeboxer_run(procs, tmp, duration, warmup, rate)
                return baseline_run(by_name[name], duration, rate)

            def note(during: Conditions, name: str = name) -> None:
                progress(
                    f"    {name}: others took {during.others_cpu:.0f}% of CPU 1 and "
                    f"{during.others_load_cpu:.0f}% of CPU 0, steal {during.steal:.1f}%: "
                    "repeating the run"
                )

            (run, rss), aside = quietest_of(attempt, lambda t: t[0].during, patience, note)
            result.add(name, run, rss)
            result.set_aside.setdefault(name, []).extend(r for r, _ in aside)
            parts.append(f"{name} {run.wrk.rate:,.0f} req/s p99 {run.wrk.p99_ms:.1f} ms")
            if run.stored is not None:
                parts[-1] += f" (stored {run.stored:,} of {run.wrk.ok:,} 2xx)"
            parts[-1] += (
                f" (steal {run.during.steal:.1f}%, CPU 1: server {run.during.server_cpu:.0f}%, "
                f"others {run.during.others_cpu:.0f}%, CPU 0: others "
                f"{run.during.others_load_cpu:.0f}%)"
            )
        progress(f"  run {n + 1}/{runs}: " + "; ".join(parts))
    return result


# --------------------------------------------------------------------------- CLI


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per timed run")
    ap.add_argument("--no-nginx", action="store_true", help="skip the nginx baseline")
    ap.add_argument("--dry-run", action="store_true", help="one 1-second run of each")
    args = ap.parse_args()
    runs, duration, warmup = (1, 1, 1) if args.dry_run else (args.runs, args.duration, 2)
    tmp = Path(tempfile.mkdtemp(prefix="fakeboxer-bench-"))
    try:
        require_tool("wrk", "apt-get install wrk")
        with Processes(tmp) as procs, baselines(procs, tmp, not args.no_nginx) as bases:
            for note in (b for b in bases if isinstance(b, str)):
                print(f"nginx {note}")
            started = [b for b in bases if isinstance(b, Baseline)]
            result = compare(procs, tmp, started, runs, duration, warmup)
    except BenchError as exc:
        print(f"bench_collector: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n| server | req/s (median of {runs}) | p50 ms | p99 ms | peak RSS MiB |")
    print("| --- | --- | --- | --- | --- |")
    for name in result.runs:
        print(
            f"| {name} | {result.median(name, lambda r: r.wrk.rate):,.0f} | "
            f"{result.median(name, lambda r: r.wrk.p50_ms):.2f} | "
            f"{result.median(name, lambda r: r.wrk.p99_ms):.2f} | "
            f"{result.peak_rss_mb[name]:,.0f} |"
        )
    fb = result.median(FAKEBOXER, lambda r: r.wrk.rate)
    bare = result.median(BARE, lambda r: r.wrk.rate)
    print(
        f"\nratio fakeboxer / bare = {fb / bare:.2f}; 2xx answers not stored: {result.lost()} "
        f"(must be 0); stored beyond wrk's count (in flight at its deadline): "
        f"{[r.in_flight for r in result.runs[FAKEBOXER]]}"
    )
    return 0 if result.check_ok() else 1


if __name__ == "__main__":
    sys.exit(main())
