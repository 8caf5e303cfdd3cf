"""SPEC 2.1 and 2.4: which answer each kind of collector request gets (GIF, text, JSON),
POST bodies, CORS, preflight, and the paths that are not hits."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest

from tests.conftest import Server
from tests.http._support import (
    ID_RE,
    cookie_headers,
    events,
    gif_hit,
    http,
    jar,
    json_hit,
    new_site,
    shared_server,
    stats,
)

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
NO_CACHE = "no-cache, no-store, must-revalidate"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    return shared_server(request, tmp_path_factory)


def assert_gif(r: httpx.Response) -> None:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/gif"
    assert r.content == GIF
    assert len(r.content) == 43
    assert r.content.startswith(b"GIF89a")
    assert r.headers["cache-control"] == NO_CACHE
    assert "x-fakeboxer-error" not in r.headers


# ---------------------------------------------------------------------- GIF answers
def test_get_hit_gets_the_gif_with_cookies(srv: Server) -> None:
    site = new_site("gif")
    r = jar(srv).get("/", params={"si": site, "ti": "Home"})
    assert_gif(r)
    assert {"_otui", "_ots"} <= set(cookie_headers(r))
    assert len(events(srv, site=site)) == 1


def test_email_pixel_gets_the_gif_for_get_and_post(srv: Server) -> None:
    site = new_site("log")
    r = jar(srv).get("/log", params={"datasetId": site, "campaign": "c1"})
    assert_gif(r)
    assert {"_otui", "_ots"} <= set(cookie_headers(r))
    r = jar(srv).post("/log", data={"datasetId": site, "campaign": "c2"})
    assert_gif(r)
    stored = events(srv, site=site)
    assert sorted(e["properties"]["campaign"] for e in stored) == ["c1", "c2"]
    assert {e["ti"] for e in stored} == {"Email open"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "image/*"},
        {"Accept": "image/avif,image/webp,*/*;q=0.8"},
        {"Accept": "image/gif"},
        {"Sec-Fetch-Dest": "image"},
        {"Accept": "*/*", "Sec-Fetch-Dest": "image"},
    ],
    ids=["accept-image-star", "accept-avif-first", "accept-gif", "fetch-dest", "both"],
)
def test_post_from_an_image_context_gets_the_gif(srv: Server, headers: dict[str, str]) -> None:
    site = new_site("imgpost")
    r = jar(srv).post("/", data={"si": site}, headers=headers)
    assert_gif(r)
    assert {"_otui", "_ots"} <= set(cookie_headers(r))
    assert len(events(srv, site=site)) == 1


def test_head_hit_gets_gif_headers_without_a_body(srv: Server) -> None:
    site = new_site("head")
    r = http(srv).head("/", params={"si": site})
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/gif"
    assert r.content == b""


# ---------------------------------------------------------------------- text answers
@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept": "text/html,image/webp,*/*"}, {"Accept": "application/json"}],
    ids=["default-accept", "html-first", "json-accept"],
)
def test_server_side_post_gets_the_event_id_as_text(srv: Server, headers: dict[str, str]) -> None:
    site = new_site("text")
    r = http(srv).post("/", data={"si": site, "ti": "Server side"}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "set-cookie" not in r.headers
    stored = events(srv, site=site)
    assert [e["event_id"] for e in stored] == [r.text]
    assert ID_RE.fullmatch(r.text)


def test_text_answer_echoes_a_client_event_id(srv: Server) -> None:
    site = new_site("text")
    r = http(srv).post("/", data={"si": site, "eid": "srv-evt-1"})
    assert r.status_code == 200
    assert r.text == "srv-evt-1"
    assert [e["event_id"] for e in events(srv, site=site)] == ["srv-evt-1"]


# ---------------------------------------------------------------------- JSON answers
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("flag", ["true", "1"])
def test_json_answer_carries_the_stored_ids(srv: Server, method: str, flag: str) -> None:
    site = new_site("json")
    c = http(srv)
    params = {"si": site, "ti": "J", "json": flag}
    r = c.get("/", params=params) if method == "GET" else c.post("/", data=params)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"eventId", "userId", "sessionId", "site"}
    assert body["site"] == site
    # Sent after the commit: readable at once, and equal to what is stored.
    (event,) = events(srv, site=site)
    assert body["eventId"] == event["event_id"]
    assert body["userId"] == event["use_id"]
    assert body["sessionId"] == event["session_id"]
    assert ID_RE.fullmatch(body["userId"])
    assert "set-cookie" not in r.headers


def test_json_flag_beats_an_image_accept_header(srv: Server) -> None:
    site = new_site("json")
    r = http(srv).get("/", params={"si": site, "json": "true"}, headers={"Accept": "image/*"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json()["site"] == site


def test_json_flag_false_is_a_gif(srv: Server) -> None:
    site = new_site("json")
    r = http(srv).get("/", params={"si": site, "json": "false"})
    assert_gif(r)


# ---------------------------------------------------------------------- POST bodies
def test_post_body_overrides_query_pairs(srv: Server) -> None:
    query_site, body_site = new_site("q"), new_site("b")
    r = http(srv).post(
        "/",
        params={"si": query_site, "ti": "from query", "color": "red", "only_query": "1"},
        data={"si": body_site, "ti": "from body", "color": "blue", "json": "true"},
    )
    assert r.status_code == 200
    assert r.json()["site"] == body_site
    assert events(srv, site=query_site) == []
    (event,) = events(srv, site=body_site)
    assert event["ti"] == "from body"
    assert event["properties"] == {"ti": "from body", "color": "blue", "only_query": "1"}


def test_post_query_pairs_count_when_the_body_lacks_them(srv: Server) -> None:
    site = new_site("qb")
    r = http(srv).post("/", params={"si": site, "json": "true"}, data={"ti": "T", "x": "1"})
    assert r.status_code == 200
    (event,) = events(srv, site=site)
    assert event["properties"] == {"ti": "T", "x": "1"}


def test_post_text_plain_body_is_read_as_a_form(srv: Server) -> None:
    site = new_site("tp")
    r = http(srv).post(
        "/",
        content=f"si={site}&ti=Beacon&x=1&json=true".encode(),
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
    assert r.status_code == 200
    (event,) = events(srv, site=site)
    assert event["properties"] == {"ti": "Beacon", "x": "1"}


def test_post_json_object_body_is_read(srv: Server) -> None:
    site = new_site("jb")
    body = {"si": site, "ti": "JSON body", "n": 3, "ok": True, "none": None, "json": True}
    r = http(srv).post(
        "/", content=orjson.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    (event,) = events(srv, site=site)
    assert event["properties"] == {"ti": "JSON body", "n": "3", "ok": "true", "none": ""}


# ---------------------------------------------------------------------- CORS
ORIGIN = "https://shop.example.com"


def assert_cors(r: httpx.Response) -> None:
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"


def test_cors_echoes_the_origin_on_every_kind_of_answer(srv: Server) -> None:
    site = new_site("cors")
    c = http(srv)
    gif = c.get("/", params={"si": site}, headers={"Origin": ORIGIN})
    text = c.post("/", data={"si": site}, headers={"Origin": ORIGIN})
    js = c.get("/", params={"si": site, "json": "true"}, headers={"Origin": ORIGIN})
    bad = c.get("/", params={"ti": "no dataset"}, headers={"Origin": ORIGIN})
    for r in (gif, text, js, bad):
        assert_cors(r)
    assert gif.headers["content-type"] == "image/gif"
    assert text.headers["content-type"].startswith("text/plain")
    assert js.headers["content-type"] == "application/json"
    assert bad.headers["x-fakeboxer-error"] == "missing_dataset"
    # The error header must be readable by fetch() from the page.
    assert "x-fakeboxer-error" in bad.headers["access-control-expose-headers"].lower()
    assert len(events(srv, site=site)) == 3


def test_no_origin_no_cors_credentials(srv: Server) -> None:
    r = http(srv).get("/", params={"si": new_site("cors")})
    assert "access-control-allow-credentials" not in r.headers
    assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("path", ["/", "/log"])
def test_preflight_is_answered_204_and_is_not_a_hit(srv: Server, path: str) -> None:
    before = stats(srv)
    r = http(srv).options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-custom",
        },
    )
    assert r.status_code == 204
    assert r.content == b""
    assert_cors(r)
    methods = {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST"} <= methods
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    assert "x-custom" in r.headers["access-control-allow-headers"].lower()
    after = stats(srv)
    assert (after["hits"], after["events"]) == (before["hits"], before["events"])


def test_other_methods_are_refused_and_not_stored(srv: Server) -> None:
    site = new_site("put")
    r = http(srv).put(f"/?si={site}")
    assert r.status_code == 405
    assert events(srv, site=site) == []


# ---------------------------------------------------------------------- not hits
@pytest.mark.parametrize(
    "target",
    [
        "/favicon.ico",
        "/robots.txt",
        "/index.html?si={site}",
        "/log/extra?si={site}",
        "/x?si={site}",
    ],
)
def test_unknown_paths_are_404_and_never_an_event(srv: Server, target: str) -> None:
    site = new_site("unknown")
    before = stats(srv)
    r = http(srv).get(target.format(site=site))
    assert r.status_code == 404
    assert events(srv, site=site) == []
    after = stats(srv)
    assert (after["hits"], after["events"]) == (before["hits"], before["events"])


@pytest.mark.parametrize(
    "target",
    ["/?dataset={site}", "/?account={site}", "/?site={site}", "/pixel.js?dataset={site}"],
)
def test_pixel_script_route_is_not_a_hit(srv: Server, target: str) -> None:
    site = new_site("pixel")
    before = stats(srv)
    r = http(srv).get(target.format(site=site))
    if r.status_code == 200:
        assert r.headers["content-type"].startswith("application/javascript")
    else:
        assert r.status_code == 404
        assert r.json()["error"] == "no_pixel"
    assert "x-fakeboxer-error" not in r.headers
    assert events(srv, site=site) == []
    after = stats(srv)
    assert (after["hits"], after["events"], after["bad_hits"]["total"]) == (
        before["hits"],
        before["events"],
        before["bad_hits"]["total"],
    )


def test_post_with_dataset_in_the_query_and_si_in_the_body_is_a_hit(srv: Server) -> None:
    site = new_site("postds")
    r = http(srv).post("/?dataset=ds1", data={"si": site, "ti": "Form", "json": "true"})
    assert r.status_code == 200, r.text
    (event,) = events(srv, site=site)
    assert event["properties"] == {"ti": "Form", "dataset": "ds1"}


def test_dataset_next_to_si_is_a_hit_and_a_property(srv: Server) -> None:
    site = new_site("sids")
    gif_hit(srv, si=site, dataset="other")
    (event,) = events(srv, site=site)
    assert event["properties"] == {"ti": "NO TITLE", "dataset": "other"}


def test_any_host_name_is_accepted(srv: Server) -> None:
    site = new_site("host")
    ids = json_hit(srv, si=site)
    r = http(srv).get(
        "/", params={"si": site, "json": "true"}, headers={"Host": "log.leadboxer.com"}
    )
    assert r.status_code == 200
    assert r.json()["site"] == ids["site"]
    assert len(events(srv, site=site)) == 2
