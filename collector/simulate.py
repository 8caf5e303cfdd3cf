"""`fakeboxer simulate`: generate realistic traffic (collector.simulate_model) and send it
to a running server over HTTP (`--target URL`) or write it straight into a DB file
(`--db PATH`, the writer's own rules, no HTTP). `--verify` then compares what was stored
with the ground truth the generator knows, and exits 1 on any difference.

    python -m collector.simulate --users 1000 --days 14 --db /tmp/sim.duckdb --verify
    python -m collector.simulate --users 50 --days 3 --target http://127.0.0.1:8080 --verify
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import operator
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlencode

from collector.model import EventRecord
from collector.settings import SettingError, parse_duration_ms
from collector.simulate_model import (
    FOLDED_CHECKS,
    SimConfig,
    SimHit,
    Traffic,
    expected_props,
    generate,
    generate_chunks,
)

if TYPE_CHECKING:
    from collector.storage.bulk import EventBatch

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_SETTING = 2
MAX_503_RETRIES = 5
SHOW_DIFFERENCES = 10
# Visitors per part when `--db` writes a large simulation in parts: ~730k events and
# ~4 GB of simulate's memory per part (the model's hits are Python objects).
PART_VISITORS = 100_000


# ---------------------------------------------------------------------- command line
def add_parser(subparsers: Any) -> None:
    """Add the `simulate` subcommand to the `fakeboxer` parser."""
    parser = subparsers.add_parser(
        "simulate",
        help="generate realistic visitor traffic into a server or a DB file",
        description="Generate deterministic B2B visitor traffic and send it to a running "
        "server (--target) or write it into a DB file (--db).",
    )
    _add_arguments(parser)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, required=True, help="visitors to simulate")
    parser.add_argument("--days", type=int, required=True, help="days of traffic")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--target", metavar="URL", help="send hits to this running server")
    where.add_argument("--db", metavar="PATH", help="write into this DB file (no server)")
    parser.add_argument("--seed", type=int, default=1, help="random seed [default 1]")
    parser.add_argument("--site", default="demo", help="dataset id [default demo]")
    parser.add_argument(
        "--start",
        default="2026-11-01T00:00Z",
        help="first day, ISO 8601 UTC or epoch ms [default 2026-11-01T00:00Z]",
    )
    parser.add_argument(
        "--rate", type=float, default=0.0, help="hits/s over HTTP (0 = full speed) [default 0]"
    )
    parser.add_argument(
        "--timeout",
        default="30m",
        help="session timeout the model and --verify use; must match the server's [30m]",
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="HTTP sender threads [default 4]"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=50_000,
        help="records per --db commit on the writer path [default 50000]",
    )
    parser.add_argument(
        "--via-writer",
        action="store_true",
        help="--db through the writer's per-batch path even into a fresh dataset "
        "(default: one bulk transaction when the dataset has no data yet)",
    )
    parser.add_argument(
        "--part-visitors",
        type=int,
        default=PART_VISITORS,
        help="a fresh --db dataset with more visitors is generated and written in bulk "
        f"transactions of this many visitors, to bound memory [default {PART_VISITORS}]",
    )
    parser.add_argument("--verify", action="store_true", help="check what was stored; exit 1")
    parser.add_argument(
        "--progress", action="store_true", help="show the progress bar even without a TTY"
    )


def parse_start(text: str) -> int:
    """Epoch ms from digits or an ISO 8601 time (UTC unless it names an offset)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        raise SettingError(f"--start must be ISO 8601 or epoch ms, got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


# ---------------------------------------------------------------------- progress
class Progress:
    """A one-line bar on stderr, redrawn with \\r at most 10 times a second."""

    def __init__(self, total: int, label: str, enabled: bool, out: TextIO = sys.stderr) -> None:
        self.total = max(total, 1)
        self.label = label
        self.enabled = enabled
        self.out = out
        self.done = 0
        self.started = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            if not self.enabled:
                return
            now = time.monotonic()
            if now - self._last < 0.1 and self.done < self.total:
                return
            self._last = now
            self._draw(now)

    def to(self, done: int) -> None:
        """Set the count done (for work that reports fractions)."""
        self.advance(max(done - self.done, 0))

    def _draw(self, now: float) -> None:
        frac = min(self.done / self.total, 1.0)
        width = 30
        filled = int(frac * width)
        rate = self.done / max(now - self.started, 1e-9)
        self.out.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done:,}/{self.total:,} {frac * 100:5.1f}% {rate:,.0f}/s"
        )
        self.out.flush()

    def finish(self) -> None:
        if self.enabled:
            if self._last == 0.0 or self.done < self.total:
                self._draw(time.monotonic())
            self.out.write("\n")
            self.out.flush()


