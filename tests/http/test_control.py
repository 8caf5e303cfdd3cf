"""SPEC 7.1: the test-support endpoints under /_fakeboxer/ (health, stats, events, bad,
wait, reset, clock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.http._support import (
    MIN,
    T0,
    bad_hits,
    events,
    gif_hit,
    http,
    json_hit,
    new_site,
    running_server,
    shared_server,
    stats,
)

DAY = 24 * 3600 * 1000


@pytest.fixture(scope="module")
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    return shared_server(request, tmp_path_factory)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server for the tests that reset or count everything."""
    with running_server(tmp_path_factory, name="control-reset") as server:
        yield server


def get(server: Server, path: str, **params: Any) -> httpx.Response:
    return http(server).get(f"/_fakeboxer/{path}", params=params)


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


# ---------------------------------------------------------------------- health / stats
def test_health(srv: Server) -> None:
    r = get(srv, "health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["accepting_hits"] is True
    assert r.json()["queryable"] is True


def test_stats_fields_and_types(srv: Server) -> None:
    body = stats(srv)
    for name in ("hits", "events", "users", "sessions", "queue_depth", "merges", "duplicates"):
        assert isinstance(body[name], int), name
    assert isinstance(body["bad_hits"]["total"], int)
    assert isinstance(body["bad_hits"]["by_reason"], dict)
    assert isinstance(body["warnings"], dict)
    assert isinstance(body["ignored"], dict)
    writer = body["writer"]
    for name in ("batches", "last_flush_ms", "max_flush_ms", "mean_flush_ms"):
        assert isinstance(writer[name], int | float), name
    assert body["queue_depth"] == 0  # stats waits for the writer


def test_stats_count_what_was_sent(srv: Server) -> None:
    before = stats(srv)
    site = new_site("count")
    uid = "1650000000000.300000001"
    gif_hit(srv, si=site, uid=uid, t_ms=str(T0))
    gif_hit(srv, si=site, uid=uid, t_ms=str(T0 + 5 * MIN))
    gif_hit(srv, si=site, uid=uid, t_ms=str(T0 + 60 * MIN))  # a second session
    gif_hit(srv, si=site, uid="1650000000000.300000002", t_ms=str(T0))
    http(srv).get("/", params={"ti": "no dataset"})
    after = stats(srv)
    assert after["queue_depth"] == 0
    assert after["hits"] == before["hits"] + 5
    assert after["events"] == before["events"] + 4
    assert after["users"] == before["users"] + 2
    assert after["sessions"] == before["sessions"] + 3
    assert after["bad_hits"]["total"] == before["bad_hits"]["total"] + 1
    assert after["bad_hits"]["by_reason"]["missing_dataset"] == (
        before["bad_hits"]["by_reason"].get("missing_dataset", 0) + 1
    )
    assert after["writer"]["batches"] > before["writer"]["batches"]
    assert after["writer"]["max_flush_ms"] > 0


# ---------------------------------------------------------------------- events
@pytest.fixture(scope="module")
def listing(srv: Server) -> dict[str, Any]:
    """Events of two users, two titles, two sessions and a second dataset."""
    site, other = new_site("list"), new_site("list-other")
    u1, u2 = "1650000000000.400000001", "1650000000000.400000002"
    sent = [  # (minutes, user, title), sent out of time order
        (30, u1, "Page"),
        (0, u1, "Page"),
        (10, u1, "Click"),
        (120, u1, "Page"),
        (5, u2, "Page"),
    ]
    for minutes, uid, title in sent:
        gif_hit(srv, si=site, uid=uid, ti=title, t_ms=str(T0 + minutes * MIN), n=str(minutes))
    gif_hit(srv, si=other, uid=u1, ti="Page", t_ms=str(T0))
    return {"site": site, "other": other, "u1": u1, "u2": u2}


def minutes_of(found: list[dict[str, Any]]) -> list[int]:
    return [int(e["properties"]["n"]) for e in found]


def test_events_newest_first_by_event_time(srv: Server, listing: dict[str, Any]) -> None:
    r = get(srv, "events", site=listing["site"])
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 5
    assert minutes_of(body["events"]) == [120, 30, 10, 5, 0]
    stamps = [e["timestamp"] for e in body["events"]]
    assert stamps == sorted(stamps, reverse=True)


def test_events_filter_by_site(srv: Server, listing: dict[str, Any]) -> None:
    (event,) = events(srv, site=listing["other"])
    assert event["site"] == listing["other"]


def test_events_filter_by_title(srv: Server, listing: dict[str, Any]) -> None:
    assert minutes_of(events(srv, site=listing["site"], ti="Click")) == [10]
    assert minutes_of(events(srv, site=listing["site"], ti="Page")) == [120, 30, 5, 0]
    assert events(srv, site=listing["site"], ti="page") == []  # exact match


def test_events_filter_by_user(srv: Server, listing: dict[str, Any]) -> None:
    assert minutes_of(events(srv, site=listing["site"], user=listing["u2"])) == [5]
    both_sites = events(srv, user=listing["u1"])
    assert {e["site"] for e in both_sites} >= {listing["site"], listing["other"]}


def test_events_filter_by_session(srv: Server, listing: dict[str, Any]) -> None:
    random = listing["u1"].partition(".")[2]
    first = events(srv, site=listing["site"], session=f"{T0}.{random}")
    assert minutes_of(first) == [30, 10, 0]
    second = events(srv, site=listing["site"], session=f"{T0 + 120 * MIN}.{random}")
    assert minutes_of(second) == [120]


def test_events_limit_keeps_the_total(srv: Server, listing: dict[str, Any]) -> None:
    r = get(srv, "events", site=listing["site"], limit=2)
    body = r.json()
    assert minutes_of(body["events"]) == [120, 30]
    assert body["total"] == 5


def test_event_object_shape(srv: Server, listing: dict[str, Any]) -> None:
    (event,) = events(srv, site=listing["site"], ti="Click")
    for name in (
        "event_id",
        "session_id",
        "use_id",
        "site",
        "ti",
        "timestamp",
        "lc",
        "referrer",
        "ip",
        "user_agent",
        "increment",
        "properties",
    ):
        assert name in event, name
    assert isinstance(event["timestamp"], int)
    assert isinstance(event["properties"], dict)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("events", {"limit": "abc"}),
        ("events", {"limit": "0"}),
        ("events", {"limit": "1001"}),
        ("events", {"limit": "2.5"}),
        ("bad", {"limit": "abc"}),
        ("wait", {"count": "abc"}),
        ("wait", {"count": "0"}),
        ("wait", {"timeout": "soon"}),
        ("wait", {"timeout": "-1"}),
    ],
)
def test_bad_parameters_are_400_json(srv: Server, path: str, params: dict[str, str]) -> None:
    r = get(srv, path, **params)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["error"] == "bad_parameter"
    name = next(iter(params))
    assert name in body["message"]


