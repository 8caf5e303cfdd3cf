"""The components one running server is made of, reachable from every handler."""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import duckdb

from collector import os_thread
from collector.clock import Clock
from collector.settings import Settings
from collector.spool import Spool
from collector.storage.db import Store
from collector.storage.writer import BatchWriter

if TYPE_CHECKING:
    from collector.routes import Collector

T = TypeVar("T")
log = logging.getLogger("fakeboxer")

# How long a stopping server keeps interrupting reads that outlived their request.
BACKGROUND_STOP_S = 30.0


class ServerStopping(RuntimeError):
    """A background read was not started: the server is stopping."""


@dataclass
class AppState:
    settings: Settings
    store: Store
    spool: Spool | None
    writer: BatchWriter
    collector: Collector
    clock: Clock
    started: float = field(default=0.0)
    # Reads that go on after their request was answered (a scroll's id list, read on the
    # snapshot of its first page): their cursors, so that a stopping server interrupts
    # them instead of closing the database under them, and the thread that runs them.
    _background_cursors: set[duckdb.DuckDBPyConnection] = field(default_factory=set)
    _background_lock: threading.Lock = field(default_factory=threading.Lock)
    _background_jobs: queue.SimpleQueue[Callable[[bool], None] | None] = field(
        default_factory=queue.SimpleQueue
    )
    _background_thread: threading.Thread | None = None
    _stopping: bool = False

    def read(self, query: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run a read query on a cursor of the calling thread (call it in a threadpool)."""
        cur = self.store.cursor()
        try:
            return query(cur)
        finally:
            cur.close()

    def background_cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for a read that outlives its request; hand it back with
        `release_background_cursor`. Raises ServerStopping once stopping has begun."""
        cur = self.store.cursor()
        with self._background_lock:
            if self._stopping:
                cur.close()
                raise ServerStopping("the server is stopping")
            self._background_cursors.add(cur)
        return cur

    def release_background_cursor(self, cur: duckdb.DuckDBPyConnection) -> None:
        with self._background_lock:
            self._background_cursors.discard(cur)
        cur.close()

    def run_in_background(self, job: Callable[[bool], None]) -> None:
        """Queue `job` for the background reader: one thread, one job at a time, at the
        lowest CPU priority, so that requests get the CPU first (on one core, a burst of
        lead-list calls reading their scrolls' id lists on the request threads took
        c_view_leads from ~40 to ~70 ms at 1M events). It is called as job(stopping);
        with stopping True it must only release what it holds."""
        with self._background_lock:
            stopping = self._stopping
            if not stopping and self._background_thread is None:
                self._background_thread = threading.Thread(
                    target=self._background_loop, name="fakeboxer-background", daemon=True
                )
                self._background_thread.start()
        if stopping:  # the reader may be gone already: release here, at once
            job(True)
            return
        self._background_jobs.put(job)

    def _background_loop(self) -> None:
        os_thread.name_current_thread("fb-background")
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (OSError, AttributeError):  # not Linux: threads share the process's priority
            pass
        while True:
            job = self._background_jobs.get()
            if job is None:
                return
            try:
                job(self._stopping)
            except Exception:
                # An interrupt at stop is expected; anything else is a bug worth a trace.
                if not self._stopping:
                    log.exception("a background read failed")

    async def stop_background_reads(self, limit_s: float = BACKGROUND_STOP_S) -> None:
        """Interrupt the background reads and let the reader release what it holds,
        before the store closes: DuckDB refuses to close a connection a cursor is still
        reading from. A job may run several statements, so the interrupt is repeated."""
        with self._background_lock:
            self._stopping = True
            thread = self._background_thread
        self._background_jobs.put(None)  # after the queued jobs, which see stopping
        deadline = time.monotonic() + limit_s
        while True:
            with self._background_lock:
                for cur in self._background_cursors:
                    cur.interrupt()
                busy = bool(self._background_cursors)
            alive = thread is not None and thread.is_alive()
            if not (busy or alive) or time.monotonic() >= deadline:
                return
            await asyncio.sleep(0.02)
