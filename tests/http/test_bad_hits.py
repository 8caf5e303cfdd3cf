"""SPEC 2.5 and 8.3: every bad-hit reason reachable over HTTP, in the default (faithful)
mode and in `--strict` mode. A bad hit is never stored as an event, is listed at
/_fakeboxer/bad with its reasons, and is counted by reason in the stats."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from collector.hits import REASONS
from tests.conftest import Server
from tests.http._support import (
    bad_hits,
    events,
    http,
    json_hit,
    new_site,
    running_server,
    shared_server,
    stats,
)

FORM = "application/x-www-form-urlencoded"
DAY = 24 * 3600 * 1000


@pytest.fixture(scope="module")
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    return shared_server(request, tmp_path_factory)


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory, "--strict", name="strict") as server:
        yield server


@dataclass(frozen=True)
class Bad:
    """One way to make a bad hit. `query` and `body` are sent as written; `{site}` and
    `{mark}` are filled in. `body_type` None = a GET (no body)."""

    reason: str
    query: str
    body: str | None = None
    body_type: str = FORM
    has_site: bool = True  # the bad hit is filed under the dataset
    url_too_long: bool = False

    def target(self, site: str, mark: str, extra: str = "") -> str:
        return "/?" + self.query.format(site=site, mark=mark) + extra

    def content(self, site: str, mark: str) -> bytes | None:
        if self.body is None:
            return None
        return self.body.format(site=site, mark=mark).encode("utf-8", "surrogateescape")


def future_ms() -> int:
    return int(time.time() * 1000) + 2 * DAY


CASES: dict[str, Bad] = {
    "missing_dataset": Bad("missing_dataset", "ti=Hello&mark={mark}", has_site=False),
    "missing_dataset_empty": Bad("missing_dataset", "si=&ti=x&mark={mark}", has_site=False),
    "bad_dataset_space": Bad("bad_dataset", "si=my%20site&mark={mark}", has_site=False),
    "bad_dataset_long": Bad("bad_dataset", "si=" + "d" * 129 + "&mark={mark}", has_site=False),
    "bad_dataset_control": Bad("bad_dataset", "si=a%00b&mark={mark}", has_site=False),
    "bad_encoding_escape": Bad("bad_encoding", "si={site}&ti=%ZZ&mark={mark}"),
    "bad_encoding_utf8": Bad("bad_encoding", "si={site}&ti=%FF%FE&mark={mark}"),
    "bad_encoding_body": Bad("bad_encoding", "mark={mark}", body="si={site}&ti=%E0%A4"),
    "bad_body_syntax": Bad(
        "bad_body", "si={site}&mark={mark}", body='{{"ti": ', body_type="application/json"
    ),
    "bad_body_array": Bad(
        "bad_body", "si={site}&mark={mark}", body="[1, 2]", body_type="application/json"
    ),
    "bad_body_nested": Bad(
        "bad_body",
        "si={site}&mark={mark}",
        body='{{"ti": "x", "cart": {{"items": 2}}}}',
        body_type="application/json",
    ),
    "unsupported_body": Bad(
        "unsupported_body", "si={site}&mark={mark}", body="<hit/>", body_type="application/xml"
    ),
    "bad_t_ms_text": Bad("bad_t_ms", "si={site}&t_ms=yesterday&mark={mark}"),
    "bad_t_ms_negative": Bad("bad_t_ms", "si={site}&t_ms=-5&mark={mark}"),
    "bad_t_ms_float": Bad("bad_t_ms", "si={site}&t_ms=1.7e12&mark={mark}"),
    "t_ms_future": Bad("t_ms_future", "si={site}&t_ms=" + "{future}" + "&mark={mark}"),
    "t_ms_huge": Bad("t_ms_future", "si={site}&t_ms=" + "9" * 40 + "&mark={mark}"),
    "too_large_url": Bad("too_large", "si={site}&mark={mark}&pad=" + "p" * 9000, url_too_long=True),
    "too_large_body": Bad("too_large", "si={site}&mark={mark}", body="pad=" + "b" * 70_000),
    "too_large_value": Bad("too_large", "si={site}&mark={mark}", body="v=" + "x" * 5000),
    "too_large_name": Bad("too_large", "si={site}&mark={mark}&" + "n" * 129 + "=1"),
    "too_large_name_utf8": Bad("too_large", "si={site}&mark={mark}&" + "%C3%A9" * 65 + "=1"),
    "too_large_props": Bad(
        "too_large", "si={site}&mark={mark}&" + "&".join(f"p{i}=1" for i in range(201))
    ),
}


def fill(case: Bad) -> Bad:
    if "{future}" in case.query:
        return Bad(case.reason, case.query.replace("{future}", str(future_ms())))
    return case


def send(
    server: Server,
    case: Bad,
    site: str,
    mark: str,
    *,
    style: str,
) -> httpx.Response:
    """style: "gif" (a pixel: GET, or POST with an image Accept), "server" (a POST
    without an image Accept), "json" (json=true)."""
    extra = "&json=true" if style == "json" else ""
    target = case.target(site, mark, extra)
    content = case.content(site, mark)
    headers: dict[str, str] = {}
    method = "GET"
    if content is not None:
        method = "POST"
        headers["Content-Type"] = case.body_type
    if style == "gif" and method == "POST":
        headers["Accept"] = "image/*"
    if style == "server" and method == "GET":
        method = "POST"  # a server-side call with everything in the query
    return http(server).request(method, target, content=content, headers=headers)


def listed(server: Server, case: Bad, site: str, mark: str) -> list[dict[str, object]]:
    found = bad_hits(server, site=site) if case.has_site else bad_hits(server)
    return [b for b in found if mark in str(b["query"])]


def assert_json_error(r: httpx.Response, status: int, reason: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["error"] == reason
    assert isinstance(body["message"], str) and body["message"].strip()
    assert reason in r.headers["x-fakeboxer-error"]


def assert_gif_error(r: httpx.Response, reason: str) -> None:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/gif"
    assert len(r.content) == 43
    assert reason in r.headers["x-fakeboxer-error"].split(",")
    assert "set-cookie" not in r.headers


def test_every_reachable_reason_has_a_case() -> None:
    unreachable = {"internal_error"}  # a fakeboxer bug by definition
    assert {c.reason for c in CASES.values()} == set(REASONS) - unreachable


@pytest.mark.parametrize("name", list(CASES))
def test_bad_hit_default_mode(srv: Server, name: str) -> None:
    case = fill(CASES[name])
    site = new_site("bad")
    good = json_hit(srv, si=site, ti="already stored", keep="me")
    before = stats(srv)
    mark = uuid.uuid4().hex
    gif = send(srv, case, site, mark, style="gif")
    server_side = send(srv, case, site, mark, style="server")
    as_json = send(srv, case, site, mark, style="json")

    assert_gif_error(gif, case.reason)
    assert_json_error(server_side, 400, case.reason)
    assert_json_error(as_json, 400, case.reason)

    kept = listed(srv, case, site, mark)
    assert len(kept) == 3
    for b in kept:
        assert case.reason in b["reasons"]  # type: ignore[operator]
        assert isinstance(b["message"], str) and b["message"]
        assert b["site"] == (site if case.has_site else None)
    after = stats(srv)
    assert after["bad_hits"]["total"] == before["bad_hits"]["total"] + 3
    by_reason_before = before["bad_hits"]["by_reason"].get(case.reason, 0)
    assert after["bad_hits"]["by_reason"][case.reason] == by_reason_before + 3
    # Nothing stored is touched, and nothing new is stored.
    assert after["events"] == before["events"]
    (event,) = events(srv, site=site)
    assert event["event_id"] == good["eventId"]
    assert event["properties"] == {"ti": "already stored", "keep": "me"}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_hit_strict_mode(strict: Server, name: str) -> None:
    case = fill(CASES[name])
    site = new_site("strict")
    before = stats(strict)
    mark = uuid.uuid4().hex
    status = 400
    if case.reason == "too_large":
        status = 414 if case.url_too_long else 413
    for style in ("gif", "server", "json"):
        assert_json_error(send(strict, case, site, mark, style=style), status, case.reason)
    assert len(listed(strict, case, site, mark)) == 3
    after = stats(strict)
    assert after["bad_hits"]["by_reason"][case.reason] == (
        before["bad_hits"]["by_reason"].get(case.reason, 0) + 3
    )
    assert after["events"] == before["events"]


def test_strict_mode_email_pixel_bad_hit_is_400(strict: Server) -> None:
    r = http(strict).get("/log", params={"campaign": "x"})
    assert_json_error(r, 400, "missing_dataset")


def test_default_mode_email_pixel_bad_hit_is_a_gif(srv: Server) -> None:
    r = http(srv).get("/log", params={"campaign": "x", "json": "true"})
    assert_gif_error(r, "missing_dataset")


def test_strict_mode_still_stores_good_hits(strict: Server) -> None:
    site = new_site("strict-ok")
    r = http(strict).get("/", params={"si": site})
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/gif"
    assert "x-fakeboxer-error" not in r.headers
    assert len(events(strict, site=site)) == 1


def test_several_reasons_are_all_reported(srv: Server) -> None:
    mark = uuid.uuid4().hex
    r = http(srv).get(f"/?ti=%ZZ&t_ms=soon&mark={mark}")
    assert r.status_code == 200
    codes = r.headers["x-fakeboxer-error"].split(",")
    assert codes == ["missing_dataset", "bad_encoding", "bad_t_ms"]  # REASONS order
    (kept,) = [b for b in bad_hits(srv) if mark in str(b["query"])]
    assert kept["reasons"] == codes


def test_bad_hit_keeps_the_raw_request(srv: Server) -> None:
    site = new_site("raw")
    mark = uuid.uuid4().hex
    r = http(srv).post(
        f"/?si={site}&mark={mark}&t_ms=later",
        content=b"extra=1&other=%41",
        headers={"Content-Type": FORM, "User-Agent": "raw-test/1.0", "Cookie": "_otui=secret"},
    )
    assert r.status_code == 400
    (kept,) = bad_hits(srv, site=site)
    assert kept["method"] == "POST"
    assert kept["path"] == "/"
    assert kept["query"] == f"si={site}&mark={mark}&t_ms=later"
    assert kept["body"] == "extra=1&other=%41"
    assert kept["reasons"] == ["bad_t_ms"]
    assert kept["ip"] == "127.0.0.1"
    headers = kept["headers"]
    assert isinstance(headers, dict)
    assert headers["user-agent"] == "raw-test/1.0"
    assert "cookie" not in headers  # cookies are not kept with bad hits


def test_t_ms_up_to_a_day_ahead_is_accepted(srv: Server) -> None:
    site = new_site("soon")
    soon = int(time.time() * 1000) + DAY - 60_000
    ids = json_hit(srv, si=site, t_ms=str(soon))
    (event,) = events(srv, site=site)
    assert event["timestamp"] == soon
    assert event["event_id"] == ids["eventId"]


def padding(total: int) -> str:
    """Exactly `total` characters of `&aN=xxx` pairs, each value well under 4 KB."""
    pieces: list[str] = []
    left, n = total, 0
    while left:
        head = f"&a{n}="
        if left - len(head) <= 0:  # too short for another pair: lengthen the previous
            pieces[-1] += "x" * left
            break
        size = min(3000, left - len(head))
        pieces.append(head + "x" * size)
        left -= len(head) + size
        n += 1
    out = "".join(pieces)
    assert len(out) == total
    return out


@pytest.mark.parametrize("over", [0, 1], ids=["at-limit", "over-limit"])
@pytest.mark.parametrize("limit", ["url", "body", "value", "name", "props"])
def test_size_limits_are_inclusive(srv: Server, limit: str, over: int) -> None:
    """Exactly at each default limit of SPEC 8.3 is accepted; one more is too_large."""
    site = new_site("limit")
    query, body = f"si={site}&json=true", ""
    if limit == "url":  # "/" + "?" + query, in bytes
        query += padding(8192 - 2 - len(query) + over)
        assert len(query) + 2 == 8192 + over
    elif limit == "body":
        body = "b=1" + padding(64 * 1024 - 3 + over)
    elif limit == "value":
        body = "v=" + "é" * 2048 + "x" * over  # 4096 bytes of UTF-8, then one more
    elif limit == "name":
        body = "n" * (128 + over) + "=1"
    else:
        body = "&".join(f"p{i}=1" for i in range(200 + over))
    headers = {"Content-Type": FORM} if body else {}
    r = http(srv).request(
        "POST" if body else "GET", f"/?{query}", content=body.encode() or None, headers=headers
    )
    if over:
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "too_large"
        assert events(srv, site=site) == []
    else:
        assert r.status_code == 200, r.text
        (event,) = events(srv, site=site)
        assert event["event_id"] == r.json()["eventId"]
