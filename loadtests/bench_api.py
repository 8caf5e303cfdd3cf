"""Read-API latency on an existing database (not a test: figures, no assertions).

    .venv/bin/fakeboxer simulate --users 140000 --days 30 --db /tmp/big.duckdb --site big
    .venv/bin/python loadtests/bench_api.py --db /tmp/big.duckdb --site big [--repeat 15]

Starts `fakeboxer serve` on the file (loopback, pinned to CPU 1, a fixed API key), times
each request `--repeat` times over real HTTP from this process (on CPU 0) and prints
median and p95 per query, plus the database size (leads, events) and the server's peak
RSS. `loadtests/bench.py` (`make bench`) uses measure_api for its API rows.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loadtests.bench_conditions import Conditions, conditions, peak_rss_mb
from loadtests.benchlib import LOAD_CPU, BenchError, Processes, start_fakeboxer, this_process_on

KEY = "bench-api-key-0001"
# The query the target names: the first page of the lead list with a filter and
# a sort.
FILTER_SORT = "c_view_leads first page, filter + sort"


@dataclass(frozen=True)
class QueryTiming:
    median_ms: float
    p95_ms: float
    status: int


@dataclass
class ApiResult:
    leads: int = 0
    sessions: int = 0
    events: int = 0
    file_mb: float = 0.0
    queries: dict[str, QueryTiming] = field(default_factory=dict)
    peak_rss_mb: float = float("nan")
    during: Conditions = field(default_factory=Conditions)


def queries_for(site: str, lead: str) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "c_view_leads first page, default sort": (
            "/api/views/c_view_leads",
            {"site": site, "apiKey": KEY},
        ),
        FILTER_SORT: (
            "/api/views/c_view_leads",
            {
                "site": site,
                "apiKey": KEY,
                "sortBy": "total_number_visits|desc",
                "criteriaNumberFilter": "total_number_visits|greaterthan|2",
            },
        ),
        "c_view_leads search + _score sort": (
            "/api/views/c_view_leads",
            {"site": site, "apiKey": KEY, "search": "acme", "sortBy": "_score|desc"},
        ),
        "lead_detail": (
            "/api/views/lead_detail",
            {"site": site, "apiKey": KEY, "leadId": lead},
        ),
        "a lead's sessions": (
            "/api/leads/sessions",
            {"site": site, "apiKey": KEY, "leadId": lead},
        ),
    }


def time_query(client: httpx.Client, path: str, params: dict[str, str], repeat: int) -> QueryTiming:
    times = []
    status = 0
    for _ in range(repeat):
        started = time.perf_counter()
        r = client.get(path, params=params)
        times.append((time.perf_counter() - started) * 1000)
        status = r.status_code
    times.sort()
    p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]
    return QueryTiming(statistics.median(times), p95, status)


def measure_api(
    procs: Processes, db: Path, site: str, repeat: int, serve_flags: Sequence[str] = ()
) -> ApiResult:
    """Serve `db` and time every query `repeat` times (after one untimed warm-up call).
    `serve_flags`: more `fakeboxer serve` flags (the server ignores FAKEBOXER_* variables
    of this process, so a setting to compare must come this way)."""
    proc, url = start_fakeboxer(
        procs, "fakeboxer-api", db, "--api-key", KEY, *serve_flags, ready_timeout=600
    )
    result = ApiResult(file_mb=db.stat().st_size / 1e6)
    try:
        with (
            this_process_on(LOAD_CPU),
            httpx.Client(base_url=url, timeout=300, headers={"x-api-key": KEY}) as client,
        ):
            stats = client.get("/_fakeboxer/stats").json()
            result.leads, result.sessions, result.events = (
                stats["users"],
                stats["sessions"],
                stats["events"],
            )
            first = client.get(
                "/v1/leads", params={"site": site, "limit": 1, "sortBy": "lastEvent|desc"}
            ).json()
            if not first.get("data"):
                raise BenchError(f"no leads in dataset {site!r} of {db.name}")
            lead = first["data"][0]["use_id"]
            with conditions(proc.pid) as during:
                for name, (path, params) in queries_for(site, lead).items():
                    client.get(path, params=params)  # warm-up: first use of the query's code
                    result.queries[name] = time_query(client, path, params, repeat)
            result.during = during
        result.peak_rss_mb = peak_rss_mb(proc.pid)
    finally:
        procs.stop(proc)
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument(
        "--db-memory-mb", type=int, help="serve with this --db-memory-mb (default: serve's)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="fakeboxer-api-") as tmp:
        try:
            with Processes(Path(tmp)) as procs:
                flags = (
                    [] if args.db_memory_mb is None else ["--db-memory-mb", str(args.db_memory_mb)]
                )
                r = measure_api(procs, Path(args.db), args.site, args.repeat, flags)
        except BenchError as exc:
            print(f"bench_api: {exc}", file=sys.stderr)
            return 1
    print(
        f"database: {r.leads:,} leads, {r.sessions:,} sessions, {r.events:,} events "
        f"({r.file_mb:,.0f} MB)"
    )
    print("| query | median ms | p95 ms | status |")
    print("| --- | --- | --- | --- |")
    for name, t in r.queries.items():
        print(f"| {name} | {t.median_ms:.1f} | {t.p95_ms:.1f} | {t.status} |")
    print(f"server peak RSS: {r.peak_rss_mb:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
