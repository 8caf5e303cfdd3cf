"""Helpers shared by the HTTP tests: shared servers, unique dataset ids, raw requests,
and small readers for the control endpoints.

The function-scoped `server`/`make_server` fixtures of tests/conftest.py start one
process per test; most HTTP tests only need a dataset of their own, so the modules share
one server per set of flags (`shared_server`) and every test uses fresh site ids
(`new_site`). Each commit of the writer costs ~100 ms, so tests that only need data
stored send pixel hits back to back (the writer batches them) and read them through a
control endpoint, which waits for the writer.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server, free_port

#: A fixed past instant (2023-11-14T22:13:20Z) that session tests count from.
T0 = 1_700_000_000_000
MIN = 60_000
HOUR = 60 * MIN

ID_RE = re.compile(r"[0-9]+\.[0-9]+")
OTUI_RE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)")
OTS_RE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)")

_sites = itertools.count(1)
_clients: dict[str, httpx.Client] = {}


def new_site(prefix: str = "s") -> str:
    """A dataset id no other test uses (per process)."""
    return f"{prefix}-{os.getpid()}-{next(_sites)}"


@contextmanager
def running_server(
    tmp_path_factory: pytest.TempPathFactory,
    *args: str,
    name: str = "srv",
    db: Path | None = None,
) -> Iterator[Server]:
    """A started server with its own DB file (or `db`); stopped gracefully at the end."""
    folder = tmp_path_factory.mktemp(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEBOXER_")}
    server = Server(
        db or folder / "fakeboxer.duckdb", free_port(), list(args), env, log=folder / "server.log"
    )
    server.start()
    try:
        yield server
    finally:
        shared = _clients.pop(server.url, None)
        if shared is not None:
            shared.close()
        for c in server.clients:
            c.close()
        if server.proc is not None and server.proc.poll() is None:
            server.stop(signal.SIGTERM, timeout=15)


_shared: dict[str, Server] = {}


def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, *args: str
) -> Server:
    """One server per set of flags for every module of the run that asks for it.

    Starting a server costs a second or more, and most modules only need a dataset of
    their own, so they share one (each test uses fresh `new_site` ids and compares
    counters before/after). It is stopped when the pytest session ends. Tests that
    reset everything or read the DB file start their own.
    """
    key = " ".join(args) or "default"
    server = _shared.get(key)
    if server is None:
        context = running_server(tmp_path_factory, *args, name="shared")
        server = _shared[key] = context.__enter__()

        def stop() -> None:
            _shared.pop(key, None)
            context.__exit__(None, None, None)

        request.config.add_cleanup(stop)
    return server


#: Flags of the shared non-default server (sessions and cookie options).
CUSTOM_FLAGS = ("--session-timeout", "5m", "--cookie-secure", "--cookie-domain", "example.test")


def http(server: Server) -> httpx.Client:
    """The server's shared client (no cookie use: cookies are never sent back).

    Building an httpx client loads the CA bundle (~60 ms), so tests share one per server;
    the cookie tests make their own jars with `jar`.
    """
    c = _clients.get(server.url)
    if c is None:
        c = _clients[server.url] = httpx.Client(
            base_url=server.url,
            timeout=10,
            verify=False,
            cookies=CookieJar(policy=_RejectAllCookies()),
        )
    return c


def jar(server: Server, **kwargs: Any) -> httpx.Client:
    """A fresh client with its own cookie jar (a "browser"), closed with the server."""
    c = httpx.Client(base_url=server.url, timeout=10, verify=False, **kwargs)
    server.clients.append(c)
    return c


class _RejectAllCookies(DefaultCookiePolicy):
    """Keeps no cookie, so the shared client is stateless."""

    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        return False


def json_hit(server: Server, path: str = "/", method: str = "GET", **params: Any) -> dict[str, Any]:
    """Send a hit with json=true (answered after commit) and return the ids."""
    params["json"] = "true"
    c = http(server)
    r = c.get(path, params=params) if method == "GET" else c.post(path, data=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = r.json()
    return body


def raw(
    server: Server,
    target: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A request whose target is sent as written (no re-encoding of the query)."""
    return http(server).request(method, target, content=body, headers=headers or {})


def gif_hit(server: Server, path: str = "/", **params: Any) -> httpx.Response:
    """A pixel-style GET (answered before the commit; read back through a control
    endpoint, which waits for the writer)."""
    r = http(server).get(path, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/gif"
    assert "x-fakeboxer-error" not in r.headers, r.headers["x-fakeboxer-error"]
    return r


def bad_hits(server: Server, **params: Any) -> list[dict[str, Any]]:
    r = http(server).get("/_fakeboxer/bad", params={"limit": 1000, **params})
    r.raise_for_status()
    return list(r.json()["bad_hits"])


def stats(server: Server) -> dict[str, Any]:
    r = http(server).get("/_fakeboxer/stats")
    r.raise_for_status()
    out: dict[str, Any] = r.json()
    return out


def events(server: Server, **params: Any) -> list[dict[str, Any]]:
    r = http(server).get("/_fakeboxer/events", params={"limit": 1000, **params})
    r.raise_for_status()
    return list(r.json()["events"])


def cookie_headers(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the whole header value)."""
    out: dict[str, str] = {}
    for value in response.headers.get_list("set-cookie"):
        name = value.split("=", 1)[0].strip()
        out[name] = value
    return out


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def cookie_attributes(set_cookie: str) -> dict[str, str]:
    """Attributes of one Set-Cookie value, names lower-cased ('' for flags)."""
    attrs: dict[str, str] = {}
    for part in set_cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attrs[name.lower()] = value
    return attrs
