"""BatchWriter: the one thread that writes DuckDB, and all of the write SQL.

The event loop hands it records through a `queue.SimpleQueue` (race-free, unlike a list
swap). The thread drains whatever is queued, up to `batch_max`, and commits it in one
transaction: events (one columnar Arrow insert), the sessions and users they touch (one
row per key, folded in Python first), bad hits, counters and the spool offsets that say
how far the journal is ingested. Session assignment and folding use the pure rules in
`collector.sessions` and `collector.folding`; see ARCHITECTURE 3–4 for the why.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from collector import folding, identity, os_thread
from collector.folding import Fold
from collector.model import BadRecord, EventRecord
from collector.sessions import Interval, pack_intervals, place, unpack_intervals
from collector.spool import Spool, SpoolPosition
from collector.storage.db import Store

log = logging.getLogger("fakeboxer.writer")

Key = tuple[str, str]  # (site, id)
# Sessions belong to one user: two users whose ids share the random part (hand-written
# uids like 1.7 and 2.7) can have sessions with the same id, so the user is in the key.
SessionKey = tuple[str, str, str]  # (site, user_id, session_id)
Ack = tuple[str, str, str]  # (event_id, user_id, session_id) as stored
STORE_FAILED = ""  # the session id of an Ack whose event was kept as a bad hit instead


class WriterStopped(RuntimeError):
    """The writer thread died; what it had not committed stays in the spool."""


@dataclass(slots=True)
class Control:
    """A request for the writer thread to do something other than ingest, in order.
    `payload` carries the arguments of the management writes (see `_control`)."""

    action: str  # "reset" | "stop" | "dataset_create" | "dataset_rename" | ... (see _control)
    site: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None


@dataclass(frozen=True, slots=True)
class ControlRefused:
    """A management write that was not done, returned (never raised: an exception in the
    writer thread stops it) as the control's result. The read API turns it into an error
    answer with this status, error code and message."""

    status: int
    error: str
    message: str


MAX_LEAD_TAGS = 100  # LeadBoxer's hard limit (reference 1.4)


class LRU(OrderedDict[Any, Any]):
    """A bounded cache. `pack`/`unpack` convert values to and from what is held: the
    writer's caches hold plain tuples the cyclic GC does not track (see folding.pack), so
    a full collection stays short however many entries there are."""

    def __init__(
        self,
        capacity: int,
        pack: Callable[[Any], Any] = lambda v: v,
        unpack: Callable[[Any], Any] = lambda v: v,
    ) -> None:
        super().__init__()
        self.capacity = capacity
        self._pack = pack
        self._unpack = unpack

    def get_fresh(self, key: Any) -> Any:
        value = self.get(key)
        if value is None:
            return None
        self.move_to_end(key)
        return self._unpack(value)

    def put(self, key: Any, value: Any) -> None:
        self[key] = self._pack(value)
        self.move_to_end(key)
        while len(self) > self.capacity:
            self.popitem(last=False)


@dataclass(slots=True)
class WriterStats:
    batches: int = 0
    rows: int = 0
    last_flush_ms: float = 0.0
    max_flush_ms: float = 0.0
    total_flush_ms: float = 0.0
    max_batch: int = 0
    failures: int = 0
    repairs: int = 0
    duplicates: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "rows": self.rows,
            "last_flush_ms": round(self.last_flush_ms, 3),
            "max_flush_ms": round(self.max_flush_ms, 3),
            "mean_flush_ms": round(self.total_flush_ms / self.batches, 3) if self.batches else 0,
            "max_batch": self.max_batch,
            "failures": self.failures,
            "session_repairs": self.repairs,
            "duplicates": self.duplicates,
        }


QueueItem = tuple[EventRecord | BadRecord | Control, SpoolPosition | None]


class BatchWriter:
    def __init__(
        self,
        store: Store,
        spool: Spool | None,
        session_timeout_ms: int,
        batch_max: int = 20_000,
        cache_size: int = 50_000,
        read_your_writes: bool = True,
    ) -> None:
        self.store = store
        # Off only to measure freshness (loadtests/bench.py): readers then see what is
        # committed now instead of waiting for every hit acknowledged before them.
        self.read_your_writes = read_your_writes
        self.spool = spool
        self.timeout_ms = session_timeout_ms
        self.batch_max = batch_max
        # Set while a failed run is retried: ids minted for a hit are not trusted to be
        # new, so every key is looked up (a key neither cached nor found is not stored).
        self._careful = False
        self.stats = WriterStats()
        self._queue: queue.SimpleQueue[QueueItem] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._submitted = 0  # items handed over (event-loop side)
        self._committed = 0  # items finished (written by the thread, read anywhere)
        self._barriers: list[tuple[int, asyncio.Future[None]]] = []
        self._acks: dict[int, asyncio.Future[Ack]] = {}
        self._closed = False
        self._batches_since_drop = 0
        self.fatal: BaseException | None = None
        # (site, user) -> sorted implicit intervals
        self._intervals = LRU(cache_size, pack_intervals, unpack_intervals)
        self._session_folds = LRU(cache_size, folding.pack, folding.unpack)  # (site, user, sid)
        self._user_folds = LRU(cache_size, folding.pack, folding.unpack)  # (site, user) -> Fold

    # ------------------------------------------------------------------ event-loop side
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="fakeboxer-writer", daemon=True)
        self._thread.start()

    @property
    def queue_depth(self) -> int:
        return self._submitted - self._committed

    @property
    def healthy(self) -> bool:
        return self.fatal is None and self._thread is not None and self._thread.is_alive()

    def submit(self, record: EventRecord | BadRecord, position: SpoolPosition | None) -> None:
        if isinstance(record, EventRecord) and record.wants_ack:
            assert self._loop is not None
            self._acks[record.seq] = self._loop.create_future()
        self._submitted += 1
        self._queue.put((record, position))

    async def wait_ack(self, seq: int) -> Ack:
        return await self._acks[seq]

    async def barrier(self) -> None:
        """Wait until everything submitted before this call is committed (read-your-writes);
        with read_your_writes off, return at once."""
        if not self.read_your_writes:
            return
        await self._committed_through(self._submitted)

    async def _committed_through(self, target: int) -> None:
        if self._committed >= target:
            return
        if self.fatal is not None:
            raise WriterStopped("the writer stopped; see the server log")
        assert self._loop is not None
        future: asyncio.Future[None] = self._loop.create_future()
        self._barriers.append((target, future))
        await future

    async def control(
        self, action: str, site: str | None = None, payload: dict[str, Any] | None = None
    ) -> Any:
        item = Control(action, site, payload or {})
        self._submitted += 1
        self._queue.put((item, None))
        await self._committed_through(self._submitted)  # its result, whatever the setting
        return item.result

    def _on_commit(self, committed: int, acks: dict[int, Ack]) -> None:
        """Runs on the event loop after each commit."""
        for seq, ids in acks.items():
            ack = self._acks.pop(seq, None)
            if ack is not None and not ack.done():
                ack.set_result(ids)
        if self._barriers:
            waiting = []
            for target, barrier in self._barriers:
                if committed >= target:
                    if not barrier.done():
                        barrier.set_result(None)
                else:
                    waiting.append((target, barrier))
            self._barriers = waiting

    def _on_fatal(self) -> None:
        """Runs on the event loop when the thread died: nobody may wait forever."""
        error = WriterStopped("the writer stopped; see the server log")
        for ack in self._acks.values():
            if not ack.done():
                ack.set_exception(error)
        self._acks.clear()
        for _, barrier in self._barriers:
            if not barrier.done():
                barrier.set_exception(error)
        self._barriers = []

    def close(self) -> None:
        """Flush everything queued, stop the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None and self._thread.is_alive():
            self._queue.put((Control("stop"), None))
            self._thread.join()

    # ------------------------------------------------------------------ writer thread
    def _run(self) -> None:
        os_thread.name_current_thread("fb-writer")  # for top -H and loadtests/bench_cpu.py
        cur = self.store.cursor()
        stop = False
        while not stop:
            item = self._queue.get()
            batch = [item]
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                stop = self.process(cur, batch)
            except BaseException as exc:  # noqa: BLE001 - the writer must report, not vanish
                log.exception("writer failed; hits stay in the spool for the next start")
                self.fatal = exc
                if self._loop is not None and not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(self._on_fatal)
                return
        self.compact_counters(cur)
        cur.close()

    def process(self, cur: duckdb.DuckDBPyConnection, batch: list[QueueItem]) -> bool:
        """Ingest one drained batch in order; returns True when asked to stop."""
        stop = False
        run: list[QueueItem] = []
        acks: dict[int, Ack] = {}
        done = 0
        for item in batch:
            if isinstance(item[0], Control):
                if run:
                    acks.update(self._ingest_safely(cur, run))
                    done += len(run)
                    run = []
                control = item[0]
                if control.action == "stop":
                    stop = True
                else:
                    control.result = self._control(cur, control)
                done += 1
                control.done.set()
            else:
                run.append(item)
        if run:
            acks.update(self._ingest_safely(cur, run))
            done += len(run)
        self._committed += done
        self._batches_since_drop += 1
        if self._batches_since_drop >= 256:
            self._batches_since_drop = 0
            self.compact_counters(cur)
            if self.spool is not None and len(self.spool.files()) > 1:
                self.drop_ingested(cur)  # rotated spool files that are fully committed
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._on_commit, self._committed, acks)
            except RuntimeError:  # the loop closed while we were writing
                pass
        return stop

    def _control(self, cur: duckdb.DuckDBPyConnection, control: Control) -> Any:
        if control.action == "reset":
            tables = ("events", "sessions", "users", "user_emails", "bad_hits", "lead_tags")
            cur.execute("BEGIN")
            for table in tables:
                if control.site is None:
                    cur.execute(f"DELETE FROM {table}")  # table names are constants
                else:
                    cur.execute(f"DELETE FROM {table} WHERE site = ?", [control.site])
            if control.site is None:
                cur.execute("DELETE FROM counters")
                cur.execute("DELETE FROM counter_deltas")
                cur.execute("DELETE FROM datasets")
            cur.execute("COMMIT")
            self._clear_caches()
            return True
        management = {
            "dataset_create": self._dataset_create,
            "dataset_rename": self._dataset_rename,
            "dataset_delete": self._dataset_delete,
            "lead_tags": self._lead_tags,
        }
        run = management.get(control.action)
        if run is None:
            raise ValueError(f"unknown control {control.action}")
        # One transaction per management write; a refusal or a failure rolls it back and
        # is returned, so the writer thread keeps running.
        cur.execute("BEGIN")
        try:
            result = run(cur, control.payload)
        except duckdb.Error as exc:
            cur.execute("ROLLBACK")
            log.error("management write %s failed: %s", control.action, exc)
            return ControlRefused(500, "store_failed", str(exc).splitlines()[0])
        if isinstance(result, ControlRefused):
            cur.execute("ROLLBACK")
        else:
            cur.execute("COMMIT")
        return result

    # -------------------------------------------------- management writes (in a transaction)
    @staticmethod
    def _dataset_row(cur: duckdb.DuckDBPyConnection, dataset_id: str) -> dict[str, Any] | None:
        row = cur.execute(
            "SELECT dataset_id, human_name, timezone, created_ms, deleted_ms FROM datasets "
            "WHERE dataset_id = ?",
            [dataset_id],
        ).fetchone()
        if row is None:
            return None
        keys = ("dataset_id", "human_name", "timezone", "created_ms", "deleted_ms")
        return dict(zip(keys, row, strict=True))

    @staticmethod
    def _site_has_data(cur: duckdb.DuckDBPyConnection, site: str) -> bool:
        row = cur.execute(
            "SELECT EXISTS (SELECT 1 FROM users WHERE site = ?) "
            "OR EXISTS (SELECT 1 FROM events WHERE site = ?) "
            "OR EXISTS (SELECT 1 FROM bad_hits WHERE site = ?)",
            [site, site, site],
        ).fetchone()
        return bool(row and row[0])

    def _live_dataset(self, cur: duckdb.DuckDBPyConnection, dataset_id: str) -> bool:
        """Registered and not deleted, or (never registered) already holding data."""
        row = self._dataset_row(cur, dataset_id)
        if row is not None:
            return row["deleted_ms"] is None
        return self._site_has_data(cur, dataset_id)

    def _dataset_create(self, cur: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> Any:
        """payload: dataset_id (a fresh id chosen by the caller, or one it was given),
        human_name, timezone, now_ms, explicit (the id was given by the client)."""
        dataset_id = str(p["dataset_id"])
        row = self._dataset_row(cur, dataset_id)
        if row is not None and row["deleted_ms"] is None:
            return ControlRefused(409, "conflict", f"dataset {dataset_id!r} already exists")
        cur.execute(
            "INSERT OR REPLACE INTO datasets VALUES (?, ?, ?, ?, NULL)",
            [dataset_id, p["human_name"], p["timezone"], p["now_ms"]],
        )
        return self._dataset_row(cur, dataset_id)

    def _dataset_rename(self, cur: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> Any:
        """payload: dataset_id, human_name, default_timezone, now_ms. A dataset that only
        exists through its hits is registered by its first rename."""
        dataset_id = str(p["dataset_id"])
        if not self._live_dataset(cur, dataset_id):
            return ControlRefused(404, "not_found", f"no dataset {dataset_id!r}")
        if self._dataset_row(cur, dataset_id) is None:
            cur.execute(
                "INSERT INTO datasets VALUES (?, ?, ?, ?, NULL)",
                [dataset_id, p["human_name"], p["default_timezone"], p["now_ms"]],
            )
        else:
            cur.execute(
                "UPDATE datasets SET human_name = ? WHERE dataset_id = ?",
                [p["human_name"], dataset_id],
            )
        return self._dataset_row(cur, dataset_id)

    def _dataset_delete(self, cur: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> Any:
        """payload: dataset_id, default_timezone, now_ms. Marks the dataset deleted and
        removes its data like `reset?site=` (events, sessions, users, emails, bad hits,
        lead tags)."""
        dataset_id = str(p["dataset_id"])
        if not self._live_dataset(cur, dataset_id):
            return ControlRefused(404, "not_found", f"no dataset {dataset_id!r}")
        if self._dataset_row(cur, dataset_id) is None:
            cur.execute(
                "INSERT INTO datasets VALUES (?, ?, ?, ?, ?)",
                [dataset_id, dataset_id, p["default_timezone"], p["now_ms"], p["now_ms"]],
            )
        else:
            cur.execute(
                "UPDATE datasets SET deleted_ms = ? WHERE dataset_id = ?",
                [p["now_ms"], dataset_id],
            )
        for table in ("events", "sessions", "users", "user_emails", "bad_hits", "lead_tags"):
            cur.execute(f"DELETE FROM {table} WHERE site = ?", [dataset_id])  # constants
        self._clear_caches()
        return self._dataset_row(cur, dataset_id)

    def _lead_tags(self, cur: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> Any:
        """payload: user_id; site (or None: the most recently active lead with that id in
        `sites`, None = any dataset); mode "set" | "add" | "remove"; tags (validated
        strings); param (name for messages). Unknown lead → 404; more than MAX_LEAD_TAGS
        afterwards → 400."""
        user_id = str(p["user_id"])
        site: str | None = p.get("site")
        sites: list[str] | None = p.get("sites")
        if site is not None:
            found = cur.execute(
                "SELECT site FROM users WHERE site = ? AND user_id = ?", [site, user_id]
            ).fetchone()
        else:
            found = None
            for (candidate,) in cur.execute(
                "SELECT site FROM users WHERE user_id = ? ORDER BY last_ms DESC, site",
                [user_id],
            ).fetchall():
                if sites is None or candidate in sites:
                    found = (candidate,)
                    break
        if found is None:
            where = f" in dataset {site!r}" if site is not None else ""
            return ControlRefused(404, "not_found", f"no lead {user_id!r}{where}")
        site = str(found[0])
        current = [
            str(r[0])
            for r in cur.execute(
                "SELECT tag FROM lead_tags WHERE site = ? AND user_id = ? ORDER BY tag",
                [site, user_id],
            ).fetchall()
        ]
        wanted: list[str] = list(p["tags"])
        if p["mode"] == "add":
            result = current + [t for t in wanted if t not in current]
        elif p["mode"] == "remove":
            result = [t for t in current if t not in wanted]
        else:
            result = wanted
        result = sorted(set(result))
        if len(result) > MAX_LEAD_TAGS:
            return ControlRefused(
                400,
                "bad_parameter",
                f"{p.get('param', 'leadTags')}: expected at most {MAX_LEAD_TAGS} tags per lead, "
                f"the result would have {len(result)}",
            )
        cur.execute("DELETE FROM lead_tags WHERE site = ? AND user_id = ?", [site, user_id])
        if result:
            cur.executemany(
                "INSERT INTO lead_tags VALUES (?, ?, ?)", [[site, user_id, t] for t in result]
            )
        return {"site": site, "user_id": user_id, "tags": result}

    def _clear_caches(self) -> None:
        self._intervals.clear()
        self._session_folds.clear()
        self._user_folds.clear()

    def _ingest_safely(
        self, cur: duckdb.DuckDBPyConnection, run: list[QueueItem]
    ) -> dict[int, Ack]:
        """Commit a run; on failure retry halves, and keep a lone failing hit as a bad hit
        (`store_failed`) so that nothing acknowledged silently disappears."""
        started = time.perf_counter()
        try:
            cur.execute("BEGIN")
            acks = self._ingest(cur, run)
            cur.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - any failure: roll back, retry smaller
            self.stats.failures += 1
            try:
                cur.execute("ROLLBACK")
            except duckdb.Error:
                pass
            self._clear_caches()
            if not self._careful:
                # The fast path trusts that a row it believes new (a minted id, a key
                # neither cached nor found) is not stored yet. Should that ever be wrong,
                # the retry replaces rows before anything is split or kept as a bad hit.
                self._careful = True
                try:
                    return self._ingest_safely(cur, run)
                finally:
                    self._careful = False
            if len(run) > 1:
                half = len(run) // 2
                acks = self._ingest_safely(cur, run[:half])
                acks.update(self._ingest_safely(cur, run[half:]))
                return acks
            record, position = run[0]
            log.error("could not store a hit, keeping it as a bad hit: %s", exc)
            if isinstance(record, EventRecord):
                bad = BadRecord(
                    record.seq,
                    record.received_ms,
                    record.site,
                    ["store_failed"],
                    f"the hit could not be stored: {str(exc).splitlines()[0]}",
                    "",
                    "",
                    "",
                    orjson.dumps(record).decode(),
                    {},
                    record.ip,
                )
                try:
                    cur.execute("BEGIN")
                    self._ingest(cur, [(bad, position)])
                    cur.execute("COMMIT")
                except Exception:
                    cur.execute("ROLLBACK")
                    raise
                # An empty session id tells a waiting json=true caller it was not stored.
                return {record.seq: (record.event_id, record.user_id, STORE_FAILED)}
            raise
        elapsed = (time.perf_counter() - started) * 1000
        s = self.stats
        s.batches += 1
        s.rows += len(run)
        s.last_flush_ms = elapsed
        s.max_flush_ms = max(s.max_flush_ms, elapsed)
        s.total_flush_ms += elapsed
        s.max_batch = max(s.max_batch, len(run))
        return acks

    # ------------------------------------------------------------------ the transaction
    def _ingest(self, cur: duckdb.DuckDBPyConnection, run: list[QueueItem]) -> dict[int, Ack]:
        events: list[EventRecord] = []
        bads: list[BadRecord] = []
        offsets: dict[str, int] = {}
        for record, position in run:
            if isinstance(record, EventRecord):
                events.append(record)
            elif isinstance(record, BadRecord):
                bads.append(record)
            if position is not None:
                offsets[position.file] = max(offsets.get(position.file, 0), position.end_offset)
        acks: dict[int, Ack] = {}
        counters: Counter[str] = Counter()
        events, repeats = self._drop_duplicates(cur, events, acks, counters)
        stored_ids: dict[Key, Ack] = {}
        if events:
            stored_ids = self._store_events(cur, events, acks, want=set(repeats.values()))
        for seq, key in repeats.items():
            acks[seq] = stored_ids[key]
        for record in events:
            counters.update(f"ignored.{w}" for w in record.warnings)
        if bads:
            self._store_bad_hits(cur, bads)
            for bad in bads:
                counters.update(f"bad.{r}" for r in bad.reasons)
                counters["bad_hits"] += 1
        counters["events"] += len(events)
        counters["hits"] += len(events) + len(bads) + counters["duplicates"]
        self._add_counters(cur, counters)
        if offsets:
            incoming = _table({"file": list(offsets), "offset": list(offsets.values())})
            _with(
                cur,
                'INSERT OR REPLACE INTO spool_offsets SELECT file, "offset" FROM incoming',
                incoming=incoming,
            )
        return acks

    def _drop_duplicates(
        self,
        cur: duckdb.DuckDBPyConnection,
        events: list[EventRecord],
        acks: dict[int, Ack],
        counters: Counter[str],
    ) -> tuple[list[EventRecord], dict[int, Key]]:
        """A client `eid` already stored in the dataset (or earlier in the batch) is
        stored once. Repeats of a stored event get its stored ids now; repeats of an event
        earlier in this batch are returned (seq -> (site, eid)) to be answered with that
        event's ids once it is stored."""
        repeats: dict[int, Key] = {}
        if not any(e.client_eid for e in events):
            return events, repeats
        seen: set[Key] = set()
        kept: list[EventRecord] = []
        for e in events:
            if e.client_eid:
                key = (e.site, e.event_id)
                if key in seen:
                    repeats[e.seq] = key
                    counters["duplicates"] += 1
                    continue
                seen.add(key)
            kept.append(e)
        candidates = _table({"site": [k[0] for k in seen], "event_id": [k[1] for k in seen]})
        stored = _with(
            cur,
            "SELECT e.site, e.event_id, e.user_id, e.session_id FROM events e "
            "JOIN candidates c ON e.site = c.site AND e.event_id = c.event_id",
            candidates=candidates,
        )
        if stored:
            existing = {(s, eid): (eid, uid, sid) for s, eid, uid, sid in stored}
            filtered = []
            for e in kept:
                hit = existing.get((e.site, e.event_id)) if e.client_eid else None
                if hit is not None:
                    acks[e.seq] = hit
                    counters["duplicates"] += 1
                else:
                    filtered.append(e)
            kept = filtered
            for seq, key in list(repeats.items()):
                if key in existing:
                    acks[seq] = existing[key]
                    del repeats[seq]
        self.stats.duplicates += counters["duplicates"]
        return kept, repeats

    def _store_events(
        self,
        cur: duckdb.DuckDBPyConnection,
        events: list[EventRecord],
        acks: dict[int, Ack],
        want: set[Key],
    ) -> dict[Key, Ack]:
        """Store the events and everything they change; returns the stored ids of the
        events named in `want` ((site, event_id) keys)."""
        signals = [folding.event_signals(e.props, e.lc, e.ref, e.ip, e.user_agent) for e in events]
        # Users whose id was minted for a hit of this batch: nothing is stored for them.
        # A careful retry trusts no such claim, so every key is looked up.
        minted = set() if self._careful else {(e.site, e.user_id) for e in events if e.user_minted}
        session_of, renames, repair = self._assign_sessions(cur, events, minted)
        self._insert_events(cur, events, session_of)
        if renames:
            self.stats.repairs += 1
            incoming = _table(
                {
                    "site": [r[0] for r in renames],
                    "user_id": [r[1] for r in renames],
                    "old_id": [r[2] for r in renames],
                    "new_id": [r[3] for r in renames],
                }
            )
            _with(
                cur,
                "UPDATE events SET session_id = r.new_id FROM incoming r "
                "WHERE events.site = r.site AND events.user_id = r.user_id "
                "AND events.session_id = r.old_id AND NOT events.explicit_session",
                incoming=incoming,
            )
        batch_sessions = self._fold_sessions(cur, events, signals, session_of, repair, minted)
        self._fold_users(cur, events, signals, minted, batch_sessions)
        claims = {(e.site, e.claimed_email): e.user_id for e in events if e.claimed_email}
        if claims:
            incoming = _table(
                {
                    "site": [k[0] for k in claims],
                    "email": [k[1] for k in claims],
                    "user_id": list(claims.values()),
                }
            )
            _with(
                cur,
                "INSERT OR IGNORE INTO user_emails SELECT site, email, user_id FROM incoming",
                incoming=incoming,
            )
        wanted: dict[Key, Ack] = {}
        for e, sid in zip(events, session_of, strict=True):
            if e.wants_ack:
                acks[e.seq] = (e.event_id, e.user_id, sid)
            if (e.site, e.event_id) in want:
                wanted[(e.site, e.event_id)] = (e.event_id, e.user_id, sid)
        return wanted

    def _assign_sessions(
        self, cur: duckdb.DuckDBPyConnection, events: list[EventRecord], minted: set[Key]
    ) -> tuple[list[str], list[tuple[str, str, str, str]], set[SessionKey]]:
        """Session id of every event; implicit ones by the inactivity rule over the user's
        stored sessions. Returns the ids, the renames of stored sessions a late event
        caused (site, user, old, new), and the sessions to rebuild from stored events."""
        session_of: list[str] = [e.session_id or "" for e in events]
        by_user: dict[Key, list[int]] = defaultdict(list)
        for i, e in enumerate(events):
            if e.session_id is None:
                by_user[(e.site, e.user_id)].append(i)
        renames: list[tuple[str, str, str, str]] = []
        repair: set[SessionKey] = set()
        if not by_user:
            return session_of, renames, repair
        # Take every cached entry of the batch before any put(): a put may evict another
        # key of this same batch, which would then look empty.
        cached = {k: self._intervals.get_fresh(k) for k in by_user}
        missing = [k for k, v in cached.items() if v is None and k not in minted]
        loaded: dict[Key, list[Interval]] = {k: [] for k in missing}
        if missing:
            keys = _table({"site": [k[0] for k in missing], "user_id": [k[1] for k in missing]})
            rows = _with(
                cur,
                "SELECT s.site, s.user_id, s.implicit_start_ms, s.implicit_end_ms, s.session_id "
                "FROM sessions s JOIN keys k ON s.site = k.site AND s.user_id = k.user_id "
                "WHERE s.implicit_start_ms IS NOT NULL",
                keys=keys,
            )
            for site, user, start, end, sid in rows:
                loaded[(site, user)].append(Interval(start, end, sid))
        for key, indexes in by_user.items():
            intervals = cached[key]
            if intervals is None:
                intervals = sorted(loaded.get(key, []), key=lambda iv: iv.start_ms)
            site, user = key
            groups = place(intervals, [events[i].ts for i in indexes], self.timeout_ms)
            replaced: set[str] = set()
            added: list[Interval] = []
            for group in groups:
                new_id = identity.session_id_for(group.start_ms, user)
                for j in group.event_indexes:
                    session_of[indexes[j]] = new_id
                for iv in group.existing:
                    replaced.add(iv.session_id)
                    if iv.session_id != new_id:
                        renames.append((site, user, iv.session_id, new_id))
                        repair.add((site, user, iv.session_id))
                        repair.add((site, user, new_id))
                added.append(Interval(group.start_ms, group.end_ms, new_id))
            kept = [iv for iv in intervals if iv.session_id not in replaced]
            self._intervals.put(key, sorted(kept + added, key=lambda iv: iv.start_ms))
        return session_of, renames, repair

    def _insert_events(
        self, cur: duckdb.DuckDBPyConnection, events: list[EventRecord], session_of: list[str]
    ) -> None:
        incoming = _table(
            {
                "site": [e.site for e in events],
                "event_id": [e.event_id for e in events],
                "seq": pa.array([e.seq for e in events], pa.int64()),
                "user_id": [e.user_id for e in events],
                "session_id": session_of,
                "explicit_session": [e.session_id is not None for e in events],
                "ts": pa.array([e.ts for e in events], pa.int64()),
                "received_ms": pa.array([e.received_ms for e in events], pa.int64()),
                "title": [e.title for e in events],
                "lc": [e.lc for e in events],
                "ref": [e.ref for e in events],
                "ip": [e.ip for e in events],
                "user_agent": [e.user_agent for e in events],
                "increment": [e.increment for e in events],
                "props": [orjson.dumps(e.props).decode() for e in events],
            }
        )
        _with(cur, "INSERT INTO events SELECT * FROM incoming", incoming=incoming)

    def _load_user_folds(self, cur: duckdb.DuckDBPyConnection, keys: list[Key]) -> dict[Key, Fold]:
        """Stored user folds by (site, user id), for keys not cached."""
        if not keys:
            return {}
        wanted = _table({"site": [k[0] for k in keys], "id": [k[1] for k in keys]})
        rowids = _with(
            cur,
            "SELECT t.rowid FROM users t JOIN wanted w ON t.site = w.site AND t.user_id = w.id",
            wanted=wanted,
        )
        rows = _by_rowid(cur, "SELECT site, user_id, fold FROM users", rowids)
        return {(s, u): folding.from_jsonable(orjson.loads(f)) for s, u, f in rows}

    def _fold_sessions(
        self,
        cur: duckdb.DuckDBPyConnection,
        events: list[EventRecord],
        signals: list[dict[str, str]],
        session_of: list[str],
        repair: set[SessionKey],
        minted: set[Key],
    ) -> pa.Table | None:
        """Fold the events into their sessions and store those; returns the stored rows
        (the `sessions` columns of every touched session, as an Arrow table)."""
        touched: dict[SessionKey, Fold] = {}
        normal: dict[SessionKey, list[int]] = defaultdict(list)
        for i, e in enumerate(events):
            key = (e.site, e.user_id, session_of[i])
            if key not in repair:
                normal[key].append(i)
        held = {k: self._session_folds.get_fresh(k) for k in normal}  # before any put()
        # A session of a user minted in this batch cannot be stored yet: nothing to load.
        missing = [k for k, v in held.items() if v is None and (k[0], k[1]) not in minted]
        loaded = self._load_session_folds(cur, missing)
        new: set[SessionKey] = set()
        for key, indexes in normal.items():
            fold = held[key] or loaded.get(key)
            if fold is None:
                fold = Fold()
                new.add(key)
            for i in indexes:
                e = events[i]
                folding.add_event(
                    fold,
                    e.ts,
                    e.seq,
                    e.props,
                    signals[i],
                    increment=e.increment,
                    implicit=e.session_id is None,
                )
            touched[key] = fold
        deleted: list[SessionKey] = []
        if repair:
            rebuilt = self._rebuild_sessions(cur, repair)
            for key in repair:
                if key in rebuilt:
                    touched[key] = rebuilt[key]
                else:
                    deleted.append(key)
                    self._session_folds.pop(key, None)
        if deleted:
            _with(
                cur,
                "DELETE FROM sessions WHERE (site, user_id, session_id) IN "
                "(SELECT (site, user_id, id) FROM incoming)",
                incoming=_session_keys(deleted),
            )
        for key, fold in touched.items():
            self._session_folds.put(key, fold)
        return self._upsert_sessions(cur, touched, new)

    def _load_session_folds(
        self, cur: duckdb.DuckDBPyConnection, keys: list[SessionKey]
    ) -> dict[SessionKey, Fold]:
        if not keys:
            return {}
        rowids = _with(
            cur,
            "SELECT t.rowid FROM sessions t JOIN wanted w ON t.site = w.site "
            "AND t.user_id = w.user_id AND t.session_id = w.id",
            wanted=_session_keys(keys),
        )
        rows = _by_rowid(cur, "SELECT site, user_id, session_id, fold FROM sessions", rowids)
        return {(s, u, i): folding.from_jsonable(orjson.loads(f)) for s, u, i, f in rows}

    def _rebuild_sessions(
        self, cur: duckdb.DuckDBPyConnection, keys: set[SessionKey]
    ) -> dict[SessionKey, Fold]:
        """Fold sessions again from their stored events (after a late event moved some)."""
        rows = _with(
            cur,
            "SELECT e.site, e.user_id, e.session_id, e.ts, e.seq, e.props, e.lc, e.ref, e.ip, "
            "e.user_agent, e.increment, e.explicit_session FROM events e "
            "JOIN wanted w ON e.site = w.site AND e.user_id = w.user_id "
            "AND e.session_id = w.id",
            wanted=_session_keys(list(keys)),
        )
        out: dict[SessionKey, Fold] = {}
        for site, user, sid, ts, seq, props_json, lc, ref, ip, ua, inc, explicit in rows:
            props = orjson.loads(props_json)
            fold = out.setdefault((site, user, sid), Fold())
            folding.add_event(
                fold,
                ts,
                seq,
                props,
                folding.event_signals(props, lc, ref, ip, ua),
                increment=inc,
                implicit=not explicit,
            )
        return out

    def _upsert_sessions(
        self,
        cur: duckdb.DuckDBPyConnection,
        touched: dict[SessionKey, Fold],
        new: set[SessionKey],
    ) -> pa.Table | None:
        """Write the touched sessions. Those in `new` (known not to be stored) take a plain
        INSERT: DuckDB's INSERT OR REPLACE costs about 5x as much per batch, and most rows
        of a busy collector are new sessions."""
        if not touched:
            return None
        cols: dict[str, list[Any]] = defaultdict(list)
        for (site, user, sid), fold in touched.items():
            cols["site"].append(site)
            cols["session_id"].append(sid)
            cols["user_id"].append(user)
            cols["start_ms"].append(fold.start_ms)
            cols["end_ms"].append(fold.end_ms)
            cols["implicit_start_ms"].append(fold.implicit_start_ms)
            cols["implicit_end_ms"].append(fold.implicit_end_ms)
            cols["duration_ms"].append(fold.duration_ms)
            cols["events"].append(fold.events)
            cols["pages"].append(fold.pages)
            cols["entry_url"].append(fold.first_value("url"))
            cols["entry_title"].append(fold.first_value("title"))
            cols["exit_url"].append(fold.last_value("url"))
            cols["referrer"].append(fold.first_value("referrer"))
            cols["channel"].append(fold.first_value("channel", "direct"))
            cols["last_channel"].append(fold.last_value("channel", "direct"))
            for utm in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"):
                cols[utm].append(fold.first_value(utm) or None)
            cols["browser"].append(fold.first_value("browser"))
            cols["platform"].append(fold.first_value("platform"))
            cols["ip"].append(fold.first_value("ip"))
            cols["props"].append(orjson.dumps(folding.flat_props(fold)).decode())
            cols["fold"].append(orjson.dumps(folding.to_jsonable(fold)).decode())
        is_new = [key in new for key in touched]
        incoming = _arrow(
            cols, ("start_ms", "end_ms", "implicit_start_ms", "implicit_end_ms", "duration_ms")
        )
        names = ", ".join(cols)
        _replace(cur, "sessions", "site, user_id, session_id", names, incoming, is_new)
        return incoming

    def _fold_users(
        self,
        cur: duckdb.DuckDBPyConnection,
        events: list[EventRecord],
        signals: list[dict[str, str]],
        minted: set[Key],
        batch_sessions: pa.Table | None,
    ) -> None:
        by_user: dict[Key, list[int]] = defaultdict(list)
        for i, e in enumerate(events):
            by_user[(e.site, e.user_id)].append(i)
        held = {k: self._user_folds.get_fresh(k) for k in by_user}  # before any put()
        missing = [k for k, v in held.items() if v is None and k not in minted]
        loaded = self._load_user_folds(cur, missing)
        cols: dict[str, list[Any]] = defaultdict(list)
        is_new: list[bool] = []
        undecided: list[tuple[int, Key, int]] = []  # (row, user, its last ts) to look up
        for key, indexes in by_user.items():
            fold = held[key] or loaded.get(key)
            is_new.append(fold is None)
            stored_end = fold.end_ms if fold is not None else None
            fold = fold or Fold()
            for i in indexes:
                e = events[i]
                folding.add_event(
                    fold, e.ts, e.seq, e.props, signals[i], increment=e.increment, implicit=False
                )
            self._user_folds.put(key, fold)
            # The latest event by (ts, seq): the batch's newest when it is later than
            # everything stored; otherwise (a late hit, or a tie on the stored last ts)
            # looked up among the events at the user's last ts, this batch's included.
            newest = events[max(indexes, key=lambda i: (events[i].ts, events[i].seq))]
            if stored_end is None or newest.ts > stored_end:
                cols["last_event_id"].append(newest.event_id)
            else:
                undecided.append((len(cols["last_event_id"]), key, stored_end))  # = end_ms
                cols["last_event_id"].append(None)
            cols["site"].append(key[0])
            cols["user_id"].append(key[1])
            cols["email"].append(fold.value("email"))
            cols["first_ms"].append(fold.start_ms)
            cols["last_ms"].append(fold.end_ms)
            cols["events"].append(fold.events)
            cols["pages"].append(fold.pages)
            cols["props"].append(orjson.dumps(folding.flat_props(fold)).decode())
            cols["fold"].append(orjson.dumps(folding.to_jsonable(fold)).decode())
        if undecided:
            self._latest_event_ids(cur, cols, undecided)
        names = ", ".join(cols)
        # The folded row, plus the visit counters and first/last attribution aggregated
        # over the user's sessions (so a late event that joins two sessions is reflected
        # exactly). A user stored for the first time has all its sessions in this batch,
        # so its aggregate reads the batch's session rows instead of the sessions table.
        tables = {"batch_sessions": batch_sessions} if batch_sessions is not None else {}
        sources = []
        for new, source in ((True, "batch_sessions"), (False, "sessions")):
            if new and batch_sessions is None:
                source = "sessions"
            if new in is_new:
                sources.append(
                    f"SELECT s.site, s.user_id, s.start_ms, s.session_id, s.duration_ms, "
                    f"s.channel, s.entry_url, s.referrer FROM {source} s "
                    f"JOIN incoming k ON s.site = k.site AND s.user_id = k.user_id "
                    f"WHERE {'' if new else 'NOT '}k.is_new"
                )
        insert = f"""
            INSERT INTO users ({names}, {", ".join(SESSION_AGGREGATES)})
            SELECT {", ".join("i." + n for n in cols)}, {", ".join(SESSION_AGGREGATES.values())}
            FROM incoming i LEFT JOIN (
                {SESSION_AGGREGATE_SELECT}
                FROM ({" UNION ALL ".join(sources)}) s
                GROUP BY s.site, s.user_id
            ) a ON i.site = a.site AND i.user_id = a.user_id
            """
        with _registered(cur, **tables):
            _replace(
                cur,
                "users",
                "site, user_id",
                names,
                _arrow(cols, ("first_ms", "last_ms")),
                is_new,
                insert,
            )

    @staticmethod
    def _latest_event_ids(
        cur: duckdb.DuckDBPyConnection,
        cols: dict[str, list[Any]],
        wanted: list[tuple[int, Key, int]],
    ) -> None:
        """Fill in last_event_id (at each wanted row) for users whose latest event may be
        a stored one, from the events at their last ts (the batch's are inserted
        already). Filtering on those ts values first keeps the scan to the row groups
        that hold them."""
        found = {
            (site, user_id): event_id
            for site, user_id, event_id in _with(
                cur,
                "SELECT e.site, e.user_id, arg_max(e.event_id, (e.ts, e.seq)) FROM events e "
                "JOIN incoming k ON e.site = k.site AND e.user_id = k.user_id AND e.ts = k.ts "
                "WHERE e.ts IN (SELECT ts FROM incoming) GROUP BY e.site, e.user_id",
                incoming=_table(
                    {
                        "site": [k[0] for _, k, _ in wanted],
                        "user_id": [k[1] for _, k, _ in wanted],
                        "ts": pa.array([ts for _, _, ts in wanted], pa.int64()),
                    }
                ),
            )
        }
        for row, key, _ in wanted:
            cols["last_event_id"][row] = found.get(key)

    def _store_bad_hits(self, cur: duckdb.DuckDBPyConnection, bads: list[BadRecord]) -> None:
        incoming = _table(
            {
                "seq": pa.array([b.seq for b in bads], pa.int64()),
                "received_ms": pa.array([b.received_ms for b in bads], pa.int64()),
                "site": [b.site for b in bads],
                "reasons": [b.reasons for b in bads],
                "message": [b.message for b in bads],
                "method": [b.method for b in bads],
                "path": [b.path for b in bads],
                "query": [b.query for b in bads],
                "body": [b.body for b in bads],
                "headers": [orjson.dumps(b.headers).decode() for b in bads],
                "ip": [b.ip for b in bads],
            }
        )
        _with(cur, "INSERT INTO bad_hits SELECT * FROM incoming", incoming=incoming)

    def _add_counters(self, cur: duckdb.DuckDBPyConnection, counters: Counter[str]) -> None:
        counters = Counter({k: v for k, v in counters.items() if v})
        if not counters:
            return
        row = "(?, ?)"
        cur.execute(
            f"INSERT INTO counter_deltas VALUES {', '.join([row] * len(counters))}",
            [v for pair in counters.items() for v in pair],
        )

    def compact_counters(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Fold the appended increments into `counters`, in one transaction, so the totals
        a reader sees do not change. Should it fail, the increments simply stay where they
        are (still counted) and the writer goes on."""
        cur.execute("BEGIN")
        try:
            cur.execute(
                "INSERT INTO counters SELECT name, sum(value) FROM counter_deltas GROUP BY name "
                "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value"
            )
            cur.execute("DELETE FROM counter_deltas")
            cur.execute("COMMIT")
        except duckdb.Error as exc:
            cur.execute("ROLLBACK")
            log.warning("could not fold the counter increments (kept as they are): %s", exc)

    # ------------------------------------------------------------------ start-up replay
    def replay(self) -> int:
        """Ingest every spooled record that no commit covers (before serving)."""
        if self.spool is None:
            return 0
        cur = self.store.cursor()
        committed = dict(cur.execute('SELECT file, "offset" FROM spool_offsets').fetchall())
        count = 0
        batch: list[QueueItem] = []
        for record, position in self.spool.pending(committed):
            batch.append((record, position))
            if len(batch) >= self.batch_max:
                count += len(batch)
                self._ingest_safely(cur, batch)
                batch = []
        if batch:
            count += len(batch)
            self._ingest_safely(cur, batch)
        self.drop_ingested(cur)
        cur.close()
        return count

    def drop_ingested(self, cur: duckdb.DuckDBPyConnection, include_current: bool = False) -> None:
        if self.spool is None:
            return
        committed = dict(cur.execute('SELECT file, "offset" FROM spool_offsets').fetchall())
        dropped = self.spool.drop_ingested(committed, include_current)
        if dropped:
            cur.execute("DELETE FROM spool_offsets WHERE list_contains(?, file)", [dropped])


# The per-user aggregate over sessions (`a` in _fold_users) the users columns below take.
SESSION_AGGREGATE_SELECT = """
    SELECT s.site, s.user_id,
        count(*) AS visits,
        sum(s.duration_ms) AS total_duration_ms,
        arg_max(s.duration_ms, (s.start_ms, s.session_id)) AS last_visit_duration_ms,
        arg_min(s.session_id, (s.start_ms, s.session_id)) AS first_session_id,
        min(s.start_ms) AS first_session_ms,
        arg_max(s.session_id, (s.start_ms, s.session_id)) AS last_session_id,
        max(s.start_ms) AS last_session_ms,
        arg_max(s.session_id, (s.start_ms, s.session_id), 2) AS newest_ids,
        arg_max(s.start_ms, (s.start_ms, s.session_id), 2) AS newest_starts,
        arg_min(s.channel, (s.start_ms, s.session_id)) AS first_channel,
        arg_max(s.channel, (s.start_ms, s.session_id)) AS last_channel,
        arg_min(s.entry_url, (s.start_ms, s.session_id)) AS first_landing_page,
        arg_max(s.entry_url, (s.start_ms, s.session_id)) AS last_landing_page,
        arg_min(s.referrer, (s.start_ms, s.session_id))
            FILTER (WHERE s.referrer <> '') AS first_referrer,
        arg_max(s.referrer, (s.start_ms, s.session_id))
            FILTER (WHERE s.referrer <> '') AS last_referrer
"""

# users column <- its value from the per-user session aggregate `a` in _fold_users
# (defaults of the users table where the user has no session yet).
SESSION_AGGREGATES = {
    "visits": "coalesce(a.visits, 0)",
    "total_duration_ms": "coalesce(a.total_duration_ms, 0)",
    "last_visit_duration_ms": "coalesce(a.last_visit_duration_ms, 0)",
    "first_session_id": "a.first_session_id",
    "first_session_ms": "a.first_session_ms",
    "last_session_id": "a.last_session_id",
    "last_session_ms": "a.last_session_ms",
    "previous_session_id": "list_extract(a.newest_ids, 2)",
    "previous_session_ms": "list_extract(a.newest_starts, 2)",
    "first_channel": "a.first_channel",
    "last_channel": "a.last_channel",
    "first_landing_page": "a.first_landing_page",
    "last_landing_page": "a.last_landing_page",
    "first_referrer": "a.first_referrer",
    "last_referrer": "a.last_referrer",
}


def _replace(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    key: str,
    names: str,
    rows: pa.Table,
    is_new: list[bool],
    insert: str | None = None,
) -> None:
    """Write `rows` into `table`, replacing the stored rows with the same `key` columns
    (table, key and names are constants). The rows not known to be new are first deleted,
    then everything is inserted: on a large table that is ~100x cheaper than INSERT OR
    REPLACE or UPDATE, which DuckDB carries out as in-place updates of every column of
    every row group touched (~1.5 s to commit 200 scattered users out of 200k, against
    ~16 ms). `insert`: the INSERT statement reading `incoming` (default: its `names`)."""
    incoming = rows.append_column("is_new", pa.array(is_new, pa.bool_()))
    if not all(is_new):
        _with(
            cur,
            f"DELETE FROM {table} WHERE ({key}) IN (SELECT ({key}) FROM incoming WHERE NOT is_new)",
            incoming=incoming,
        )
    _with(
        cur,
        insert or f"INSERT INTO {table} ({names}) SELECT {names} FROM incoming",
        incoming=incoming,
    )


def _by_rowid(cur: duckdb.DuckDBPyConnection, select: str, rowids: list[Any]) -> list[Any]:
    """`select` (one table, constant text) narrowed to the given rows. Looking rows up in
    two steps, keys to rowids and then rowids to the wide columns, is what keeps a lookup
    cheap as the table grows: DuckDB turns a rowid list into point reads, where a join
    on the keys reads the wide `fold` JSON of every row (54 ms against ~8 ms per batch at
    200k users). Run inside the writer's transaction, where rowids are stable."""
    if not rowids:
        return []
    return cur.execute(
        f"{select} WHERE rowid IN (SELECT unnest(?))", [[r[0] for r in rowids]]
    ).fetchall()


@contextmanager
def _registered(cur: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[None]:
    """Arrow tables readable by name in the statements run inside the block."""
    for name, table in tables.items():
        cur.register(name, table)
    try:
        yield
    finally:
        for name in tables:
            cur.unregister(name)


def _with(cur: duckdb.DuckDBPyConnection, sql: str, **tables: pa.Table) -> list[Any]:
    """Run one statement that reads the given Arrow tables by name; fetch its rows."""
    with _registered(cur, **tables):
        return cur.execute(sql).fetchall()


def _session_keys(keys: list[SessionKey]) -> pa.Table:
    return _table(
        {
            "site": [k[0] for k in keys],
            "user_id": [k[1] for k in keys],
            "id": [k[2] for k in keys],
        }
    )


def _arrow(cols: dict[str, list[Any]], int_columns: Iterable[str]) -> pa.Table:
    ints = set(int_columns)
    return _table(
        {name: pa.array(v, pa.int64()) if name in ints else v for name, v in cols.items()}
    )


def _arrow_type(values: list[Any]) -> pa.DataType | None:
    """The type of a column of plain values; None (let pyarrow infer) for anything else."""
    first = next((v for v in values if v is not None), "")
    if isinstance(first, str):
        return pa.string()
    if isinstance(first, bool):  # before int: bool is an int
        return pa.bool_()
    if isinstance(first, int):
        return pa.int64()
    if isinstance(first, float):
        return pa.float64()
    return None


def _table(columns: dict[str, Any]) -> pa.Table:
    """An Arrow table with every list column given its type. Left to infer, pyarrow
    tries to import pandas and dateutil on each call; where they are not installed the
    failed imports cost ~0.25 ms each, ~12 ms of every batch."""
    return pa.table(
        {
            name: pa.array(values, _arrow_type(values)) if isinstance(values, list) else values
            for name, values in columns.items()
        }
    )
