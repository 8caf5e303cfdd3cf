"""Off loopback the control endpoints need an API key (SPEC 7.1)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import Server

KEY = "control-key-0001"


def test_control_endpoints_need_a_key_off_loopback(make_server: Callable[..., Server]) -> None:
    # 0.0.0.0 is not a loopback bind, yet the test still reaches it over 127.0.0.1.
    server = make_server("--host", "0.0.0.0", "--api-key", KEY, start=False)
    server.health_headers = {"x-api-key": KEY}
    server.start()
    no_key = httpx.get(f"{server.url}/_fakeboxer/stats")
    assert no_key.status_code == 401
    assert no_key.json() == {"error": "Unauthorized", "message": "Invalid or missing API key"}
    wrong = httpx.get(f"{server.url}/_fakeboxer/stats", headers={"x-api-key": "nope-nope-nope"})
    assert wrong.status_code == 401
    ok = httpx.get(f"{server.url}/_fakeboxer/stats", headers={"x-api-key": KEY})
    assert ok.status_code == 200 and "events" in ok.json()
    assert httpx.get(f"{server.url}/_fakeboxer/health", params={"apiKey": KEY}).status_code == 200
    # the collector itself needs no key
    assert httpx.get(f"{server.url}/", params={"si": "open", "ti": "x"}).status_code == 200
