"""SPEC 4.1 over HTTP: implicit sessions by inactivity, driven by `t_ms` with a fixed user
(`uid`). Session ids are `<session start ms>.<user random part>`; late events that fall
between or before sessions re-shape them exactly as if they had arrived in order."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import Server
from tests.http._support import (
    CUSTOM_FLAGS,
    MIN,
    T0,
    events,
    gif_hit,
    jar,
    json_hit,
    new_site,
    shared_server,
    stats,
)


@pytest.fixture(scope="module")
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    return shared_server(request, tmp_path_factory)


@pytest.fixture(scope="module")
def srv5m(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    """A server started with `--session-timeout 5m` (and cookie flags)."""
    return shared_server(request, tmp_path_factory, *CUSTOM_FLAGS)


_randoms = itertools.count(700_000_001)


def new_user() -> tuple[str, str]:
    """A user id and its random part."""
    random = str(next(_randoms))
    return f"1690000000000.{random}", random


def send(server: Server, site: str, uid: str, *offsets_min: float) -> list[str]:
    """One json=true hit per offset (each committed before the next is sent); the
    session ids the answers reported."""
    return [
        json_hit(server, si=site, uid=uid, ti=f"at {m}", t_ms=str(T0 + int(m * MIN)))["sessionId"]
        for m in offsets_min
    ]


def sessions_by_title(server: Server, site: str) -> dict[str, str]:
    return {str(e["ti"]): str(e["session_id"]) for e in events(server, site=site)}


def test_events_ten_minutes_apart_are_one_session(srv: Server) -> None:
    site = new_site("ten")
    uid, random = new_user()
    answered = send(srv, site, uid, 0, 10, 20)
    expected = f"{T0}.{random}"
    assert answered == [expected] * 3
    assert set(sessions_by_title(srv, site).values()) == {expected}


def test_a_gap_over_the_timeout_starts_a_new_session(srv: Server) -> None:
    site = new_site("gap")
    uid, random = new_user()
    answered = send(srv, site, uid, 0, 10, 41)
    assert answered == [f"{T0}.{random}", f"{T0}.{random}", f"{T0 + 41 * MIN}.{random}"]
    assert sessions_by_title(srv, site) == {
        "at 0": f"{T0}.{random}",
        "at 10": f"{T0}.{random}",
        "at 41": f"{T0 + 41 * MIN}.{random}",
    }


def test_the_timeout_is_inclusive(srv: Server) -> None:
    site = new_site("edge")
    uid, random = new_user()
    json_hit(srv, si=site, uid=uid, ti="a", t_ms=str(T0))
    json_hit(srv, si=site, uid=uid, ti="b", t_ms=str(T0 + 30 * MIN))  # exactly 30 min
    json_hit(srv, si=site, uid=uid, ti="c", t_ms=str(T0 + 60 * MIN + 1))  # 30 min + 1 ms
    assert sessions_by_title(srv, site) == {
        "a": f"{T0}.{random}",
        "b": f"{T0}.{random}",
        "c": f"{T0 + 60 * MIN + 1}.{random}",
    }


def test_session_timeout_flag_changes_the_rule(srv5m: Server, srv: Server) -> None:
    site = new_site("five")
    uid, random = new_user()
    answered = send(srv5m, site, uid, 0, 4, 9, 20)
    assert answered == [
        f"{T0}.{random}",
        f"{T0}.{random}",
        f"{T0}.{random}",  # 5 min after the previous event: still within 5m
        f"{T0 + 20 * MIN}.{random}",
    ]
    # The same traffic is one session under the default 30 minutes.
    assert send(srv, site, uid, 0, 4, 9, 20) == [f"{T0}.{random}"] * 4


def test_late_event_between_two_sessions_joins_them(srv: Server) -> None:
    site = new_site("bridge")
    uid, random = new_user()
    first, second = send(srv, site, uid, 0, 50)
    assert first == f"{T0}.{random}"
    assert second == f"{T0 + 50 * MIN}.{random}"
    (late,) = send(srv, site, uid, 25)
    assert late == f"{T0}.{random}"
    assert set(sessions_by_title(srv, site).values()) == {f"{T0}.{random}"}
    assert events(srv, site=site, session=f"{T0 + 50 * MIN}.{random}") == []
    assert len(events(srv, site=site, session=f"{T0}.{random}")) == 3


def test_late_events_join_sessions_step_by_step(srv: Server) -> None:
    site = new_site("bridge3")
    uid, random = new_user()
    send(srv, site, uid, 0, 40, 80, 120)
    assert len(set(sessions_by_title(srv, site).values())) == 4
    send(srv, site, uid, 20)  # joins 0 and 40
    send(srv, site, uid, 100)  # joins 80 and 120
    by_title = sessions_by_title(srv, site)
    assert {by_title[f"at {m}"] for m in (0, 20, 40)} == {f"{T0}.{random}"}
    assert {by_title[f"at {m}"] for m in (80, 100, 120)} == {f"{T0 + 80 * MIN}.{random}"}
    send(srv, site, uid, 110)  # already inside a session: nothing moves
    assert sessions_by_title(srv, site)["at 110"] == f"{T0 + 80 * MIN}.{random}"
    (late,) = send(srv, site, uid, 60)  # bridges the two remaining sessions
    assert late == f"{T0}.{random}"
    assert set(sessions_by_title(srv, site).values()) == {f"{T0}.{random}"}
    assert len(events(srv, site=site, session=f"{T0}.{random}")) == 8


def test_late_event_before_the_start_moves_the_start_and_the_id(srv: Server) -> None:
    site = new_site("early")
    uid, random = new_user()
    assert send(srv, site, uid, 10, 20) == [f"{T0 + 10 * MIN}.{random}"] * 2
    (late,) = send(srv, site, uid, 0)
    assert late == f"{T0}.{random}"
    assert set(sessions_by_title(srv, site).values()) == {f"{T0}.{random}"}
    assert events(srv, site=site, session=f"{T0 + 10 * MIN}.{random}") == []


def test_late_event_far_before_is_a_session_of_its_own(srv: Server) -> None:
    site = new_site("far")
    uid, random = new_user()
    send(srv, site, uid, 120, 130)
    (late,) = send(srv, site, uid, 0)
    assert late == f"{T0}.{random}"
    assert sessions_by_title(srv, site) == {
        "at 0": f"{T0}.{random}",
        "at 120": f"{T0 + 120 * MIN}.{random}",
        "at 130": f"{T0 + 120 * MIN}.{random}",
    }


TIMES = [0, 20, 45, 80, 100, 140]  # sessions: {0, 20, 45}, {80, 100}, {140}
ORDERS = {
    "in-order": TIMES,
    "reversed": TIMES[::-1],
    "shuffled": [80, 0, 140, 45, 100, 20],
    "bridges-last": [0, 140, 80, 45, 100, 20],
}


def test_sessions_do_not_depend_on_arrival_order(srv: Server) -> None:
    """The same six event times sent in four orders (one user each, in one dataset);
    each wave is committed before the next, so later waves are late events."""
    site = new_site("order")
    users = {order: new_user() for order in ORDERS}
    for wave in range(len(TIMES)):
        for order, (uid, _) in users.items():
            m = ORDERS[order][wave]
            gif_hit(srv, si=site, uid=uid, ti=f"{order} at {m}", t_ms=str(T0 + m * MIN))
        assert stats(srv)["queue_depth"] == 0  # waits for the writer to commit the wave
    found = sessions_by_title(srv, site)
    start = {0: 0, 20: 0, 45: 0, 80: 80, 100: 80, 140: 140}
    for order, (_, random) in users.items():
        got = {m: found[f"{order} at {m}"] for m in TIMES}
        assert got == {m: f"{T0 + start[m] * MIN}.{random}" for m in TIMES}, order


def test_sessions_are_per_user_and_per_dataset(srv: Server) -> None:
    a, b = new_site("per-a"), new_site("per-b")
    uid1, r1 = new_user()
    uid2, r2 = new_user()
    send(srv, a, uid1, 0)
    send(srv, a, uid2, 5)
    send(srv, b, uid1, 10)
    assert sessions_by_title(srv, a) == {"at 0": f"{T0}.{r1}", "at 5": f"{T0 + 5 * MIN}.{r2}"}
    assert sessions_by_title(srv, b) == {"at 10": f"{T0 + 10 * MIN}.{r1}"}


def test_first_session_id_equals_the_user_id_for_a_new_cookie_user(srv: Server) -> None:
    site = new_site("newcookie")
    browser = jar(srv)
    browser.get("/", params={"si": site, "ti": "landing"})
    browser.get("/", params={"si": site, "ti": "next"})
    stored = events(srv, site=site)
    assert len(stored) == 2
    (user,) = {e["use_id"] for e in stored}
    assert {e["session_id"] for e in stored} == {user}


def test_first_session_id_equals_the_user_id_for_a_new_json_user(srv: Server) -> None:
    ids = json_hit(srv, si=new_site("newjson"))
    assert ids["sessionId"] == ids["userId"]


def test_gif_hits_in_one_batch_are_sessionized_like_separate_ones(srv: Server) -> None:
    site = new_site("batch")
    uid, random = new_user()
    for m in (100, 0, 50, 25, 200):  # sent back to back: the writer batches them
        gif_hit(srv, si=site, uid=uid, ti=f"at {m}", t_ms=str(T0 + m * MIN))
    assert sessions_by_title(srv, site) == {
        "at 0": f"{T0}.{random}",
        "at 25": f"{T0}.{random}",
        "at 50": f"{T0}.{random}",
        "at 100": f"{T0 + 100 * MIN}.{random}",
        "at 200": f"{T0 + 200 * MIN}.{random}",
    }


def test_explicit_sid_is_not_moved_by_a_late_event(srv: Server) -> None:
    site = new_site("explicit")
    uid, random = new_user()
    sid = "1690000000000.999999999"
    json_hit(srv, si=site, uid=uid, sid=sid, ti="named", t_ms=str(T0 + 50 * MIN))
    send(srv, site, uid, 40, 0)
    by_title = sessions_by_title(srv, site)
    assert by_title["named"] == sid
    assert by_title["at 0"] == f"{T0}.{random}"
    assert by_title["at 40"] == f"{T0 + 40 * MIN}.{random}"


@pytest.mark.xfail(
    reason="OPEN QUESTION (see README, Sessions): implicit sessions ignore the user's named (ots/sid/_ots) events, so an "
    "unnamed event 10 min after named ones starts an overlapping session of its own "
    "instead of joining the run (SPEC 4.1: a session is a maximal run of the user's events)",
    strict=True,
)
def test_unnamed_event_between_named_events_joins_their_session(srv: Server) -> None:
    site = new_site("mixed")
    uid, random = new_user()
    for m, ots in ((0, f"1.{T0}.{T0}.{T0}"), (20, f"2.{T0}.{T0}.{T0 + 20 * MIN}")):
        json_hit(srv, si=site, uid=uid, ti=f"named {m}", t_ms=str(T0 + m * MIN), ots=ots)
    (unnamed,) = send(srv, site, uid, 10)
    assert unnamed == f"{T0}.{random}"
