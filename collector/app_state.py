"""The components one running server is made of, reachable from every handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import duckdb

from collector.clock import Clock
from collector.settings import Settings
from collector.spool import Spool
from collector.storage.db import Store
from collector.storage.writer import BatchWriter

if TYPE_CHECKING:
    from collector.routes import Collector

T = TypeVar("T")


@dataclass
class AppState:
    settings: Settings
    store: Store
    spool: Spool | None
    writer: BatchWriter
    collector: Collector
    clock: Clock
    started: float = field(default=0.0)

    def read(self, query: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run a read query on a cursor of the calling thread (call it in a threadpool)."""
        cur = self.store.cursor()
        try:
            return query(cur)
        finally:
            cur.close()
