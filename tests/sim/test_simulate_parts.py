"""A large `simulate --db` is generated and written in parts of whole visitors, so its
memory stays bounded: the parts together are the traffic of one generation, and the
stored leads, sessions and events are those of a build in one transaction."""

from __future__ import annotations

import heapq
from operator import attrgetter
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.simulate import build_batch
from collector.simulate_model import SimConfig, generate, generate_chunks
from collector.storage import bulk
from collector.storage.db import Store
from tests._bulk_support import run_simulate


@settings(max_examples=25, deadline=None)
@given(
    users=st.integers(0, 60),
    part=st.integers(1, 70),
    seed=st.integers(0, 10_000),
)
def test_parts_merged_by_time_are_the_whole_generation(users: int, part: int, seed: int) -> None:
    config = SimConfig(users, 3, seed)
    whole = generate(config)
    parts = list(generate_chunks(config, part))
    assert len(parts) == max(1, -(-users // part))  # ceil, and one empty part for 0 users
    merged = list(heapq.merge(*(p.hits for p in parts), key=attrgetter("t_ms")))
    assert merged == whole.hits
    assert [v.uid for p in parts for v in p.visitors] == [v.uid for v in whole.visitors]


def _content(path: Path) -> dict[str, Any]:
    """What does not depend on arrival numbers and event ids, which a build in parts
    numbers part by part."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "users": con.execute(
                "SELECT * EXCLUDE (fold, last_event_id) FROM users ORDER BY site, user_id"
            ).fetchall(),
            "sessions": con.execute(
                "SELECT * EXCLUDE (fold) FROM sessions ORDER BY site, user_id, session_id"
            ).fetchall(),
            "events": con.execute(
                "SELECT site, user_id, session_id, ts, title, lc, ref, props FROM events "
                "ORDER BY site, user_id, ts"
            ).fetchall(),
            "emails": con.execute("SELECT * FROM user_emails ORDER BY ALL").fetchall(),
            "counters": con.execute("SELECT * FROM counters ORDER BY name").fetchall(),
            "distinct event ids": con.execute(
                "SELECT count(DISTINCT event_id) = count(*) FROM events"
            ).fetchall(),
            # last_event_id names an event by its id, so it is compared through the events
            "users whose last_event_id is not their latest event": con.execute(
                "SELECT count(*) FROM users u LEFT JOIN (SELECT site, user_id, "
                "arg_max(event_id, (ts, seq)) AS latest FROM events GROUP BY ALL) e "
                "USING (site, user_id) WHERE u.last_event_id IS DISTINCT FROM e.latest"
            ).fetchall(),
        }
    finally:
        con.close()


def test_a_build_in_parts_stores_what_one_transaction_stores(tmp_path: Path) -> None:
    common = ["--users", "260", "--days", "6", "--seed", "5"]
    parts_db, whole_db = tmp_path / "parts.duckdb", tmp_path / "whole.duckdb"
    r = run_simulate(*common, "--db", str(parts_db), "--part-visitors", "100", "--verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in bulk transactions of 100 visitors" in r.stdout and "verify: ok" in r.stdout
    r = run_simulate(*common, "--db", str(whole_db), "--verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in one bulk transaction" in r.stdout
    parts, whole = _content(parts_db), _content(whole_db)
    assert parts["events"] and parts["distinct event ids"] == [(True,)]
    assert parts["users whose last_event_id is not their latest event"] == [(0,)]
    for table in parts:
        assert parts[table] == whole[table], table


def test_a_part_with_a_stored_user_is_refused_and_nothing_written(tmp_path: Path) -> None:
    traffic = generate(SimConfig(30, 3, 2))
    store = Store(str(tmp_path / "t.duckdb"))
    cur = store.cursor()
    bulk.ingest(cur, build_batch(traffic, 1), traffic.config.timeout_ms)
    (before,) = cur.execute("SELECT count(*) FROM events").fetchall()
    again = build_batch(traffic, 10_000, len(traffic.hits))  # new seqs and event ids
    with pytest.raises(bulk.SiteNotFresh, match="already has the user_id"):
        bulk.ingest(cur, again, traffic.config.timeout_ms, new_users=True)
    assert cur.execute("SELECT count(*) FROM events").fetchall() == [before]
    store.close()


def test_part_visitors_must_be_positive(tmp_path: Path) -> None:
    r = run_simulate("--users", "5", "--db", str(tmp_path / "x.duckdb"), "--part-visitors", "0")
    assert r.returncode == 2
    assert "--part-visitors" in r.stderr
