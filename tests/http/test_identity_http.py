"""SPEC 3.1 and 3.2 over HTTP: the first-party cookies the collector sets, and the order
in which a hit's user id is chosen (uid > lb_uid > otui > cookie > email > new)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server
from tests.http._support import (
    CUSTOM_FLAGS,
    ID_RE,
    MIN,
    OTS_RE,
    OTUI_RE,
    cookie_attributes,
    cookie_headers,
    cookie_value,
    events,
    http,
    jar,
    json_hit,
    new_site,
    shared_server,
    stats,
)

TWO_YEARS_S = 2 * 365 * 24 * 3600
THIRTY_MIN_S = 30 * 60


@pytest.fixture(scope="module")
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    return shared_server(request, tmp_path_factory)


def ignored(server: Server) -> dict[str, int]:
    return dict(stats(server)["ignored"])


# ---------------------------------------------------------------------- cookies
def test_first_gif_hit_sets_otui_in_leadboxer_format(srv: Server) -> None:
    site = new_site("otui")
    r = jar(srv).get("/", params={"si": site})
    assert r.status_code == 200
    (event,) = events(srv, site=site)
    otui = cookie_value(cookie_headers(r)["_otui"])
    m = OTUI_RE.fullmatch(otui)
    assert m, otui
    random, first, prev, cur, sessions, count = m.groups()
    assert len(random) == 9
    assert f"{first}.{random}" == event["use_id"]
    assert int(prev) == int(cur) == event["timestamp"]
    assert int(first) <= event["timestamp"]
    assert (sessions, count) == ("1", "1")


def test_first_gif_hit_sets_ots_and_the_first_session_is_the_user(srv: Server) -> None:
    site = new_site("ots")
    r = jar(srv).get("/", params={"si": site})
    (event,) = events(srv, site=site)
    ots = cookie_value(cookie_headers(r)["_ots"])
    m = OTS_RE.fullmatch(ots)
    assert m, ots
    n, start, prev, cur = m.groups()
    assert n == "1"
    assert int(start) == int(prev) == int(cur) == event["timestamp"]
    random = str(event["use_id"]).partition(".")[2]
    assert event["session_id"] == f"{start}.{random}"
    # A new cookie user's first session id is the user id (LeadBoxer).
    assert event["session_id"] == event["use_id"]


@pytest.mark.parametrize(("name", "max_age"), [("_otui", TWO_YEARS_S), ("_ots", THIRTY_MIN_S)])
def test_cookie_attributes(srv: Server, name: str, max_age: int) -> None:
    r = jar(srv).get("/", params={"si": new_site("attrs")})
    attrs = cookie_attributes(cookie_headers(r)[name])
    assert attrs["max-age"] == str(max_age)
    assert attrs["path"] == "/"
    assert attrs["samesite"].lower() == "lax"
    assert "httponly" not in attrs  # the pixel script reads them
    assert "secure" not in attrs  # plain http, no --cookie-secure
    assert "domain" not in attrs  # no --cookie-domain


def test_cookie_secure_and_domain_flags(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    custom = shared_server(request, tmp_path_factory, *CUSTOM_FLAGS)
    r = http(custom).get("/", params={"si": new_site("flags")})
    cookies = cookie_headers(r)
    assert {"_otui", "_ots"} <= set(cookies)
    for value in cookies.values():
        attrs = cookie_attributes(value)
        assert "secure" in attrs
        assert attrs["domain"] == "example.test"
        assert attrs["path"] == "/"
        assert attrs["samesite"].lower() == "lax"
        assert "httponly" not in attrs


def test_second_hit_from_the_same_jar_reuses_the_user(srv: Server) -> None:
    site = new_site("jar")
    browser = jar(srv)
    first = browser.get("/", params={"si": site, "ti": "one"})
    second = browser.get("/", params={"si": site, "ti": "two"})
    assert first.status_code == second.status_code == 200
    assert "_otui" in cookie_headers(first)
    assert "_otui" not in cookie_headers(second)  # a valid one came with the request
    stored = {e["ti"]: e for e in events(srv, site=site)}
    assert stored["one"]["use_id"] == stored["two"]["use_id"]
    assert stored["one"]["session_id"] == stored["two"]["session_id"]
    # _ots slides: one more event, same visit start, previous = the first event.
    ots1 = OTS_RE.fullmatch(cookie_value(cookie_headers(first)["_ots"]))
    ots2 = OTS_RE.fullmatch(cookie_value(cookie_headers(second)["_ots"]))
    assert ots1 and ots2
    assert ots2.group(1) == "2"
    assert ots2.group(2) == ots1.group(2)
    assert ots2.group(3) == ots1.group(4)
    assert int(ots2.group(4)) == stored["two"]["timestamp"]


def test_two_jars_are_two_users(srv: Server) -> None:
    site = new_site("jars")
    jar(srv).get("/", params={"si": site})
    jar(srv).get("/", params={"si": site})
    users = {e["use_id"] for e in events(srv, site=site)}
    assert len(users) == 2


def test_cookie_user_answers_json_with_the_same_ids(srv: Server) -> None:
    site = new_site("jarjson")
    browser = jar(srv)
    browser.get("/", params={"si": site})
    r = browser.get("/", params={"si": site, "json": "true"})
    assert r.status_code == 200
    stored = events(srv, site=site)
    assert len(stored) == 2
    assert {e["use_id"] for e in stored} == {r.json()["userId"]}
    assert {e["session_id"] for e in stored} == {r.json()["sessionId"]}


@pytest.mark.parametrize(
    "bad_cookie",
    ["garbage", "1.2.3", "abc.1646657290585.1.1.1.1", "602796880.1646657290585.1.1.1.1.1.1"],
)
def test_invalid_otui_cookie_is_ignored_and_counted(srv: Server, bad_cookie: str) -> None:
    site = new_site("badcookie")
    before = ignored(srv).get("invalid_otui_cookie", 0)
    r = http(srv).get("/", params={"si": site}, headers={"Cookie": f"_otui={bad_cookie}"})
    assert r.status_code == 200
    (event,) = events(srv, site=site)
    assert ID_RE.fullmatch(str(event["use_id"]))
    assert bad_cookie not in str(event["use_id"])
    # A fresh, valid _otui replaces the unreadable one.
    new = cookie_value(cookie_headers(r)["_otui"])
    assert OTUI_RE.fullmatch(new)
    m = OTUI_RE.fullmatch(new)
    assert m and f"{m.group(2)}.{m.group(1)}" == event["use_id"]
    assert ignored(srv).get("invalid_otui_cookie", 0) == before + 1


@pytest.mark.parametrize(
    ("param", "value", "code"),
    [
        ("uid", "abc", "invalid_uid"),
        ("uid", "12345", "invalid_uid"),
        ("uid", "1.2.3", "invalid_uid"),
        ("uid", "1650000000000.123 ", "invalid_uid"),
        ("uid", "1" * 25 + ".1", "invalid_uid"),
        ("lb_uid", "user@example.com", "invalid_lb_uid"),
        ("otui", "1646657290585.602796880", "invalid_otui"),
        ("sid", "session-1", "invalid_sid"),
        ("ots", "1.2.3", "invalid_ots"),
    ],
)
def test_invalid_id_parameter_is_ignored_and_counted(
    srv: Server, param: str, value: str, code: str
) -> None:
    site = new_site("badid")
    before = ignored(srv).get(code, 0)
    ids = json_hit(srv, si=site, **{param: value})
    (event,) = events(srv, site=site)
    assert ID_RE.fullmatch(str(event["use_id"]))
    assert ID_RE.fullmatch(str(event["session_id"]))
    assert value not in (event["use_id"], event["session_id"])
    assert ids["userId"] == event["use_id"]
    assert param not in event["properties"]  # type: ignore[operator]
    assert ignored(srv).get(code, 0) == before + 1


# ---------------------------------------------------------------------- resolution order
UID = "1650000000000.111111111"
LB_UID = "1650000000000.222222222"
OTUI = "333333333.1640000000000.1640000000000.1640000000000.1.1"
OTUI_USER = "1640000000000.333333333"
COOKIE = "444444444.1630000000000.1630000000000.1630000000000.2.9"
COOKIE_USER = "1630000000000.444444444"
OWNER = "1620000000000.555555555"
EMAIL = "Lead@Example.com"

CASES: list[tuple[str, dict[str, str], bool, str | None]] = [
    # (case, params, send the _otui cookie, expected user; None = a new id)
    ("all", {"uid": UID, "lb_uid": LB_UID, "otui": OTUI, "email": EMAIL}, True, UID),
    ("lb_uid", {"lb_uid": LB_UID, "otui": OTUI, "email": EMAIL}, True, LB_UID),
    ("otui", {"otui": OTUI, "email": EMAIL}, True, OTUI_USER),
    ("cookie", {"email": EMAIL}, True, COOKIE_USER),
    ("email", {"email": EMAIL}, False, OWNER),
    ("email-case", {"email": "  LEAD@example.COM "}, False, OWNER),
    ("new", {}, False, None),
    ("bad-uid-falls-to-lb_uid", {"uid": "nope", "lb_uid": LB_UID}, True, LB_UID),
    ("bad-lb_uid-falls-to-otui", {"lb_uid": "x.y", "otui": OTUI}, True, OTUI_USER),
    ("bad-otui-falls-to-cookie", {"otui": "1.2"}, True, COOKIE_USER),
    ("bad-uid-falls-to-email", {"uid": "12", "email": EMAIL}, False, OWNER),
]


@pytest.fixture(scope="module")
def order_site(srv: Server) -> str:
    """A dataset in which OWNER owns EMAIL; each resolution case probes it once."""
    site = new_site("order")
    owner = json_hit(srv, si=site, uid=OWNER, email=EMAIL, ti="owner")
    assert owner["userId"] == OWNER
    return site


@pytest.mark.parametrize(
    ("params", "with_cookie", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_user_resolution_order(
    srv: Server,
    order_site: str,
    request: pytest.FixtureRequest,
    params: dict[str, str],
    with_cookie: bool,
    expected: str | None,
) -> None:
    probe_title = f"probe {request.node.callspec.id}"
    headers = {"Cookie": f"_otui={COOKIE}"} if with_cookie else {}
    r = http(srv).get("/", params={"si": order_site, "ti": probe_title, **params}, headers=headers)
    assert r.status_code == 200
    (probe,) = events(srv, site=order_site, ti=probe_title)
    if expected is None:
        assert probe["use_id"] not in {UID, LB_UID, OTUI_USER, COOKIE_USER, OWNER}
        assert ID_RE.fullmatch(str(probe["use_id"]))
    else:
        assert probe["use_id"] == expected


def test_email_lookup_is_per_dataset(srv: Server) -> None:
    a, b = new_site("email-a"), new_site("email-b")
    json_hit(srv, si=a, uid=OWNER, email="shared@example.com")
    other = json_hit(srv, si=b, email="shared@example.com")
    assert other["userId"] != OWNER
    again_a = json_hit(srv, si=a, email="SHARED@example.com")
    again_b = json_hit(srv, si=b, email="shared@EXAMPLE.com")
    assert again_a["userId"] == OWNER
    assert again_b["userId"] == other["userId"]


def test_an_email_first_seen_on_a_new_user_identifies_it_later(srv: Server) -> None:
    site = new_site("email-new")
    first = json_hit(srv, si=site, email="fresh@example.com")
    later = json_hit(srv, si=site, email="Fresh@Example.com", ti="later")
    assert later["userId"] == first["userId"]
    stored = events(srv, site=site)
    assert {e["use_id"] for e in stored} == {first["userId"]}
    # The address is stored as sent, not lower-cased.
    assert {e["properties"]["email"] for e in stored} == {"fresh@example.com", "Fresh@Example.com"}


def test_cookie_is_reset_to_the_user_found_by_email(srv: Server) -> None:
    site = new_site("email-cookie")
    json_hit(srv, si=site, uid=OWNER, email="k@example.com")
    r = jar(srv).get("/", params={"si": site, "email": "k@example.com"})
    otui = OTUI_RE.fullmatch(cookie_value(cookie_headers(r)["_otui"]))
    assert otui and f"{otui.group(2)}.{otui.group(1)}" == OWNER


def test_uid_with_another_browser_cookie_resets_the_cookie(srv: Server) -> None:
    site = new_site("uid-cookie")
    r = http(srv).get("/", params={"si": site, "uid": UID}, headers={"Cookie": f"_otui={COOKIE}"})
    otui = OTUI_RE.fullmatch(cookie_value(cookie_headers(r)["_otui"]))
    assert otui and f"{otui.group(2)}.{otui.group(1)}" == UID
    (event,) = events(srv, site=site)
    assert event["use_id"] == UID


# ---------------------------------------------------------------------- sliding _ots (clock)
def clock(server: Server, **values: Any) -> dict[str, Any]:
    r = http(server).post("/_fakeboxer/clock", params=values)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_ots_cookie_slides_and_expires_with_the_server_clock(srv: Server) -> None:
    site = new_site("slide")
    browser = jar(srv)
    try:
        gif = browser.get("/", params={"si": site, "ti": "a"})
        assert gif.status_code == 200
        clock(srv, advance_ms=20 * MIN)
        browser.get("/", params={"si": site, "ti": "b"})
        clock(srv, advance_ms=25 * MIN)  # 45 min after "a", 25 after "b": same visit
        browser.get("/", params={"si": site, "ti": "c"})
        clock(srv, advance_ms=31 * MIN)  # over 30 min of inactivity: a new visit
        last = browser.get("/", params={"si": site, "ti": "d"})
    finally:
        clock(srv, offset_ms=0)
    stored = {e["ti"]: e for e in events(srv, site=site)}
    assert len({e["use_id"] for e in stored.values()}) == 1
    assert stored["a"]["session_id"] == stored["b"]["session_id"] == stored["c"]["session_id"]
    assert stored["d"]["session_id"] != stored["a"]["session_id"]
    random = str(stored["d"]["use_id"]).partition(".")[2]
    assert stored["d"]["session_id"] == f"{stored['d']['timestamp']}.{random}"
    ots = OTS_RE.fullmatch(cookie_value(cookie_headers(last)["_ots"]))
    assert ots and ots.group(1) == "1"
    assert int(ots.group(2)) == stored["d"]["timestamp"]


# ---------------------------------------------------------------------- stitching (3.3)
def test_email_of_another_lead_on_an_identified_user_is_a_stitch_warning(srv: Server) -> None:
    site = new_site("stitch")
    owner = json_hit(srv, si=site, uid=OWNER, email="k@example.com")
    other = "1650000000000.666666666"
    json_hit(srv, si=site, uid=other, email="u@example.com")
    before = stats(srv)["warnings"]["stitch_conflict"]
    r = http(srv).get("/", params={"si": site, "uid": other, "email": "K@example.com"})
    assert r.status_code == 200
    users = {e["use_id"] for e in events(srv, site=site)}
    assert users == {owner["userId"], other}  # nothing merged
    assert stats(srv)["warnings"]["stitch_conflict"] == before + 1


@pytest.mark.xfail(
    reason="NOT BUILT YET (issue 2 defers it to a later issue): SPEC 3.3 merge of an anonymous cookie user into the lead that owns the "
    "email is not implemented: the event stays with the cookie user, the cookie is not "
    "re-set, and only a stitch_conflict warning is counted",
    strict=True,
)
def test_anonymous_cookie_user_is_merged_into_the_lead_with_the_email(srv: Server) -> None:
    site = new_site("merge")
    json_hit(srv, si=site, uid=OWNER, email="k@example.com")
    browser = jar(srv)
    browser.get("/", params={"si": site, "ti": "anonymous visit"})
    r = browser.get("/", params={"si": site, "ti": "login", "email": "k@example.com"})
    assert r.status_code == 200
    stored = {e["ti"]: e for e in events(srv, site=site)}
    assert stored["login"]["use_id"] == OWNER
    assert stored["anonymous visit"]["use_id"] == OWNER  # U's events move to K
    otui = OTUI_RE.fullmatch(cookie_value(cookie_headers(r).get("_otui", "_otui=")))
    assert otui and f"{otui.group(2)}.{otui.group(1)}" == OWNER
