"""Reads that outlive their request (a scroll's id list, read after the first page was
answered) must not keep a stopping server from closing its database: DuckDB refuses to
close a connection one of its cursors is still reading from, and the stop then failed
with "Application shutdown failed" (seen on a 10M-event file, where the id list of a
1.4M-lead scroll takes seconds)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import duckdb
import pytest

from collector.app import create_app
from collector.app_state import ServerStopping
from collector.settings import load_settings
from collector.storage.db import Store
from tests._aio import run

# Seconds of work for DuckDB: only an interrupt ends it within a test run.
ENDLESS_READ = "SELECT sum(a) FROM range(1000000000000) t(a)"


def test_stopping_interrupts_a_background_read_and_the_store_closes(tmp_path: Path) -> None:
    path = str(tmp_path / "bg.duckdb")
    store = Store(path)
    state = create_app(load_settings({"db": path}, {}), store).state
    reading = threading.Event()

    def endless(cur: duckdb.DuckDBPyConnection) -> object:
        reading.set()
        return cur.execute(ENDLESS_READ).fetchall()

    async def scenario() -> asyncio.Future[object]:
        job: asyncio.Future[object] = asyncio.ensure_future(
            asyncio.to_thread(state.read_in_background, endless)
        )
        state.track(job)
        await asyncio.to_thread(reading.wait)
        await state.stop_background_reads()
        await asyncio.sleep(0)  # let the job's done callbacks run
        return job

    job = run(scenario())
    assert job.done()
    assert isinstance(job.exception(), duckdb.InterruptException)
    with pytest.raises(ServerStopping):
        state.read_in_background(lambda cur: cur.execute("SELECT 1").fetchall())
    store.close()  # raised ResourceInUse while a cursor was still reading
    again = duckdb.connect(path)
    assert again.execute("SELECT count(*) FROM events").fetchone() == (0,)
    again.close()


def test_stopping_with_no_background_reads_returns_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "idle.duckdb")
    store = Store(path)
    state = create_app(load_settings({"db": path}, {}), store).state
    assert state.read_in_background(lambda cur: cur.execute("SELECT 41 + 1").fetchone()) == (42,)
    run(state.stop_background_reads(limit_s=0.0))
    with pytest.raises(ServerStopping):
        state.read_in_background(lambda cur: cur.execute("SELECT 1").fetchone())
    store.close()
