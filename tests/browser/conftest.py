"""Browser fixtures: Debian's Chromium driven by Playwright, a real fakeboxer collector on
127.0.0.1, and a tiny page server on another port and host name (`localhost`, or any
`*.test` name mapped to 127.0.0.1), so every page embeds the pixel from another origin and
another site, exactly as LeadBoxer's docs show the snippet.

Playwright talks to /usr/bin/chromium over CDP (`executable_path`): no browser download.
"""

from __future__ import annotations

import http.server
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.conftest import Server, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # page host names such as www.shop.test resolve to the loopback page server
    "--host-resolver-rules=MAP *.test 127.0.0.1",
]

NO_CHROMIUM = (
    "Debian's Chromium is not installed (/usr/bin/chromium is missing): "
    "`apt-get install -y chromium chromium-driver` (make test installs it)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need the browser skip, with the reason, where Chromium is absent."""
    if CHROMIUM.exists():
        return
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


# ---------------------------------------------------------------------------- pages
class PageServer:
    """Serves registered HTML pages; any other path under /thanks answers a plain page."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.port = free_port()
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                html = pages.get(path)
                if html is None and path.startswith("/thanks"):
                    html = "<!doctype html><title>Thanks</title><p>thanks</p>"
                body = (html or "not found").encode()
                self.send_response(200 if html is not None else 404)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.send_header("cache-control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815 - form posts land on /thanks too

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, html: str, host: str = "localhost") -> str:
        self.pages[path] = html
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------- collector
@dataclass
class Collector:
    server: Server
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.server.url, timeout=15)

    @property
    def port(self) -> int:
        return self.server.port

    def snippet(self, site: str, options: str = "") -> str:
        """LeadBoxer's snippet, host replaced: `<script src="//HOST/?dataset=ID"></script>`."""
        return f'<script src="//127.0.0.1:{self.port}/?dataset={site}{options}"></script>'

    def wait(
        self, site: str, count: int, ti: str | None = None, timeout: float = 5
    ) -> list[dict[str, Any]]:
        """The site's events, newest first, once `count` (matching `ti`) are stored."""
        params: dict[str, Any] = {"site": site, "count": count, "timeout": timeout}
        if ti is not None:
            params["ti"] = ti
        r = self.http.get("/_fakeboxer/wait", params=params)
        assert r.status_code == 200, f"wanted {count} events of {site}/{ti}: {r.text}"
        return list(r.json()["events"])

    def events(self, site: str, **params: Any) -> list[dict[str, Any]]:
        r = self.http.get("/_fakeboxer/events", params={"site": site, "limit": 1000, **params})
        r.raise_for_status()
        return list(r.json()["events"])


@pytest.fixture(scope="session")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    folder = tmp_path_factory.mktemp("browser-collector")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEBOXER_")}
    server = Server(folder / "fakeboxer.duckdb", free_port(), [], env, log=folder / "server.log")
    server.start()
    c = Collector(server)
    yield c
    c.http.close()
    server.stop()


@pytest.fixture(scope="session")
def pages() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.close()


_sites = itertools.count(1)


@pytest.fixture
def site(request: pytest.FixtureRequest) -> str:
    """A dataset id of its own for each test (one collector serves the whole suite)."""
    return f"{request.node.name.split('[')[0].removeprefix('test_')[:40]}-{next(_sites)}"


# ---------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Watched:
    """A page with its uncaught errors and console errors recorded."""

    page: Page
    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """new_context(**options) -> a fresh browser profile (cookie jar); closed at the end."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("screen", {"width": 1366, "height": 768})
        options.setdefault("viewport", {"width": 1200, "height": 700})
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(10_000)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def open_page(
    new_context: Callable[..., BrowserContext],
) -> Callable[..., Watched]:
    """open_page(context=None) -> a Watched page (a new context unless one is given)."""

    def make(context: BrowserContext | None = None) -> Watched:
        page = (context or new_context()).new_page()
        watched = Watched(page)
        page.on("pageerror", lambda exc: watched.errors.append(str(exc)))

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                watched.console_errors.append(msg.text)

        page.on("console", on_console)
        return watched

    return make


def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
