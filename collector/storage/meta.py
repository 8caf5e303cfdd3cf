"""The `meta` table: small named settings stored with the data (schema version, the
generated API key, lead score rules). Writes happen only before the writer thread
starts, so they need not go through it."""

from __future__ import annotations

import duckdb


def get(cur: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = cur.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return str(row[0]) if row is not None and row[0] is not None else None


def put(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
