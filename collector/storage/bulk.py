"""Bulk ingest: a large batch of events of sites that hold no data yet, stored through the
writer's rules (sessions, folding, counters) in a handful of set-based steps instead of
`BatchWriter.process`'s per-row Python.

What is stored is what `BatchWriter.process` stores for the same records in one call,
byte for byte (`tests/property/test_bulk_equivalence.py` compares every table):

- events: the records as given, with the session id of the writer's rules;
- sessions: a hit that names its session belongs to it; the others are sessionized per
  (site, user) by a SQL window over (ts, seq): a gap over the timeout starts a session,
  whose id is `<start ms>.<user random part>` (`collector.sessions.place`,
  `identity.session_id_for`);
- the session and user folds (`collector.folding`): per property the value of the latest
  event by (ts, seq), per attribution signal the earliest and the latest, keys in the
  order the writer's dicts receive them (first appearance in arrival order, then position
  in the event), serialised the way `orjson` writes a `Fold`. Every string reaches the
  JSON through `orjson.dumps` of the distinct string, so the escaping is orjson's own;
- users' visit counters and first/last attribution: the writer's aggregate over the
  user's sessions; their latest event's id, by (ts, seq); `user_emails`: per claimed
  address, the user of its last claim in the batch; `counters`: the writer's increments.

How: strings become integer ids (one Arrow dictionary), properties a long (event, key)
table. DuckDB runs the sessionization window, the per-distinct lookups and the fold
aggregates, on integers only: "latest by (ts, seq)" is a max over `(r << 32) | value id`
where r is the event's rank in (ts, seq) order. pyarrow turns the winners into JSON
(gathers and concatenations, no Python per row) and builds the rows the tables get.
The attribution signals that need Python (referrer, channel, browser, platform) are
evaluated once per distinct input with `collector.bulk_rules`.

The caller checks `site_has_data` first and keeps the writer for a site that has data.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from collector import bulk_rules, enrich
from collector.model import EventRecord

_MAX_PROPS = 1 << 16  # properties of one event: a position is packed into 16 bits
_MAX_EVENTS = 1 << 31  # events of one ingest: a rank is packed next to a 32-bit string id
_LOW32 = pa.scalar(0xFFFFFFFF, pa.int64())
_PROPS, _SIGNALS = 0, 1  # the two kinds of fold keys
_JSON_TYPE = pa.json_(pa.string()) if hasattr(pa, "json_") else None

# Session columns taken from the first or last value of a signal ("" or NULL without).
_SESSION_FIRSTS = {
    "entry_url": "url",
    "entry_title": "title",
    "referrer": "referrer",
    "channel": "channel",
    **{k: k for k in enrich.UTM_KEYS},
    "browser": "browser",
    "platform": "platform",
    "ip": "ip",
}
_SESSION_LASTS = {"exit_url": "url", "last_channel": "channel"}
_SESSION_DEFAULTS = {"channel": "direct", "last_channel": "direct"}  # else ""
_NULLABLE = frozenset(enrich.UTM_KEYS)
# Share of the work done after each step (for a progress bar; measured on 1M events).
_STEP_DONE = {
    "arrow": 0.12,
    "sessionize": 0.15,
    "events": 0.22,
    "signals": 0.27,
    "fold keys": 0.33,
    "sessions": 0.68,
    "users": 0.97,
    "commit": 1.0,
}


class SiteNotFresh(RuntimeError):
    """A site of the batch already holds data: use the writer."""


@dataclass(slots=True)
class EventBatch:
    """Events in arrival order, one list per column (what `EventRecord`s carry).
    `seq` must increase strictly. `duplicates` and `warnings` are counted like the writer
    counts them (repeated client event ids dropped, ignored-parameter codes)."""

    site: list[str] = field(default_factory=list)
    event_id: list[str] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)
    user_id: list[str] = field(default_factory=list)
    session_id: list[str | None] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    received_ms: list[int] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    lc: list[str] = field(default_factory=list)
    ref: list[str] = field(default_factory=list)
    ip: list[str] = field(default_factory=list)
    user_agent: list[str] = field(default_factory=list)
    increment: list[bool] = field(default_factory=list)
    props: list[dict[str, str]] = field(default_factory=list)
    claimed_email: list[str] = field(default_factory=list)
    duplicates: int = 0
    warnings: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.seq)

    @classmethod
    def from_records(cls, records: Iterable[EventRecord]) -> EventBatch:
        """Columns of the records the writer keeps: a repeated client `eid` of a site is
        dropped and counted as a duplicate (a fresh site has none stored yet)."""
        batch = cls()
        seen: set[tuple[str, str]] = set()
        for r in records:
            if r.client_eid:
                key = (r.site, r.event_id)
                if key in seen:
                    batch.duplicates += 1
                    continue
                seen.add(key)
            batch.site.append(r.site)
            batch.event_id.append(r.event_id)
            batch.seq.append(r.seq)
            batch.user_id.append(r.user_id)
            batch.session_id.append(r.session_id)
            batch.ts.append(r.ts)
            batch.received_ms.append(r.received_ms)
            batch.title.append(r.title)
            batch.lc.append(r.lc)
            batch.ref.append(r.ref)
            batch.ip.append(r.ip)
            batch.user_agent.append(r.user_agent)
            batch.increment.append(r.increment)
            batch.props.append(r.props)
            batch.claimed_email.append(r.claimed_email)
            batch.warnings.update(r.warnings)
        return batch


@dataclass(slots=True)
class BulkStats:
    events: int = 0
    sessions: int = 0
    users: int = 0
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds


def site_has_data(cur: duckdb.DuckDBPyConnection, site: str) -> bool:
    """True when the site has any stored row the bulk path would have to merge with."""
    rows = _sql(
        cur,
        "SELECT EXISTS (SELECT 1 FROM events WHERE site = ?) "
        "OR EXISTS (SELECT 1 FROM sessions WHERE site = ?) "
        "OR EXISTS (SELECT 1 FROM users WHERE site = ?) "
        "OR EXISTS (SELECT 1 FROM user_emails WHERE site = ?)",
        [site, site, site, site],
    )
    return bool(rows and rows[0][0])


def stored_overlap(cur: duckdb.DuckDBPyConnection, batch: EventBatch) -> str | None:
    """What of the batch its sites already hold: a user, a claimed address or an event id
    (a message), or None when nothing. The bulk path computes sessions and folds from the
    batch alone, so it may only add users that have nothing stored yet."""
    keys = {
        "fb_chk_users": ("user_id", "users", batch.user_id),
        "fb_chk_claims": ("email", "user_emails", batch.claimed_email),
        "fb_chk_events": ("event_id", "events", batch.event_id),
    }
    for name, (column, table, values) in keys.items():
        pairs = {(site, v) for site, v in zip(batch.site, values, strict=True) if v}
        incoming = pa.table(
            {
                "site": pa.array([p[0] for p in pairs], pa.string()),
                column: pa.array([p[1] for p in pairs], pa.string()),
            }
        )
        cur.register(name, incoming)
        try:
            found = _sql(
                cur,
                f"SELECT t.site, t.{column} FROM {table} t JOIN {name} k "
                f"ON t.site = k.site AND t.{column} = k.{column} LIMIT 1",
            )
        finally:
            cur.unregister(name)
        if found:
            return f"dataset {found[0][0]!r} already has the {column} {found[0][1]!r}"
    return None


def ingest(
    cur: duckdb.DuckDBPyConnection,
    batch: EventBatch,
    timeout_ms: int,
    progress: Callable[[float], None] | None = None,
    new_users: bool = False,
) -> BulkStats:
    """Store the batch in one transaction. Raises SiteNotFresh (nothing stored) when one of
    its sites already has data (with `new_users`: when one of its users, claimed addresses
    or event ids is already stored, so a dataset can be filled in parts of whole users),
    ValueError when `seq` does not increase strictly.
    `progress` is called after each step with the fraction of the work done (roughly)."""
    n = len(batch)
    if n >= _MAX_EVENTS:
        raise ValueError(f"at most {_MAX_EVENTS - 1} events per bulk ingest")
    if any(a >= b for a, b in zip(batch.seq, batch.seq[1:], strict=False)):
        raise ValueError("seq must increase strictly in arrival order")
    if new_users:
        overlap = stored_overlap(cur, batch)
        if overlap is not None:
            raise SiteNotFresh(overlap)
    else:
        for site in sorted(set(batch.site)):
            if site_has_data(cur, site):
                raise SiteNotFresh(f"dataset {site!r} already has data")
    run = _Ingest(cur, batch, timeout_ms, progress)
    _sql(cur, "BEGIN")
    try:
        if n:
            run.store()
        _add_counters(cur, batch, n)
        _sql(cur, "COMMIT")
    except BaseException:
        _sql(cur, "ROLLBACK")
        raise
    finally:
        run.cleanup()
    run.lap("commit")
    run.stats.events = n
    return run.stats


def _sql(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run one statement and fetch its rows (DuckDB wants every result consumed)."""
    return cur.execute(sql, list(params)).fetchall()