# ---------------------------------------------------------------------- ground truth
@dataclass(slots=True)
class Truth:
    events_by_site: Counter[str]
    events_by_user: dict[str, int]
    sessions_by_user: dict[str, int]
    props_by_user: dict[str, dict[str, str]]
    emails: dict[str, str]  # uid -> lower-cased e-mail, identified users only

    @property
    def sessions(self) -> int:
        return sum(self.sessions_by_user.values())


def ground_truth(traffic: Traffic, with_props: bool = True) -> Truth:
    """What the stored data must show. `with_props`: also the folded properties each user
    must end with (only --verify reads them)."""
    by_user: dict[str, list[SimHit]] = defaultdict(list)
    for h in traffic.hits:
        by_user[h.uid].append(h)
    timeout = traffic.config.timeout_ms
    return Truth(
        Counter(map(operator.attrgetter("site"), traffic.hits)),
        {u: len(hs) for u, hs in by_user.items()},
        {u: _session_count([h.t_ms for h in hs], timeout) for u, hs in by_user.items()},
        {u: expected_props(hs) for u, hs in by_user.items()} if with_props else {},
        {v.uid: v.email.lower() for v in traffic.visitors if v.identified_at is not None},
    )


def _session_count(times: list[int], timeout_ms: int) -> int:
    """len(sessions.sessionize(times, timeout_ms)): 1 + the gaps over the timeout."""
    times = sorted(times)
    gaps = map(operator.sub, times[1:], times)
    return (1 if times else 0) + sum(map(timeout_ms.__lt__, gaps))


# ---------------------------------------------------------------------- outputs
@dataclass(slots=True)
class SendResult:
    sent: int = 0
    ok: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # status or error -> count
    retries: int = 0
    seconds: float = 0.0


def send_http(
    traffic: Traffic, target: str, rate: float, concurrency: int, progress: Progress
) -> SendResult:
    """Send every hit (in time order, a few in flight) with GET; count non-2xx answers and
    200s that carry X-Fakeboxer-Error (the faithful answer to a bad hit)."""
    import httpx

    result = SendResult()
    lock = threading.Lock()
    hits = traffic.hits
    next_index = 0
    started = time.monotonic()
    # No cookies: every hit names its user with uid, and a shared jar would hand one
    # visitor's _ots to the next and pin its events to a foreign session.
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = httpx.Client(
        base_url=target.rstrip("/"), timeout=30.0, cookies=no_cookies, limits=limits
    )

    def take() -> int | None:
        nonlocal next_index
        with lock:
            if next_index >= len(hits):
                return None
            i = next_index
            next_index += 1
        if rate > 0:
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return i

    def worker() -> None:
        while (i := take()) is not None:
            h = hits[i]
            url = h.path + "?" + urlencode(h.query_pairs())
            headers = {"user-agent": traffic.user_agents.get(h.uid, "fakeboxer-simulate")}
            outcome = ""
            retries = 0
            for attempt in range(MAX_503_RETRIES + 1):
                try:
                    r = client.get(url, headers=headers)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                    break
                if r.status_code == 503 and attempt < MAX_503_RETRIES:
                    retries += 1
                    time.sleep(_retry_after(r.headers.get("retry-after")))
                    continue
                if not 200 <= r.status_code < 300:
                    outcome = str(r.status_code)
                elif "x-fakeboxer-error" in r.headers:
                    outcome = f"{r.status_code} {r.headers['x-fakeboxer-error']}"
                break
            with lock:
                result.sent += 1
                result.retries += retries
                if outcome:
                    result.failed[outcome] += 1
                else:
                    result.ok += 1
            progress.advance()

    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            futures = [pool.submit(worker) for _ in range(max(1, concurrency))]
            for f in futures:
                f.result()
    finally:
        client.close()
    result.seconds = time.monotonic() - started
    return result


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.05), 10.0)
    except ValueError:
        return 1.0


