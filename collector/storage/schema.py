"""DuckDB schema and its version. Times are epoch milliseconds (BIGINT) throughout,
because that is what LeadBoxer's API speaks."""

from __future__ import annotations

import duckdb

# 2: sessions are keyed by (site, user_id, session_id).
# 3: users keep their previous (second newest) session, so a page of leads needs no
#    window over the whole sessions table.
SCHEMA_VERSION = 5

DDL = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS events (
        site VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        user_id VARCHAR NOT NULL,
        session_id VARCHAR NOT NULL,
        explicit_session BOOLEAN NOT NULL,
        ts BIGINT NOT NULL,
        received_ms BIGINT NOT NULL,
        title VARCHAR NOT NULL,
        lc VARCHAR NOT NULL,
        ref VARCHAR NOT NULL,
        ip VARCHAR NOT NULL,
        user_agent VARCHAR NOT NULL,
        increment BOOLEAN NOT NULL,
        props JSON NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS sessions (
        site VARCHAR NOT NULL,
        session_id VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        start_ms BIGINT NOT NULL,
        end_ms BIGINT NOT NULL,
        implicit_start_ms BIGINT,
        implicit_end_ms BIGINT,
        duration_ms BIGINT NOT NULL,
        events INTEGER NOT NULL,
        pages INTEGER NOT NULL,
        entry_url VARCHAR NOT NULL,
        entry_title VARCHAR NOT NULL,
        exit_url VARCHAR NOT NULL,
        referrer VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        last_channel VARCHAR NOT NULL,
        utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR,
        utm_term VARCHAR, utm_content VARCHAR,
        browser VARCHAR NOT NULL,
        platform VARCHAR NOT NULL,
        ip VARCHAR NOT NULL,
        props JSON NOT NULL,
        fold JSON NOT NULL,
        PRIMARY KEY (site, user_id, session_id)
    )""",
    """CREATE TABLE IF NOT EXISTS users (
        site VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        email VARCHAR,
        first_ms BIGINT NOT NULL,
        last_ms BIGINT NOT NULL,
        events INTEGER NOT NULL,
        pages INTEGER NOT NULL,
        visits INTEGER NOT NULL DEFAULT 0,
        total_duration_ms BIGINT NOT NULL DEFAULT 0,
        last_visit_duration_ms BIGINT NOT NULL DEFAULT 0,
        first_session_id VARCHAR,
        first_session_ms BIGINT,
        last_session_id VARCHAR,
        last_session_ms BIGINT,
        first_channel VARCHAR,
        last_channel VARCHAR,
        first_landing_page VARCHAR,
        last_landing_page VARCHAR,
        first_referrer VARCHAR,
        last_referrer VARCHAR,
        props JSON NOT NULL,
        fold JSON NOT NULL,
        -- last, so that a v2 file upgraded by ADD COLUMN has the same column order
        previous_session_id VARCHAR,
        previous_session_ms BIGINT,
        -- v5: the id of the latest event by (ts, seq), for the lead's event_id (the API
        -- looked it up in the events table for every page: 7-30 ms at 1M events)
        last_event_id VARCHAR,
        PRIMARY KEY (site, user_id)
    )""",
    """CREATE TABLE IF NOT EXISTS user_emails (
        site VARCHAR NOT NULL,
        email VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        PRIMARY KEY (site, email)
    )""",
    """CREATE TABLE IF NOT EXISTS bad_hits (
        seq BIGINT NOT NULL,
        received_ms BIGINT NOT NULL,
        site VARCHAR NOT NULL,
        reasons VARCHAR[] NOT NULL,
        message VARCHAR NOT NULL,
        method VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        query VARCHAR NOT NULL,
        body VARCHAR NOT NULL,
        headers JSON NOT NULL,
        ip VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS spool_offsets (
        file VARCHAR PRIMARY KEY,
        "offset" BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS counters (
        name VARCHAR PRIMARY KEY,
        value BIGINT NOT NULL
    )""",
    # The writer's per-batch increments (since v4), summed with `counters` on read and
    # folded into it now and then. Appending a few rows costs ~0.4 ms per commit where
    # the upsert on `counters` cost ~3.5 ms, about a tenth of a small batch's commit.
    """CREATE TABLE IF NOT EXISTS counter_deltas (
        name VARCHAR NOT NULL,
        value BIGINT NOT NULL
    )""",
    # Read API management (datasets, lead tags). Purely added tables: `migrate` runs every
    # CREATE TABLE IF NOT EXISTS on each open, so files written before them gain them on
    # their next start without a version change.
    """CREATE TABLE IF NOT EXISTS datasets (
        dataset_id VARCHAR PRIMARY KEY,
        human_name VARCHAR NOT NULL,
        timezone VARCHAR NOT NULL,
        created_ms BIGINT NOT NULL,
        deleted_ms BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS lead_tags (
        site VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        tag VARCHAR NOT NULL,
        PRIMARY KEY (site, user_id, tag)
    )""",
]


# The second newest session of each user, as the writer keeps it from v3 on.
PREVIOUS_SESSION_BACKFILL = """
    UPDATE users SET
        previous_session_id = list_extract(p.ids, 2),
        previous_session_ms = list_extract(p.starts, 2)
    FROM (
        SELECT site, user_id,
            arg_max(session_id, (start_ms, session_id), 2) AS ids,
            arg_max(start_ms, (start_ms, session_id), 2) AS starts
        FROM sessions GROUP BY site, user_id
    ) p
    WHERE users.site = p.site AND users.user_id = p.user_id
"""


LAST_EVENT_BACKFILL = """
    UPDATE users SET last_event_id = l.event_id
    FROM (
        SELECT site, user_id, arg_max(event_id, (ts, seq)) AS event_id
        FROM events GROUP BY site, user_id
    ) l
    WHERE users.site = l.site AND users.user_id = l.user_id
"""


class SchemaError(RuntimeError):
    """The file holds a schema this version cannot use."""


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schema, upgrade an older file in place, or refuse a newer one."""
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row is not None else SCHEMA_VERSION
    if version > SCHEMA_VERSION or version < 1:
        raise SchemaError(
            f"the database has schema version {version}, this fakeboxer uses {SCHEMA_VERSION}"
        )
    con.execute("BEGIN")
    if version == 1:
        # v1 keyed sessions by (site, session_id); its rows are unique under the v2 key
        # too, so they move across unchanged.
        con.execute("ALTER TABLE sessions RENAME TO sessions_v1")
    for statement in DDL:
        con.execute(statement)
    if version == 1:
        con.execute("INSERT INTO sessions SELECT * FROM sessions_v1")
        con.execute("DROP TABLE sessions_v1")
    if version < 3:
        con.execute("ALTER TABLE users ADD COLUMN IF NOT EXISTS previous_session_id VARCHAR")
        con.execute("ALTER TABLE users ADD COLUMN IF NOT EXISTS previous_session_ms BIGINT")
        con.execute(PREVIOUS_SESSION_BACKFILL)
    # v4 only adds counter_deltas, which the DDL above creates.
    if version < 5:
        con.execute("ALTER TABLE users ADD COLUMN IF NOT EXISTS last_event_id VARCHAR")
        con.execute(LAST_EVENT_BACKFILL)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    con.execute("COMMIT")