def _arrow(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> pa.Table:
    """A query's result as an Arrow table."""
    return cur.sql(sql, params=list(params)).to_arrow_table()


def _col(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _ids(values: Iterable[int | None]) -> pa.Array:
    return pa.array(list(values), pa.int64())


def _json(text: pa.Array) -> pa.Array:
    """JSON text for a JSON column. As Arrow's JSON extension type (pyarrow 19+), DuckDB
    takes it as JSON without parsing it again: it is orjson's output, or assembled from
    orjson-encoded pieces (the equivalence test reads every stored text back)."""
    if _JSON_TYPE is None:
        return text
    return pa.ExtensionArray.from_storage(_JSON_TYPE, text)


def _concat(*parts: Any) -> pa.Array:
    """Element-wise concatenation of string arrays and scalars (null if any part is)."""
    return pc.binary_join_element_wise(*parts, "")


class _Ingest:
    """One bulk ingest. Index names: i = event (arrival order), g = session, u = user,
    r = event rank in (ts, seq) order; string ids index `self.strings`."""

    def __init__(
        self,
        cur: duckdb.DuckDBPyConnection,
        batch: EventBatch,
        timeout_ms: int,
        progress: Callable[[float], None] | None,
    ) -> None:
        self.cur = cur
        self.progress = progress
        self.batch = batch
        self.timeout_ms = timeout_ms
        self.stats = BulkStats()
        self._last = time.perf_counter()
        self._registered: list[str] = []
        self._temps: list[str] = []

    # ------------------------------------------------------------------ plumbing
    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.stats.steps[step] = self.stats.steps.get(step, 0.0) + now - self._last
        self._last = now
        if self.progress is not None:
            self.progress(_STEP_DONE.get(step, 0.0))

    def register(self, name: str, table: pa.Table) -> None:
        self.cur.register(name, table)
        self._registered.append(name)

    def temp(self, name: str, sql: str, params: Sequence[Any] = ()) -> None:
        _sql(self.cur, f"CREATE TEMP TABLE {name} AS {sql}", params)  # name: a constant
        self._temps.append(name)

    def cleanup(self) -> None:
        for name in self._registered:
            try:
                self.cur.unregister(name)
            except duckdb.Error:
                pass
        for name in self._temps:
            _sql(self.cur, f"DROP TABLE IF EXISTS {name}")  # names: constants of this module

    def sid(self, value: str) -> int:
        """The id of a string, or -1 when no event has it (so it matches nothing)."""
        return self.index.get(value, -1)

    def string_id(self, value: str | None) -> int | None:
        """The id of a string, added to the dictionary when new."""
        if value is None:
            return None
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.strings)
            self.strings.append(value)
        return found

    def raw(self, string_id: int) -> str | None:
        return None if string_id < 0 else self.strings[string_id]

    # ------------------------------------------------------------------ the steps
    def store(self) -> None:
        self.columns()
        self.lap("arrow")
        self.sessionize()
        self.lap("sessionize")
        self.insert_events()
        self.lap("events")
        self.signals()
        self.lap("signals")
        self.fold_keys()
        self.lap("fold keys")
        self.insert_sessions()
        self.lap("sessions")
        self.insert_users()
        self.lap("users")

    def columns(self) -> None:
        """The batch as Arrow arrays; every string of it as an id into one dictionary;
        properties in long form (event i, position, name id, value id)."""
        b = self.batch
        self.n = n = len(b)
        lens = list(map(len, b.props))
        if max(lens) >= _MAX_PROPS:
            raise ValueError(f"at most {_MAX_PROPS - 1} properties per event")
        names = pa.array(list(chain.from_iterable(b.props)), pa.string())
        values = pa.array(list(chain.from_iterable(map(dict.values, b.props))), pa.string())
        self.lc = pa.array(b.lc, pa.string())
        self.ref = pa.array(b.ref, pa.string())
        self.ip = pa.array(b.ip, pa.string())
        self.ua = pa.array(b.user_agent, pa.string())
        fixed = pa.array(["", *bulk_rules.SIGNAL_ORDER, *bulk_rules.CHANNELS], pa.string())
        parts = [values, names, self.lc, self.ref, self.ip, self.ua, fixed]
        encoded = pa.concat_arrays(parts).dictionary_encode()
        ids = encoded.indices.cast(pa.int64())
        cut = list(accumulate((len(p) for p in parts), initial=0))
        self.vid, self.nid, self.lc_v, self.ref_v, self.ip_v, self.ua_v = (
            ids.slice(cut[k], cut[k + 1] - cut[k]) for k in range(6)
        )
        self.strings: list[str] = encoded.dictionary.to_pylist()
        self.index: dict[str, int] = {s: k for k, s in enumerate(self.strings)}
        offsets = pa.array(list(accumulate(lens, initial=0)), pa.int64())
        self.parent = pc.list_parent_indices(pa.ListArray.from_arrays(offsets, self.vid)).cast(
            pa.int64()
        )
        self.pos = pc.subtract(
            pa.array(range(len(self.vid)), pa.int64()), pc.take(offsets, self.parent)
        )
        self.i = pa.array(range(n), pa.int64())
        self.ts = pa.array(b.ts, pa.int64())
        self.seq = pa.array(b.seq, pa.int64())
        self.sid_arr = pa.array(b.session_id, pa.string())
        self.implicit = pc.is_null(self.sid_arr)
        self.increment = pa.array(b.increment, pa.bool_())
        # Users: (site, user id) -> u, dense, in order of first appearance.
        site = pa.array(b.site, pa.string()).dictionary_encode()
        user = pa.array(b.user_id, pa.string()).dictionary_encode()
        users = len(user.dictionary)
        key = pc.add(
            pc.multiply(site.indices.cast(pa.int64()), users), user.indices.cast(pa.int64())
        )
        u = key.dictionary_encode()
        self.u = u.indices.cast(pa.int64())
        self.user_site = pc.take(site.dictionary, pc.divide(u.dictionary, users))
        self.user_name = pc.take(
            user.dictionary,
            pc.subtract(u.dictionary, pc.multiply(pc.divide(u.dictionary, users), users)),
        )
        random_part = pa.array(
            [x.partition(".")[2] for x in user.dictionary.to_pylist()], pa.string()
        )  # identity.user_random_part, per distinct user
        self.random_part = pc.take(random_part, user.indices)
        # r: rank in (ts, seq) order, what "latest" and "earliest" compare.
        if n < 2 or pc.all(pc.less_equal(self.ts.slice(0, n - 1), self.ts.slice(1))).as_py():
            self.i_by_r = self.r = self.i  # seq increases: arrival order is (ts, seq) order
        else:
            order = pa.table({"ts": self.ts, "seq": self.seq})
            self.i_by_r = pc.sort_indices(
                order, sort_keys=[("ts", "ascending"), ("seq", "ascending")]
            ).cast(pa.int64())
            self.r = pc.sort_indices(self.i_by_r).cast(pa.int64())  # the inverse permutation

    def sessionize(self) -> None:
        """Session of every event: named ones as given; the others by the inactivity rule
        over each user's unnamed events in (ts, seq) order (`sessions.place`): a gap over
        the timeout opens a session, identified by its start and the user's random part."""
        self.register(
            "fb_in_times",
            pa.table({"i": self.i, "u": self.u, "ts": self.ts, "seq": self.seq}).filter(
                self.implicit
            ),
        )
        starts = _arrow(
            self.cur,
            """
            SELECT i,
                max(opens) OVER (PARTITION BY u ORDER BY ts, seq ROWS UNBOUNDED PRECEDING)
                    AS start
            FROM (
                SELECT i, u, ts, seq,
                    CASE WHEN lag(ts) OVER w IS NULL OR ts - lag(ts) OVER w > ? THEN ts END
                        AS opens
                FROM fb_in_times
                WINDOW w AS (PARTITION BY u ORDER BY ts, seq)
            )
            ORDER BY i
            """,
            [self.timeout_ms],
        )
        start = _col(starts, "start")
        if len(start) != self.n:
            start = pc.replace_with_mask(pa.nulls(self.n, pa.int64()), self.implicit, start)
        implicit_id = _concat(pc.cast(start, pa.string()), ".", self.random_part)
        self.session_id = pc.coalesce(self.sid_arr, implicit_id)
        # g: (user, session id) -> dense id, in order of first appearance.
        names = self.session_id.dictionary_encode()
        count = len(names.dictionary)
        key = pc.add(pc.multiply(self.u, count), names.indices.cast(pa.int64()))
        g = key.dictionary_encode()
        self.g = g.indices.cast(pa.int64())
        self.sessions = len(g.dictionary)
        self.session_u = pc.divide(g.dictionary, count)
        self.session_name = pc.take(
            names.dictionary, pc.subtract(g.dictionary, pc.multiply(self.session_u, count))
        )

    def insert_events(self) -> None:
        b = self.batch
        events = pa.table(
            {
                "site": pa.array(b.site, pa.string()),
                "event_id": pa.array(b.event_id, pa.string()),
                "seq": self.seq,
                "user_id": pa.array(b.user_id, pa.string()),
                "session_id": self.session_id,
                "explicit_session": pc.invert(self.implicit),
                "ts": self.ts,
                "received_ms": pa.array(b.received_ms, pa.int64()),
                "title": pa.array(b.title, pa.string()),
                "lc": self.lc,
                "ref": self.ref,
                "ip": self.ip,
                "user_agent": self.ua,
                "increment": self.increment,
                "props": _json(pa.array([orjson.dumps(p).decode() for p in b.props], pa.string())),
            }
        )
        self.register("fb_in_events", events)
        names = ", ".join(events.column_names)  # the events columns, in table order
        _sql(self.cur, f"INSERT INTO events ({names}) SELECT {names} FROM fb_in_events")

    def signals(self) -> None:
        """Every (event, key) a fold looks at, as fb_kv rows (g, u, r, kind, nid, vid, o):
        properties (o = i << 16 | position in the event) and signals (o = i << 8 |
        position in SIGNAL_ORDER); o orders keys as the writer's dicts receive them."""
        self.register(
            "fb_in_ev",
            pa.table(
                {
                    "i": self.i,
                    "lc_v": self.lc_v,
                    "ref_v": self.ref_v,
                    "ua_v": self.ua_v,
                    "has_ref": pc.not_equal(self.ref, ""),
                }
            ),
        )
        self.register("fb_in_kv", pa.table({"i": self.parent, "nid": self.nid, "vid": self.vid}))
        derived = self.derived_signals()
        pos = bulk_rules.SIGNAL_POSITION
        sig_name = {name: self.string_id(name) for name in bulk_rules.SIGNAL_ORDER}
        g_l, u_l, r_l = (pc.take(a, self.parent) for a in (self.g, self.u, self.r))
        parts = [
            pa.table(
                {
                    "g": g_l,
                    "u": u_l,
                    "r": r_l,
                    "kind": pa.repeat(pa.scalar(_PROPS, pa.int8()), len(self.vid)),
                    "nid": self.nid,
                    "vid": self.vid,
                    "o": pc.bit_wise_or(pc.shift_left(self.parent, 16), self.pos),
                }
            )
        ]
        # Properties that are signals as they are (non-empty): map name id -> signal.
        size = len(self.strings)
        to_signal: list[int | None] = [None] * size
        signal_pos: list[int | None] = [None] * size
        for prop, signal in bulk_rules.PROP_SIGNALS.items():
            k = self.sid(prop)
            if k >= 0:
                to_signal[k], signal_pos[k] = sig_name[signal], pos[signal]
        signal_nid = pc.take(_ids(to_signal), self.nid)
        keep = pc.and_(pc.is_valid(signal_nid), pc.not_equal(self.vid, self.sid("")))
        parts.append(
            pa.table(
                {
                    "g": g_l.filter(keep),
                    "u": u_l.filter(keep),
                    "r": r_l.filter(keep),
                    "kind": pa.repeat(pa.scalar(_SIGNALS, pa.int8()), pc.sum(keep).as_py() or 0),
                    "nid": signal_nid.filter(keep),
                    "vid": self.vid.filter(keep),
                    "o": pc.bit_wise_or(
                        pc.shift_left(self.parent.filter(keep), 8),
                        pc.take(_ids(signal_pos), self.nid.filter(keep)),
                    ),
                }
            )
        )
        for name, vids in derived.items():
            keep = pc.is_valid(vids)
            count = pc.sum(keep).as_py() or 0
            parts.append(
                pa.table(
                    {
                        "g": self.g.filter(keep),
                        "u": self.u.filter(keep),
                        "r": self.r.filter(keep),
                        "kind": pa.repeat(pa.scalar(_SIGNALS, pa.int8()), count),
                        "nid": pa.repeat(pa.scalar(sig_name[name], pa.int64()), count),
                        "vid": vids.filter(keep),
                        "o": pc.bit_wise_or(pc.shift_left(self.i.filter(keep), 8), pos[name]),
                    }
                )
            )
        self.register("fb_kv", pa.concat_tables(parts))

    def derived_signals(self) -> dict[str, pa.Array]:
        """Per event, the string id (or null) of each signal not copied from a property:
        url, ip, user_agent directly; referrer, channel, browser, browser_version and
        platform through tables of their distinct inputs (bulk_rules)."""
        cur = self.cur
        clicks = [self.sid(k) for k in enrich.CLICK_IDS]
        medium, source, campaign = (self.sid(k) for k in bulk_rules.CHANNEL_PROPS)
        browser, version, platform = (self.sid(k) for k in bulk_rules.AGENT_PROPS)
        wanted = [medium, source, campaign, browser, version, platform, *clicks]
        self.temp(
            "fb_cp",
            """
            SELECT i,
                max(vid) FILTER (WHERE nid = ?) AS medium_v,
                max(vid) FILTER (WHERE nid = ?) AS source_v,
                max(vid) FILTER (WHERE nid = ?) AS campaign_v,
                bool_or(list_contains(?, nid) AND vid <> ?) AS clicked,
                max(vid) FILTER (WHERE nid = ?) AS browser_v,
                max(vid) FILTER (WHERE nid = ?) AS version_v,
                max(vid) FILTER (WHERE nid = ?) AS platform_v
            FROM fb_in_kv WHERE list_contains(?, nid)
            GROUP BY i
            """,
            [medium, source, campaign, clicks, self.sid(""), browser, version, platform, wanted],
        )
        refs = _sql(cur, "SELECT DISTINCT ref_v, lc_v FROM fb_in_ev WHERE has_ref")
        self.register(
            "fb_in_ref",
            pa.table(
                {
                    "ref_v": _ids(r for r, _ in refs),
                    "lc_v": _ids(lc for _, lc in refs),
                    "external": pa.array(
                        [
                            bulk_rules.referrer_signal(self.strings[r], self.strings[lc])
                            is not None
                            for r, lc in refs
                        ],
                        pa.bool_(),
                    ),
                }
            ),
        )
        self.temp(
            "fb_ch",
            """
            SELECT e.i,
                coalesce(CASE WHEN rf.external THEN e.ref_v END, -1) AS ref_sig,
                coalesce(cp.medium_v, -1) AS medium_v,
                coalesce(cp.source_v, -1) AS source_v,
                coalesce(cp.campaign_v, -1) AS campaign_v,
                coalesce(cp.clicked, false) AS clicked,
                coalesce(cp.browser_v, -1) AS browser_v,
                coalesce(cp.version_v, -1) AS version_v,
                coalesce(cp.platform_v, -1) AS platform_v,
                e.ua_v
            FROM fb_in_ev e LEFT JOIN fb_in_ref rf USING (ref_v, lc_v) LEFT JOIN fb_cp cp USING (i)
            """,
        )
        channels = _sql(
            cur,
            "SELECT DISTINCT ref_sig, medium_v, source_v, campaign_v, clicked FROM fb_ch",
        )
        self.register(
            "fb_in_chan",
            pa.table(
                {
                    "ref_sig": _ids(c[0] for c in channels),
                    "medium_v": _ids(c[1] for c in channels),
                    "source_v": _ids(c[2] for c in channels),
                    "campaign_v": _ids(c[3] for c in channels),
                    "clicked": pa.array([c[4] for c in channels], pa.bool_()),
                    "chan_v": _ids(
                        self.string_id(
                            bulk_rules.channel_signal(
                                self.raw(ref), self.raw(m), self.raw(s), self.raw(c), clicked
                            )
                        )
                        for ref, m, s, c, clicked in channels
                    ),
                }
            ),
        )
        agents = _sql(cur, "SELECT DISTINCT browser_v, version_v, platform_v, ua_v FROM fb_ch")
        found = [
            bulk_rules.agent_signals(self.raw(b), self.raw(v), self.raw(p), self.strings[ua])
            for b, v, p, ua in agents
        ]
        self.register(
            "fb_in_agent",
            pa.table(
                {
                    "browser_v": _ids(a[0] for a in agents),
                    "version_v": _ids(a[1] for a in agents),
                    "platform_v": _ids(a[2] for a in agents),
                    "ua_v": _ids(a[3] for a in agents),
                    "out_browser": _ids(self.string_id(f[0]) for f in found),
                    "out_version": _ids(self.string_id(f[1]) for f in found),
                    "out_platform": _ids(self.string_id(f[2]) for f in found),
                }
            ),
        )
        per_event = _arrow(
            cur,
            """
            SELECT CASE WHEN x.ref_sig >= 0 THEN x.ref_sig END AS referrer,
                ch.chan_v AS channel,
                ag.out_browser AS browser, ag.out_version AS browser_version,
                ag.out_platform AS platform
            FROM fb_ch x
            JOIN fb_in_chan ch USING (ref_sig, medium_v, source_v, campaign_v, clicked)
            JOIN fb_in_agent ag USING (browser_v, version_v, platform_v, ua_v)
            ORDER BY x.i
            """,
        )
        out = {
            "url": pc.if_else(pc.not_equal(self.lc, ""), self.lc_v, None),
            **{name: _col(per_event, name) for name in per_event.column_names},
            "ip": pc.if_else(pc.not_equal(self.ip, ""), self.ip_v, None),
            "user_agent": pc.if_else(pc.not_equal(self.ua, ""), self.ua_v, None),
        }
        return out

    def fold_keys(self) -> None:
        """Per (session, key) and (user, key): the latest and the earliest (rank, value)
        packed in one integer, and the first appearance."""
        self.temp(
            "fb_skv",
            """
            SELECT g, kind, nid, any_value(u) AS u,
                max((r << 32) | vid) AS last, min((r << 32) | vid) AS first, min(o) AS o
            FROM fb_kv GROUP BY g, kind, nid
            """,
        )
        self.temp(
            "fb_ukv",
            """
            SELECT u, kind, nid, max(last) AS last, min(first) AS first, min(o) AS o
            FROM fb_skv GROUP BY u, kind, nid
            """,
        )
        self.js = pa.array([orjson.dumps(s).decode() for s in self.strings], pa.string())
        self.all_strings = pa.array(self.strings, pa.string())
        stamp = _concat(
            ",", pc.cast(self.ts, pa.string()), ",", pc.cast(self.seq, pa.string()), "]"
        )
        self.stamp_by_r = pc.take(stamp, self.i_by_r)

    def fold_texts(self, source: str, key: str, size: int) -> dict[str, pa.Array]:
        """The fold JSON pieces of every session (key g) or user (key u), in key order:
        flat ({"name":value,...} inner text), props, first and last ([value,ts,seq]),
        each in first-appearance order ("" for a fold without such keys)."""
        counts = _arrow(
            self.cur,
            f"""
            SELECT coalesce(c.p, 0) AS p, coalesce(c.s, 0) AS s
            FROM range(?) r(k)
            LEFT JOIN (
                SELECT {key} AS k, count(*) FILTER (WHERE kind = ?) AS p,
                    count(*) FILTER (WHERE kind = ?) AS s
                FROM {source} GROUP BY {key}
            ) c USING (k)
            ORDER BY k
            """,
            [size, _PROPS, _SIGNALS],
        )  # names: constants of this module
        rows = _arrow(
            self.cur, f"SELECT kind, nid, last, first FROM {source} ORDER BY {key}, kind, o"
        )
        kind = _col(rows, "kind")
        out: dict[str, pa.Array] = {}
        for which, k in (("p", _PROPS), ("s", _SIGNALS)):
            mask = pc.equal(kind, k)
            nid, last, first = (_col(rows, c).filter(mask) for c in ("nid", "last", "first"))
            name = pc.take(self.js, nid)
            last_piece = _concat(
                name,
                ":[",
                pc.take(self.js, pc.bit_wise_and(last, _LOW32)),
                pc.take(self.stamp_by_r, pc.shift_right(last, 32)),
            )
            if which == "p":
                pieces = {
                    "flat": _concat(name, ":", pc.take(self.js, pc.bit_wise_and(last, _LOW32))),
                    "props": last_piece,
                }
            else:
                first_piece = _concat(
                    name,
                    ":[",
                    pc.take(self.js, pc.bit_wise_and(first, _LOW32)),
                    pc.take(self.stamp_by_r, pc.shift_right(first, 32)),
                )
                pieces = {"first": first_piece, "last": last_piece}
            # One list of fragments per key (empty for a key without any), joined by ",".
            offsets = pa.concat_arrays(
                [pa.array([0], pa.int64()), pc.cumulative_sum(_col(counts, which))]
            )
            for piece, fragments in pieces.items():
                lists = pa.LargeListArray.from_arrays(offsets, fragments)
                out[piece] = pc.binary_join(lists, ",")
        return out

    def winners(
        self, source: str, key: str, size: int, wanted: dict[str, tuple[int, str, str]]
    ) -> dict[str, pa.Array]:
        """Per key (in key order), for each wanted column (kind, key name, "first" or
        "last"): the raw string of that fold value, or null where the fold has none."""
        picks = ", ".join(
            f"max({which}) FILTER (WHERE kind = ? AND nid = ?) AS {column}"
            for column, (_, _, which) in wanted.items()
        )  # column names and "first"/"last": constants of this module
        params: list[Any] = []
        for kind, name, _ in wanted.values():
            params += [kind, self.sid(name)]
        nids = [self.sid(name) for _, name, _ in wanted.values()]
        found = _arrow(
            self.cur,
            f"""
            SELECT {picks}
            FROM range(?) r(k)
            LEFT JOIN (SELECT * FROM {source} WHERE list_contains(?, nid)) s ON s.{key} = r.k
            GROUP BY r.k ORDER BY r.k
            """,
            [*params, size, nids],
        )
        return {
            column: pc.take(self.all_strings, pc.bit_wise_and(_col(found, column), _LOW32))
            for column in wanted
        }

    def insert_sessions(self) -> None:
        g = self.sessions
        base = pa.table(
            {"g": self.g, "ts": self.ts, "implicit": self.implicit, "increment": self.increment}
        )
        self.register("fb_in_base", base)
        agg = _arrow(
            self.cur,
            """
            SELECT min(ts) AS start_ms, max(ts) AS end_ms,
                min(ts) FILTER (WHERE implicit) AS istart,
                max(ts) FILTER (WHERE implicit) AS iend,
                count(*) AS events, count(*) FILTER (WHERE increment) AS pages
            FROM fb_in_base GROUP BY g ORDER BY g
            """,
        )
        start, end = _col(agg, "start_ms"), _col(agg, "end_ms")
        istart, iend = _col(agg, "istart"), _col(agg, "iend")
        events, pages = _col(agg, "events"), _col(agg, "pages")
        texts = self.fold_texts("fb_skv", "g", g)
        wanted = {
            **{c: (_SIGNALS, signal, "first") for c, signal in _SESSION_FIRSTS.items()},
            **{c: (_SIGNALS, signal, "last") for c, signal in _SESSION_LASTS.items()},
        }
        found = self.winners("fb_skv", "g", g, wanted)
        columns: dict[str, pa.Array] = {
            "site": pc.take(self.user_site, self.session_u),
            "session_id": self.session_name,
            "user_id": pc.take(self.user_name, self.session_u),
            "start_ms": start,
            "end_ms": end,
            "implicit_start_ms": istart,
            "implicit_end_ms": iend,
            "duration_ms": pc.subtract(end, start),
            "events": events,
            "pages": pages,
        }
        for column in wanted:
            value = found[column]
            if column not in _NULLABLE:
                value = pc.coalesce(value, _SESSION_DEFAULTS.get(column, ""))
            columns[column] = value
        columns["props"] = _json(_concat("{", texts["flat"], "}"))
        columns["fold"] = _json(self.fold_json(start, end, istart, iend, events, pages, texts))
        table = pa.table(columns)
        self.register("fb_in_sessions", table)
        names = ", ".join(columns)  # the sessions columns (constants of this module)
        _sql(self.cur, f"INSERT INTO sessions ({names}) SELECT {names} FROM fb_in_sessions")
        self.session_table = table
        self.stats.sessions = g

    @staticmethod
    def fold_json(
        start: pa.Array,
        end: pa.Array,
        istart: pa.Array,
        iend: pa.Array,
        events: pa.Array,
        pages: pa.Array,
        texts: dict[str, pa.Array],
    ) -> pa.Array:
        """`orjson.dumps(folding.to_jsonable(fold))`, assembled from its pieces."""
        text = pc.cast
        return _concat(
            '{"start":',
            text(start, pa.string()),
            ',"end":',
            text(end, pa.string()),
            ',"istart":',
            pc.coalesce(text(istart, pa.string()), "null"),
            ',"iend":',
            pc.coalesce(text(iend, pa.string()), "null"),
            ',"events":',
            text(events, pa.string()),
            ',"pages":',
            text(pages, pa.string()),
            ',"props":{',
            texts["props"],
            '},"first":{',
            texts["first"],
            '},"last":{',
            texts["last"],
            "}}",
        )

    def insert_users(self) -> None:
        users = len(self.user_name)
        base = pa.table({"u": self.u, "ts": self.ts, "increment": self.increment, "r": self.r})
        self.register("fb_in_ubase", base)
        agg = _arrow(
            self.cur,
            """
            SELECT min(ts) AS first_ms, max(ts) AS last_ms, count(*) AS events,
                count(*) FILTER (WHERE increment) AS pages, max(r) AS last_r
            FROM fb_in_ubase GROUP BY u ORDER BY u
            """,
        )
        # The latest event by (ts, seq): the one of the highest rank.
        last_event = pc.take(
            pa.array(self.batch.event_id, pa.string()),
            pc.take(self.i_by_r, _col(agg, "last_r")),
        )
        first_ms, last_ms = _col(agg, "first_ms"), _col(agg, "last_ms")
        events, pages = _col(agg, "events"), _col(agg, "pages")
        texts = self.fold_texts("fb_ukv", "u", users)
        email = self.winners("fb_ukv", "u", users, {"email": (_PROPS, "email", "last")})
        no_time = pa.nulls(users, pa.int64())  # users are folded with implicit=False
        columns: dict[str, pa.Array] = {
            "site": self.user_site,
            "user_id": self.user_name,
            "email": email["email"],
            "first_ms": first_ms,
            "last_ms": last_ms,
            "events": events,
            "pages": pages,
            **self.visits(users),
            "props": _json(_concat("{", texts["flat"], "}")),
            "fold": _json(
                self.fold_json(first_ms, last_ms, no_time, no_time, events, pages, texts)
            ),
            "last_event_id": last_event,
        }
        self.register("fb_in_users", pa.table(columns))
        names = ", ".join(columns)  # the users columns (constants of this module)
        _sql(self.cur, f"INSERT INTO users ({names}) SELECT {names} FROM fb_in_users")
        b = self.batch
        self.register(
            "fb_in_claims",
            pa.table(
                {
                    "i": self.i,
                    "site": pa.array(b.site, pa.string()),
                    "user_id": pa.array(b.user_id, pa.string()),
                    "claim": pa.array(b.claimed_email, pa.string()),
                }
            ),
        )
        # Per address, the user of its last claim (the writer's dict keeps the last).
        _sql(
            self.cur,
            """
            INSERT INTO user_emails
            SELECT site, claim, arg_max(user_id, i) FROM fb_in_claims WHERE claim <> ''
            GROUP BY site, claim
            """,
        )
        self.stats.users = users

    def visits(self, users: int) -> dict[str, pa.Array]:
        """The users' visit counters and attribution from their sessions, as the writer's
        aggregate over the sessions table gives them: sessions ordered by (start_ms,
        session_id) -- here a rank k from a sort on the same keys (strings compare by
        bytes, as in DuckDB), so the aggregates compare integers."""
        t = self.session_table
        order = pc.sort_indices(
            pa.table({"u": self.session_u, "start": t["start_ms"], "id": t["session_id"]}),
            sort_keys=[("u", "ascending"), ("start", "ascending"), ("id", "ascending")],
        )
        self.register(
            "fb_in_visits",
            pa.table(
                {
                    "u": self.session_u,
                    "k": pc.sort_indices(order),
                    "session_id": t["session_id"],
                    "start_ms": t["start_ms"],
                    "duration_ms": t["duration_ms"],
                    "channel": t["channel"],
                    "entry_url": t["entry_url"],
                    "referrer": t["referrer"],
                }
            ),
        )
        found = _arrow(
            self.cur,
            """
            SELECT
                count(*) AS visits,
                sum(duration_ms) AS total_duration_ms,
                arg_max(duration_ms, k) AS last_visit_duration_ms,
                arg_min(session_id, k) AS first_session_id,
                min(start_ms) AS first_session_ms,
                arg_max(session_id, k) AS last_session_id,
                max(start_ms) AS last_session_ms,
                list_extract(arg_max(session_id, k, 2), 2) AS previous_session_id,
                list_extract(arg_max(start_ms, k, 2), 2) AS previous_session_ms,
                arg_min(channel, k) AS first_channel,
                arg_max(channel, k) AS last_channel,
                arg_min(entry_url, k) AS first_landing_page,
                arg_max(entry_url, k) AS last_landing_page,
                arg_min(referrer, k) FILTER (WHERE referrer <> '') AS first_referrer,
                arg_max(referrer, k) FILTER (WHERE referrer <> '') AS last_referrer
            FROM fb_in_visits GROUP BY u ORDER BY u
            """,
        )
        assert found.num_rows == users  # every user has a session
        return {name: _col(found, name) for name in found.column_names}


def _add_counters(cur: duckdb.DuckDBPyConnection, batch: EventBatch, events: int) -> None:
    """The writer's counter increments for these events (`BatchWriter._ingest`)."""
    counters: Counter[str] = Counter()
    counters.update({f"ignored.{w}": c for w, c in batch.warnings.items()})
    counters["duplicates"] += batch.duplicates
    counters["events"] += events
    counters["hits"] += events + batch.duplicates
    counters = Counter({k: v for k, v in counters.items() if v})
    if not counters:
        return
    incoming = pa.table(
        {"name": list(counters), "value": pa.array(list(counters.values()), pa.int64())}
    )
    cur.register("fb_in_counters", incoming)
    try:
        _sql(
            cur,
            "INSERT INTO counters SELECT name, value FROM fb_in_counters "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
        )
    finally:
        cur.unregister("fb_in_counters")
