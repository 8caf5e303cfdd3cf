"""SPEC 4.1/4.2: folded session and user state, checked in the DuckDB file.

One server receives every scenario (each in its own dataset, in a chosen arrival order),
is stopped gracefully, and the tests read the `sessions` and `users` tables of its file
(only one process may own the file, so the reads happen after the stop)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import orjson
import pytest

from tests.conftest import Server
from tests.http._support import HOUR, MIN, T0, gif_hit, http, new_site, running_server


@dataclass(frozen=True)
class Scenario:
    site: str
    user: str

    @property
    def random(self) -> str:
        return self.user.partition(".")[2]

    def session_id(self, start_ms: int) -> str:
        return f"{start_ms}.{self.random}"


@dataclass
class Folded:
    con: duckdb.DuckDBPyConnection
    scenarios: dict[str, Scenario]

    def sessions(self, name: str) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM sessions WHERE site = ? ORDER BY start_ms", self.scenarios[name].site
        )

    def user(self, name: str) -> dict[str, Any]:
        s = self.scenarios[name]
        rows = self._rows("SELECT * FROM users WHERE site = ? AND user_id = ?", s.site, s.user)
        assert len(rows) == 1, rows
        return rows[0]

    def users(self, name: str) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM users WHERE site = ?", self.scenarios[name].site)

    def _rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description or []]
        out = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        for row in out:
            for key in ("props", "fold"):
                if isinstance(row.get(key), str):
                    row[key] = orjson.loads(row[key])
        return out


Planned = tuple[int, "Scenario", float, dict[str, str]]


def plan_scenarios() -> tuple[dict[str, Scenario], list[Planned]]:
    """Every scenario's hits as (wave, scenario, minutes after T0, params).

    Hits are sent wave by wave; the writer commits each wave before the next is sent, so
    a hit of wave 1 arrives strictly after the hits of wave 0 (a "late" event when its
    event time is earlier). Within a wave the writer may batch hits in any way; the
    result must not depend on it. Wave 2 is sent after a restart on the same file, so
    its hits meet state loaded from the DB rather than the writer's caches. A `uid`
    param of "" sends the hit without a user id.
    """
    scenarios: dict[str, Scenario] = {}
    planned: list[Planned] = []

    def scenario(name: str, random: int) -> Scenario:
        s = Scenario(new_site(name), f"1680000000000.{random}")
        scenarios[name] = s
        return s

    def hit(s: Scenario, wave: int, minutes: float, **params: str) -> None:
        planned.append((wave, s, minutes, params))

    # Latest by event time wins, whatever the arrival order.
    s = scenario("latest", 810000001)
    hit(s, 0, 20, ti="second by time", plan="pro", note="kept")
    hit(s, 1, 10, ti="first by time", plan="free", only_early="yes")
    # The same events in time order: the folds must be equal.
    s = scenario("latest-in-order", 810000008)
    hit(s, 0, 10, ti="first by time", plan="free", only_early="yes")
    hit(s, 1, 20, ti="second by time", plan="pro", note="kept")
    # Equal event times: the later arrival wins.
    s = scenario("tie", 810000002)
    hit(s, 0, 5, size="S")
    hit(s, 1, 5, size="L")
    # First/last attribution and channels over two sessions, sent newest first.
    s = scenario("attribution", 810000003)
    spring = "https://shop.example.com/spring"
    hit(s, 0, 180, utm_source="newsletter", utm_medium="email", utm_campaign="c2", lc=spring)
    hit(s, 0, 185, lc="https://shop.example.com/cart")
    landing = "https://shop.example.com/landing"
    hit(s, 1, 0, utm_source="google", utm_medium="cpc", utm_campaign="c1", lc=landing)
    hit(s, 1, 3, lc="https://shop.example.com/pricing")
    # Channels from the referrer, and a visit with no signal at all.
    s = scenario("channels", 810000004)
    hit(s, 0, 0, ref="https://www.google.com/search?q=x", lc="https://shop.example.com/")
    hit(s, 0, 60, lc="https://shop.example.com/")
    hit(s, 0, 120, ref="https://www.linkedin.com/feed", lc="https://shop.example.com/")
    hit(s, 0, 180, ref="https://blog.example.net/post", lc="https://shop.example.com/a")
    hit(s, 0, 240, ref="https://shop.example.com/a", lc="https://shop.example.com/b")
    # Counters: two visits, one event not counted as a page.
    s = scenario("counters", 810000005)
    hit(s, 0, 0, lc="https://shop.example.com/a")
    hit(s, 0, 1, lc="https://shop.example.com/b", increment="false")
    hit(s, 0, 2, lc="https://shop.example.com/c")
    hit(s, 1, 120, lc="https://shop.example.com/d")
    hit(s, 1, 130, lc="https://shop.example.com/e")
    # A late event bridging two sessions.
    s = scenario("bridge", 810000006)
    hit(s, 0, 0, step="a")
    hit(s, 0, 50, step="c")
    hit(s, 1, 25, step="b")
    # A late event before the start of a session.
    s = scenario("early", 810000007)
    hit(s, 0, 10, lc="https://shop.example.com/second")
    hit(s, 0, 20, lc="https://shop.example.com/third")
    hit(s, 1, 0, lc="https://shop.example.com/first")
    # Properties folded across two sessions of one user.
    s = scenario("across", 810000009)
    hit(s, 0, 2 * HOUR / MIN, tier="gold")
    hit(s, 1, 0, tier="silver", first_only="1")
    # After a restart: a late event bridging two sessions stored before it.
    s = scenario("restart-bridge", 810000010)
    hit(s, 0, 0, step="a")
    hit(s, 0, 50, step="c")
    hit(s, 2, 25, step="b")
    # After a restart: extending a stored session, and folding against a stored fold.
    s = scenario("restart-fold", 810000011)
    hit(s, 0, 20, plan="pro")
    hit(s, 2, 10, plan="free", color="red")
    hit(s, 2, 30, color="blue")
    # After a restart: the email owner is found again.
    s = scenario("restart-email", 810000012)
    hit(s, 0, 0, email="Re@Start.example")
    hit(s, 2, 5, email="re@start.EXAMPLE", uid="")
    return scenarios, planned


def send_waves(server: Server, planned: list[Planned], waves: set[int]) -> None:
    for wave in sorted(waves):
        for _, s, minutes, sent in (p for p in planned if p[0] == wave):
            params = dict(sent)
            t_ms = str(T0 + int(minutes * MIN))
            uid = params.pop("uid", s.user)
            ids = {"uid": uid} if uid else {}
            gif_hit(server, si=s.site, t_ms=t_ms, **ids, **params)
        # The control endpoints answer only once the writer has committed the wave.
        assert http(server).get("/_fakeboxer/stats").json()["queue_depth"] == 0


@pytest.fixture(scope="module")
def folded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Folded]:
    scenarios, planned = plan_scenarios()
    with running_server(tmp_path_factory, name="folding") as server:
        send_waves(server, planned, {0, 1})
        # uvicorn re-raises the signal after its graceful shutdown: -15 is a clean stop.
        assert server.stop() in (0, -15), server.output()
    with running_server(tmp_path_factory, name="folding-again", db=server.db) as again:
        send_waves(again, planned, {2})
        assert again.stop() in (0, -15), again.output()
    con = duckdb.connect(str(server.db), read_only=True)
    try:
        yield Folded(con, scenarios)
    finally:
        con.close()


# ---------------------------------------------------------------------- property folding
def test_latest_event_time_wins_on_the_session_and_the_user(folded: Folded) -> None:
    (session,) = folded.sessions("latest")
    user = folded.user("latest")
    for props in (session["props"], user["props"]):
        assert props["plan"] == "pro"
        assert props["ti"] == "second by time"
        assert props["note"] == "kept"
        assert props["only_early"] == "yes"  # a name only the earlier event has


def test_arrival_order_does_not_change_the_folds(folded: Folded) -> None:
    (late, in_order) = (folded.sessions("latest"), folded.sessions("latest-in-order"))
    assert late[0]["props"] == in_order[0]["props"]
    assert folded.user("latest")["props"] == folded.user("latest-in-order")["props"]
    for column in ("start_ms", "end_ms", "events", "pages", "entry_title"):
        assert late[0][column] == in_order[0][column], column


def test_equal_event_times_later_arrival_wins(folded: Folded) -> None:
    (session,) = folded.sessions("tie")
    assert session["props"]["size"] == "L"
    assert folded.user("tie")["props"]["size"] == "L"


def test_user_props_fold_across_sessions(folded: Folded) -> None:
    sessions = folded.sessions("across")
    assert [s["props"]["tier"] for s in sessions] == ["silver", "gold"]
    user = folded.user("across")
    assert user["props"]["tier"] == "gold"
    assert user["props"]["first_only"] == "1"


# ---------------------------------------------------------------------- attribution
def test_first_and_last_channel_and_utm_on_sessions_and_user(folded: Folded) -> None:
    s = folded.scenarios["attribution"]
    first, second = folded.sessions("attribution")
    assert first["session_id"] == s.session_id(T0)
    assert (first["channel"], first["utm_source"], first["utm_campaign"]) == (
        "paid",
        "google",
        "c1",
    )
    assert first["entry_url"] == "https://shop.example.com/landing"
    assert first["exit_url"] == "https://shop.example.com/pricing"
    assert second["session_id"] == s.session_id(T0 + 180 * MIN)
    assert (second["channel"], second["utm_medium"], second["utm_campaign"]) == (
        "email",
        "email",
        "c2",
    )
    assert second["entry_url"] == "https://shop.example.com/spring"
    assert second["exit_url"] == "https://shop.example.com/cart"
    user = folded.user("attribution")
    assert user["first_channel"] == "paid"
    assert user["last_channel"] == "email"
    assert user["first_landing_page"] == "https://shop.example.com/landing"
    assert user["last_landing_page"] == "https://shop.example.com/spring"
    assert user["props"]["utm_campaign"] == "c2"  # latest by event time
    fold = user["fold"]
    assert fold["first"]["utm_campaign"][0] == "c1"
    assert fold["last"]["utm_campaign"][0] == "c2"
    assert fold["first"]["utm_source"][0] == "google"
    assert fold["last"]["utm_source"][0] == "newsletter"


def test_channels_from_the_referrer(folded: Folded) -> None:
    sessions = folded.sessions("channels")
    assert [s["channel"] for s in sessions] == [
        "organic",  # google.com
        "direct",  # no signal at all
        "social",  # linkedin.com
        "referral",  # another site
        "direct",  # the page's own site is not a referrer
    ]
    assert sessions[0]["referrer"] == "https://www.google.com/search?q=x"
    assert sessions[4]["referrer"] == ""
    user = folded.user("channels")
    assert (user["first_channel"], user["last_channel"]) == ("organic", "direct")
    assert user["first_referrer"] == "https://www.google.com/search?q=x"
    assert user["last_referrer"] == "https://blog.example.net/post"


# ---------------------------------------------------------------------- counters
def test_session_and_user_counters(folded: Folded) -> None:
    s = folded.scenarios["counters"]
    first, second = folded.sessions("counters")
    assert (first["session_id"], first["events"], first["pages"]) == (s.session_id(T0), 3, 2)
    assert (first["start_ms"], first["end_ms"], first["duration_ms"]) == (
        T0,
        T0 + 2 * MIN,
        2 * MIN,
    )
    assert (first["entry_url"], first["exit_url"]) == (
        "https://shop.example.com/a",
        "https://shop.example.com/c",
    )
    assert (second["events"], second["pages"], second["duration_ms"]) == (2, 2, 10 * MIN)
    user = folded.user("counters")
    assert user["visits"] == 2
    assert user["events"] == 5
    assert user["pages"] == 4  # total_pages_viewed: increment=false is not a page
    assert user["total_duration_ms"] == 12 * MIN
    assert user["last_visit_duration_ms"] == 10 * MIN
    assert (user["first_ms"], user["last_ms"]) == (T0, T0 + 130 * MIN)
    assert user["first_session_id"] == s.session_id(T0)
    assert user["last_session_id"] == s.session_id(T0 + 120 * MIN)


# ---------------------------------------------------------------------- late events
def test_bridged_sessions_are_one_row(folded: Folded) -> None:
    s = folded.scenarios["bridge"]
    (session,) = folded.sessions("bridge")
    assert session["session_id"] == s.session_id(T0)
    assert (session["start_ms"], session["end_ms"]) == (T0, T0 + 50 * MIN)
    assert (session["events"], session["pages"]) == (3, 3)
    assert session["props"]["step"] == "c"
    user = folded.user("bridge")
    assert user["visits"] == 1
    assert user["total_duration_ms"] == 50 * MIN
    assert user["first_session_id"] == user["last_session_id"] == s.session_id(T0)
    ids = folded.con.execute(
        "SELECT DISTINCT session_id FROM events WHERE site = ?", [s.site]
    ).fetchall()
    assert ids == [(s.session_id(T0),)]


def test_early_event_moves_the_session_start_entry_and_id(folded: Folded) -> None:
    s = folded.scenarios["early"]
    (session,) = folded.sessions("early")
    assert session["session_id"] == s.session_id(T0)
    assert (session["start_ms"], session["end_ms"], session["events"]) == (T0, T0 + 20 * MIN, 3)
    assert session["entry_url"] == "https://shop.example.com/first"
    assert session["exit_url"] == "https://shop.example.com/third"
    assert folded.user("early")["visits"] == 1


def test_each_scenario_has_one_user(folded: Folded) -> None:
    for name, s in folded.scenarios.items():
        assert [u["user_id"] for u in folded.users(name)] == [s.user], name


# ---------------------------------------------------------------------- after a restart
def test_late_event_after_a_restart_bridges_stored_sessions(folded: Folded) -> None:
    s = folded.scenarios["restart-bridge"]
    (session,) = folded.sessions("restart-bridge")
    assert session["session_id"] == s.session_id(T0)
    assert (session["start_ms"], session["end_ms"], session["events"]) == (T0, T0 + 50 * MIN, 3)
    assert folded.user("restart-bridge")["visits"] == 1
    ids = folded.con.execute(
        "SELECT DISTINCT session_id FROM events WHERE site = ?", [s.site]
    ).fetchall()
    assert ids == [(s.session_id(T0),)]


def test_folds_continue_from_the_stored_state_after_a_restart(folded: Folded) -> None:
    s = folded.scenarios["restart-fold"]
    (session,) = folded.sessions("restart-fold")
    assert session["session_id"] == s.session_id(T0 + 10 * MIN)
    assert (session["start_ms"], session["end_ms"], session["events"]) == (
        T0 + 10 * MIN,
        T0 + 30 * MIN,
        3,
    )
    for props in (session["props"], folded.user("restart-fold")["props"]):
        assert props["plan"] == "pro"
        assert props["color"] == "blue"
    user = folded.user("restart-fold")
    assert (user["events"], user["pages"], user["visits"]) == (3, 3, 1)


def test_email_owner_is_found_after_a_restart(folded: Folded) -> None:
    s = folded.scenarios["restart-email"]
    users = folded.con.execute("SELECT user_id FROM events WHERE site = ?", [s.site]).fetchall()
    assert users == [(s.user,), (s.user,)]
    assert folded.user("restart-email")["email"] == "re@start.EXAMPLE"  # latest by time
