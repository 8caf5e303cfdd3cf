"""Replays of the real clients' exact requests (reference §4)."""

from __future__ import annotations

from tests.api.conftest import KEY, MIN, Api, new_site, new_uid


def test_pipedream_new_lead_poll(api: Api) -> None:
    """components/leadboxer/sources/new-lead-added: x-api-key, `site` on every request;
    reads data[] (iterated reversed), dedupes on use_id, uses first_session_unix_timestamp."""
    site = new_site("pd")
    now = api.app.state.clock.now_ms()
    fresh, old = new_uid(), new_uid()
    api.hit(site, fresh, now - 2 * MIN, email="new@lead.test")
    api.hit(site, old, now - 30 * 86_400_000)
    r = api.client.get(
        "/v1/leads?criteriaTimeFilter=first_session_unix_timestamp|lessthan|6"
        f"&sortBy=lastEvent|desc&site={site}",
        headers={"x-api-key": KEY},
    )
    assert r.status_code == 200
    data = r.json()["data"]
    assert isinstance(data, list)
    assert [lead["use_id"] for lead in reversed(data)] == [fresh]
    ts = int(data[0]["first_session_unix_timestamp"])
    assert abs(ts - (now - 2 * MIN)) < 1000


def test_pipedream_list_leads_action(api: Api) -> None:
    site = new_site("pd")
    api.hit(site, new_uid(), api.app.state.clock.now_ms(), company="Acme")
    r = api.client.get(
        "/v1/leads",
        params={
            "site": site,
            "search": "*",
            "limit": 50,
            "locale": "en_US",
            "criteriaDisplayFilter": ";".join(["company", "person"]),
            "timeField": "eventEsTimestamp",
            "timeZone": "Europe/Amsterdam",
            "sortBy": "lastEvent|desc",
            "criteriaTimeFilter": "eventEsTimestamp|exactly|0",
        },
        headers={"x-api-key": KEY},
    )
    assert r.status_code == 200 and len(r.json()["data"]) == 1


def test_jleadboxer_get_leads_and_sessions_and_events(api: Api) -> None:
    """JleadBoxer GetLeadsRequest with its defaults; then sessions/events without a key."""
    site = new_site("jl")
    uid = new_uid()
    now = api.app.state.clock.now_ms()
    api.hit(site, uid, now - MIN, email="j@lead.test", ti="Home", lc="https://x.test/")
    params = {
        "apiKey": KEY,
        "site": site,
        "search": "*",
        "limit": "50",
        "locale": "en_US",
        "nextToken": "",
        "criteriaTextFilter": "",
        "criteriaNumberFilter": "",
        "criteriaTimeFilter": "",
        "criteriaFieldFilter": "",
        "criteriaExitLinkFilter": "",
        "usePresetExclusionList": "false",
        "usePresetInclusionList": "false",
        "showColumns": "*",
        "email": "me@account.test",
        "login": "",
        "period": "1d",
        "noShortenEmail": "true",
        "date": "",
        "unixTime": "",
        "sortBy": "lastEvent|desc",
        "showLeadList": "",
        "showAllLeadsFor": "",
        "dataType": "jsonData",
        "col": "",
        "hideColumns": "",
        "variant": "zapier",
        "ignoreLocale": "true",
        "dateFormat": "yyyy-MM-dd HH:mm:ss",
    }
    r = api.client.get(
        "/api/views/c_view_leads", params=params, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body["rows"], int) and isinstance(body["total"], int)
    assert isinstance(body["site"], str) and isinstance(body["timeZone"], str)
    assert body["resultsList"][0]["use_id"] == uid
    r = api.client.get("/api/leads/sessions", params={"leadId": uid, "limit": 50})
    assert r.status_code == 200
    sessions = r.json()
    assert sessions["responseCode"] == 200 and sessions["responseMessage"] == "OK"
    sid = sessions["sessions"][0]["session_id"]
    events = api.client.get("/api/leads/events", params={"sessionId": sid, "limit": 50}).json()
    assert events["responseCode"] == 200 and events["events"][0]["ti"] == "Home"


def test_documented_legacy_url_with_trailing_slash(api: Api) -> None:
    site = new_site("doc")
    api.hit(site, new_uid(), api.app.state.clock.now_ms())
    r = api.client.get(
        f"/api/views/c_view_leads/?search=*&dataType=json&variant=zapier&noShortenEmail"
        f"&sortBy=lastEvent|desc&period=1d&limit=50&site={site}&apiKey={KEY}"
    )
    assert r.status_code == 200 and r.json()["total"] == 1


def test_n8n_credential_test_and_lookups(api: Api) -> None:
    headers = {"x-api-key": KEY, "Accept": "application/json", "Content-Type": "application/json"}
    r = api.client.get("/api/ip-lookup?ip=8.8.8.8", headers=headers)
    assert r.status_code == 200 and r.json()["ipIsp"] == "Google LLC"
    r = api.client.get("/api/domain-lookup?domain=leadboxer.com", headers=headers)
    assert r.status_code == 200 and r.json()["output"]["organizationName"] == "LeadBoxer"


def test_metorial_requests(api: Api) -> None:
    site = new_site("mt")
    uid = new_uid()
    api.hit(site, uid, api.app.state.clock.now_ms())
    r = api.client.get(
        f"/api/views/c_view_leads?apiKey={KEY}&site={site}&dataType=json"
        "&noShortenEmail=true&search=*&limit=10&period=7d&sortBy=lastEvent|desc"
    )
    assert r.status_code == 200
    r = api.client.get(f"/api/views/lead_detail?leadId={uid}&site={site}&apiKey={KEY}")
    assert r.json()["resultsList"][0]["use_id"] == uid
    for tail in ("sessions", "events"):
        r = api.client.get(f"/v1/leads/{uid}/{tail}?site={site}", headers={"x-api-key": KEY})
        assert r.status_code == 200 and len(r.json()["data"]) == 1
    assert api.client.get(f"/api/ip-lookup?ip=1.1.1.1&apiKey={KEY}").status_code == 200
    r = api.client.get("/v1/domain-lookup?domain=google.com", headers={"x-api-key": KEY})
    assert r.json()["output"]["organizationName"] == "Google LLC"
