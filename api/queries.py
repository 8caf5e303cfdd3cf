"""Every read query, one small function each, bound parameters only.

Callers pass a cursor of their own thread (`Store.cursor()`); nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

EVENT_COLUMNS = (
    "site, event_id, seq, user_id, session_id, explicit_session, ts, received_ms, title, lc, "
    "ref, ip, user_agent, increment, props"
)


@dataclass(frozen=True, slots=True)
class EventFilter:
    site: str | None = None
    title: str | None = None
    user: str | None = None
    session: str | None = None
    limit: int = 50


def _event_where(f: EventFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("site", f.site),
        ("title", f.title),
        ("user_id", f.user),
        ("session_id", f.session),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")  # column names are constants above
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_events(cur: duckdb.DuckDBPyConnection, f: EventFilter) -> tuple[list[dict[str, Any]], int]:
    """Matching events newest first (event time, then arrival), and how many match."""
    where, params = _event_where(f)
    total_row = cur.execute(f"SELECT count(*) FROM events{where}", params).fetchone()
    rows = cur.execute(
        f"SELECT {EVENT_COLUMNS} FROM events{where} ORDER BY ts DESC, seq DESC LIMIT ?",
        [*params, f.limit],
    ).fetchall()
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in rows], int(
        total_row[0] if total_row else 0
    )


def count_events(cur: duckdb.DuckDBPyConnection, f: EventFilter) -> int:
    where, params = _event_where(f)
    row = cur.execute(f"SELECT count(*) FROM events{where}", params).fetchone()
    return int(row[0]) if row else 0


def list_bad_hits(
    cur: duckdb.DuckDBPyConnection, site: str | None, limit: int
) -> tuple[list[dict[str, Any]], int]:
    where, params = (" WHERE site = ?", [site]) if site is not None else ("", [])
    total_row = cur.execute(f"SELECT count(*) FROM bad_hits{where}", params).fetchone()
    rows = cur.execute(
        "SELECT seq, received_ms, site, reasons, message, method, path, query, body, headers, ip "
        f"FROM bad_hits{where} ORDER BY seq DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in rows], int(
        total_row[0] if total_row else 0
    )


def table_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    row = cur.execute(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM users), "
        "(SELECT count(*) FROM sessions), (SELECT count(*) FROM bad_hits)"
    ).fetchone()
    assert row is not None
    return {"events": row[0], "users": row[1], "sessions": row[2], "bad_hits": row[3]}


def stored_counters(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(cur.execute("SELECT name, value FROM counters ORDER BY name").fetchall())


def email_owners(cur: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    rows = cur.execute("SELECT site, email, user_id FROM user_emails").fetchall()
    return {(site, email): user for site, email, user in rows}


def ping(cur: duckdb.DuckDBPyConnection) -> bool:
    row = cur.execute("SELECT 1").fetchone()
    return row is not None and row[0] == 1