def test_unknown_control_path_is_404(srv: Server) -> None:
    assert get(srv, "nope").status_code == 404


# ---------------------------------------------------------------------- bad
def test_bad_listing_filters_by_site_and_limit(srv: Server) -> None:
    site, other = new_site("bad-a"), new_site("bad-b")
    for _ in range(3):
        http(srv).get("/", params={"si": site, "t_ms": "x"})
    http(srv).get("/", params={"si": other, "t_ms": "y"})
    r = get(srv, "bad", site=site, limit=2)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3
    assert len(body["bad_hits"]) == 2
    assert {b["site"] for b in body["bad_hits"]} == {site}
    assert all(b["reasons"] == ["bad_t_ms"] for b in body["bad_hits"])
    assert len(bad_hits(srv, site=other)) == 1


# ---------------------------------------------------------------------- wait
def test_wait_returns_when_enough_events_exist(srv: Server) -> None:
    site = new_site("wait")
    gif_hit(srv, si=site, ti="A")
    gif_hit(srv, si=site, ti="B")
    r = get(srv, "wait", site=site, count=2, timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2
    assert {e["ti"] for e in body["events"]} == {"A", "B"}


def test_wait_times_out_with_408_and_what_was_seen(srv: Server) -> None:
    site = new_site("wait")
    gif_hit(srv, si=site, ti="A")
    started = time.monotonic()
    r = get(srv, "wait", site=site, count=2, timeout=0.3)
    elapsed = time.monotonic() - started
    assert r.status_code == 408
    body = r.json()
    assert body["total"] == 1
    assert [e["ti"] for e in body["events"]] == ["A"]
    assert 0.3 <= elapsed < 10


def test_wait_filters_by_title(srv: Server) -> None:
    site = new_site("wait")
    gif_hit(srv, si=site, ti="Page")
    assert get(srv, "wait", site=site, ti="Buy", timeout=0.3).status_code == 408
    gif_hit(srv, si=site, ti="Buy")
    r = get(srv, "wait", site=site, ti="Buy", timeout=5)
    assert r.status_code == 200
    assert [e["ti"] for e in r.json()["events"]] == ["Buy"]


def test_wait_sees_a_hit_sent_while_it_waits(srv: Server) -> None:
    site = new_site("wait")
    result: dict[str, httpx.Response] = {}

    def waiter() -> None:
        with httpx.Client(base_url=srv.url, timeout=30, verify=False) as c:
            result["r"] = c.get("/_fakeboxer/wait", params={"site": site, "timeout": 20})

    thread = threading.Thread(target=waiter)
    thread.start()
    gif_hit(srv, si=site, ti="late arrival")
    thread.join(25)
    assert not thread.is_alive()
    assert result["r"].status_code == 200
    assert [e["ti"] for e in result["r"].json()["events"]] == ["late arrival"]


# ---------------------------------------------------------------------- clock
def set_clock(server: Server, **values: Any) -> dict[str, Any]:
    r = http(server).post("/_fakeboxer/clock", params=values)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


@pytest.fixture
def clock_reset(srv: Server) -> Iterator[None]:
    yield
    set_clock(srv, offset_ms=0)


def test_clock_get_reads_the_server_clock(srv: Server) -> None:
    low = wall_ms()
    body = get(srv, "clock").json()
    high = wall_ms()
    assert body["offset_ms"] == 0
    assert low <= body["now_ms"] <= high


@pytest.mark.usefixtures("clock_reset")
def test_clock_offset_advance_and_now(srv: Server) -> None:
    body = set_clock(srv, offset_ms=-DAY)
    assert body["offset_ms"] == -DAY
    assert abs(body["now_ms"] - (wall_ms() - DAY)) < 5_000
    body = set_clock(srv, advance_ms=90_000)
    assert body["offset_ms"] == -DAY + 90_000
    assert get(srv, "clock").json()["offset_ms"] == -DAY + 90_000
    body = set_clock(srv, now_ms=T0)
    assert T0 <= body["now_ms"] < T0 + 5_000
    assert abs(body["offset_ms"] - (T0 - wall_ms())) < 5_000
    r = http(srv).post("/_fakeboxer/clock", json={"advance_ms": 1000})
    assert r.status_code == 200
    assert T0 + 1000 <= r.json()["now_ms"] < T0 + 6_000
    assert stats(srv)["clock_offset_ms"] == r.json()["offset_ms"]


@pytest.mark.usefixtures("clock_reset")
def test_a_hit_without_t_ms_gets_the_shifted_time(srv: Server) -> None:
    site = new_site("clock")
    set_clock(srv, offset_ms=-DAY)
    low = wall_ms() - DAY
    ids = json_hit(srv, si=site)
    high = wall_ms() - DAY
    (event,) = events(srv, site=site)
    assert low <= event["timestamp"] <= high
    assert event["timestamp"] == event["received"]
    # A new user's id and first session carry the shifted time too.
    assert low <= int(ids["userId"].partition(".")[0]) <= high
    assert ids["sessionId"] == ids["userId"]


@pytest.mark.usefixtures("clock_reset")
def test_t_ms_future_is_judged_against_the_shifted_clock(srv: Server) -> None:
    site = new_site("clock")
    set_clock(srv, offset_ms=-2 * DAY)
    r = http(srv).get("/", params={"si": site, "t_ms": str(wall_ms()), "json": "true"})
    assert r.status_code == 400
    assert r.json()["error"] == "t_ms_future"
    set_clock(srv, offset_ms=2 * DAY)
    in_two_days = wall_ms() + 2 * DAY - 60_000
    ok = json_hit(srv, si=site, t_ms=str(in_two_days))
    (event,) = events(srv, site=site)
    assert event["timestamp"] == in_two_days
    assert event["event_id"] == ok["eventId"]


@pytest.mark.parametrize(
    "params",
    [{}, {"offset_ms": "1", "advance_ms": "2"}, {"offset_ms": "soon"}, {"now_ms": "1.5"}],
    ids=["none", "two", "text", "fraction"],
)
def test_clock_rejects_bad_requests(srv: Server, params: dict[str, str]) -> None:
    r = http(srv).post("/_fakeboxer/clock", params=params)
    assert r.status_code == 400
    assert r.json()["error"] == "bad_parameter"
    assert get(srv, "clock").json()["offset_ms"] == 0


@pytest.mark.parametrize("body", [b"not json", b"[1]"], ids=["syntax", "array"])
def test_clock_rejects_a_bad_body(srv: Server, body: bytes) -> None:
    r = http(srv).post("/_fakeboxer/clock", content=body)
    assert r.status_code == 400
    assert r.json()["error"] == "bad_body"


def test_clock_rejects_a_fractional_json_value(srv: Server) -> None:
    r = http(srv).post("/_fakeboxer/clock", json={"advance_ms": 1.5})
    assert r.status_code == 400
    assert get(srv, "clock").json()["offset_ms"] == 0


# ---------------------------------------------------------------------- reset
def test_reset_one_dataset(fresh: Server) -> None:
    keep, drop = new_site("keep"), new_site("drop")
    uid = "1650000000000.500000001"
    owner_keep = json_hit(fresh, si=keep, email="who@example.com")
    owner_drop = json_hit(fresh, si=drop, email="who@example.com", uid=uid, t_ms=str(T0))
    json_hit(fresh, si=drop, uid=uid, t_ms=str(T0 + 10 * MIN))
    http(fresh).get("/", params={"si": drop, "t_ms": "bad"})
    before = stats(fresh)

    r = http(fresh).post("/_fakeboxer/reset", params={"site": drop})
    assert r.status_code == 200
    assert r.json() == {"reset": True, "site": drop}

    assert events(fresh, site=drop) == []
    assert bad_hits(fresh, site=drop) == []
    assert len(events(fresh, site=keep)) == 1
    after = stats(fresh)
    assert after["events"] == before["events"] - 2
    assert after["users"] == before["users"] - 1
    assert after["sessions"] == before["sessions"] - 1
    assert after["bad_hits"]["total"] == before["bad_hits"]["total"] - 1
    # The dataset's identities are forgotten; the other dataset's are kept.
    assert json_hit(fresh, si=drop, email="who@example.com")["userId"] != owner_drop["userId"]
    assert json_hit(fresh, si=keep, email="WHO@example.com")["userId"] == owner_keep["userId"]
    # Session state is forgotten too: the user starts over at its next event.
    again = json_hit(fresh, si=drop, uid=uid, t_ms=str(T0 + 20 * MIN))
    assert again["sessionId"] == f"{T0 + 20 * MIN}.500000001"


def test_reset_everything(fresh: Server) -> None:
    site = new_site("all")
    owner = json_hit(fresh, si=site, email="all@example.com")
    http(fresh).get("/", params={"ti": "no dataset"})
    assert stats(fresh)["events"] > 0

    r = http(fresh).post("/_fakeboxer/reset")
    assert r.status_code == 200
    assert r.json() == {"reset": True, "site": None}

    body = stats(fresh)
    assert (body["hits"], body["events"], body["users"], body["sessions"]) == (0, 0, 0, 0)
    assert body["bad_hits"] == {"total": 0, "by_reason": {}}
    assert get(fresh, "events").json() == {"events": [], "total": 0}
    assert get(fresh, "bad").json() == {"bad_hits": [], "total": 0}
    assert json_hit(fresh, si=site, email="all@example.com")["userId"] != owner["userId"]
    assert stats(fresh)["events"] == 1


def test_reset_is_post_only(fresh: Server) -> None:
    site = new_site("get-reset")
    json_hit(fresh, si=site)
    assert get(fresh, "reset").status_code == 405
    assert len(events(fresh, site=site)) == 1
