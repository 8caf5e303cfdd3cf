"""The components one running server is made of, reachable from every handler."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from collector.clock import Clock
from collector.settings import Settings
from collector.spool import Spool
from collector.storage.db import Store
from collector.storage.writer import BatchWriter

if TYPE_CHECKING:
    from collector.routes import Collector

T = TypeVar("T")

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
    # Reads that go on after their request was answered (a scroll's id list), so that a
    # stopping server interrupts them instead of closing the database under them.
    _background_cursors: set[duckdb.DuckDBPyConnection] = field(default_factory=set)
    _background_jobs: set[asyncio.Future[Any]] = field(default_factory=set)
    _background_lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: bool = False

    def read(self, query: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run a read query on a cursor of the calling thread (call it in a threadpool)."""
        cur = self.store.cursor()
        try:
            return query(cur)
        finally:
            cur.close()

    def read_in_background(self, query: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`read` for a query that outlives its request; run it in a job passed to
        `track`. Raises ServerStopping once `stop_background_reads` has begun."""
        cur = self.store.cursor()
        with self._background_lock:
            if self._stopping:
                cur.close()
                raise ServerStopping("the server is stopping")
            self._background_cursors.add(cur)
        try:
            return query(cur)
        finally:
            with self._background_lock:
                self._background_cursors.discard(cur)
            cur.close()

    def track(self, job: asyncio.Future[Any]) -> None:
        """Keep a background job until it ends, for `stop_background_reads`."""
        self._background_jobs.add(job)
        job.add_done_callback(self._background_jobs.discard)

    async def stop_background_reads(self, limit_s: float = BACKGROUND_STOP_S) -> None:
        """Interrupt the background reads and wait for their jobs, before the store
        closes: DuckDB refuses to close a connection a cursor is still reading from.
        A job may run several statements, so the interrupt is repeated until it ends."""
        deadline = time.monotonic() + limit_s
        while True:
            with self._background_lock:
                self._stopping = True
                for cur in self._background_cursors:
                    cur.interrupt()
            jobs = set(self._background_jobs)
            if not jobs or time.monotonic() >= deadline:
                return
            await asyncio.wait(jobs, timeout=0.05)
