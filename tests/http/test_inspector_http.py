"""SPEC 7.1: `GET /_fakeboxer/ui`, the inspector page, and `GET /_fakeboxer/sites`, the
dataset list it reads, on real servers: served as HTML with the API key the page uses
for the read API, under the same guard as the other control endpoints."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import Server
from tests.http._support import gif_hit, http, json_hit, new_site, running_server

EVERYTHING = "inspector-key-all"
LIMITED = "inspector-key-one:only-this-site"
LIMITED_KEY = LIMITED.split(":", 1)[0]

_KEY_RE = re.compile(r'<meta name="fakeboxer-api-key" content="([^"]*)">')


def page_key(response: httpx.Response) -> str:
    """The API key the server wrote into the page."""
    found = _KEY_RE.search(response.text)
    assert found, response.text[:500]
    return found.group(1)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(
        tmp_path_factory, "--api-key", LIMITED, "--api-key", EVERYTHING, name="inspector"
    ) as server:
        yield server


def test_the_page_is_html_on_loopback_without_a_key(srv: Server) -> None:
    r = http(srv).get("/_fakeboxer/ui")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-store"
    assert "<title>fakeboxer inspector</title>" in r.text
    # No key asked for on loopback; the page gets the server's key that reads every dataset.
    assert page_key(r) == EVERYTHING
    assert http(srv).head("/_fakeboxer/ui").status_code == 200


def test_the_page_only_runs_its_own_script_and_only_talks_to_this_server(srv: Server) -> None:
    r = http(srv).get("/_fakeboxer/ui")
    policy = r.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([A-Za-z0-9_-]+)'", policy)
    assert nonce and f'<script nonce="{nonce.group(1)}">' in r.text
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert r.headers["referrer-policy"] == "no-referrer"
    # Offline and self-contained: nothing is loaded from anywhere else.
    assert not re.search(r"(src|href)=\"(https?:)?//", r.text)
    # A new nonce per answer.
    assert http(srv).get("/_fakeboxer/ui").headers["content-security-policy"] != policy


def test_the_page_uses_the_key_it_was_opened_with(srv: Server) -> None:
    r = http(srv).get("/_fakeboxer/ui", params={"apiKey": LIMITED_KEY})
    assert page_key(r) == LIMITED_KEY
    r = http(srv).get("/_fakeboxer/ui", headers={"x-api-key": LIMITED_KEY})
    assert page_key(r) == LIMITED_KEY
    # An unknown key is no key: on loopback the page still gets a working one.
    r = http(srv).get("/_fakeboxer/ui", params={"apiKey": "not-a-key-of-this-server"})
    assert page_key(r) == EVERYTHING


def test_a_leads_leadcard_url_opens_the_page(srv: Server) -> None:
    site = new_site("card")
    ids = json_hit(srv, si=site, ti="Signup", email="ada@example.com")
    r = http(srv).get("/v1/leads", params={"site": site}, headers={"x-api-key": EVERYTHING})
    assert r.status_code == 200, r.text
    (lead,) = r.json()["data"]
    assert lead["use_id"] == ids["userId"]
    card = httpx.get(lead["leadcard_url"])
    assert card.status_code == 200
    assert card.headers["content-type"].startswith("text/html")


def test_sites_lists_every_dataset_with_its_counts(srv: Server) -> None:
    busy, broken, registered = new_site("busy"), new_site("broken"), new_site("registered")
    for n in range(3):
        gif_hit(srv, si=busy, ti=f"Page {n}", uid=f"1700000000000.{n + 1}")
    gif_hit(srv, si=busy, ti="Again", uid="1700000000000.1")
    bad = http(srv).get("/", params={"si": broken, "t_ms": "yesterday"})
    assert "x-fakeboxer-error" in bad.headers
    created = http(srv).post(
        "/v1/datasets",
        json={"datasetId": registered, "humanName": "Registered <b>shop</b>"},
        headers={"x-api-key": EVERYTHING},
    )
    assert created.status_code == 200, created.text

    r = http(srv).get("/_fakeboxer/sites")
    assert r.status_code == 200
    by_site = {s["site"]: s for s in r.json()["sites"]}
    assert by_site[busy]["leads"] == 3 and by_site[busy]["events"] == 4
    assert by_site[busy]["last_event"] is not None
    assert by_site[broken]["bad_hits"] == 1 and by_site[broken]["leads"] == 0
    assert by_site[registered]["name"] == "Registered <b>shop</b>"  # data, shown as text


def test_off_loopback_the_page_needs_a_key(make_server: Callable[..., Server]) -> None:
    key = "inspector-off-loopback"
    # 0.0.0.0 is not a loopback bind, yet the test still reaches it over 127.0.0.1.
    srv = make_server("--host", "0.0.0.0", "--api-key", key, start=False)
    srv.health_headers = {"x-api-key": key}
    srv.start()
    for path in ("/_fakeboxer/ui", "/_fakeboxer/sites"):
        no_key = httpx.get(srv.url + path)
        assert no_key.status_code == 401
        assert no_key.json() == {"error": "Unauthorized", "message": "Invalid or missing API key"}
        wrong = httpx.get(srv.url + path, headers={"x-api-key": "not-the-right-key"})
        assert wrong.status_code == 401
        assert httpx.get(srv.url + path, headers={"x-api-key": key}).status_code == 200
    ok = httpx.get(f"{srv.url}/_fakeboxer/ui", params={"apiKey": key, "site": "x"})
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "text/html; charset=utf-8"
    assert page_key(ok) == key
