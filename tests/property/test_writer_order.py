"""Arrival order does not change what is stored (SPEC 4.1, 4.2), through the real writer
and a real DuckDB file: the same events ingested in any order and any batching give the
same session of every event, the same sessions and the same folded users."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector import sessions as rules
from collector.model import EventRecord
from collector.storage.db import Store
from collector.storage.writer import BatchWriter

TIMEOUT_MS = 30 * 60_000
T0 = 1_700_000_000_000
USERS = ["1700000000000.111111111", "1700000000500.222222222", "1700000000900.333333333"]


@st.composite
def event_sets(draw: st.DrawFn) -> list[EventRecord]:
    n = draw(st.integers(1, 14))
    records = []
    for i in range(n):
        user = draw(st.sampled_from(USERS))
        # minutes on a coarse grid so gaps land on both sides of the timeout, and ties
        ts = T0 + draw(st.integers(0, 200)) * 60_000 // 4
        props = {"ti": draw(st.sampled_from(["Home", "Pricing", "Signup"]))}
        if draw(st.booleans()):
            props["plan"] = draw(st.sampled_from(["free", "pro", "team"]))
        if draw(st.booleans()):
            props["utm_source"] = draw(st.sampled_from(["news", "ads"]))
            props["utm_medium"] = draw(st.sampled_from(["email", "cpc"]))
        explicit = None
        if draw(st.integers(0, 9)) == 0:
            explicit = f"{T0 + 7}.{user.partition('.')[2]}"
        records.append(
            EventRecord(
                seq=1_000 + i,
                site="s",
                event_id=f"{ts}.{100000000 + i}",
                user_id=user,
                session_id=explicit,
                ts=ts,
                received_ms=ts,
                title=props["ti"],
                props=props,
                lc=f"https://example.com/{props['ti'].lower()}",
                ref="https://www.google.com/" if i % 3 == 0 else "",
                increment=draw(st.booleans()),
            )
        )
    return records


def ingest(records: list[EventRecord], cuts: list[int], cache_size: int = 50_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "t.duckdb"))
        writer = BatchWriter(store, None, TIMEOUT_MS, cache_size=cache_size)
        cur = store.cursor()
        start = 0
        for end in [*sorted(set(cuts)), len(records)]:
            if end > start:
                writer.process(cur, [(r, None) for r in records[start:end]])
                start = end
        snapshot = {
            "events": sorted(
                cur.execute("SELECT event_id, session_id, user_id FROM events").fetchall()
            ),
            "sessions": sorted(
                (*row[:-1], orjson.loads(row[-1]))
                for row in cur.execute(
                    "SELECT site, session_id, user_id, start_ms, end_ms, duration_ms, events, "
                    "pages, entry_url, exit_url, referrer, channel, last_channel, utm_source, "
                    "props FROM sessions"
                ).fetchall()
            ),
            "users": sorted(
                (*row[:-1], orjson.loads(row[-1]))
                for row in cur.execute(
                    "SELECT site, user_id, email, first_ms, last_ms, events, pages, visits, "
                    "total_duration_ms, last_visit_duration_ms, first_session_id, "
                    "last_session_id, first_channel, last_channel, first_landing_page, "
                    "last_landing_page, first_referrer, last_event_id, props FROM users"
                ).fetchall()
            ),
        }
        cur.close()
        store.close()
    return snapshot


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=event_sets(), data=st.data())
def test_any_arrival_order_and_batching_stores_the_same(
    records: list[EventRecord], data: st.DataObject
) -> None:
    in_order = sorted(records, key=lambda r: (r.ts, r.seq))
    shuffled = data.draw(st.permutations(records))
    cuts = data.draw(st.lists(st.integers(0, len(records)), max_size=4))
    # A tiny cache makes the writer evict and reload users and sessions mid-batch.
    cache_size = data.draw(st.sampled_from([1, 2, 50_000]))
    expected = ingest(in_order, [])
    assert ingest(shuffled, cuts, cache_size) == expected
    # Each user's last_event_id is its latest event by (ts, seq), whatever the order.
    latest = {
        u: max((r for r in records if r.user_id == u), key=lambda r: (r.ts, r.seq)).event_id
        for u in {r.user_id for r in records}
    }
    assert {row[1]: row[-2] for row in expected["users"]} == latest


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=event_sets(), data=st.data())
def test_implicit_sessions_follow_the_inactivity_rule(
    records: list[EventRecord], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(records))
    cuts = data.draw(st.lists(st.integers(0, len(records)), max_size=4))
    stored = {eid: sid for eid, sid, _ in ingest(shuffled, cuts)["events"]}
    for user in USERS:
        implicit = [r for r in records if r.user_id == user and r.session_id is None]
        for start, _end, indexes in rules.sessionize([r.ts for r in implicit], TIMEOUT_MS):
            expected_id = f"{start}.{user.partition('.')[2]}"
            assert {stored[implicit[i].event_id] for i in indexes} == {expected_id}
