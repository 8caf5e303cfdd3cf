"""Read-API latency on an existing database (not a test: figures, no assertions).

    .venv/bin/fakeboxer simulate --users 160000 --days 30 --db /tmp/big.duckdb --site big
    .venv/bin/python loadtests/bench_api.py --db /tmp/big.duckdb --site big [--repeat 20]

Starts `fakeboxer serve` on the file (loopback, a fixed API key), times each request
`--repeat` times over real HTTP and prints median and p95 per query, plus the database
size (leads, events) and the server's peak RSS.
"""

from __future__ import annotations

import argparse
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-api-key-0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "fakeboxer"),
            "serve",
            "--db",
            args.db,
            "--port",
            str(port),
            "--api-key",
            KEY,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/_fakeboxer/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("server did not start", file=sys.stderr)
                return 1
            time.sleep(0.2)
        client = httpx.Client(base_url=url, timeout=120, headers={"x-api-key": KEY})
        stats = client.get("/_fakeboxer/stats").json()
        first = client.get(
            "/v1/leads", params={"site": args.site, "limit": 1, "sortBy": "lastEvent|desc"}
        ).json()
        lead = first["data"][0]["use_id"]
        queries = {
            "c_view_leads first page": (
                "/api/views/c_view_leads",
                {"site": args.site, "apiKey": KEY},
            ),
            "c_view_leads filter + sort": (
                "/api/views/c_view_leads",
                {
                    "site": args.site,
                    "apiKey": KEY,
                    "sortBy": "total_number_visits|desc",
                    "criteriaNumberFilter": "total_number_visits|greaterthan|2",
                },
            ),
            "c_view_leads search + _score sort": (
                "/api/views/c_view_leads",
                {"site": args.site, "apiKey": KEY, "search": "acme", "sortBy": "_score|desc"},
            ),
            "lead_detail": (
                "/api/views/lead_detail",
                {"site": args.site, "apiKey": KEY, "leadId": lead},
            ),
            "a lead's sessions": (
                "/api/leads/sessions",
                {"site": args.site, "apiKey": KEY, "leadId": lead},
            ),
        }
        print(
            f"database: {stats['users']:,} leads, {stats['sessions']:,} sessions, "
            f"{stats['events']:,} events ({Path(args.db).stat().st_size / 1e6:,.0f} MB)"
        )
        print("| query | median ms | p95 ms | status |")
        print("| --- | --- | --- | --- |")
        for name, (path, params) in queries.items():
            times = []
            status = 0
            for _ in range(args.repeat):
                started = time.perf_counter()
                r = client.get(path, params=params)
                times.append((time.perf_counter() - started) * 1000)
                status = r.status_code
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {status} |")
        print(f"server peak RSS: {peak_rss_mb(server.pid):,.0f} MB")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