def hit_props(h: SimHit, reserved: frozenset[str]) -> dict[str, str]:
    """The properties the collector stores for a generated hit: every non-control
    parameter, and `ti` (the default title when none was sent). The model only makes
    clean hits, so this equals what `collector.hits.parse_hit` gives (tests check it)."""
    props = {name: value for name, value in h.params if name not in reserved}
    props["ti"] = h.title
    return props


def build_records(traffic: Traffic, first_seq: int, fresh: bool) -> list[EventRecord]:
    """The EventRecords the collector would make of these hits, in arrival (time) order:
    the same parser, `user_minted` on a visitor's first hit when the DB has nothing for
    the site, `claimed_email` on the first hit carrying the address."""
    from collector.hits import RESERVED_CONTROL

    records: list[EventRecord] = []
    seen_users: set[str] = set()
    claimed: set[tuple[str, str]] = set()
    counter = 100_000_000 + (traffic.config.seed * 7919) % 800_000_000
    for n, h in enumerate(traffic.hits):
        props = hit_props(h, RESERVED_CONTROL)
        email = props.get("email", "").strip().lower()
        claim = ""
        if email and (h.site, email) not in claimed:
            claimed.add((h.site, email))
            claim = email
        counter = counter + 1 if counter < 999_999_999 else 100_000_000
        records.append(
            EventRecord(
                seq=first_seq + n,
                site=h.site,
                event_id=f"{h.t_ms}.{counter}",
                user_id=h.uid,
                session_id=None,
                ts=h.t_ms,
                received_ms=h.t_ms,
                title=props["ti"],
                props=props,
                lc=props.get("lc", ""),
                ref=props.get("ref", ""),
                ip="",
                user_agent=traffic.user_agents.get(h.uid, ""),
                user_minted=fresh and h.uid not in seen_users,
                claimed_email=claim,
            )
        )
        seen_users.add(h.uid)
    return records


def build_batch(traffic: Traffic, first_seq: int, first_index: int = 0) -> EventBatch:
    """The columns of `build_records(traffic, first_seq, fresh)` as the bulk path takes
    them (`EventBatch.from_records` of those records), built straight from the hits: the
    same values without an EventRecord per hit (a test checks they are equal)."""
    from collector.hits import RESERVED_CONTROL
    from collector.storage.bulk import EventBatch

    hits = traffic.hits
    n = len(hits)
    reserved = RESERVED_CONTROL
    props: list[dict[str, str]] = []
    keep = props.append
    for h in hits:
        p = dict(h.params)
        if reserved.isdisjoint(p):
            p["ti"] = h.title
        else:
            p = hit_props(h, reserved)
        keep(p)
    sites = list(map(operator.attrgetter("site"), hits))
    users = list(map(operator.attrgetter("uid"), hits))
    times = list(map(operator.attrgetter("t_ms"), hits))
    claims = [""] * n
    claimed: set[tuple[str, str]] = set()
    for k, p in enumerate(props):
        email = p.get("email")
        if email:
            email = email.strip().lower()
            if email and (sites[k], email) not in claimed:
                claimed.add((sites[k], email))
                claims[k] = email
    # build_records' event id counter: 100_000_000..999_999_999, then round again.
    start = (traffic.config.seed * 7919) % 800_000_000
    # A later part of a simulation written in parts goes on counting (`first_index`: the
    # hits of the parts before it), so event ids stay distinct across parts.
    counters = [
        100_000_000 + (start + k) % 900_000_000 for k in range(first_index + 1, first_index + n + 1)
    ]
    agents = traffic.user_agents
    return EventBatch(
        site=sites,
        event_id=list(map("{}.{}".format, times, counters)),
        seq=list(range(first_seq, first_seq + n)),
        user_id=users,
        session_id=[None] * n,
        ts=times,
        received_ms=list(times),
        title=list(map(operator.attrgetter("title"), hits)),
        lc=[p.get("lc", "") for p in props],
        ref=[p.get("ref", "") for p in props],
        ip=[""] * n,
        user_agent=[agents.get(u, "") for u in users],
        increment=[True] * n,
        props=props,
        claimed_email=claims,
    )


