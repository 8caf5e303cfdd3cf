"""The JavaScript pixel (pixel/lb.js) in Chromium, against a real collector.

Pages come from a page server on another origin (localhost or *.test -> 127.0.0.1) and embed
LeadBoxer's snippet with the host replaced; every assertion reads what the collector stored
(`/_fakeboxer/wait`, `/_fakeboxer/events`).
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import BrowserContext

from tests.browser.conftest import Collector, PageServer, Watched
from tests.conftest import Server

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
OTUI_RE = re.compile(r"(\d{9})\.(\d{13})\.(\d{13})\.(\d{13})\.(\d+)\.(\d+)")
OTS_RE = re.compile(r"(\d+)\.(\d{13})\.(\d{13})\.(\d{13})")
THIRTY_ONE_MIN_MS = 31 * 60 * 1000
CHROMIUM_MAX_AGE_S = 400 * 86400

OpenPage = Callable[..., Watched]
NewContext = Callable[..., BrowserContext]


def html(title: str, body: str = "", head: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body>{body}</body></html>"
    )


def cookies(context: BrowserContext) -> dict[str, dict[str, Any]]:
    return {c["name"]: dict(c) for c in context.cookies()}


def otui_fields(context: BrowserContext) -> list[str]:
    m = OTUI_RE.fullmatch(cookies(context)["_otui"]["value"])
    assert m, cookies(context)["_otui"]
    return list(m.groups())


def ots_fields(context: BrowserContext) -> list[str]:
    m = OTS_RE.fullmatch(cookies(context)["_ots"]["value"])
    assert m, cookies(context)["_ots"]
    return list(m.groups())


def by_title(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["ti"]: e for e in events}


def only_network_errors(w: Watched) -> None:
    """No uncaught error; console errors, if any, are the browser's failed-request notes."""
    assert w.errors == []
    for text in w.console_errors:
        assert "Failed to load resource" in text or "net::ERR" in text, text


