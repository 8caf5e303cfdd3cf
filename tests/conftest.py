"""Shared fixtures: a real fakeboxer server process on a free loopback port, with a real
DuckDB file in a temporary folder. Tests talk to it over real HTTP (httpx)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    db: Path
    port: int
    args: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    clients: list[httpx.Client] = field(default_factory=list)
    health_headers: dict[str, str] = field(default_factory=dict)  # e.g. an API key

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> Server:
        assert self.log is not None
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "collector.cli",
                    "serve",
                    "--db",
                    str(self.db),
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                    *self.args,
                ],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.output()}")
            try:
                if (
                    httpx.get(
                        f"{self.url}/_fakeboxer/health", headers=self.health_headers, timeout=1
                    ).status_code
                    == 200
                ):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not become healthy: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""

    def client(self, **kwargs: object) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=10, **kwargs)  # type: ignore[arg-type]
        self.clients.append(c)
        return c

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    # helpers used across tests
    def hit(
        self,
        client: httpx.Client | None = None,
        method: str = "GET",
        path: str = "/",
        **params: object,
    ) -> httpx.Response:
        c = client or self.client()
        if method == "GET":
            return c.get(path, params=params)  # type: ignore[arg-type]
        return c.post(path, data=params)  # type: ignore[arg-type]

    def events(self, **params: object) -> list[dict[str, object]]:
        r = httpx.get(f"{self.url}/_fakeboxer/events", params={"limit": 1000, **params})  # type: ignore[arg-type]
        r.raise_for_status()
        return list(r.json()["events"])

    def stats(self) -> dict[str, object]:
        return dict(httpx.get(f"{self.url}/_fakeboxer/stats").json())


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """make_server(*extra_args, db=None) -> a started Server; all are stopped at the end."""
    started: list[Server] = []

    def make(
        *args: str,
        db: Path | None = None,
        env: dict[str, str] | None = None,
        port: int | None = None,
        start: bool = True,
    ) -> Server:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEBOXER_")}
        full_env.update(env or {})
        server = Server(
            db or tmp_path / "fakeboxer.duckdb",
            port or free_port(),
            list(args),
            full_env,
            log=tmp_path / f"server-{len(started)}.log",
        )
        started.append(server)
        return server.start() if start else server

    yield make
    for server in started:
        for c in server.clients:
            c.close()
        if server.proc is not None and server.proc.poll() is None:
            server.stop(signal.SIGKILL)


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    return make_server()
