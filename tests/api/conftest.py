"""The real app (create_app, which mounts the read API) on a real DuckDB file, served by
uvicorn on a free loopback port in a background thread and driven over real HTTP with
httpx — the same code path as `fakeboxer serve` (lifespan, writer thread, spool). The
app object stays reachable so tests can move its clock."""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from collector.app import FakeboxerApp, create_app
from collector.settings import Settings
from collector.storage.db import Store

KEY = "test-key-all-datasets"
LIMITED = "test-key-limited"
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z
MIN = 60_000
DAY = 86_400_000

_sites = itertools.count(1)


_uids = itertools.count(100_000_001)


def new_site(prefix: str = "api") -> str:
    return f"{prefix}-{os.getpid()}-{next(_sites)}"


def new_uid() -> str:
    """A LeadBoxer-shaped user id whose suffix (shared with its session ids) is unique."""
    return f"{T0}.{next(_uids)}"


class Api:
    """Helpers over one running app."""

    def __init__(self, client: httpx.Client, app: FakeboxerApp) -> None:
        self.client = client
        self.app = app

    def hit(self, site: str, uid: str, t_ms: int, **props: Any) -> httpx.Response:
        params = {
            "si": site,
            "uid": uid,
            "t_ms": str(t_ms),
            **{k: str(v) for k, v in props.items()},
        }
        r: httpx.Response = self.client.get("/", params=params)
        assert r.status_code < 300, r.text
        return r

    def legacy(self, path: str, **params: Any) -> httpx.Response:
        params.setdefault("apiKey", KEY)
        r: httpx.Response = self.client.get(path, params=params)
        return r

    def v1(self, path: str, **params: Any) -> httpx.Response:
        return self.v1_key(KEY, path, **params)

    def v1_key(self, key: str, path: str, **params: Any) -> httpx.Response:
        r: httpx.Response = self.client.get(path, params=params, headers={"x-api-key": key})
        return r

    def set_now(self, now_ms: int) -> None:
        self.app.state.clock.set_now(now_ms)


@contextlib.contextmanager
def served(app: FakeboxerApp) -> Iterator[httpx.Client]:
    """Serve `app` with uvicorn on a free loopback port (in a thread) for the block."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            http="httptools",
            loop="uvloop",
            lifespan="on",
            access_log=False,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, name="api-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(60)


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder: Path = tmp_path_factory.mktemp("api")
    settings = Settings(
        db=str(folder / "fakeboxer.duckdb"),
        api_keys=(KEY, f"{LIMITED}:site-a,site-b"),
    )
    store = Store(settings.db)
    app = create_app(settings, store)  # mounts the read API (api.routes.install)
    with served(app) as client:
        yield Api(client, app)
