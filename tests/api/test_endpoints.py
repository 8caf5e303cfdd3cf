"""Envelopes and field types of every endpoint (SPEC 5.2), read-your-writes (5.4)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import KEY, MIN, T0, Api, new_site, new_uid

STRING_FIELDS = (
    "use_id",
    "site",
    "esScore",
    "prettyLastEvent",
    "eventEsTimestamp",
    "eventUnixTimestamp",
    "last_session_id",
    "previous_session_id",
    "first_session_unix_timestamp",
    "last_session_unix_timestamp",
    "previous_session_unix_timestamp",
    "last_visit_duration",
    "email",
    "last_browser",
    "last_platform",
    "last_user_agent",
    "last_ip_number",
    "last_resolution_width",
    "last_resolution_height",
    "last_channel",
    "original_channel",
    "last_referrer",
    "original_referrer",
    "original_referrer_domain",
    "entry_root_url",
    "last_original_url",
    "leadcard_url",
    "first_utm_source",
    "last_utm_campaign",
    "last_city",
)
INT_FIELDS = (
    "lastEvent",
    "total_number_visits",
    "total_pages_viewed",
    "total_session_duration",
    "documentExpiryDate",
    "ttl",
)


def check_lead(lead: dict[str, Any]) -> None:
    for name in STRING_FIELDS:
        assert isinstance(lead[name], str), name
    for name in INT_FIELDS:
        assert isinstance(lead[name], int) and not isinstance(lead[name], bool), name
    assert lead["type"] == {"name": "user"}
    assert isinstance(lead["customEventInfo"], dict)
    assert int(lead["esScore"]) in range(0, 101)


def seed(api: Api) -> tuple[str, str, str]:
    site, ann, bob = new_site(), new_uid(), new_uid()
    api.hit(
        site,
        ann,
        T0,
        lc="https://example.com/landing?utm_source=news",
        utm_source="news",
        utm_campaign="spring",
        ref="https://www.google.com/search?q=x",
        ti="Landing",
        email="ann@example.com",
        firstName="Ann",
        lastName="Smith",
        ip="8.8.8.8",
        sw="1728",
        sh="1117",
    )
    api.hit(
        site,
        ann,
        T0 + MIN,
        lc="https://example.com/pricing",
        ti="Pricing",
        utm_campaign="summer",
        ip="8.8.8.8",
    )
    api.hit(site, ann, T0 + 3 * 60 * MIN, lc="https://example.com/again", ti="Again", ip="8.8.8.8")
    api.hit(site, bob, T0 + 2 * MIN, lc="https://acme.example/", company="Acme", ti="Home")
    return site, ann, bob


def test_legacy_list_envelope_and_types(api: Api) -> None:
    site, ann, bob = seed(api)
    body = api.legacy("/api/views/c_view_leads", site=site).json()
    assert set(body) == {"rows", "nextToken", "total", "resultsList", "site", "timeZone"}
    assert body["rows"] == 2 and body["total"] == 2 and body["site"] == site
    assert body["timeZone"] == "Europe/Amsterdam" and body["nextToken"] is None
    assert [lead["use_id"] for lead in body["resultsList"]] == [ann, bob]  # lastEvent desc
    for lead in body["resultsList"]:
        check_lead(lead)


def test_lead_fields(api: Api) -> None:
    site, ann, _ = seed(api)
    lead = api.v1(f"/v1/leads/{ann}", site=site).json()
    check_lead(lead)
    assert lead["use_id"] == ann and lead["site"] == site
    assert lead["lastEvent"] == T0 + 180 * MIN
    assert lead["eventEsTimestamp"] == str(T0 + 180 * MIN)
    assert lead["first_session_unix_timestamp"] == str(T0)
    assert lead["total_number_visits"] == 2 and lead["total_pages_viewed"] == 3
    assert lead["previous_session_id"] != lead["last_session_id"]
    assert lead["previous_session_unix_timestamp"] == str(T0)
    assert lead["last_session_unix_timestamp"] == str(T0 + 180 * MIN)
    assert lead["email"] == "ann@example.com" and lead["firstName"] == "Ann"
    assert lead["entry_root_url"] == "https://example.com"
    assert lead["last_original_url"] == "https://example.com/again"
    assert lead["first_utm_campaign"] == "spring" and lead["last_utm_campaign"] == "summer"
    assert lead["original_referrer_domain"] == "www.google.com"
    assert lead["last_resolution_width"] == "1728"
    assert lead["last_ip_number"] == "8.8.8.8" and lead["last_city"] == "Mountain View"
    assert lead["last_inet_aton"] == str(8 * 2**24 + 8 * 2**16 + 8 * 2**8 + 8)
    assert lead["customEventInfo"]["firstName"] == "Ann"
    assert lead["lastName"] == "Smith"  # folded property as a flat key
    assert lead["documentExpiryDate"] == lead["lastEvent"] + lead["ttl"]
    assert lead["leadcard_url"].endswith(f"/_fakeboxer/ui?site={site}&lead={ann}")


def test_reserved_field_wins_over_property(api: Api) -> None:
    site, uid = new_site(), new_uid()
    api.hit(site, uid, T0, use_id="spoofed", lastEvent="not-a-number", esScore="99", ti="x")
    lead = api.v1(f"/v1/leads/{uid}", site=site).json()
    assert lead["use_id"] == uid and lead["lastEvent"] == T0
    assert lead["customEventInfo"]["use_id"] == "spoofed"


def test_lead_detail_and_404(api: Api) -> None:
    site, ann, _ = seed(api)
    body = api.legacy("/api/views/lead_detail", site=site, leadId=ann).json()
    assert list(body) == ["resultsList"] and body["resultsList"][0]["use_id"] == ann
    for r in (
        api.legacy("/api/views/lead_detail", site=site, leadId="nobody"),
        api.v1("/v1/leads/nobody", site=site),
        api.v1("/v1/leads/nobody/sessions"),
        api.v1("/v1/leads/nobody/events"),
        api.v1("/v1/leads/sessions", leadId="nobody"),
        api.v1("/v1/leads/events", sessionId="nosession"),
        api.legacy("/api/leads/sessions", leadId="nobody"),
    ):
        assert r.status_code == 404, r.url
        assert set(r.json()) == {"error", "message"}


def test_sessions_and_events(api: Api) -> None:
    site, ann, _ = seed(api)
    legacy = api.legacy("/api/leads/sessions", leadId=ann, limit=50).json()
    assert set(legacy) == {"sessions", "responseCode", "responseMessage"}
    assert legacy["responseCode"] == 200 and legacy["responseMessage"] == "OK"
    sessions = legacy["sessions"]
    assert len(sessions) == 2 and sessions[0]["start"] > sessions[1]["start"]
    first = sessions[1]
    for name in (
        "session_id",
        "use_id",
        "site",
        "entry_url",
        "entry_title",
        "exit_url",
        "referrer",
        "channel",
    ):
        assert isinstance(first[name], str), name
    for name in ("start", "end", "duration", "events", "pages_viewed"):
        assert isinstance(first[name], int), name
    assert first["duration"] == MIN and first["events"] == 2 and first["pages_viewed"] == 2
    assert first["entry_url"].startswith("https://example.com/landing")
    assert first["exit_url"] == "https://example.com/pricing"
    assert isinstance(first["properties"], dict)

    v1 = api.v1("/v1/leads/sessions", site=site, leadId=ann).json()
    assert set(v1) == {"data", "nextToken"} and v1["data"] == sessions
    assert api.v1(f"/v1/leads/{ann}/sessions", site=site).json()["data"] == sessions

    events = api.legacy("/api/leads/events", sessionId=first["session_id"], limit=50).json()
    assert set(events) == {"events", "responseCode", "responseMessage"}
    assert [e["ti"] for e in events["events"]] == ["Pricing", "Landing"]
    event = events["events"][0]
    for name in ("event_id", "session_id", "use_id", "site", "ti", "lc"):
        assert isinstance(event[name], str)
    assert isinstance(event["timestamp"], int) and isinstance(event["properties"], dict)

    v1e = api.v1("/v1/leads/events", site=site, sessionId=first["session_id"]).json()
    assert set(v1e) == {"data", "nextToken"} and v1e["data"] == events["events"]
    all_events = api.v1(f"/v1/leads/{ann}/events", site=site).json()["data"]
    assert [e["ti"] for e in all_events] == ["Again", "Pricing", "Landing"]


def test_session_and_event_paging(api: Api) -> None:
    site, uid = new_site(), new_uid()
    for i in range(7):
        api.hit(site, uid, T0 + i * 60 * MIN, ti=f"p{i}")  # 7 sessions (30 min timeout)
    seen: list[str] = []
    token = None
    while True:
        params = {"site": site, "limit": 3, **({"nextToken": token} if token else {})}
        body = api.v1(f"/v1/leads/{uid}/sessions", **params).json()
        seen += [s["session_id"] for s in body["data"]]
        token = body["nextToken"]
        if token is None:
            break
    assert len(seen) == len(set(seen)) == 7
    titles: list[str] = []
    token = None
    while True:
        params = {"site": site, "limit": 2, **({"nextToken": token} if token else {})}
        body = api.v1(f"/v1/leads/{uid}/events", **params).json()
        titles += [e["ti"] for e in body["data"]]
        token = body["nextToken"]
        if token is None:
            break
    assert titles == [f"p{i}" for i in reversed(range(7))]


def test_hit_is_visible_in_next_api_call(api: Api) -> None:
    site = new_site()
    for i in range(30):
        uid = new_uid()
        api.hit(site, uid, T0 + i, email=f"u{i}@example.com")  # no json=true, no sleep
        body = api.v1("/v1/leads", site=site, limit=1).json()
        assert body["total"] == i + 1
        assert body["data"][0]["use_id"] == uid
        assert api.v1(f"/v1/leads/{uid}", site=site).status_code == 200


def test_lookups(api: Api) -> None:
    r = api.v1("/v1/ip-lookup", ip="8.8.8.8")
    body = r.json()
    assert body["ipCountryCode"] == "US" and body["searchIp"] == "8.8.8.8"
    assert isinstance(body["searchResponseTimeMs"], float | int)
    unknown = api.v1("/api/ip-lookup", ip="100.64.1.1").json()
    assert unknown["ipCity"] == "" and unknown["ipCountryCode"] == "" and unknown["ipRange"] == ""
    assert api.v1("/api/ip-lookup", ip="2001:4860::8888").json()["ipIsp"] == "Google LLC"
    for bad in ("999.1.1.1", "abc", ""):
        r = api.v1("/api/ip-lookup", ip=bad)
        assert r.status_code == 400 and r.json()["error"] == "bad_parameter"
        assert "ip" in r.json()["message"]
    out = api.v1("/v1/domain-lookup", domain="https://www.example.com/x").json()["output"]
    assert out["organizationName"] == "Example Corp" and out["organizationDomain"] == "example.com"
    assert out["organizationAddress"]["organizationCountryCode"] == "NL"
    empty = api.v1("/api/domain-lookup", domain="unknown-company.test").json()["output"]
    assert empty["organizationName"] == "" and empty["organizationDomainAliases"] == []
    assert api.v1("/api/domain-lookup", domain="not a domain").status_code == 400
    assert api.v1("/api/domain-lookup").status_code == 400


def test_jsonp_callback_on_legacy(api: Api) -> None:
    site, ann, _ = seed(api)
    r = api.client.get(
        "/api/views/lead_detail",
        params={"site": site, "leadId": ann, "apiKey": KEY, "callback": "cb"},
    )
    assert r.headers["content-type"].startswith("application/javascript")
    assert r.text.startswith("/**/cb(") and r.text.endswith(");")
