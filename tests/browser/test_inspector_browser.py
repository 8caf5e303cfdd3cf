"""The inspector page (`/_fakeboxer/ui`, SPEC 7.1) in Chromium, against a real server:
a lead's `leadcard_url` opens its sessions and events, new hits appear in the live tail
without a reload, bad hits are listed, and stored values render as text, never markup."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.browser.conftest import Watched
from tests.conftest import Server
from tests.http._support import running_server

KEY = "inspector-browser-key"
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z
MIN = 60_000
HOUR = 60 * MIN
PAYLOAD = "<img src=x onerror=\"window.__xss=1;alert('xss')\">"
PAYLOAD_NAME = "<svg onload=alert(2)>"

OpenPage = Callable[..., Watched]
_uids = itertools.count(1)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a known key, so the test reads leads the way the page does."""
    with running_server(tmp_path_factory, "--api-key", KEY, name="inspector-browser") as server:
        yield server


def new_uid() -> str:
    return f"{T0}.{next(_uids):09d}"


def hit(srv: Server, **params: Any) -> dict[str, Any]:
    """A hit answered after its commit (json=true)."""
    r = httpx.get(f"{srv.url}/", params={**params, "json": "true"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def lead(srv: Server, site: str, uid: str) -> dict[str, Any]:
    r = httpx.get(f"{srv.url}/v1/leads/{uid}", params={"site": site}, headers={"x-api-key": KEY})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def open_inspector(open_page: OpenPage, url: str) -> tuple[Watched, list[str]]:
    """The page at `url`, with the messages of any dialog it opens (none, ever)."""
    w = open_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    w.page.on("dialog", on_dialog)
    w.page.goto(url)
    return w, dialogs


def texts(w: Watched, selector: str) -> list[str]:
    return [t.strip() for t in w.page.locator(selector).all_inner_texts()]


def test_leadcard_url_opens_the_leads_sessions_and_events(
    srv: Server, open_page: OpenPage, site: str
) -> None:
    uid, other = new_uid(), new_uid()
    first = hit(srv, si=site, uid=uid, t_ms=T0, ti="Home", lc="https://shop.test/")
    hit(srv, si=site, uid=uid, t_ms=T0 + MIN, ti="Pricing", lc="https://shop.test/pricing")
    second = hit(srv, si=site, uid=uid, t_ms=T0 + 2 * HOUR, ti="Docs", plan="pro")
    hit(srv, si=site, uid=other, t_ms=T0, ti="Someone else")
    card = lead(srv, site, uid)["leadcard_url"]
    assert card == f"{srv.url}/_fakeboxer/ui?site={quote(site, safe='')}&lead={uid}"

    w, dialogs = open_inspector(open_page, card)
    page = w.page
    page.locator("#sessions tr.session").nth(1).wait_for()
    assert page.locator("#lead-title").inner_text() == uid
    sessions = texts(w, "#sessions tr.session td:first-child")
    assert sessions == [second["sessionId"], first["sessionId"]]  # newest first
    page.locator("#lead-events tr.lead-event").nth(2).wait_for()
    titles = texts(w, "#lead-events tr.lead-event td:nth-child(3)")
    assert titles == ["Docs", "Pricing", "Home"]  # this lead's only, newest first
    assert "plan = pro" in page.locator("#lead-events tr.lead-event").first.inner_text()
    assert "2" in page.locator("#lead-fields").inner_text()  # visits

    # One session's events.
    page.locator("#sessions tr.session button", has_text=first["sessionId"]).click()
    page.wait_for_function("document.querySelectorAll('#lead-events tr.lead-event').length === 2")
    assert texts(w, "#lead-events tr.lead-event td:nth-child(3)") == ["Pricing", "Home"]
    page.locator("#session-all").click()
    page.wait_for_function("document.querySelectorAll('#lead-events tr.lead-event').length === 3")

    # The page read the lead through the read API with the key the server gave it.
    assert page.locator("#lead-info").inner_text() == ""
    assert w.errors == [] and w.console_errors == [] and dialogs == []


def test_a_new_hit_appears_in_the_live_tail_without_a_reload(
    srv: Server, open_page: OpenPage, site: str
) -> None:
    hit(srv, si=site, uid=new_uid(), ti="Before")
    w, _ = open_inspector(open_page, f"{srv.url}/_fakeboxer/ui?site={site}")
    page = w.page
    page.locator("#tail tr.event", has_text="Before").wait_for()
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    uid = new_uid()
    hit(srv, si=site, uid=uid, ti="Arrived live", color="green")
    row = page.locator("#tail tr.event", has_text="Arrived live")
    row.wait_for()
    assert page.evaluate("window.sameDocument") is True
    assert "new" in (row.get_attribute("class") or "").split()
    assert uid in row.inner_text() and "color = green" in row.inner_text()
    # The leads table follows new events too.
    page.locator("#leads tr.lead", has_text=uid).wait_for()

    # The tail's lead links open that lead.
    row.locator("button", has_text=uid).click()
    page.locator("#lead-events tr.lead-event", has_text="Arrived live").wait_for()
    assert page.evaluate("new URLSearchParams(location.search).get('lead')") == uid
    assert w.errors == [] and w.console_errors == []


def test_bad_hits_are_listed(srv: Server, open_page: OpenPage, site: str) -> None:
    r = httpx.get(f"{srv.url}/", params={"si": site, "ti": "Late", "t_ms": "tomorrow"})
    assert r.headers["x-fakeboxer-error"] == "bad_t_ms"
    w, _ = open_inspector(open_page, f"{srv.url}/_fakeboxer/ui?site={site}")
    page = w.page
    page.locator("#bad tr.bad-hit", has_text="bad_t_ms").wait_for()
    assert "t_ms=tomorrow" in page.locator("#bad tr.bad-hit").first.inner_text()

    # One that arrives while the page is open shows up too.
    r = httpx.post(f"{srv.url}/?si={site}", content=b"<xml/>", headers={"content-type": "text/xml"})
    assert r.json()["error"] == "unsupported_body"
    page.locator("#bad tr.bad-hit", has_text="unsupported_body").wait_for()
    assert page.locator("#bad tr.bad-hit").count() == 2
    assert w.errors == [] and w.console_errors == []


def test_stored_values_render_as_text_never_as_markup(
    srv: Server, open_page: OpenPage, site: str
) -> None:
    uid = new_uid()
    hit(
        srv,
        si=site,
        uid=uid,
        ti=PAYLOAD,
        lc="javascript:alert(3)",
        firstName=PAYLOAD,
        plan=PAYLOAD,
        **{PAYLOAD_NAME: "value"},
    )
    bad = httpx.post(
        f"{srv.url}/?si={site}", content=PAYLOAD.encode(), headers={"content-type": "text/xml"}
    )
    assert bad.status_code == 400

    w, dialogs = open_inspector(open_page, f"{srv.url}/_fakeboxer/ui?site={site}&lead={uid}")
    page = w.page
    tail = page.locator("#tail tr.event").first
    tail.wait_for()
    page.locator("#lead-events tr.lead-event").first.wait_for()
    page.locator("#sessions tr.session").first.wait_for()
    page.locator("#bad tr.bad-hit").first.wait_for()
    page.locator("#lead-fields dd", has_text=PAYLOAD).first.wait_for()

    # Shown verbatim, as text ...
    assert tail.locator("td:nth-child(5)").inner_text() == PAYLOAD
    assert tail.locator("td:nth-child(6)").inner_text() == "javascript:alert(3)"
    properties = tail.locator("td.props").inner_text()
    assert f"plan = {PAYLOAD}" in properties
    assert f"{PAYLOAD_NAME} = value" in properties
    lead_event = page.locator("#lead-events tr.lead-event").first.inner_text()
    assert PAYLOAD in lead_event and PAYLOAD_NAME in lead_event
    assert PAYLOAD in page.locator("#sessions tr.session").first.inner_text()
    assert PAYLOAD in page.locator("#bad tr.bad-hit").first.inner_text()
    # ... and never parsed: no element from the data, no handler ran, no link made of it.
    assert page.locator("img, svg").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert w.errors == [] and w.console_errors == []