def write_db(
    traffic: Traffic, path: str, batch: int, progress: Progress, via_writer: bool = False
) -> tuple[int, float, str]:
    """Ingest into a DB file; returns (rows, seconds, how). A dataset with no data yet is
    written in one bulk transaction (`collector.storage.bulk`, the writer's rules in SQL),
    one that has data (or with `via_writer`) through BatchWriter.process in batches."""
    from collector.storage import bulk, census
    from collector.storage.db import Store
    from collector.storage.writer import BatchWriter

    started = time.monotonic()
    store = Store(path)
    try:
        cur = store.cursor()
        first_seq = census.next_seq(cur)
        site = traffic.config.site
        has_data = bulk.site_has_data(cur, site)
        if not via_writer and not has_data:
            total = len(traffic.hits)
            bulk.ingest(
                cur,
                build_batch(traffic, first_seq),
                traffic.config.timeout_ms,
                progress=lambda done: progress.to(int(done * total)),
            )
            how = "in one bulk transaction (sessions and folds set-based)"
        else:
            fresh = not census.has_leads(cur, site)
            records = build_records(traffic, first_seq, fresh)
            writer = BatchWriter(store, None, traffic.config.timeout_ms, batch)
            for i in range(0, len(records), batch):
                chunk = records[i : i + batch]
                writer.process(cur, [(r, None) for r in chunk])
                if writer.stats.failures:
                    raise RuntimeError("the writer could not store a batch")
                progress.advance(len(chunk))
            why = "--via-writer" if via_writer else f"dataset {site} already had data"
            how = f"through the writer in batches of {batch:,} ({why})"
        cur.close()
    finally:
        store.close()
    return len(traffic.hits), time.monotonic() - started, how


@dataclass(slots=True)
class PartsResult:
    hits: int
    opens: int
    truth: Truth
    write_s: float
    generate_s: float


def write_db_in_parts(
    config: SimConfig, path: str, part_visitors: int, with_props: bool, progress: Progress
) -> PartsResult | None:
    """Generate and bulk-ingest the traffic `part_visitors` visitors at a time (whole
    visitors per part, so each part only adds users with nothing stored), keeping only
    the ground truth. None, with nothing written, when the dataset already has data."""
    from collector.storage import bulk, census
    from collector.storage.db import Store

    store = Store(path)
    try:
        cur = store.cursor()
        if bulk.site_has_data(cur, config.site):
            return None
        result = PartsResult(0, 0, Truth(Counter(), {}, {}, {}, {}), 0.0, 0.0)
        parts = generate_chunks(config, part_visitors)
        while True:
            started = time.monotonic()
            traffic = next(parts, None)
            if traffic is None:
                break
            part = ground_truth(traffic, with_props)
            result.generate_s += time.monotonic() - started
            started = time.monotonic()
            batch = build_batch(traffic, census.next_seq(cur), result.hits)
            bulk.ingest(cur, batch, config.timeout_ms, new_users=result.hits > 0)
            result.write_s += time.monotonic() - started
            result.hits += len(traffic.hits)
            result.opens += sum(1 for h in traffic.hits if h.path == "/log")
            merge_truth(result.truth, part)
            progress.advance(len(traffic.visitors))
            del traffic, batch, part
        cur.close()
        return result
    finally:
        store.close()


def merge_truth(into: Truth, part: Truth) -> None:
    """Add the truth of a part with other users (parts never share a user)."""
    into.events_by_site.update(part.events_by_site)
    into.events_by_user.update(part.events_by_user)
    into.sessions_by_user.update(part.sessions_by_user)
    into.props_by_user.update(part.props_by_user)
    into.emails.update(part.emails)


# ---------------------------------------------------------------------- verification
@dataclass(slots=True)
class Stored:
    events_by_site: dict[str, int]
    events_by_user: dict[str, int]
    sessions_by_user: dict[str, int]
    props_by_user: dict[str, dict[str, str]] | None  # None when not readable (HTTP)
    emails: dict[str, str] | None


def stored_from_db(path: str, site: str, users: Sequence[str]) -> Stored:
    import duckdb

    from collector.storage.census import census

    con = duckdb.connect(path, read_only=True)
    try:
        found = census(con, site)
    finally:
        con.close()
    sessions: dict[str, int] = {}
    for uid, (_, distinct, rows) in found.by_user.items():
        # The sessions table and the events' session ids must agree.
        sessions[uid] = distinct if rows == distinct else -rows
    return Stored(
        found.events_by_site,
        {u: n for u, (n, _, _) in found.by_user.items()},
        sessions,
        found.props_by_user,
        found.emails,
    )


