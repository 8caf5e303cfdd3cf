"""Read-only counts of what a DB file holds, for `fakeboxer simulate`: where its new
events' arrival numbers start, whether a dataset already has leads, and the per-user
figures `--verify` compares with the traffic model's ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import orjson


def next_seq(cur: duckdb.DuckDBPyConnection) -> int:
    """The arrival number after the highest stored one (1 in an empty file)."""
    # fetchall, not fetchone: DuckDB refuses other work on a cursor with rows left unread.
    (row,) = cur.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()
    return int(row[0]) + 1


def has_leads(cur: duckdb.DuckDBPyConnection, site: str) -> bool:
    (row,) = cur.execute("SELECT count(*) FROM users WHERE site = ?", [site]).fetchall()
    return bool(row[0])


@dataclass(slots=True)
class Census:
    events_by_site: dict[str, int]
    # user -> (events, distinct session ids among its events, rows in the sessions table)
    by_user: dict[str, tuple[int, int, int]]
    props_by_user: dict[str, dict[str, str]]
    emails: dict[str, str]


def census(con: duckdb.DuckDBPyConnection, site: str) -> Census:
    """Events per dataset, and per user of `site` its counts, folded properties and email."""
    by_site = dict(con.execute("SELECT site, count(*) FROM events GROUP BY site").fetchall())
    events = con.execute(
        "SELECT user_id, count(*), count(DISTINCT session_id) FROM events "
        "WHERE site = ? GROUP BY user_id",
        [site],
    ).fetchall()
    session_rows = dict(
        con.execute(
            "SELECT user_id, count(*) FROM sessions WHERE site = ? GROUP BY user_id", [site]
        ).fetchall()
    )
    props: dict[str, dict[str, str]] = {}
    emails: dict[str, str] = {}
    for uid, email, raw in con.execute(
        "SELECT user_id, email, props FROM users WHERE site = ?", [site]
    ).fetchall():
        props[uid] = orjson.loads(raw)
        if email:
            emails[uid] = email
    by_user = {
        uid: (int(n), int(distinct), int(session_rows.get(uid, 0))) for uid, n, distinct in events
    }
    return Census(by_site, by_user, props, emails)
