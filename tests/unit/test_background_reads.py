"""Reads that outlive their request: a scroll's id list, read on the snapshot of its
first page after that page was answered, by one background thread at low CPU priority.

A stopping server must interrupt them: DuckDB refuses to close a connection one of its
cursors is still reading from, and the stop then failed with "Application shutdown
failed" (seen on a 10M-event file, where the id list of a 1.4M-lead scroll takes
seconds)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from collector.app import create_app
from collector.app_state import AppState, ServerStopping
from collector.settings import load_settings
from collector.storage.db import Store
from tests._aio import run

# Minutes of work for DuckDB: only an interrupt ends it within a test run.
ENDLESS_READ = "SELECT sum(a) FROM range(1000000000000) t(a)"


def app_state(tmp_path: Path) -> tuple[AppState, Store, str]:
    path = str(tmp_path / "bg.duckdb")
    store = Store(path)
    return create_app(load_settings({"db": path}, {}), store).state, store, path


def test_stopping_interrupts_a_background_read_and_the_store_closes(tmp_path: Path) -> None:
    state, store, path = app_state(tmp_path)
    reading = threading.Event()
    outcome: list[BaseException | str] = []
    cur = state.background_cursor()

    def endless(stopping: bool) -> None:
        try:
            reading.set()
            cur.execute(ENDLESS_READ).fetchall()
            outcome.append("finished")
        except BaseException as exc:
            outcome.append(exc)
            raise
        finally:
            state.release_background_cursor(cur)

    state.run_in_background(endless)
    assert reading.wait(timeout=60)
    run(state.stop_background_reads())
    assert len(outcome) == 1 and isinstance(outcome[0], duckdb.InterruptException)
    with pytest.raises(ServerStopping):
        state.background_cursor()
    store.close()  # raised ResourceInUse while a cursor was still reading
    again = duckdb.connect(path)
    assert again.execute("SELECT count(*) FROM events").fetchone() == (0,)
    again.close()


def test_jobs_still_queued_at_stop_only_release(tmp_path: Path) -> None:
    """The reader runs one job at a time; those queued behind a running one when the
    server stops are called with stopping=True, and so is one queued after the stop."""
    state, store, _ = app_state(tmp_path)
    gate = threading.Event()
    seen: list[tuple[str, bool]] = []
    state.run_in_background(lambda stopping: (gate.wait(timeout=60), seen.append(("a", stopping))))
    state.run_in_background(lambda stopping: seen.append(("b", stopping)))

    async def stop() -> None:
        threading.Timer(0.2, gate.set).start()  # job a ends after the stop has begun
        await state.stop_background_reads()

    run(stop())
    state.run_in_background(lambda stopping: seen.append(("c", stopping)))
    # Job a may have started before the stop (False) or not (True); b and c never did.
    assert [name for name, _ in seen] == ["a", "b", "c"]
    assert seen[1:] == [("b", True), ("c", True)]
    store.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and per-thread nice")
def test_the_reader_is_one_named_thread_at_the_lowest_priority(tmp_path: Path) -> None:
    state, store, _ = app_state(tmp_path)
    found: list[tuple[str, int]] = []

    def look(stopping: bool) -> None:
        tid = threading.get_native_id()
        comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        found.append((comm, os.getpriority(os.PRIO_PROCESS, tid)))

    state.run_in_background(look)
    state.run_in_background(look)
    run(state.stop_background_reads())
    assert found == [("fb-background", 19), ("fb-background", 19)]
    store.close()
