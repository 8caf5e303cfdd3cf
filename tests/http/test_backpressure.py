"""Overload answers 503 with Retry-After instead of queueing without bound (SPEC 8.1), and
a 503 hit is not stored while every 2xx hit is."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from tests.conftest import Server


def test_full_queue_answers_503_and_loses_nothing(make_server: Callable[..., Server]) -> None:
    server = make_server("--queue-max", "1")
    answers: dict[str, int] = {}
    retry_after: set[str] = set()
    lock = threading.Lock()

    def send(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for n in range(100):
                tag = f"{worker}-{n}"
                r = client.get("/", params={"si": "bp", "ti": "x", "tag": tag})
                with lock:
                    answers[tag] = r.status_code
                    if r.status_code == 503:
                        retry_after.add(r.headers.get("retry-after", ""))

    threads = [threading.Thread(target=send, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    ok = {tag for tag, status in answers.items() if status == 200}
    rejected = {tag for tag, status in answers.items() if status == 503}
    assert ok | rejected == set(answers), set(answers.values())
    assert rejected, "a queue of one under 8 concurrent senders never filled"
    assert retry_after == {"1"}
    stored = [e["properties"]["tag"] for e in server.events(site="bp", limit=1000)]  # type: ignore[index]
    assert sorted(stored) == sorted(ok)
    assert server.stats()["rejected_503"] == len(rejected)
