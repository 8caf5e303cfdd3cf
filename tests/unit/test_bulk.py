"""The bulk path's pieces: the per-distinct split of the attribution signals
(collector.bulk_rules), its guards, and the columns `simulate` builds for it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector import bulk_rules, enrich, folding
from collector.model import EventRecord
from collector.simulate import build_batch, build_records
from collector.simulate_model import SimConfig, SimHit, Traffic, generate
from collector.storage import bulk
from collector.storage.db import Store

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
EDGE = CHROME + " Edg/131.0.0.0"


# ---------------------------------------------------------------------- signals
SIGNAL_CASES = [
    ({}, "", "", "", ""),
    ({"ti": "Home"}, "https://a.example/", "", "", CHROME),
    ({"ti": ""}, "https://a.example/", "https://www.google.com/", "1.2.3.4", EDGE),
    ({"utm_medium": "CPC "}, "", "", "", ""),
    ({"utm_source": "linkedin"}, "", "", "", ""),
    ({"utm_source": "duckduckgo."}, "", "", "", ""),
    ({"utm_campaign": "c"}, "", "https://a.example/", "", ""),
    ({"fbclid": "x"}, "", "https://facebook.com/", "", ""),
    ({"gclid": ""}, "", "https://mail.google.com/x", "", ""),
    ({"browser": "Lynx"}, "", "", "", CHROME),
    ({"browser": "", "browserVersion": "7"}, "", "", "", CHROME),
    ({"browserVersion": "7"}, "", "", "", ""),
    ({"platform": "Plan 9"}, "", "", "", "curl/8.1"),
    ({"sw": "1920", "sh": ""}, "https://a.example/x", "https://a.example/y", "", ""),
    ({"utm_source": "newsletter", "utm_medium": "", "msclkid": "m"}, "", "not a url", "", ""),
]


@pytest.mark.parametrize(("props", "lc", "ref", "ip", "ua"), SIGNAL_CASES)
def test_signal_parts_rebuild_event_signals(
    props: dict[str, str], lc: str, ref: str, ip: str, ua: str
) -> None:
    want = folding.event_signals(props, lc, ref, ip, ua)
    got = bulk_rules.signals_from_parts(props, lc, ref, ip, ua)
    assert list(got.items()) == list(want.items())  # same keys, values and key order


TEXT = st.sampled_from(
    ["", "x", "Email", " cpc", "social", "google", "newsletter", "t.co", "linkedin", "seo"]
)
URLS = st.sampled_from(
    ["", "https://a.example/", "https://www.a.example/z", "https://www.google.de/",
     "https://lnkd.in/q", "https://outlook.office.com/", "mailto:x", "http://[::1"]
)  # fmt: skip
AGENTS = st.sampled_from(
    ["", CHROME, EDGE, "curl/8.1", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko Firefox/133.0"]
)
NAMES = st.sampled_from(
    ["ti", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
     *enrich.CLICK_IDS, "sw", "sh", "browser", "browserVersion", "platform", "plan"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(NAMES, TEXT, max_size=8), URLS, URLS, st.sampled_from(["", "1.2.3.4"]), AGENTS
)
def test_signal_parts_rebuild_event_signals_generated(
    props: dict[str, str], lc: str, ref: str, ip: str, ua: str
) -> None:
    want = folding.event_signals(props, lc, ref, ip, ua)
    assert list(bulk_rules.signals_from_parts(props, lc, ref, ip, ua).items()) == list(want.items())


def test_signal_order_is_event_signals_order() -> None:
    props = {name: "v" for name in bulk_rules.PROP_SIGNALS}
    props |= {"browser": "b", "browserVersion": "1", "platform": "p"}
    every = folding.event_signals(props, "https://a.example/", "https://b.example/", "1", "ua")
    assert tuple(every) == bulk_rules.SIGNAL_ORDER


# ---------------------------------------------------------------------- guards
def _record(seq: int, site: str = "s", ts: int = 1_700_000_000_000) -> EventRecord:
    return EventRecord(
        seq=seq,
        site=site,
        event_id=f"{ts}.{seq}",
        user_id="1700000000000.123456789",
        session_id=None,
        ts=ts,
        received_ms=ts,
        title="T",
        props={"ti": "T"},
    )


def _counts(path: Path) -> tuple[int, ...]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = ("events", "sessions", "users", "user_emails", "counters")
        return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables)
    finally:
        con.close()


def test_refuses_a_site_with_data_and_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    store = Store(str(path))
    cur = store.cursor()
    bulk.ingest(cur, bulk.EventBatch.from_records([_record(1)]), 1_800_000)
    assert bulk.site_has_data(cur, "s") and not bulk.site_has_data(cur, "t")
    with pytest.raises(bulk.SiteNotFresh):
        bulk.ingest(cur, bulk.EventBatch.from_records([_record(2, "t"), _record(3)]), 1_800_000)
    cur.close()
    store.close()
    assert _counts(path) == (1, 1, 1, 0, 2)  # counters: events and hits


def test_refuses_seq_that_does_not_increase(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "x.duckdb"))
    cur = store.cursor()
    with pytest.raises(ValueError, match="seq"):
        bulk.ingest(cur, bulk.EventBatch.from_records([_record(2), _record(2)]), 1_800_000)
    cur.close()
    store.close()


def test_empty_batch_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    store = Store(str(path))
    cur = store.cursor()
    stats = bulk.ingest(cur, bulk.EventBatch(), 1_800_000)
    cur.close()
    store.close()
    assert stats.events == 0 and _counts(path) == (0, 0, 0, 0, 0)


def test_progress_reaches_one(tmp_path: Path) -> None:
    seen: list[float] = []
    store = Store(str(tmp_path / "x.duckdb"))
    cur = store.cursor()
    batch = bulk.EventBatch.from_records([_record(1), _record(2, ts=1_700_000_000_500)])
    stats = bulk.ingest(cur, batch, 1_800_000, progress=seen.append)
    cur.close()
    store.close()
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert (stats.events, stats.sessions, stats.users) == (2, 1, 1)


# ---------------------------------------------------------------------- simulate's columns
@pytest.mark.parametrize(
    "config", [SimConfig(300, 14, 7), SimConfig(120, 5, 2, "other", timeout_ms=60_000)]
)
def test_build_batch_equals_the_records(config: SimConfig) -> None:
    traffic = generate(config)
    want = bulk.EventBatch.from_records(build_records(traffic, 11, True))
    assert build_batch(traffic, 11) == want


def test_build_batch_equals_the_records_for_odd_hits() -> None:
    """A control parameter among the params (never stored as a property), an e-mail to
    trim and lower-case, one claimed twice, and a user without a known agent."""
    hits = [
        SimHit("s", "1.1", 10, "A", (("ti", "A"), ("uid", "9.9"), ("email", " Ada@X.example "))),
        SimHit("s", "1.2", 11, "Email open", (("email", "ada@x.example"),), "/log"),
        SimHit("s", "1.2", 12, "B", (("ti", "B"), ("lc", "https://a/"), ("ref", "https://b/"))),
        SimHit("s", "1.3", 13, "C", (("ti", "C"), ("email", "  "))),
    ]
    traffic = Traffic(SimConfig(3, 1, seed=123456), hits, [], {"1.1": "ua-1"})
    want = bulk.EventBatch.from_records(build_records(traffic, 1, False))
    assert build_batch(traffic, 1) == want
    assert want.claimed_email == ["ada@x.example", "", "", ""]
