"""The writer's caches may evict a user or session of the batch being written; what is
stored must not change (found by review: keys evicted mid-batch looked empty)."""

from __future__ import annotations

from pathlib import Path

import orjson

from collector.model import EventRecord
from collector.storage.db import Store
from collector.storage.writer import BatchWriter
from tests._records import page_view as record

T0 = 1_700_000_000_000


def test_eviction_mid_batch_keeps_stored_state(tmp_path: Path) -> None:
    a, b, c = "1.111111111", "2.222222222", "3.333333333"
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000, cache_size=2)
    cur = store.cursor()
    writer.process(
        cur,
        [
            (record(1, a, T0, True, plan="pro"), None),
            (record(2, a, T0 + 1_000), None),
            (record(3, b, T0, True), None),
        ],
    )
    writer.process(
        cur,
        [
            (record(4, c, T0, True), None),
            (record(5, a, T0 + 60_000), None),
            (record(6, b, T0 + 60_000), None),
        ],
    )
    sessions = cur.execute(
        "SELECT user_id, session_id, events FROM sessions ORDER BY user_id"
    ).fetchall()
    assert sessions == [
        (a, f"{T0}.111111111", 3),
        (b, f"{T0}.222222222", 2),
        (c, f"{T0}.333333333", 1),
    ]
    users = {
        u: (n, orjson.loads(p))
        for u, n, p in cur.execute("SELECT user_id, events, props FROM users").fetchall()
    }
    assert users[a][0] == 3 and users[a][1]["plan"] == "pro"
    assert users[b][0] == 2
    store.close()


def test_repeated_eid_is_answered_with_the_stored_ids(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()

    def with_eid(seq: int, user: str) -> EventRecord:
        r = record(seq, user, T0 + seq)
        r.event_id, r.client_eid, r.wants_ack = "order-42", True, True
        return r

    first = writer._ingest_safely(cur, [(with_eid(1, "1.111111111"), None)])
    stored = ("order-42", "1.111111111", f"{T0 + 1}.111111111")
    assert first == {1: stored}
    # Two repeats in one later batch, from another user: both get the stored ids.
    again = writer._ingest_safely(
        cur, [(with_eid(2, "2.222222222"), None), (with_eid(3, "2.222222222"), None)]
    )
    assert again == {2: stored, 3: stored}
    # A repeat of an event stored earlier in the same batch gets that event's ids.
    batch = writer._ingest_safely(
        cur, [(with_eid(4, "3.333333333"), None), (with_eid(5, "4.444444444"), None)]
    )
    assert batch[4] == batch[5] == stored
    assert cur.execute("SELECT count(*) FROM events").fetchone() == (1,)
    store.close()
