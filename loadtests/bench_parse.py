"""Micro-benchmark of the hit parser (not a test).

Run from the repository root:  .venv/bin/python loadtests/bench_parse.py

Prints microseconds per call (the median of 5 repeats) for `collector.hits.split_pairs`
and `collector.hits.parse_hit` on a typical 10-parameter pixel hit, next to the
standard library's `urllib.parse.parse_qsl` on the same query.
"""

from __future__ import annotations

import statistics
import sys
import timeit
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collector.hits import parse_hit, split_pairs  # noqa: E402
from collector.model import Hit, Limits, RawRequest  # noqa: E402

QUERY = (
    b"si=demo&ti=Hello%20World%20%E2%80%94%20A%20Post"
    b"&lc=https%3A%2F%2Fexample.com%2Fposts%2Fhello-world%3Fa%3D1"
    b"&ref=https%3A%2F%2Fwww.google.com%2F&sw=1920&sh=1080"
    b"&utm_source=news&utm_medium=email&email=a%40b.com&t_ms=1700000000123"
)
NOW_MS = 1_700_000_000_500
REPEATS = 5


def per_call_us(func: object, number: int) -> float:
    """Median microseconds per call of `func` over `REPEATS` runs of `number` calls."""
    timings = timeit.repeat(func, number=number, repeat=REPEATS)  # type: ignore[arg-type]
    return statistics.median(timings) / number * 1e6


def main() -> None:
    request = RawRequest(
        method="GET",
        path="/",
        query=QUERY,
        body=b"",
        headers={"accept": "image/avif,image/webp,*/*"},
        client_ip="127.0.0.1",
    )
    limits = Limits()
    query_text = QUERY.decode("ascii")

    hit = parse_hit(request, NOW_MS, limits)
    assert isinstance(hit, Hit), hit
    assert dict(split_pairs(QUERY)) == dict(
        urllib.parse.parse_qsl(query_text, keep_blank_values=True)
    )

    number = 20_000
    rows = [
        ("split_pairs(bytes)", per_call_us(lambda: split_pairs(QUERY), number)),
        ("parse_hit(RawRequest)", per_call_us(lambda: parse_hit(request, NOW_MS, limits), number)),
        (
            "urllib.parse.parse_qsl(str)",
            per_call_us(lambda: urllib.parse.parse_qsl(query_text, keep_blank_values=True), number),
        ),
    ]
    print(f"{len(QUERY)}-byte query, 10 pairs; median of {REPEATS} x {number} calls")
    for name, micros in rows:
        print(f"  {name:<30} {micros:7.2f} us/call")


if __name__ == "__main__":
    main()
