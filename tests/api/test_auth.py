"""SPEC 5.1: keys, 401/403 bodies, CORS and preflight."""

from __future__ import annotations

import duckdb
import pytest

from api.auth import ApiKey, ensure_keys, find_key, parse_key
from collector.settings import Settings
from tests.api.conftest import KEY, LIMITED, T0, Api, new_site, new_uid

UNAUTHORIZED = {"error": "Unauthorized", "message": "Invalid or missing API key"}

GUARDED = [
    "/api/views/c_view_leads?site=x",
    "/api/views/c_view_leads/?site=x",
    "/api/views/lead_detail?leadId=1",
    "/api/ip-lookup?ip=8.8.8.8",
    "/api/domain-lookup?domain=example.com",
    "/v1/leads?site=x",
    "/v1/leads/1",
    "/v1/leads/sessions?leadId=1",
    "/v1/leads/events?sessionId=1",
    "/v1/leads/1/sessions",
    "/v1/leads/1/events",
    "/v1/ip-lookup?ip=8.8.8.8",
    "/v1/domain-lookup?domain=example.com",
]


@pytest.mark.parametrize("path", GUARDED)
def test_missing_key_is_401(api: Api, path: str) -> None:
    r = api.client.get(path)
    assert r.status_code == 401
    assert r.json() == UNAUTHORIZED
    assert r.headers["content-type"] == "application/json"


@pytest.mark.parametrize("path", GUARDED + ["/api/leads/sessions?leadId=1"])
def test_unknown_key_is_401_in_header_and_query(api: Api, path: str) -> None:
    r = api.client.get(path, headers={"x-api-key": "wrong-key-123"})
    assert r.status_code == 401 and r.json() == UNAUTHORIZED
    sep = "&" if "?" in path else "?"
    r = api.client.get(f"{path}{sep}apiKey={KEY}x")
    assert r.status_code == 401 and r.json() == UNAUTHORIZED


def test_key_in_query_and_header_both_work(api: Api) -> None:
    assert (
        api.client.get("/v1/ip-lookup", params={"ip": "1.1.1.1", "apiKey": KEY}).status_code == 200
    )
    assert (
        api.client.get(
            "/api/ip-lookup", params={"ip": "1.1.1.1"}, headers={"x-api-key": KEY}
        ).status_code
        == 200
    )


def test_limited_key_gets_403_for_other_dataset(api: Api) -> None:
    for path in ("/v1/leads", "/api/views/c_view_leads"):
        r = api.v1_key(LIMITED, path, site="site-c")
        assert r.status_code == 403
        body = r.json()
        assert body["error"] == "Forbidden" and set(body) == {"error", "message"}
    r = api.v1_key(LIMITED, "/v1/leads/whatever", site="site-c")
    assert r.status_code == 403
    assert api.v1_key(LIMITED, "/v1/leads", site="site-a").status_code == 200


def test_limited_key_does_not_see_other_datasets_without_site(api: Api) -> None:
    site, uid = new_site(), new_uid()
    api.hit(site, uid, T0)
    assert api.v1(f"/v1/leads/{uid}").status_code == 200
    assert api.v1_key(LIMITED, f"/v1/leads/{uid}").status_code == 404
    assert api.v1_key(LIMITED, f"/v1/leads/{uid}/sessions").status_code == 404


def test_legacy_sessions_and_events_tolerate_missing_key_on_loopback(api: Api) -> None:
    """JleadBoxer sends no apiKey to /api/leads/sessions and /api/leads/events."""
    site, uid = new_site(), new_uid()
    api.hit(site, uid, T0)
    r = api.client.get("/api/leads/sessions", params={"leadId": uid, "limit": 50})
    assert r.status_code == 200
    sid = r.json()["sessions"][0]["session_id"]
    r = api.client.get("/api/leads/events", params={"sessionId": sid, "limit": 50})
    assert r.status_code == 200 and len(r.json()["events"]) == 1


def test_cors_headers_echo_origin(api: Api) -> None:
    origin = "https://app.example.test"
    for r in (
        api.client.get(
            "/v1/ip-lookup", params={"ip": "8.8.8.8"}, headers={"x-api-key": KEY, "origin": origin}
        ),
        api.client.get("/v1/leads", headers={"origin": origin}),  # 401 too
        api.client.get(
            "/v1/leads",
            params={"site": "x", "limit": "zz"},
            headers={"x-api-key": KEY, "origin": origin},
        ),
    ):
        assert r.headers["access-control-allow-origin"] == origin
        assert r.headers["access-control-allow-credentials"] == "true"
    r = api.client.get("/v1/ip-lookup", params={"ip": "8.8.8.8"}, headers={"x-api-key": KEY})
    assert r.headers["access-control-allow-origin"] == "*"


def test_preflight(api: Api) -> None:
    r = api.client.options(
        "/v1/leads",
        headers={
            "origin": "https://a.test",
            "access-control-request-method": "GET",
            "access-control-request-headers": "x-api-key",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://a.test"
    assert "x-api-key" in r.headers["access-control-allow-headers"]
    assert "GET" in r.headers["access-control-allow-methods"]


def test_ensure_keys_configured_and_generated() -> None:
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    keys = ensure_keys(con, Settings(api_keys=("abcdefgh", "ijklmnop:s1,s2")))
    assert keys == [ApiKey("abcdefgh"), ApiKey("ijklmnop", frozenset({"s1", "s2"}))]
    first = ensure_keys(con, Settings())
    again = ensure_keys(con, Settings())
    assert first == again and first[0].generated and len(first[0].key) >= 20


def test_find_key_and_parse() -> None:
    keys = [parse_key("abcdefgh"), parse_key("ijklmnop:s1")]
    assert find_key(keys, "ijklmnop") == keys[1]
    assert find_key(keys, "ijklmno") is None
    assert keys[1].allows("s1") and not keys[1].allows("s2") and keys[0].allows("any")
