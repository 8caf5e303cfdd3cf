"""The traffic model is deterministic and has the features it promises."""

from __future__ import annotations

from collections import defaultdict

from collector.hits import RESERVED_CONTROL, parse_hit
from collector.identity import is_valid_id
from collector.model import Hit, Limits, RawRequest
from collector.sessions import sessionize
from collector.simulate import hit_props, parse_start
from collector.simulate_model import DEFAULT_START_MS, SimConfig, SimHit, generate

TIMEOUT = 30 * 60_000
CONFIG = SimConfig(users=300, days=14, seed=7)


def _key(h: SimHit) -> tuple[object, ...]:
    return (h.site, h.uid, h.t_ms, h.title, h.params, h.path)


def test_same_seed_same_hits_and_other_seed_differs() -> None:
    a, b = generate(CONFIG), generate(CONFIG)
    assert [_key(h) for h in a.hits] == [_key(h) for h in b.hits]
    c = generate(SimConfig(users=300, days=14, seed=8))
    assert [_key(h) for h in c.hits] != [_key(h) for h in a.hits]


def test_default_start_and_parse_start() -> None:
    assert parse_start("2026-11-01T00:00Z") == DEFAULT_START_MS
    assert parse_start(str(DEFAULT_START_MS)) == DEFAULT_START_MS


def test_hits_are_sorted_in_range_and_ids_valid() -> None:
    t = generate(CONFIG)
    times = [h.t_ms for h in t.hits]
    assert times == sorted(times)
    assert CONFIG.start_ms <= times[0] and times[-1] < CONFIG.start_ms + 14 * 86_400_000
    for v in t.visitors:
        assert is_valid_id(v.uid) and len(v.uid.split(".")[1]) == 9
        assert int(v.uid.split(".")[0]) == v.hits[0].t_ms or v.hits[0].path == "/log"
        own = [h.t_ms for h in v.hits]
        assert len(set(own)) == len(own)  # folding ties cannot occur


def test_promised_features() -> None:
    t = generate(CONFIG)
    by_user: dict[str, list[int]] = defaultdict(list)
    for h in t.hits:
        by_user[h.uid].append(h.t_ms)
    sessions = {u: sessionize(ts, TIMEOUT) for u, ts in by_user.items()}
    assert sum(1 for s in sessions.values() if len(s) > 1) > 30  # returning visitors
    gaps = [b - a for ts in by_user.values() for a, b in zip(ts, ts[1:], strict=False)]
    assert any(TIMEOUT - 5 * 60_000 <= g < TIMEOUT for g in gaps)  # just under
    assert any(g == TIMEOUT for g in gaps)  # exactly at: same session
    assert any(TIMEOUT < g <= TIMEOUT + 15 * 60_000 for g in gaps)  # just over
    assert any(g > 86_400_000 for g in gaps)  # days later
    assert sum(1 for v in t.visitors if v.identified_at is not None) > 20
    assert any(v.email.endswith("@acme.example") for v in t.visitors)
    opens = [h for h in t.hits if h.path == "/log"]
    assert len(opens) > 10 and all(h.param("campaign") and h.param("email") for h in opens)
    mediums = {h.param("utm_medium") for h in t.hits}
    assert {"email", "cpc", "social"} <= mediums
    assert any(h.param("gclid") for h in t.hits)
    refs = {h.param("ref") for h in t.hits}
    assert "https://www.google.com/" in refs and "https://www.linkedin.com/" in refs
    titles = {h.title for h in t.hits}
    assert {"Download whitepaper", "Signup", "Email open"} <= titles
    assert any(h.param("asset") for h in t.hits) and any(h.param("plan") for h in t.hits)
    hours = [(h.t_ms // 3_600_000) % 24 for h in t.hits]
    assert sum(1 for x in hours if 8 <= x < 18) > len(hours) / 2  # working hours


def test_db_props_equal_what_the_parser_stores() -> None:
    from urllib.parse import urlencode

    t = generate(SimConfig(users=60, days=5, seed=3))
    for h in t.hits:
        raw = RawRequest("GET", h.path, urlencode(h.query_pairs()).encode(), b"", {}, "")
        hit = parse_hit(raw, h.t_ms, Limits())
        assert isinstance(hit, Hit), hit
        assert hit.props == hit_props(h, RESERVED_CONTROL)
        assert (hit.uid, hit.t_ms, hit.site, hit.title) == (h.uid, h.t_ms, h.site, h.title)
