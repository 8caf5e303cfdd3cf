"""Sessions belong to one user, even when two users' ids share the random part (so their
session ids can be equal); users keep their previous session; version-1 and version-2
files are upgraded in place."""

from __future__ import annotations

from pathlib import Path

from collector.model import EventRecord
from collector.storage.db import Store
from collector.storage.schema import DDL
from collector.storage.writer import BatchWriter
from tests._schema import downgrade, reopen

T0 = 1_700_000_000_000


def test_same_session_id_for_two_users_gives_two_sessions(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()
    hits = [
        EventRecord(
            seq=i,
            site="s",
            event_id=f"{T0}.{i}",
            user_id=user,
            session_id=None,
            ts=T0,
            received_ms=T0,
            title="t",
            props={"ti": "t"},
            user_minted=True,
        )
        for i, user in enumerate(["1.7", "2.7"], start=1)
    ]
    writer.process(cur, [(h, None) for h in hits])
    assert cur.execute(
        "SELECT user_id, session_id, events FROM sessions ORDER BY user_id"
    ).fetchall() == [("1.7", f"{T0}.7", 1), ("2.7", f"{T0}.7", 1)]
    assert cur.execute("SELECT user_id, visits FROM users ORDER BY user_id").fetchall() == [
        ("1.7", 1),
        ("2.7", 1),
    ]
    store.close()


def test_version_1_file_is_upgraded_with_its_sessions(tmp_path: Path) -> None:
    path = str(tmp_path / "v1.duckdb")
    Store(path).close()
    (v2_sessions,) = [d for d in DDL if "EXISTS sessions" in d]
    v1_sessions = v2_sessions.replace("(site, user_id, session_id)", "(site, session_id)")
    assert v1_sessions != v2_sessions
    downgrade(  # the old session key
        path,
        1,
        "DROP TABLE sessions",
        v1_sessions,
        "INSERT INTO sessions (site, session_id, user_id, start_ms, end_ms, duration_ms, "
        "events, pages, entry_url, entry_title, exit_url, referrer, channel, last_channel, "
        "browser, platform, ip, props, fold) VALUES ('s', '1.7', '1.7', 1, 1, 0, 1, 1, '', "
        "'', '', '', 'direct', 'direct', '', '', '', '{}', '{}')",
    )
    store, cur = reopen(path)
    assert cur.execute("SELECT site, user_id, session_id FROM sessions").fetchall() == [
        ("s", "1.7", "1.7")
    ]
    keys = cur.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = 'sessions' AND constraint_type = 'PRIMARY KEY'"
    ).fetchone()
    assert keys == (["site", "user_id", "session_id"],)
    store.close()


def _visits(times: list[int], user: str, first_seq: int) -> list[EventRecord]:
    return [
        EventRecord(
            seq=first_seq + i,
            site="s",
            event_id=f"{t}.{first_seq + i}",
            user_id=user,
            session_id=None,
            ts=t,
            received_ms=t,
            title="t",
            props={"ti": "t"},
            user_minted=i == 0,
        )
        for i, t in enumerate(times)
    ]


HOUR = 3_600_000


def test_previous_session_follows_late_events(tmp_path: Path) -> None:
    """users.previous_session_* is the second newest session, also after a late event
    adds an older session or bridges two (batches in any order)."""
    store = Store(str(tmp_path / "p.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()
    user = "1.9"

    def previous() -> tuple[object, ...] | None:
        return cur.execute(
            "SELECT previous_session_id, previous_session_ms, visits FROM users"
        ).fetchone()

    writer.process(cur, [(r, None) for r in _visits([T0 + 5 * HOUR], user, 1)])
    assert previous() == (None, None, 1)
    writer.process(cur, [(r, None) for r in _visits([T0 + 9 * HOUR], user, 2)])
    newest = cur.execute("SELECT session_id FROM sessions ORDER BY start_ms").fetchall()
    assert previous() == (newest[0][0], T0 + 5 * HOUR, 2)
    # a late event from before both: the previous session is still the 5h one
    writer.process(cur, [(r, None) for r in _visits([T0], user, 3)])
    assert previous()[1:] == (T0 + 5 * HOUR, 3)  # type: ignore[index]
    store.close()


def test_version_2_file_gains_previous_sessions(tmp_path: Path) -> None:
    path = str(tmp_path / "v2.duckdb")
    store = Store(path)
    writer = BatchWriter(store, None, 30 * 60_000)
    cur = store.cursor()
    records = _visits([T0, T0 + 2 * HOUR, T0 + 4 * HOUR], "1.8", 1)
    records += _visits([T0], "2.8", 10)
    writer.process(cur, [(r, None) for r in records])
    wanted = cur.execute(
        "SELECT user_id, previous_session_id, previous_session_ms FROM users ORDER BY user_id"
    ).fetchall()
    assert wanted[0][2] == T0 + 2 * HOUR and wanted[1][1:] == (None, None)
    store.close()
    downgrade(
        path,
        2,
        "ALTER TABLE users DROP COLUMN previous_session_id",
        "ALTER TABLE users DROP COLUMN previous_session_ms",
    )
    store, cur = reopen(path)
    assert (
        cur.execute(
            "SELECT user_id, previous_session_id, previous_session_ms FROM users ORDER BY user_id"
        ).fetchall()
        == wanted
    )
    store.close()