def stored_from_http(target: str, site: str, users: Sequence[str], progress: Progress) -> Stored:
    import httpx

    with httpx.Client(base_url=target.rstrip("/"), timeout=60.0) as client:
        r = client.get("/_fakeboxer/events", params={"site": site, "limit": 1})
        r.raise_for_status()
        by_site = {site: int(r.json()["total"])}
        by_user: dict[str, int] = {}
        sessions: dict[str, int] = {}
        for uid in users:
            r = client.get("/_fakeboxer/events", params={"site": site, "user": uid, "limit": 1000})
            r.raise_for_status()
            body = r.json()
            by_user[uid] = int(body["total"])
            sessions[uid] = len({e["session_id"] for e in body["events"]})
            progress.advance()
    return Stored(by_site, by_user, sessions, None, None)


def compare(truth: Truth, stored: Stored, site: str) -> list[str]:
    diffs: list[str] = []
    want = truth.events_by_site.get(site, 0)
    got = stored.events_by_site.get(site, 0)
    if want != got:
        diffs.append(f"site {site}: {got} events stored, {want} generated")
    for uid, n in truth.events_by_user.items():
        if stored.events_by_user.get(uid, 0) != n:
            diffs.append(f"user {uid}: {stored.events_by_user.get(uid, 0)} events, expected {n}")
            continue
        if n > 1000 and stored.props_by_user is None:
            continue  # over HTTP only the newest 1000 events of a user are listed
        s = stored.sessions_by_user.get(uid, 0)
        if s != truth.sessions_by_user[uid]:
            extra = " (the sessions table disagrees with the events)" if s < 0 else ""
            diffs.append(
                f"user {uid}: {abs(s)} sessions{extra}, expected {truth.sessions_by_user[uid]}"
            )
    extra_users = set(stored.events_by_user) - set(truth.events_by_user)
    for uid in sorted(extra_users)[:SHOW_DIFFERENCES]:
        diffs.append(f"user {uid}: {stored.events_by_user[uid]} events stored, none generated")
    if stored.props_by_user is not None:
        for uid, want_props in truth.props_by_user.items():
            got_props = stored.props_by_user.get(uid, {})
            for name in FOLDED_CHECKS:
                if want_props.get(name) != got_props.get(name):
                    diffs.append(
                        f"user {uid}: folded {name}={got_props.get(name)!r}, "
                        f"expected {want_props.get(name)!r}"
                    )
    if stored.emails is not None:
        for uid, email in truth.emails.items():
            if stored.emails.get(uid) != email:
                diffs.append(f"user {uid}: email {stored.emails.get(uid)!r}, expected {email!r}")
        for uid in set(stored.emails) - set(truth.emails):
            diffs.append(f"user {uid}: email {stored.emails[uid]!r}, expected none")
    return diffs


