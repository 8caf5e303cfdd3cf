"""Collector throughput against a bare baseline, measured side by side in one run.

    .venv/bin/python loadtests/bench_collector.py [--runs 3] [--duration 10] [--dry-run]

Starts fakeboxer (full ingestion into a fresh DuckDB file) and the bare starlette GIF
endpoint of loadtests/bare_gif.py, each pinned to CPU 1, and drives them with wrk pinned
to CPU 0 (`wrk -t1 -c64 --latency`), interleaving the runs. For each fakeboxer run it then
checks that the events stored equal wrk's 2xx answers. Prints the medians and the ratio.
Loopback only; every run is bounded by --duration. Not a test: figures, no assertions.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HIT = (
    "/?si=bench&ti=Hello%20World&lc=https%3A%2F%2Fexample.com%2Fposts%2Fhello-world%3Fa%3D1"
    "&ref=https%3A%2F%2Fwww.google.com%2F&sw=1920&sh=1080&utm_source=news&utm_medium=email"
    "&utm_campaign=launch&plan=pro"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and os.cpu_count() != 1 else []


def wait_ready(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def steal_percent(sample_s: float) -> float:
    def read() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(fields), fields[7] if len(fields) > 7 else 0

    t0, s0 = read()
    time.sleep(sample_s)
    t1, s1 = read()
    return 100.0 * (s1 - s0) / max(1, t1 - t0)


def run_wrk(url: str, duration: int) -> dict[str, float]:
    out = subprocess.run(
        [*pinned(0), "wrk", "-t1", "-c64", f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)

    def latency(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": total,
        "ok": total - (int(non2xx.group(1)) if non2xx else 0),
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "p50": latency("50"),
        "p99": latency("99"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument(
        "--dry-run", action="store_true", help="one 1-second run of each, to check the script"
    )
    args = ap.parse_args()
    if args.dry_run:
        args.runs, args.duration = 1, 1
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    bin_dir = Path(sys.executable).parent
    tmp = Path(tempfile.mkdtemp(prefix="fakeboxer-bench-"))
    fb_port, bare_port = free_port(), free_port()
    fb = subprocess.Popen(
        [
            *pinned(1),
            str(bin_dir / "fakeboxer"),
            "serve",
            "--db",
            str(tmp / "bench.duckdb"),
            "--port",
            str(fb_port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "fakeboxer.log").open("wb"),
    )
    bare = subprocess.Popen(
        [
            *pinned(1),
            str(bin_dir / "uvicorn"),
            "loadtests.bare_gif:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(bare_port),
            "--http",
            "httptools",
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fb_url, bare_url = f"http://127.0.0.1:{fb_port}", f"http://127.0.0.1:{bare_port}"
    results: dict[str, list[dict[str, float]]] = {"fakeboxer": [], "bare": []}
    lost: list[int] = []
    try:
        wait_ready(f"{fb_url}/_fakeboxer/health")
        wait_ready(f"{bare_url}/")
        for url in (fb_url, bare_url):  # warm-up, not counted
            run_wrk(url + HIT, 1 if args.dry_run else 2)
        for n in range(args.runs):
            httpx.post(f"{fb_url}/_fakeboxer/reset", timeout=60)
            steal = steal_percent(0.5)
            r = run_wrk(fb_url + HIT, args.duration)
            stored = httpx.get(f"{fb_url}/_fakeboxer/stats", timeout=120).json()["events"]
            lost.append(int(r["ok"]) - int(stored))
            results["fakeboxer"].append(r)
            b = run_wrk(bare_url + HIT, args.duration)
            results["bare"].append(b)
            print(
                f"run {n + 1}: fakeboxer {r['rps']:,.0f} req/s (stored {stored:,} of "
                f"{int(r['ok']):,} 2xx), bare {b['rps']:,.0f} req/s, steal {steal:.1f}%",
                flush=True,
            )
    finally:
        for proc in (fb, bare):
            proc.send_signal(signal.SIGTERM)
        for proc in (fb, bare):
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    fb_rps, bare_rps = med("fakeboxer", "rps"), med("bare", "rps")
    print()
    print(f"| server | req/s (median of {args.runs}) | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- |")
    for name in ("fakeboxer", "bare"):
        print(
            f"| {name} | {med(name, 'rps'):,.0f} | {med(name, 'p50'):.2f} | "
            f"{med(name, 'p99'):.2f} |"
        )
    # wrk stops counting at the deadline while up to 64 requests are still in flight; those
    # are stored but not counted, so stored may exceed wrk's 2xx by at most -c.
    print(
        f"\nratio fakeboxer / bare = {fb_rps / bare_rps:.2f}; 2xx answers not stored per "
        f"run: {[max(0, n) for n in lost]} (must be 0); stored beyond wrk's count (in "
        f"flight at its deadline): {[max(0, -n) for n in lost]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