# ---------------------------------------------------------------------------- page view
def test_page_view_records_page_data(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    url = pages.add(
        f"/{site}/landing", html("Landing title", "<p>hi</p>" + collector.snippet(site))
    )
    w = open_page()
    w.page.goto(url, referer="https://search.example/?q=leads")
    (event,) = collector.wait(site, 1)
    assert event["site"] == site
    assert event["ti"] == "Landing title"
    assert event["lc"] == url
    assert event["referrer"] == "https://search.example/?q=leads"
    props = event["properties"]
    assert props["lc"] == url and props["ti"] == "Landing title"
    assert props["ref"] == "https://search.example/?q=leads"
    assert (props["sw"], props["sh"]) == ("1366", "768")
    assert "t_ms" not in props and "otui" not in props and "ots" not in props  # controls
    # t_ms is the page's clock: the event time is the cookie's current event time
    assert event["timestamp"] == int(ots_fields(w.page.context)[3])
    assert abs(event["timestamp"] - time.time() * 1000) < 60_000
    assert event["explicit_session"] is True
    only_network_errors(w)


def test_custom_events_with_each_send_event_signature(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    script = """<script>
      var m = new OTMap();
      m.put('plan', 'premium'); m.put('seats', 3); m.put('gone', 'x'); m.remove('gone');
      window.mapReads = [m.get('plan'), m.get('gone') === undefined];
      OTLogService.sendEvent('Plain title');
      OTLogService.sendEvent('With map', m);
      var quiet = new OTMap(); quiet.put('kind', 'no screen data');
      OTLogService.sendEvent('Without screen data', quiet, false);
      var only = new OTMap(); only.put('ti', 'Title from the map'); only.put('source', 'map');
      OTLogService.sendEvent(only);
      var cleared = new OTMap(); cleared.put('a', '1'); cleared.clear();
      OTLogService.sendEvent('Cleared map', cleared);
      OTLogService.sendEvent('Customer ID event', {'Customer ID': 'C 1', 'Type': 'gold & co'});
      window.sent = true;
    </script>"""
    url = pages.add(f"/{site}/p", html("Custom", collector.snippet(site) + script))
    w = open_page()
    w.page.goto(url)
    events = by_title(collector.wait(site, 7))
    assert w.page.evaluate("window.sent") is True
    assert w.page.evaluate("window.mapReads") == ["premium", True]
    assert set(events) == {
        "Custom",
        "Plain title",
        "With map",
        "Without screen data",
        "Title from the map",
        "Cleared map",
        "Customer ID event",
    }
    assert events["Plain title"]["properties"] == {
        "lc": url,
        "sw": "1366",
        "sh": "768",
        "ti": "Plain title",
    }
    assert events["With map"]["properties"]["plan"] == "premium"
    assert events["With map"]["properties"]["seats"] == "3"
    assert "gone" not in events["With map"]["properties"]
    quiet = events["Without screen data"]["properties"]
    assert quiet["kind"] == "no screen data" and "sw" not in quiet and quiet["lc"] == url
    assert events["Title from the map"]["properties"]["source"] == "map"
    assert set(events["Cleared map"]["properties"]) == {"lc", "sw", "sh", "ti"}
    assert events["Customer ID event"]["properties"]["Customer ID"] == "C 1"
    assert events["Customer ID event"]["properties"]["Type"] == "gold & co"
    assert len({e["use_id"] for e in events.values()}) == 1
    assert len({e["session_id"] for e in events.values()}) == 1
    assert otui_fields(w.page.context)[5] == "7"  # lifetime events
    assert ots_fields(w.page.context)[0] == "7"  # events in this visit
    only_network_errors(w)


def test_event_sent_while_the_page_unloads_is_delivered(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    # Registered before the script loads; an Image made while leaving is swallowed, so
    # only an unload-safe request (fetch keepalive) can deliver the event.
    leave = """<script>
      addEventListener('pagehide', function () {
        window.Image = function () { localStorage.setItem('image', 'used'); return {}; };
        OTLogService.sendEvent('Leaving');
      });
    </script>"""
    url = pages.add(f"/{site}/p", html("Unload", collector.snippet(site), head=leave))
    w = open_page()
    w.page.goto(url)
    (view,) = collector.wait(site, 1)
    w.page.goto(pages.add(f"/{site}/elsewhere", html("Elsewhere")))
    (event,) = collector.wait(site, 1, ti="Leaving")
    assert (event["use_id"], event["session_id"]) == (view["use_id"], view["session_id"])
    assert w.page.evaluate("localStorage.getItem('image')") is None
    only_network_errors(w)


def test_without_cookies_the_page_still_tracks_in_memory(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    """A sandboxed frame (no allow-same-origin) throws on document.cookie."""
    frame = html(
        "Sandboxed",
        collector.snippet(site) + "<script>OTLogService.sendEvent('In frame')"
        "; parent.postMessage([ot_uid(), ot_sid()], '*');</script>",
    )
    pages.add(f"/{site}/frame", frame)
    host = html(
        "Host",
        "<script>addEventListener('message', function (e) { window.ids = e.data; });</script>"
        f"<iframe sandbox='allow-scripts' src='/{site}/frame'></iframe>",
    )
    w = open_page()
    w.page.goto(pages.add(f"/{site}/host", host))
    events = collector.wait(site, 2)
    assert {e["ti"] for e in events} == {"Sandboxed", "In frame"}
    assert len({e["use_id"] for e in events}) == 1 and len({e["session_id"] for e in events}) == 1
    w.page.wait_for_function("Array.isArray(window.ids)")
    assert w.page.evaluate("window.ids") == [events[0]["use_id"], events[0]["session_id"]]
    only_network_errors(w)


# ---------------------------------------------------------------------------- cookies, ids
def test_cookie_formats_and_ids_match_what_the_collector_stored(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    url = pages.add(f"/{site}/p", html("Ids", collector.snippet(site))) + "?x=1"
    w = open_page()
    w.page.goto(url)
    (event,) = collector.wait(site, 1)
    jar = cookies(w.page.context)
    assert set(jar) >= {"_otui", "_ots", "_otpe"}
    now_s = time.time()
    for name, lifetime in (("_otui", 2 * 365 * 86400), ("_ots", 1800), ("_otpe", 1800)):
        c = jar[name]
        assert c["domain"] == "localhost"  # host-only, on the page's domain
        assert c["path"] == "/" and c["sameSite"] == "Lax" and c["httpOnly"] is False
        # the script asks for 2 years; Chromium caps every cookie at 400 days
        assert abs(c["expires"] - (now_s + min(lifetime, CHROMIUM_MAX_AGE_S))) < 120, name
    random, first, prev, cur, sessions, count = otui_fields(w.page.context)
    n, start, prev_event, cur_event = ots_fields(w.page.context)
    assert first == prev == cur == start == prev_event == cur_event
    assert (sessions, count, n) == ("1", "1", "1")
    assert jar["_otpe"]["value"] == quote(url, safe="-_.!~*'()")
    user_id, session_id = f"{first}.{random}", f"{start}.{random}"
    assert w.page.evaluate("ot_uid()") == user_id == event["use_id"]
    assert w.page.evaluate("ot_sid()") == session_id == event["session_id"]
    assert w.page.evaluate("window._otui") == jar["_otui"]["value"]
    assert user_id == session_id  # a user's first session id equals the user id


def test_cookies_live_on_the_registrable_domain(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    www = pages.add(f"/{site}/www", html("WWW", collector.snippet(site)), host="www.shop.test")
    blog = pages.add(f"/{site}/blog", html("Blog", collector.snippet(site)), host="blog.shop.test")
    w = open_page()
    w.page.goto(www)
    collector.wait(site, 1)
    jar = cookies(w.page.context)
    assert {jar[n]["domain"] for n in ("_otui", "_ots", "_otpe")} == {".shop.test"}
    assert "_otdt" not in jar  # the probe cookie is removed
    w.page.goto(blog)
    events = collector.wait(site, 2)
    assert len({e["use_id"] for e in events}) == 1
    assert len({e["session_id"] for e in events}) == 1
    assert events[0]["properties"]["otpe"] == www


def test_returning_visitor_is_one_lead_and_one_session(
    collector: Collector,
    pages: PageServer,
    open_page: OpenPage,
    new_context: NewContext,
    site: str,
) -> None:
    second = pages.add(f"/{site}/second", html("Second", collector.snippet(site)))
    first = pages.add(
        f"/{site}/first",
        html("First", f"<a id='next' href='{second}'>next</a>" + collector.snippet(site)),
    )
    context = new_context()
    w = open_page(context)
    w.page.goto(first)
    collector.wait(site, 1)
    w.page.click("#next")
    collector.wait(site, 2)
    w.page.reload()
    collector.wait(site, 3)
    other_tab = open_page(context)
    other_tab.page.goto(first)
    events = collector.wait(site, 4)
    assert len({e["use_id"] for e in events}) == 1
    assert len({e["session_id"] for e in events}) == 1
    titles = [e["ti"] for e in sorted(events, key=lambda e: e["timestamp"])]
    assert titles == ["First", "Second", "Second", "First"]
    second_view = sorted(events, key=lambda e: e["timestamp"])[1]
    assert second_view["properties"]["otpe"] == first
    assert second_view["referrer"] == first
    _, _, _, _, sessions, count = otui_fields(context)
    assert (sessions, count) == ("1", "4")
    assert ots_fields(context)[0] == "4"
    assert other_tab.page.evaluate("ot_uid()") == events[0]["use_id"]
    assert len(collector.events(site, user=events[0]["use_id"])) == 4


def test_new_session_after_thirty_minutes_of_quiet(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    url = pages.add(f"/{site}/p", html("Visit", collector.snippet(site)))
    w = open_page()
    context = w.page.context
    w.page.goto(url)
    (first,) = collector.wait(site, 1)
    random, first_visit, _, cur_visit, _, _ = otui_fields(context)
    # 31 minutes pass: the page's own record of the visit says its last event is that old
    n, start, prev, cur = (int(x) for x in ots_fields(context))
    old = [n, start - THIRTY_ONE_MIN_MS, prev - THIRTY_ONE_MIN_MS, cur - THIRTY_ONE_MIN_MS]
    context.add_cookies(
        [
            {
                "name": "_ots",
                "value": ".".join(map(str, old)),
                "url": f"http://localhost:{pages.port}/",
            }
        ]
    )
    w.page.reload()
    events = collector.wait(site, 2)
    second = events[0]
    assert second["use_id"] == first["use_id"]
    assert second["session_id"] != first["session_id"]
    assert second["session_id"] == f"{second['timestamp']}.{random}"
    assert w.page.evaluate("ot_sid()") == second["session_id"]
    _, first_after, prev_visit, cur_visit_after, sessions, count = otui_fields(context)
    assert first_after == first_visit
    assert prev_visit == cur_visit and cur_visit_after == str(second["timestamp"])
    assert (sessions, count) == ("2", "2")
    # the browser drops `_ots` after 30 minutes: that, too, starts a new visit
    context.clear_cookies(name="_ots")
    w.page.reload()
    third = collector.wait(site, 3)[0]
    assert third["use_id"] == first["use_id"]
    assert len({e["session_id"] for e in (first, second, third)}) == 3


# ---------------------------------------------------------------------------- landing URL
CAPTURED = {
    "email": "Jane.Doe@Example.com",
    "firstName": "Jane",
    "lastName": "Doe",
    "company": "ACME",
    "companyName": "ACME Inc",
    "phoneNumber": "+31 20 123 4567",
    "lb_id": "crm-42",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "spring",
    "utm_term": "leads",
    "utm_content": "button",
    "gclid": "g-1",
    "msclkid": "m-1",
    "dclid": "d-1",
    "yclid": "y-1",
    "ttclid": "tt-1",
    "twclid": "tw-1",
    "fbclid": "fb-1",
}


def test_landing_url_capture_and_email_identifies_the_lead(
    collector: Collector,
    pages: PageServer,
    open_page: OpenPage,
    site: str,
) -> None:
    url = pages.add(f"/{site}/landing", html("Landing", collector.snippet(site)))
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in CAPTURED.items()) + "&other=zz"
    a = open_page()
    a.page.goto(f"{url}?{query}")
    (event,) = collector.wait(site, 1)
    props = event["properties"]
    for name, value in CAPTURED.items():
        assert props[name] == value, name
    assert "other" not in props
    lead = event["use_id"]
    a.page.wait_for_function(f"ot_uid() === {json.dumps(lead)}")
    assert a.page.evaluate("ot_sid()") == event["session_id"]

    # another browser (no cookies) lands with the same email: the collector knows it
    b = open_page()
    b.page.goto(f"{url}?email=jane.doe%40example.com")
    second = collector.wait(site, 2)[0]
    assert second["use_id"] == lead
    b.page.wait_for_function(f"ot_uid() === {json.dumps(lead)}")
    assert b.page.evaluate("ot_sid()") == second["session_id"]
    otui = cookies(b.page.context)["_otui"]["value"].split(".")
    assert f"{otui[1]}.{otui[0]}" == lead
    b.page.evaluate("OTLogService.sendEvent('After identify')")
    (after,) = collector.wait(site, 1, ti="After identify")
    assert after["use_id"] == lead and after["session_id"] == second["session_id"]
    assert len(collector.events(site, user=lead)) == 3
    only_network_errors(a)
    only_network_errors(b)


def test_lb_uid_forces_the_user_id(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    url = pages.add(f"/{site}/p", html("Cross device", collector.snippet(site)))
    w = open_page()
    w.page.goto(url)
    (before,) = collector.wait(site, 1)
    forced = "1606468777834.459913894"
    assert before["use_id"] != forced
    w.page.goto(f"{url}?lb_uid={forced}")
    event = collector.wait(site, 2)[0]
    assert event["use_id"] == forced
    assert w.page.evaluate("ot_uid()") == forced
    assert w.page.evaluate("ot_sid()") == event["session_id"] == f"{event['timestamp']}.459913894"
    assert cookies(w.page.context)["_otui"]["value"].startswith("459913894.1606468777834.")
    w.page.evaluate("OTLogService.sendEvent('Later')")
    (later,) = collector.wait(site, 1, ti="Later")
    assert (later["use_id"], later["session_id"]) == (forced, event["session_id"])


# ---------------------------------------------------------------------------- ot_onload
def test_ot_onload_runs_and_sends_through_ot_log_state(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    hook = """<script>
      function ot_onload() {
        window.sameMap = (ot_map === _otmap);
        _otmap.put('customerId', 'C-1');
        window.titleInMap = _otmap.get('ti');
        ot_log_state();
      }
    </script>"""
    url = pages.add(f"/{site}/p", html("With onload", collector.snippet(site), head=hook))
    w = open_page()
    w.page.goto(url)
    (event,) = collector.wait(site, 1)
    assert event["ti"] == "With onload" and event["properties"]["customerId"] == "C-1"
    assert w.page.evaluate("[window.sameMap, window.titleInMap]") == [True, "With onload"]

    # an ot_onload that does not call ot_log_state(): no page view
    quiet_site = site + "-quiet"
    hook = "<script>function ot_onload() { window.hookRan = true; }</script>"
    url = pages.add(f"/{site}/quiet", html("Quiet", collector.snippet(quiet_site), head=hook))
    w.page.goto(url)
    assert w.page.evaluate("window.hookRan") is True
    w.page.evaluate("OTLogService.sendEvent('Marker')")
    collector.wait(quiet_site, 1, ti="Marker")
    time.sleep(0.2)
    assert [e["ti"] for e in collector.events(quiet_site)] == ["Marker"]
    only_network_errors(w)


# ---------------------------------------------------------------------------- forms
FORM = """
<form id="signup" action="/thanks/{site}" method="post">
  <input name="firstName" value="Jane">
  <input name="email" type="email" value="jane@example.com">
  <input name="company" value="ACME">
  <input name="pw" type="password" value="hunter2-secret">
  <input name="newPassword" type="text" value="also-secret">
  <input name="plan" type="radio" value="basic"><input name="plan" type="radio" value="pro" checked>
  <input name="news" type="checkbox" value="yes" checked>
  <input name="terms" type="checkbox" value="agreed">
  <select name="size"><option>S</option><option selected>M</option></select>
  <select name="topics" multiple>
    <option selected>a</option><option>b</option><option selected>c</option>
  </select>
  <textarea name="message">Hello &amp; welcome</textarea>
  <input name="ignored" value="x" disabled>
  <input value="no name">
  <input name="si" value="another-dataset">
  <button type="submit" id="go" name="go" value="1">Send</button>
</form>
"""


def test_form_tracking_sends_named_fields_never_passwords(
    collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    body = FORM.replace("{site}", site) + collector.snippet(site, "&form")
    url = pages.add(f"/{site}/form", html("Sign up", body))
    w = open_page()
    w.page.goto(url)
    (view,) = collector.wait(site, 1)
    w.page.click("#go")  # the page navigates away: the hit must survive the unload
    w.page.wait_for_url(f"**/thanks/{site}")
    (event,) = collector.wait(site, 1, ti="Form submit")
    props = event["properties"]
    expected = {
        "firstName": "Jane",
        "email": "jane@example.com",
        "company": "ACME",
        "plan": "pro",
        "news": "yes",
        "size": "M",
        "topics": "a,c",
        "message": "Hello & welcome",
        "form_id": "signup",
    }
    assert {k: props.get(k) for k in expected} == expected
    for absent in ("pw", "newPassword", "terms", "ignored", "go", ""):
        assert absent not in props
    stored = json.dumps(event)
    assert "hunter2-secret" not in stored and "also-secret" not in stored
    assert "another-dataset" not in stored and event["site"] == site
    assert (event["use_id"], event["session_id"]) == (view["use_id"], view["session_id"])
    assert event["lc"] == url

    # without `&form` a submit sends nothing
    plain_site = site + "-plain"
    page = FORM.replace("{site}", site) + collector.snippet(plain_site)
    page += "<script>document.forms[0].onsubmit = function () { return false; };</script>"
    w.page.goto(pages.add(f"/{site}/plain", html("Plain form", page)))
    collector.wait(plain_site, 1)
    w.page.click("#go")
    w.page.evaluate("OTLogService.sendEvent('Marker')")
    collector.wait(plain_site, 1, ti="Marker")
    time.sleep(0.2)
    assert sorted(e["ti"] for e in collector.events(plain_site)) == ["Marker", "Plain form"]
    only_network_errors(w)


# ---------------------------------------------------------------------------- failures
def test_host_page_keeps_working_when_the_collector_is_down(
    make_server: Callable[..., Server], pages: PageServer, open_page: OpenPage, site: str
) -> None:
    down = make_server()
    head = """<script>
      window.rejections = [];
      addEventListener('unhandledrejection', function (e) { rejections.push(String(e.reason)); });
    </script>"""
    snippet = f'<script src="//127.0.0.1:{down.port}/?dataset={site}&form"></script>'
    body = (
        "<form id='f' onsubmit='return false'><input name='email' value='x@example.com'>"
        "<input name='pw' type='password' value='s'><button id='go'>Go</button></form>" + snippet
    )
    url = pages.add(f"/{site}/p", html("Down", body, head=head))
    w = open_page()
    w.page.goto(f"{url}?email=down%40example.com")
    r = httpx.get(f"{down.url}/_fakeboxer/wait", params={"site": site, "count": 1, "timeout": 5})
    assert r.status_code == 200
    lead = r.json()["events"][0]["use_id"]
    w.page.wait_for_function(f"ot_uid() === {json.dumps(lead)}")
    down.stop(signal.SIGTERM)

    flag = w.page.evaluate(
        """() => {
          var m = new OTMap(); m.put('k', 'v');
          OTLogService.sendEvent('Down 1');
          OTLogService.sendEvent('Down 2', m);
          OTLogService.sendEvent('Down 3', m, false);
          OTLogService.sendEvent(m);
          ot_log_state();          /* the email landing: a fetch for a JSON answer */
          OTLogService.sendEvent('Queued while waiting');
          document.getElementById('f').requestSubmit();
          window.flag = [ot_uid(), ot_sid()].every(Boolean);
          return window.flag;
        }"""
    )
    assert flag is True
    w.page.wait_for_timeout(1500)  # let every request fail
    assert w.page.evaluate("window.flag") is True
    assert w.page.evaluate("window.rejections") == []
    only_network_errors(w)

    # a browser that cannot load the script at all: the rest of the page still runs
    body = snippet + "<script>window.after = typeof OTLogService;</script>"
    cold = open_page()  # another profile: the first one has the script in its HTTP cache
    cold.page.goto(pages.add(f"/{site}/no-script", html("No script", body)))
    assert cold.page.evaluate("window.after") == "undefined"
    only_network_errors(cold)


# ---------------------------------------------------------------------------- demo page
def test_demo_page_shows_recorded_events_as_text(collector: Collector, open_page: OpenPage) -> None:
    collector.http.post("/_fakeboxer/reset", params={"site": "demo"}).raise_for_status()
    w = open_page()
    w.page.goto(f"{collector.server.url}/_fakeboxer/demo")
    src = w.page.locator("script[src*='dataset=demo']").get_attribute("src")
    assert src == f"//127.0.0.1:{collector.port}/?dataset=demo"
    w.page.locator("tr.event", has_text="fakeboxer pixel demo").first.wait_for()
    w.page.click("#b-title")
    w.page.click("#b-map")
    w.page.click("#b-only-map")
    for title in ("Demo click", "Demo with properties", "Demo map only"):
        w.page.locator("tr.event", has_text=title).first.wait_for()
    assert w.page.locator("#uid").text_content() == w.page.evaluate("ot_uid()")

    hostile = '<img src=x onerror="window.pwned=1">'
    collector.http.get(
        "/", params={"si": "demo", "ti": hostile, "note": "<script>window.pwned=2</script>"}
    ).raise_for_status()
    row = w.page.locator("tr.event", has_text=hostile).first
    row.wait_for()
    assert "<script>window.pwned=2</script>" in (row.text_content() or "")
    assert w.page.locator("#events img, #events script").count() == 0
    assert w.page.evaluate("window.pwned") is None
    only_network_errors(w)


# ---------------------------------------------------------------------------- vectors
JS_CHECKS = """(V) => {
  const T = OTLogService._test, bad = [];
  const eq = (what, got, want) => { if (got !== want) bad.push([what, got, want]); };
  const otui = (v) => T.parse(v, T.OTUI, 6), ots = (v) => T.parse(v, T.OTS, 4);
  const join = (a) => a.join('.');
  for (const c of V.valid_ids || []) eq('valid ' + c.id, T.ID.test(c.id), c.valid);
  for (const c of V.otui_to_user_id || []) {
    const u = otui(c.otui); eq('otui ' + c.otui, u ? T.uid(u) : null, c.user_id);
  }
  for (const c of V.session_id || []) {
    const s = ots(c.ots);
    eq('session ' + c.ots, s ? T.sid(s, T.force(c.user_id, 0, 0)) : null, c.session_id);
  }
  for (const c of V.next_ots || []) {
    const p = c.previous == null ? null : ots(c.previous);
    eq(c.note, join(T.nextOts(p, c.event_ms, c.timeout_ms)), c.expected);
  }
  for (const c of V.new_otui || []) {
    const [u] = T.advance(T.force(c.user_id, 0, c.event_ms), null, c.event_ms, 18e5, 0);
    eq('new ' + c.user_id, join(u), c.expected);
  }
  for (const c of V.ids || []) {
    const u = otui(c.otui), s = ots(c.ots);
    eq('id ' + c.otui, u ? T.uid(u) : null, c.user_id);
    eq('sid ' + c.ots, u && s ? T.sid(s, u) : null, c.session_id);
  }
  for (const c of V.advance || []) {
    const [u, s] = T.advance(otui(c.otui), ots(c.ots), c.event_ms, c.timeout_ms, c.random);
    eq(c.note + ' otui', join(u), c.otui_after);
    eq(c.note + ' ots', join(s), c.ots_after);
    eq(c.note + ' uid', T.uid(u), c.user_id);
    eq(c.note + ' sid', T.sid(s, u), c.session_id);
  }
  for (const c of V.force || []) {
    const [u] = T.advance(T.force(c.lb_uid, 0, c.event_ms), null, c.event_ms, 18e5, 0);
    eq(c.note, join(u), c.otui_after);
    eq(c.note + ' uid', T.uid(u), c.user_id);
  }
  for (const c of V.adopt || []) eq(c.note, join(T.force(c.user_id, otui(c.otui), 0)), c.otui_after);
  return bad;
}"""


@pytest.mark.parametrize("name", ["pixel.json", "identity.json"])
def test_script_helpers_agree_with_the_shared_vectors(
    name: str, collector: Collector, pages: PageServer, open_page: OpenPage, site: str
) -> None:
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"tests/vectors/{name} is not in this checkout")
    vectors = json.loads(path.read_text(encoding="utf-8"))
    url = pages.add(f"/{site}/vectors", html("Vectors", collector.snippet(site, "&onload=false")))
    w = open_page()
    w.page.goto(url)
    assert w.page.evaluate(JS_CHECKS, vectors) == []
    sections = [k for k in vectors if isinstance(vectors[k], list)]
    assert sections, name
    assert collector.events(site) == []  # onload=false: nothing was sent
