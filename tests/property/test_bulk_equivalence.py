"""The bulk path (collector.storage.bulk) stores exactly what BatchWriter.process stores:
the same records go through the writer into one fresh DuckDB file and through the bulk
path into another, and every table of the two files must be equal, row by row and byte
by byte (JSON columns are compared as text). Nothing is ignored except the physical row
order of a table (see tests/_bulk_support.tables)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.model import EventRecord
from collector.simulate import build_records
from collector.simulate_model import SimConfig, generate
from tests._bulk_support import differences, tables, via_bulk, via_writer

MINUTE = 60_000
TIMEOUT = 30 * MINUTE
T0 = 1_700_000_000_000
U1, U2, U3 = "1700000000000.111111111", "1700000000500.222222222", "1700000000900.333333333"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def assert_same(tmp: Path, records: list[EventRecord], timeout: int, batch: int = 0) -> None:
    writer_db, bulk_db = tmp / "writer.duckdb", tmp / "bulk.duckdb"
    via_writer(writer_db, records, timeout, batch)
    via_bulk(bulk_db, records, timeout)
    found = differences(tables(writer_db), tables(bulk_db))
    assert not found, "\n".join(found)


# ---------------------------------------------------------------------- simulated traffic
SIMULATED = [
    SimConfig(users=120, days=5, seed=1),
    SimConfig(users=200, days=10, seed=7),
    SimConfig(users=150, days=14, seed=3, timeout_ms=5 * MINUTE),
    SimConfig(users=80, days=3, seed=42, site="other", start_ms=T0, timeout_ms=90_000),
]


@pytest.mark.parametrize("config", SIMULATED, ids=lambda c: f"seed{c.seed}-{c.users}u")
def test_simulated_traffic_equals_one_writer_batch(tmp_path: Path, config: SimConfig) -> None:
    assert_same(tmp_path, build_records(generate(config), 1, True), config.timeout_ms)


@pytest.mark.parametrize("config", SIMULATED[:2], ids=lambda c: f"seed{c.seed}-{c.users}u")
def test_simulated_traffic_equals_writer_batches(tmp_path: Path, config: SimConfig) -> None:
    """`simulate --via-writer` commits in batches; generated traffic arrives in time order
    and claims each address once, so batching changes nothing the writer stores."""
    records = build_records(generate(config), 1, True)
    assert_same(tmp_path, records, config.timeout_ms, batch=97)


# ---------------------------------------------------------------------- written cases
def rec(
    n: int,
    user: str,
    ts: int,
    props: dict[str, str] | None = None,
    *,
    site: str = "s",
    sid: str | None = None,
    lc: str = "",
    ref: str = "",
    ip: str = "",
    ua: str = "",
    increment: bool = True,
    claim: str = "",
    eid: str | None = None,
    warnings: tuple[str, ...] = (),
) -> EventRecord:
    """Record number n (its seq) of a case; props default to a title."""
    props = {"ti": f"Page {n}"} if props is None else props
    return EventRecord(
        seq=100 + n,
        site=site,
        event_id=eid or f"{ts}.{100_000_000 + n}",
        user_id=user,
        session_id=sid,
        ts=ts,
        received_ms=ts + 5,
        title=props.get("ti", "NO TITLE"),
        props=props,
        lc=lc,
        ref=ref,
        ip=ip,
        user_agent=ua,
        increment=increment,
        claimed_email=claim,
        client_eid=eid is not None,
        warnings=list(warnings),
    )


def late_events() -> list[EventRecord]:
    # Arrival order is not time order: a late event bridges two sessions, one moves a
    # session's start (and id), one ties an earlier event's time.
    m = MINUTE
    return [
        rec(1, U1, T0 + 60 * m, lc="https://a.example/x"),
        rec(2, U1, T0 + 140 * m, lc="https://a.example/y"),
        rec(3, U1, T0 + 100 * m, {"ti": "late", "plan": "pro"}),  # joins 1 and 2
        rec(4, U1, T0 + 20 * m, {"ti": "earlier", "plan": "free"}),  # moves the start
        rec(5, U1, T0 + 60 * m, {"ti": "tie", "plan": "team"}),  # same ts as 1, later seq
        rec(6, U2, T0 + 500 * m),
        rec(7, U2, T0 + 500 * m - 31 * m),
    ]


def timeout_edges() -> list[EventRecord]:
    # Gaps of exactly the timeout (same session), one ms over (new session), under.
    t = T0
    return [
        rec(1, U1, t),
        rec(2, U1, t + TIMEOUT),
        rec(3, U1, t + 2 * TIMEOUT + 1),
        rec(4, U1, t + 2 * TIMEOUT + 1 + TIMEOUT - 1),
        rec(5, U2, t + 7),
        rec(6, U2, t + 7 + TIMEOUT + 1),
    ]


def explicit_sessions() -> list[EventRecord]:
    # Named sessions: their own, and one that coincides with the inactivity rule's id.
    return [
        rec(1, U1, T0, lc="https://a.example/"),
        rec(2, U1, T0 + MINUTE, sid=f"{T0}.111111111", lc="https://a.example/named"),
        rec(3, U1, T0 + 2 * MINUTE, sid="1699999999999.5", ref="https://www.bing.com/"),
        rec(4, U1, T0 + 3 * MINUTE, sid="1699999999999.5", increment=False),
        rec(5, U1, T0 + 4 * MINUTE),
        rec(6, U2, T0 + 5 * MINUTE, sid="1699999999999.5"),  # same id, other user
    ]


def attribution() -> list[EventRecord]:
    # Channels from utm values, click ids, referrers; browser and platform from the user
    # agent or from properties; ip; first/last of each.
    g = "https://www.google.com/search?q=x"
    return [
        rec(1, U1, T0, {"ti": "A", "utm_source": "news", "utm_medium": "email"}, ua=CHROME),
        rec(2, U1, T0 + MINUTE, {"ti": "B", "gclid": "abc"}, ref=g, ua=CHROME, ip="10.0.0.1"),
        rec(
            3, U1, T0 + 2 * MINUTE, {"ti": "C"}, ref="https://a.example/x", lc="https://a.example/y"
        ),
        rec(4, U1, T0 + 3 * MINUTE, {"ti": "D", "utm_source": "linkedin"}, ua=IPHONE),
        rec(5, U1, T0 + 4 * MINUTE, {"ti": "E", "utm_campaign": "c1"}, ip="10.0.0.2"),
        rec(6, U2, T0, {"ti": "F", "browser": "Lynx", "browserVersion": "2.9"}, ua=CHROME),
        rec(7, U2, T0 + MINUTE, {"ti": "G", "platform": "Plan 9"}, ua=IPHONE),
        rec(
            8, U2, T0 + 2 * MINUTE, {"ti": "H", "browser": "", "browserVersion": "7"}, ua="curl/8.1"
        ),
        rec(9, U2, T0 + 3 * MINUTE, {"ti": "", "utm_medium": "CPC "}, ref="https://t.co/x"),
        rec(
            10, U3, T0, {"ti": "I", "utm_source": "", "msclkid": ""}, ref="https://mail.google.com/"
        ),
        rec(11, U3, T0 + 2 * TIMEOUT, {"ti": "J"}, ref="not a url", lc="https://b.example/"),
    ]


def odd_properties() -> list[EventRecord]:
    # Strings JSON must escape, property names that are also signal names, no properties.
    return [
        rec(1, U1, T0, {"ti": 'quote " back \\ slash / tab \t nl \n', "x": "\x00\x0b\x1f\x7f"}),
        rec(2, U1, T0 + 1, {"url": "prop url", "title": "prop title", "channel": "prop"}),
        rec(3, U1, T0 + 2, {}),
        rec(4, U1, T0 + 3, {"é": "ü\u2028\u2029😀", "": "empty name", "ti": "日本語"}),
        rec(5, U2, T0, {}, lc="", ua=""),
        rec(6, U2, T0 + 9, {"ti": "x" * 300, "n": ""}, lc='https://a.example/\u00e9?q="1"'),
    ]


def identification() -> list[EventRecord]:
    # Email claims: one per address, a second user claiming a taken address (the last
    # claim of the batch wins, as the writer's dict keeps it), emails folded as sent.
    return [
        rec(1, U1, T0, {"ti": "a", "email": "Ada@Example.com "}, claim="ada@example.com"),
        rec(2, U1, T0 + MINUTE, {"ti": "b", "email": "ada@example.com"}),
        rec(
            3, U2, T0 + 2 * MINUTE, {"ti": "c", "email": "ADA@example.com"}, claim="ada@example.com"
        ),
        rec(4, U3, T0, {"ti": "d", "email": ""}),
        rec(5, U3, T0 + 1, {"ti": "e", "email": "grace@example.com"}, claim="grace@example.com"),
        rec(
            6,
            U3,
            T0 + 2,
            {"ti": "f", "email": "other@example.com"},
            site="t",
            claim="other@example.com",
        ),
    ]


def sites_ids_duplicates() -> list[EventRecord]:
    # Two sites with the same user id, a user id without a dot, client event ids sent
    # twice (stored once, counted), ignored-parameter warnings (counted).
    return [
        rec(1, U1, T0, site="s"),
        rec(2, U1, T0 + 1, site="t"),
        rec(3, "42", T0 + 2, site="s"),
        rec(4, "42", T0 + 2 + TIMEOUT + 5, site="s"),
        rec(5, U2, T0 + 3, eid="e-1", warnings=("invalid_uid",)),
        rec(6, U2, T0 + 4, eid="e-1"),
        rec(7, U2, T0 + 5, eid="e-1", site="t"),
        rec(8, U2, T0 + 6, eid="e-2", warnings=("invalid_sid", "invalid_uid")),
        rec(9, U2, T0 + 7, increment=False),
    ]


CASES: dict[str, Callable[[], list[EventRecord]]] = {
    "late events": late_events,
    "timeout edges": timeout_edges,
    "explicit sessions": explicit_sessions,
    "attribution": attribution,
    "odd properties": odd_properties,
    "identification": identification,
    "sites, ids, duplicates": sites_ids_duplicates,
}


@pytest.mark.parametrize("case", CASES)
def test_written_case(tmp_path: Path, case: str) -> None:
    assert_same(tmp_path, CASES[case](), TIMEOUT)


def test_all_written_cases_at_once(tmp_path: Path) -> None:
    records: list[EventRecord] = []
    for k, make in enumerate(CASES.values()):
        for r in make():
            r.seq = len(records) + 1
            r.site = f"{r.site}{k}"
            records.append(r)
    assert_same(tmp_path, records, TIMEOUT)


# ---------------------------------------------------------------------- generated traffic
USERS = [U1, U2, U3, "7"]
NAMES = ["ti", "plan", "email", "utm_source", "utm_medium", "utm_campaign", "gclid",
         "browser", "browserVersion", "platform", "sw", "url", 'q"\\', "é"]  # fmt: skip
VALUES = ["", "free", "pro", "Ada@Example.com", "email", "cpc", "social", "google",
          "Chrome", "1.0", "Linux", "x\x0b\"\\/y", "日本"]  # fmt: skip
LCS = ["", "https://a.example/1", "https://a.example/2"]
REFS = ["", "https://www.google.com/", "https://a.example/1", "https://www.linkedin.com/", "nope"]
AGENTS = ["", CHROME, IPHONE, "curl/8.1"]


@st.composite
def traffic(draw: st.DrawFn) -> tuple[list[EventRecord], int]:
    timeout = draw(st.sampled_from([TIMEOUT, 90_000]))
    n = draw(st.integers(1, 24))
    records = []
    for i in range(n):
        user = draw(st.sampled_from(USERS))
        # times on a grid of a quarter timeout: gaps fall under, at and over the timeout,
        # and ties happen; arrival order is the list order, so most come late
        ts = T0 + draw(st.integers(0, 24)) * timeout // 4 + draw(st.sampled_from([0, 0, 1]))
        props = draw(st.dictionaries(st.sampled_from(NAMES), st.sampled_from(VALUES), max_size=5))
        sid = None
        if draw(st.integers(0, 7)) == 0:
            sid = draw(st.sampled_from([f"{T0}.{user.partition('.')[2]}", f"{T0 + 9}.1"]))
        email = props.get("email", "").strip().lower()
        claim = email if email and draw(st.booleans()) else ""
        eid = draw(st.sampled_from([None, None, None, "dup"]))
        records.append(
            rec(
                i,
                user,
                ts,
                props,
                site=draw(st.sampled_from(["s", "s", "t"])),
                sid=sid,
                lc=draw(st.sampled_from(LCS)),
                ref=draw(st.sampled_from(REFS)),
                ip=draw(st.sampled_from(["", "10.0.0.1"])),
                ua=draw(st.sampled_from(AGENTS)),
                increment=draw(st.booleans()),
                claim=claim,
                eid=eid,
            )
        )
    return records, timeout


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(traffic())
def test_generated_traffic(case: tuple[list[EventRecord], int]) -> None:
    records, timeout = case
    with tempfile.TemporaryDirectory() as tmp:
        assert_same(Path(tmp), records, timeout)
