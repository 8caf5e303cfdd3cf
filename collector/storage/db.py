"""Store: owns the one DuckDB connection of the process. Every thread takes its own
cursor; only the writer thread writes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

from collector.storage.schema import SchemaError, migrate


class StoreOpenError(RuntimeError):
    """The database cannot be opened; the message is one line for the user."""


class Store:
    def __init__(self, path: str, memory_mb: int | None = None) -> None:
        """`memory_mb`: DuckDB's memory limit (None: DuckDB's default, 80 % of the RAM)."""
        self.path = path
        self._closed = False
        self._lock = threading.Lock()
        if path != ":memory:":
            parent = Path(path).resolve().parent
            if not parent.is_dir():
                raise StoreOpenError(f"cannot open database {path}: folder {parent} does not exist")
        try:
            self._con = duckdb.connect(path)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise StoreOpenError(
                    f"cannot open database {path}: another process holds it "
                    "(DuckDB allows one writing process per file; stop the other fakeboxer "
                    "or use another --db)"
                ) from None
            raise StoreOpenError(f"cannot open database {path}: {text.splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise StoreOpenError(
                f"cannot open database {path}: {str(exc).splitlines()[0]}"
            ) from None
        # DuckDB draws a progress bar on stderr for long statements (an upgrade's
        # backfill); fakeboxer's output is its own.
        self._con.execute("SET enable_progress_bar = false")
        # The collector commits small batches, and DuckDB checkpoints every ~16 MB of WAL.
        # With vacuuming on, each checkpoint also merges the small row groups the earlier
        # ones wrote, in a binary-counter pattern: every 2nd checkpoint rewrites twice the
        # data, every 16th sixteen times, up to a whole 122,880-row group of wide rows
        # (0.5-2 s during which nothing commits: the freshness and latency tails).
        # Without it every checkpoint writes only what is new (~70 ms per 2,800 rows of
        # 2 KB, flat), at the price of smaller row groups. Measured: docs/performance.md.
        self._con.execute("SET max_vacuum_tasks = 0")
        if memory_mb is not None:
            # An int from the settings, never request text.
            self._con.execute(f"SET memory_limit = '{int(memory_mb)}MiB'")
        try:
            migrate(self._con)
        except (SchemaError, duckdb.Error) as exc:
            self._con.close()
            raise StoreOpenError(
                f"cannot use database {path}: {str(exc).splitlines()[0]}"
            ) from None

    @property
    def spool_dir(self) -> Path | None:
        """Where accepted hits are journaled before commit; None for `:memory:`."""
        if self.path == ":memory:":
            return None
        return Path(os.path.abspath(self.path) + ".spool")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB cursors are not shared across threads)."""
        return self._con.cursor()

    def checkpoint(self) -> None:
        self._con.execute("CHECKPOINT")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._con.execute("CHECKPOINT")
            finally:
                self._con.close()
