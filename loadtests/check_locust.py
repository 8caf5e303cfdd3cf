"""Compare a finished locust run's successful collector hits with the events stored.

The locustfile already does this check when locust quits; this script does it after the
fact from locust's CSV output, e.g. for runs of another locustfile or from CI:

    locust -f loadtests/locustfile.py --headless -u 50 -r 10 -t 60s \\
        --host http://127.0.0.1:8080 --csv /tmp/load --only-summary
    python loadtests/check_locust.py --csv /tmp/load --host http://127.0.0.1:8080

Counts rows of `<csv>_stats.csv` whose name starts with `hit: ` (script fetches and API
reads are not hits): Request Count - Failure Count. Compares with `/_fakeboxer/stats`
"events" minus `--baseline` (the events stored before the run; 0 after a reset).
Exit 0 when equal, 1 when they differ, 2 when an input cannot be read.

Prefer the locustfile's own check at quit: locust's final CSV was once seen one request
short of its in-memory stats (a request that finished during shutdown).
"""

from __future__ import annotations

import argparse
import csv
import sys

import httpx

HIT_PREFIX = "hit: "


def counted_hits(stats_csv: str) -> int:
    total = 0
    with open(stats_csv, newline="") as f:
        for row in csv.DictReader(f):
            if row["Name"].startswith(HIT_PREFIX):
                total += int(row["Request Count"]) - int(row["Failure Count"])
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", required=True, help="the --csv prefix given to locust")
    ap.add_argument("--host", required=True, help="the fakeboxer server URL")
    ap.add_argument("--baseline", type=int, default=0, help="events stored before the run")
    args = ap.parse_args(argv)
    try:
        counted = counted_hits(f"{args.csv}_stats.csv")
        r = httpx.get(args.host.rstrip("/") + "/_fakeboxer/stats", timeout=60)
        r.raise_for_status()
        stored = int(r.json()["events"]) - args.baseline
    except (OSError, KeyError, ValueError, httpx.HTTPError) as exc:
        print(f"check_locust: {exc}", file=sys.stderr)
        return 2
    if counted != stored:
        print(f"check_locust: MISMATCH, locust {counted} successful hits, server {stored} events")
        return 1
    print(f"check_locust: ok, {counted} successful hits = {stored} events stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
