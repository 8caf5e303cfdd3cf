"""Schema-upgrade tests: turn a file written by this fakeboxer back into an older
version's file, then open it again the way the server does."""

from __future__ import annotations

import duckdb

from collector.storage.db import Store
from collector.storage.schema import SCHEMA_VERSION


def downgrade(path: str, version: int, *statements: str) -> None:
    """Undo what the versions after `version` added (`statements`) and mark the file as
    that version; no Store may hold the file."""
    con = duckdb.connect(path)
    try:
        for statement in statements:
            con.execute(statement)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    finally:
        con.close()


def reopen(path: str) -> tuple[Store, duckdb.DuckDBPyConnection]:
    """Open the file as the server does (which upgrades it) and check it now carries the
    current schema version."""
    store = Store(path)
    cur = store.cursor()
    version = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),)
    return store, cur
