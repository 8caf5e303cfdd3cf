"""SPEC 2.2: every reserved collector parameter, sent over real HTTP and read back from
`/_fakeboxer/events` (and the json=true answer, which is sent after the commit)."""

from __future__ import annotations

import pytest

from collector.hits import RESERVED_CONTROL
from tests.conftest import Server
from tests.http._support import (
    HOUR,
    ID_RE,
    MIN,
    T0,
    events,
    gif_hit,
    http,
    json_hit,
    new_site,
    shared_server,
    stats,
)


@pytest.fixture(scope="module")
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    return shared_server(request, tmp_path_factory)


def only_event(server: Server, site: str) -> dict[str, object]:
    stored = events(server, site=site)
    assert len(stored) == 1, stored
    return stored[0]


# ---------------------------------------------------------------------- dataset
def test_si_names_the_dataset(srv: Server) -> None:
    site = new_site("si")
    ids = json_hit(srv, si=site, ti="Page")
    assert ids["site"] == site
    event = only_event(srv, site)
    assert event["site"] == site
    assert event["event_id"] == ids["eventId"]
    assert "si" not in event["properties"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("path", "default_title"), [("/", "NO TITLE"), ("/log", "Email open")], ids=["root", "log"]
)
def test_dataset_id_is_a_synonym_of_si(srv: Server, path: str, default_title: str) -> None:
    site = new_site("dsid")
    r = http(srv).get(path, params=dict(datasetId=site, campaign="spring", email="ada@example.com"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/gif"
    assert "x-fakeboxer-error" not in r.headers
    event = only_event(srv, site)
    assert event["site"] == site
    assert event["ti"] == default_title
    props = event["properties"]
    assert props == {"ti": default_title, "campaign": "spring", "email": "ada@example.com"}


def test_si_wins_over_dataset_id_when_both_are_given(srv: Server) -> None:
    site, other = new_site("both"), new_site("both-other")
    json_hit(srv, si=site, datasetId=other)
    assert len(events(srv, site=site)) == 1
    assert events(srv, site=other) == []


# ---------------------------------------------------------------------- title
@pytest.mark.parametrize("given", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_missing_or_empty_title_is_no_title(srv: Server, given: str | None) -> None:
    site = new_site("ti")
    params = {} if given is None else {"ti": given}
    json_hit(srv, si=site, **params)
    event = only_event(srv, site)
    assert event["ti"] == "NO TITLE"
    assert event["properties"] == {"ti": "NO TITLE"}


def test_title_is_stored_and_also_a_property(srv: Server) -> None:
    site = new_site("ti")
    json_hit(srv, si=site, ti="Pricing – plans & prices")
    event = only_event(srv, site)
    assert event["ti"] == "Pricing – plans & prices"
    assert event["properties"] == {"ti": "Pricing – plans & prices"}


def test_email_pixel_keeps_an_explicit_title(srv: Server) -> None:
    site = new_site("log")
    gif_hit(srv, "/log", datasetId=site, ti="Newsletter 12 opened")
    assert only_event(srv, site)["ti"] == "Newsletter 12 opened"


def test_email_pixel_with_si(srv: Server) -> None:
    site = new_site("log")
    gif_hit(srv, "/log", si=site)
    assert only_event(srv, site)["ti"] == "Email open"


# ---------------------------------------------------------------------- user ids
def test_uid_sets_the_user(srv: Server) -> None:
    site = new_site("uid")
    ids = json_hit(srv, si=site, uid="1650000000000.123456789")
    assert ids["userId"] == "1650000000000.123456789"
    assert only_event(srv, site)["use_id"] == "1650000000000.123456789"


def test_lb_uid_sets_the_user(srv: Server) -> None:
    site = new_site("lbuid")
    ids = json_hit(srv, si=site, lb_uid="1650000000001.222333444")
    assert ids["userId"] == "1650000000001.222333444"
    event = only_event(srv, site)
    assert event["use_id"] == "1650000000001.222333444"
    assert "lb_uid" not in event["properties"]  # type: ignore[operator]


@pytest.mark.parametrize(
    "otui",
    [
        "602796880.1646657290585.1646657290585.1646657290585.1.1",
        "602796880.1646657290585.1646657290585.1646657290585.1.1.0",  # LeadBoxer's example
    ],
    ids=["6-fields", "7-fields"],
)
def test_otui_user_id_is_its_first_two_fields_swapped(srv: Server, otui: str) -> None:
    site = new_site("otui")
    ids = json_hit(srv, si=site, otui=otui)
    assert ids["userId"] == "1646657290585.602796880"
    assert only_event(srv, site)["use_id"] == "1646657290585.602796880"


# ---------------------------------------------------------------------- session ids
def test_sid_sets_the_session(srv: Server) -> None:
    site = new_site("sid")
    ids = json_hit(srv, si=site, uid="1650000000000.111111111", sid="1650000999999.555666777")
    assert ids["sessionId"] == "1650000999999.555666777"
    event = only_event(srv, site)
    assert event["session_id"] == "1650000999999.555666777"
    assert event["explicit_session"] is True


def test_ots_session_id_is_visit_start_and_user_random_part(srv: Server) -> None:
    site = new_site("ots")
    ids = json_hit(
        srv,
        si=site,
        uid="1650000000000.987654321",
        ots="3.1650000500000.1650000600000.1650000700000",
    )
    assert ids["sessionId"] == "1650000500000.987654321"
    assert only_event(srv, site)["session_id"] == "1650000500000.987654321"


def test_otui_and_ots_together(srv: Server) -> None:
    site = new_site("otui-ots")
    ids = json_hit(
        srv,
        si=site,
        otui="602796880.1646657290585.1646657290585.1646657290585.1.1",
        ots="1.1646657290585.1646657290585.1646657290585",
    )
    assert ids["userId"] == "1646657290585.602796880"
    assert ids["sessionId"] == "1646657290585.602796880"


# ---------------------------------------------------------------------- eid
def test_repeated_eid_is_stored_once_and_counted_as_duplicate(srv: Server) -> None:
    site = new_site("eid")
    before = stats(srv)["duplicates"]
    first = json_hit(srv, si=site, eid="order-42", uid="1650000000000.100000001", ti="Buy")
    again = json_hit(srv, si=site, eid="order-42", uid="1650000000000.100000001", ti="Buy")
    stored = events(srv, site=site)
    assert len(stored) == 1
    assert stored[0]["event_id"] == "order-42"
    assert first["eventId"] == again["eventId"] == "order-42"
    assert again["userId"] == first["userId"]
    assert again["sessionId"] == first["sessionId"] == stored[0]["session_id"]
    assert stats(srv)["duplicates"] == before + 1


def test_repeated_eid_keeps_the_first_event(srv: Server) -> None:
    site = new_site("eid")
    json_hit(srv, si=site, eid="e-1", ti="first", uid="1650000000000.100000002")
    dup = json_hit(srv, si=site, eid="e-1", ti="second", uid="1650000000000.100000003")
    stored = only_event(srv, site)
    assert stored["ti"] == "first"
    assert stored["use_id"] == "1650000000000.100000002"
    assert dup["userId"] == "1650000000000.100000002"  # the stored ids, not the request's


def test_same_eid_in_two_datasets_is_two_events(srv: Server) -> None:
    a, b = new_site("eid-a"), new_site("eid-b")
    ra = json_hit(srv, si=a, eid="shared-1")
    rb = json_hit(srv, si=b, eid="shared-1")
    assert ra["eventId"] == rb["eventId"] == "shared-1"
    assert [e["event_id"] for e in events(srv, site=a)] == ["shared-1"]
    assert [e["event_id"] for e in events(srv, site=b)] == ["shared-1"]


def test_eid_repeated_over_gif_hits_is_stored_once(srv: Server) -> None:
    site = new_site("eid-gif")
    for _ in range(3):
        gif_hit(srv, si=site, eid="beacon-7", uid="1650000000000.100000004")
    assert [e["event_id"] for e in events(srv, site=site)] == ["beacon-7"]


def test_unusable_eid_is_ignored_and_counted(srv: Server) -> None:
    site = new_site("eid-long")
    before = stats(srv)["ignored"].get("invalid_eid", 0)
    ids = json_hit(srv, si=site, eid="x" * 200)
    event = only_event(srv, site)
    assert event["event_id"] == ids["eventId"]
    assert ID_RE.fullmatch(str(event["event_id"]))
    assert stats(srv)["ignored"].get("invalid_eid", 0) == before + 1


# ---------------------------------------------------------------------- t_ms
def test_t_ms_is_the_event_time(srv: Server) -> None:
    site = new_site("tms")
    json_hit(srv, si=site, t_ms=str(T0 + 5 * MIN))
    event = only_event(srv, site)
    assert event["timestamp"] == T0 + 5 * MIN
    assert event["received"] != event["timestamp"]
    assert "t_ms" not in event["properties"]  # type: ignore[operator]


def test_without_t_ms_the_event_time_is_the_receipt_time(srv: Server) -> None:
    site = new_site("tms")
    json_hit(srv, si=site)
    event = only_event(srv, site)
    assert event["timestamp"] == event["received"]


def test_t_ms_far_in_the_past_is_accepted(srv: Server) -> None:
    site = new_site("tms")
    json_hit(srv, si=site, t_ms="86400000")  # 1970-01-02
    assert only_event(srv, site)["timestamp"] == 86_400_000


# ---------------------------------------------------------------------- proxy / increment
BROWSER_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
    "Referer": "https://shop.example.com/cart",
}


@pytest.mark.parametrize("flag", ["true", "1"])
def test_proxy_hit_takes_nothing_from_the_request(srv: Server, flag: str) -> None:
    site = new_site("proxy")
    r = http(srv).get(
        "/",
        params={"si": site, "proxy": flag, "json": "true"},
        headers=BROWSER_HEADERS,
    )
    assert r.status_code == 200
    event = only_event(srv, site)
    assert event["ip"] == ""
    assert event["user_agent"] == ""
    assert event["referrer"] == ""
    assert event["lc"] == ""
    assert event["increment"] is False
    assert "proxy" not in event["properties"]  # type: ignore[operator]


def test_proxy_hit_keeps_explicit_values(srv: Server) -> None:
    site = new_site("proxy")
    r = http(srv).get(
        "/",
        params={
            "si": site,
            "proxy": "true",
            "increment": "true",
            "ref": "https://news.example.org/",
            "lc": "https://shop.example.com/",
            "json": "true",
        },
        headers=BROWSER_HEADERS,
    )
    assert r.status_code == 200
    event = only_event(srv, site)
    assert event["increment"] is True
    assert event["referrer"] == "https://news.example.org/"
    assert event["lc"] == "https://shop.example.com/"


def test_browser_hit_takes_ip_user_agent_and_referer_from_the_request(srv: Server) -> None:
    site = new_site("noproxy")
    r = http(srv).get("/", params={"si": site, "json": "true"}, headers=BROWSER_HEADERS)
    assert r.status_code == 200
    event = only_event(srv, site)
    assert event["ip"] == "127.0.0.1"
    assert event["user_agent"] == BROWSER_HEADERS["User-Agent"]
    assert event["referrer"] == BROWSER_HEADERS["Referer"]
    assert event["increment"] is True


@pytest.mark.parametrize("value", ["false", "0", "FALSE"])
def test_increment_false_is_stored_but_not_counted(srv: Server, value: str) -> None:
    site = new_site("inc")
    json_hit(srv, si=site, increment=value)
    event = only_event(srv, site)
    assert event["increment"] is False
    assert "increment" not in event["properties"]  # type: ignore[operator]


# ---------------------------------------------------------------------- json / lc / ref
def test_json_flag_is_not_a_property(srv: Server) -> None:
    site = new_site("json")
    ids = json_hit(srv, si=site)
    event = only_event(srv, site)
    assert set(ids) == {"eventId", "userId", "sessionId", "site"}
    assert "json" not in event["properties"]  # type: ignore[operator]


def test_lc_is_the_page_url(srv: Server) -> None:
    site = new_site("lc")
    json_hit(srv, si=site, lc="https://www.example.com/pricing?plan=pro")
    event = only_event(srv, site)
    assert event["lc"] == "https://www.example.com/pricing?plan=pro"
    assert event["properties"]["lc"] == "https://www.example.com/pricing?plan=pro"  # type: ignore[index]


def test_ref_parameter_beats_the_referer_header(srv: Server) -> None:
    site = new_site("ref")
    r = http(srv).get(
        "/",
        params={"si": site, "ref": "https://www.google.com/", "json": "true"},
        headers={"Referer": "https://shop.example.com/cart"},
    )
    assert r.status_code == 200
    assert only_event(srv, site)["referrer"] == "https://www.google.com/"


def test_referer_header_is_the_referrer_without_ref(srv: Server) -> None:
    site = new_site("ref")
    r = http(srv).get(
        "/",
        params={"si": site, "json": "true"},
        headers={"Referer": "https://blog.example.net/post"},
    )
    assert r.status_code == 200
    assert only_event(srv, site)["referrer"] == "https://blog.example.net/post"


# ---------------------------------------------------------------------- properties
def test_identity_and_campaign_names_are_stored_as_properties(srv: Server) -> None:
    site = new_site("props")
    sent = {
        "email": "Ada@Example.com",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "companyName": "Analytical Engines",
        "company": "AE Ltd",
        "phoneNumber": "+44 20 1234 5678",
        "role": "CTO",
        "lb_id": "lb-77",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "launch",
        "utm_term": "engine",
        "utm_content": "header",
        "gclid": "abc123",
        "Custom Field": "spaces in names are fine",
        "case": "lower",
        "Case": "upper",
    }
    json_hit(srv, si=site, ti="Signup", **sent)
    assert only_event(srv, site)["properties"] == {"ti": "Signup", **sent}


def test_control_names_never_appear_in_properties(srv: Server) -> None:
    site = new_site("control")
    params = {
        "si": site,
        "ti": "All controls",
        "uid": "1650000000000.444555666",
        "lb_uid": "1650000000000.777888999",
        "otui": "602796880.1646657290585.1646657290585.1646657290585.1.1",
        "sid": "1650000000000.444555666",
        "ots": "1.1650000000000.1650000000000.1650000000000",
        "eid": "all-controls-1",
        "t_ms": str(T0 + HOUR),
        "proxy": "1",
        "increment": "true",
        "json": "true",
        "keep": "me",
    }
    r = http(srv).get("/", params=params)
    assert r.status_code == 200, r.text
    props = only_event(srv, site)["properties"]
    assert props == {"ti": "All controls", "keep": "me"}
    assert not set(props) & RESERVED_CONTROL  # type: ignore[arg-type]


def test_datasetid_control_name_is_not_a_property(srv: Server) -> None:
    site = new_site("control")
    gif_hit(srv, "/log", datasetId=site, x="1")
    assert only_event(srv, site)["properties"] == {"ti": "Email open", "x": "1"}


def test_plus_and_percent_encoding_are_decoded(srv: Server) -> None:
    site = new_site("enc")
    r = http(srv).get(f"/?si={site}&ti=Hello+World&name%20x=caf%C3%A9&json=true")
    assert r.status_code == 200
    event = only_event(srv, site)
    assert event["ti"] == "Hello World"
    assert event["properties"] == {"ti": "Hello World", "name x": "café"}
