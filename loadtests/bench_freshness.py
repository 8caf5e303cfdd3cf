"""Freshness: how long after its 2xx a hit can be read through the API.

    .venv/bin/python loadtests/bench_freshness.py --rate 700 [--probes 100] [--runs 3]

Starts fakeboxer with `--read-your-writes off` (so reads do not wait for the writer: they
see what is committed) pinned to CPU 1 and keeps a background load of the realistic pixel
hit at `--rate` req/s with wrk pinned to CPU 0. Meanwhile one thread sends probe hits (one
lead, titles probe-0, probe-1, ...) 20-80 ms apart, without waiting for earlier ones to
show, and another polls the read API (`GET /v1/leads/{lead}/events`, newest first) every
`--poll-ms` for the probes still outstanding. A probe's freshness is the time from its 2xx
to the first poll answer that has it. One poller for every probe keeps the reads' own load
on the server constant. `make bench` runs this at half the collector's measured capacity.
Loopback only; each probe is bounded by a 10 s timeout. Not a test: figures, no assertions.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loadtests.bench_collector import CONNECTIONS, HIT, remove_db
from loadtests.bench_conditions import Conditions, conditions, peak_rss_mb
from loadtests.benchlib import (
    LOAD_CPU,
    BenchError,
    Processes,
    WrkRun,
    finish_wrk,
    start_fakeboxer,
    start_wrk,
    this_process_on,
)

API_KEY = "bench-freshness-key-0001"
PROBE_SITE = "fresh"
# One lead (a user id in the collector's `<ms>.<digits>` form) sends every probe, so a
# single read of its newest events shows every probe still outstanding.
PROBE_LEAD = "1700000000000.100000001"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class FreshnessRun:
    freshness_ms: list[float] = field(default_factory=list)  # per probe that showed
    not_seen: int = 0  # probes not visible within the timeout
    failed: int = 0  # probes the collector did not answer 2xx
    polls_per_s: float = 0.0  # the poller's read rate against the server
    background: WrkRun | None = None
    during: Conditions = field(default_factory=Conditions)
    peak_rss_mb: float = float("nan")

    def p(self, q: float) -> float:
        """Percentile of the probes' freshness; a probe never seen counts as infinitely late."""
        values = self.freshness_ms + [math.inf] * self.not_seen
        return percentile(values, q) if values else float("nan")


class Probes:
    """Probe bookkeeping shared by the sender and the poller threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acknowledged: dict[str, float] = {}  # title -> perf_counter at its 2xx
        self.seen: dict[str, float] = {}  # title -> perf_counter of the poll that had it
        self.failed = 0
        self.sending = True

    def outstanding(self) -> int:
        with self.lock:
            return len(self.acknowledged.keys() - self.seen.keys())


def send_probes(url: str, probes: int, state: Probes, rng: random.Random, timeout_s: float) -> None:
    try:
        with httpx.Client(base_url=url, timeout=timeout_s) as client:
            for n in range(probes):
                # Random gaps keep the probes from locking onto the writer's commit cycle.
                time.sleep(rng.uniform(0.02, 0.08))
                title = f"probe-{n}"
                answer = client.get("/", params={"si": PROBE_SITE, "ti": title, "uid": PROBE_LEAD})
                answered = time.perf_counter()
                with state.lock:
                    if 200 <= answer.status_code < 300:
                        state.acknowledged[title] = answered
                    else:
                        state.failed += 1
    finally:
        state.sending = False


def poll_probes(url: str, state: Probes, poll_s: float, timeout_s: float) -> int:
    """Poll until every acknowledged probe is seen or timed out; return the poll count."""
    polls = 0
    last_ack = time.perf_counter()
    with httpx.Client(base_url=url, timeout=timeout_s, headers={"x-api-key": API_KEY}) as client:
        while True:
            waiting = state.outstanding()
            with state.lock:
                if state.acknowledged:
                    last_ack = max(state.acknowledged.values())
                sending = state.sending
            if not sending and (waiting == 0 or time.perf_counter() > last_ack + timeout_s):
                return polls
            if waiting:
                r = client.get(
                    f"/v1/leads/{PROBE_LEAD}/events",
                    params={"site": PROBE_SITE, "limit": min(1000, waiting + 5)},
                )
                now = time.perf_counter()
                polls += 1
                if r.status_code == 200:
                    with state.lock:
                        for event in r.json()["data"]:
                            state.seen.setdefault(str(event.get("ti")), now)
            time.sleep(poll_s)


def freshness_run(
    procs: Processes,
    tmp: Path,
    probes: int,
    rate: float,
    poll_ms: float = 5,
    timeout_s: float = 10,
    seed: int = 1,
) -> FreshnessRun:
    """One run on a fresh server and DB file: background load at `rate`, `probes` probes."""
    db = tmp / "freshness.duckdb"
    remove_db(db)
    proc, url = start_fakeboxer(
        procs, "fakeboxer-freshness", db, "--read-your-writes", "off", "--api-key", API_KEY
    )
    result = FreshnessRun()
    state = Probes()
    # wrk is stopped (SIGINT) once the probes are done; this only bounds it.
    background_s = int(probes * 0.08 + 2 * timeout_s) + 10
    try:
        with conditions(proc.pid) as during, this_process_on(LOAD_CPU):
            load = start_wrk(url + HIT, background_s, connections=CONNECTIONS, rate=rate)
            try:
                time.sleep(1)  # let the background load settle first
                sender = threading.Thread(
                    target=send_probes,
                    args=(url, probes, state, random.Random(seed), timeout_s),
                    name="probe-sender",
                )
                polling_started = time.perf_counter()
                sender.start()
                try:
                    polls = poll_probes(url, state, poll_ms / 1000, timeout_s)
                finally:
                    sender.join(timeout=probes * (0.08 + timeout_s) + 10)
                result.polls_per_s = polls / max(1e-9, time.perf_counter() - polling_started)
            finally:
                result.background = finish_wrk(load, timeout=background_s + 60, stop_now=True)
        result.during = during
        result.peak_rss_mb = peak_rss_mb(proc.pid)
    finally:
        procs.stop(proc)
        remove_db(db)
    for title, acknowledged in state.acknowledged.items():
        seen = state.seen.get(title)
        if seen is None:
            result.not_seen += 1
        else:
            # A commit can land before this process has read the 2xx: count that as 0.
            result.freshness_ms.append(max(0.0, seen - acknowledged) * 1000)
    result.failed = state.failed
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--rate", type=float, required=True, help="background hits per second")
    ap.add_argument("--probes", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--poll-ms", type=float, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fakeboxer-fresh-"))
    try:
        with Processes(tmp) as procs:
            runs = [
                freshness_run(procs, tmp, args.probes, args.rate, args.poll_ms, seed=n)
                for n in range(args.runs)
            ]
    except BenchError as exc:
        print(f"bench_freshness: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for n, r in enumerate(runs, 1):
        bg = r.background
        print(
            f"run {n}: {len(r.freshness_ms)} probes seen, {r.not_seen} not seen, {r.failed} "
            f"failed; p50 {r.p(50):.0f} ms, p99 {r.p(99):.0f} ms, max {r.p(100):.0f} ms; "
            f"background {bg.rate if bg else 0:,.0f} req/s, {r.polls_per_s:,.0f} polls/s; "
            f"steal {r.during.steal:.1f}%"
        )
    print(f"median p99: {statistics.median(r.p(99) for r in runs):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