# ---------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    # A run builds millions of small objects that form no reference cycles (hits, their
    # parameters, one dict per event); the cyclic collector would walk them again and
    # again for nothing (a third of the generation time), so it is off during the run.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if enabled:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    err = sys.stderr
    try:
        if args.users < 0 or args.days < 1:
            raise SettingError("--users must be >= 0 and --days >= 1")
        if args.rate < 0 or args.concurrency < 1 or args.batch < 1 or args.part_visitors < 1:
            raise SettingError(
                "--rate must be >= 0, --concurrency, --batch and --part-visitors >= 1"
            )
        timeout_ms = parse_duration_ms(args.timeout)
        start_ms = parse_start(args.start)
    except (SettingError, ValueError) as exc:
        print(f"fakeboxer simulate: {exc}", file=err)
        return EXIT_BAD_SETTING
    show = bool(args.progress) or err.isatty()
    config = SimConfig(args.users, args.days, args.seed, args.site, start_ms, timeout_ms)
    if args.db and not args.via_writer and args.users > args.part_visitors:
        from collector.storage.db import StoreOpenError

        progress = Progress(max(args.users, 1), "simulate", show)
        try:
            parts = write_db_in_parts(
                config, args.db, args.part_visitors, bool(args.verify), progress
            )
        except StoreOpenError as exc:
            progress.finish()
            print(f"fakeboxer simulate: {exc}", file=err)
            return EXIT_FAILED
        progress.finish()
        if parts is not None:
            how = (
                f"written into {args.db} in bulk transactions of {args.part_visitors:,} visitors "
                "(sessions and folds set-based)"
            )
            return _report(
                args, parts.hits, parts.opens, parts.truth, how, parts.write_s, parts.generate_s
            )
        # The dataset has data: everything at once through the writer, below.
    gen_started = time.monotonic()
    traffic = generate(config)
    truth = ground_truth(traffic, with_props=bool(args.verify))
    gen_s = time.monotonic() - gen_started
    if args.target and traffic.hits and traffic.hits[-1].t_ms > time.time() * 1000 + 86_400_000:
        print(
            "fakeboxer simulate: the traffic reaches more than 24 h into the future of this "
            "clock, and the server refuses such t_ms; use an earlier --start or fewer --days",
            file=err,
        )
        return EXIT_BAD_SETTING
    progress = Progress(len(traffic.hits), "simulate", show)
    failed = 0
    if args.target:
        try:
            sent = send_http(traffic, args.target, args.rate, args.concurrency, progress)
        except Exception as exc:  # noqa: BLE001 - one line for the user
            progress.finish()
            print(f"fakeboxer simulate: cannot send to {args.target}: {exc}", file=err)
            return EXIT_FAILED
        progress.finish()
        seconds = sent.seconds
        failed = sum(sent.failed.values())
        how = f"sent to {args.target} with {args.concurrency} threads"
        if sent.failed:
            shown = ", ".join(f"{k}: {v}" for k, v in sent.failed.most_common(5))
            how += f"; {failed} not stored ({shown})"
        if sent.retries:
            how += f"; {sent.retries} retries after 503"
    else:
        from collector.storage.db import StoreOpenError

        try:
            _, seconds, how = write_db(traffic, args.db, args.batch, progress, args.via_writer)
        except StoreOpenError as exc:
            progress.finish()
            print(f"fakeboxer simulate: {exc}", file=err)
            return EXIT_FAILED
        progress.finish()
        how = f"written into {args.db} {how}"
    hits = len(traffic.hits)
    opens = sum(1 for h in traffic.hits if h.path == "/log")
    verdict = _report(args, hits, opens, truth, how, seconds, gen_s)
    return EXIT_FAILED if failed else verdict


def _report(
    args: argparse.Namespace,
    hits: int,
    opens: int,
    truth: Truth,
    how: str,
    seconds: float,
    gen_s: float,
) -> int:
    """The summary line, then --verify's check; the exit code of the check."""
    err = sys.stderr
    show = bool(args.progress) or err.isatty()
    print(
        f"Simulated {args.users:,} visitors over {args.days} days from {args.start} "
        f"(seed {args.seed}, site {args.site}): {hits:,} hits ({opens:,} e-mail opens) from "
        f"{len(truth.events_by_user):,} users, {len(truth.emails):,} identified by e-mail, "
        f"{truth.sessions:,} sessions expected at a {args.timeout} timeout; {how}; "
        f"{hits / max(seconds, 1e-9):,.0f} events/s ({seconds:.2f} s; generation {gen_s:.2f} s, "
        f"{hits / max(seconds + gen_s, 1e-9):,.0f} events/s with it)."
    )
    if args.verify:
        users = sorted(truth.events_by_user)
        if args.target:
            vp = Progress(len(users), "verify", show)
            stored = stored_from_http(args.target, args.site, users, vp)
            vp.finish()
        else:
            stored = stored_from_db(args.db, args.site, users)
        diffs = compare(truth, stored, args.site)
        if diffs:
            print(f"verify: {len(diffs)} differences; the first ones:", file=err)
            for d in diffs[:SHOW_DIFFERENCES]:
                print(f"  {d}", file=err)
            return EXIT_FAILED
        checked = "events per site and user, sessions per user"
        if stored.props_by_user is not None:
            checked += ", folded " + "/".join(FOLDED_CHECKS) + ", e-mails"
        print(f"verify: ok ({checked} match the generated traffic)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fakeboxer simulate", description=__doc__)
    _add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
