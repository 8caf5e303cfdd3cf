"""A real `fakeboxer serve` process for other projects' test suites, and a small client
for it (SPEC 7.2). The pytest plugin (`collector.pytest_plugin`) is built on these, but
they need no pytest: any test runner can use `ServerProcess` directly.

The server runs as a subprocess, as users run it: its own process owns the DuckDB file,
its uvicorn/uvloop event loop and writer thread never meet the test process's own (an
asyncio test framework, say), and stopping it is the real graceful SIGTERM path.
The client uses only the standard library, so nothing beyond the package's own
dependencies is needed at run time.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

DEFAULT_SITE = "test"  # the dataset `hit()` and `leads()` use unless told otherwise
HOST = "127.0.0.1"  # loopback only: the control endpoints need no key there
PORT_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it

# Never through an HTTP proxy from the environment: the server is on loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeboxerError(RuntimeError):
    """The server would not start, could not be reached, or answered with an error."""


class FakeboxerTimeout(AssertionError):
    """`wait_for` saw fewer matching events than wanted before its timeout. An
    AssertionError, so pytest reports it as a test failure, with what was stored."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _text(value: Any) -> str:
    if isinstance(value, bool):  # the collector's booleans are `true`/`false`
        return "true" if value else "false"
    return str(value)


class Fakeboxer:
    """A running fakeboxer server: its `url`, its `api_key` and helpers over HTTP."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.api_key = api_key

    def __repr__(self) -> str:
        return f"Fakeboxer(url={self.url!r})"

    # ------------------------------------------------------------------------ plumbing
    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float = 30.0,
    ) -> tuple[int, Any]:
        """One request with the API key (it is accepted everywhere); returns the status
        and the body (parsed when it is JSON). Parameters that are None are left out."""
        query = urllib.parse.urlencode(
            {k: _text(v) for k, v in (params or {}).items() if v is not None}
        )
        request = urllib.request.Request(
            self.url + path + ("?" + query if query else ""),
            method=method,
            headers={"x-api-key": self.api_key, "accept": "application/json"},
        )
        try:
            with _opener.open(request, timeout=timeout) as response:
                return response.status, _body(response.read(), response.headers)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _body(error.read(), error.headers)
        except OSError as error:
            raise FakeboxerError(f"cannot reach fakeboxer at {self.url}: {error}") from None

    def get(self, path: str, **params: Any) -> Any:
        """GET a read-API or control route and return its JSON, e.g.
        `get(f"/v1/leads/{use_id}/sessions", site="shop")["data"]`."""
        return self._ok("GET", path, params)

    def _ok(self, method: str, path: str, params: Mapping[str, Any]) -> Any:
        status, body = self.request(method, path, params)
        if status >= 300:
            raise FakeboxerError(f"{method} {path} answered {status}: {body}")
        return body

    # ------------------------------------------------------------------------- helpers
    def hit(self, **params: Any) -> dict[str, Any]:
        """Send one tracking hit (`GET /?si=...&ti=...&<property>=...`) and return its
        ids `{"eventId", "userId", "sessionId", "site"}` once it is stored. `si`
        defaults to the dataset "test"; pass `uid=` to act as one known visitor."""
        if "si" not in params and "datasetId" not in params:
            params["si"] = DEFAULT_SITE
        body: dict[str, Any] = self._ok("GET", "/", {**params, "json": "true"})
        return body

    def events(
        self,
        site: str | None = None,
        *,
        ti: str | None = None,
        user: str | None = None,
        session: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Stored events, newest first (every dataset unless `site` is given)."""
        params = {"site": site, "ti": ti, "user": user, "session": session, "limit": limit}
        return list(self._ok("GET", "/_fakeboxer/events", params)["events"])

    def wait_for(
        self,
        count: int = 1,
        *,
        site: str | None = None,
        ti: str | None = None,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Wait until `count` matching events are stored (a long poll on the server, no
        sleeping here) and return them, newest first; FakeboxerTimeout otherwise."""
        params = {"count": count, "site": site, "ti": ti, "timeout": timeout}
        status, body = self.request("GET", "/_fakeboxer/wait", params, timeout=timeout + 30)
        if status == 408:
            seen = [(e.get("site"), e.get("ti")) for e in body.get("events", [])]
            raise FakeboxerTimeout(
                f"wanted {count} event(s) (site={site!r}, ti={ti!r}) within {timeout} s, "
                f"{body.get('total')} stored: {seen[:20]}"
            )
        if status != 200:
            raise FakeboxerError(f"GET /_fakeboxer/wait answered {status}: {body}")
        return list(body["events"])

    def leads(self, site: str = DEFAULT_SITE, **params: Any) -> list[dict[str, Any]]:
        """Every lead of a dataset through the read API (`GET /v1/leads`, with the key),
        following `nextToken`. Extra parameters are the API's: `search`, `sortBy`,
        `criteriaTextFilter`, ..."""
        leads: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._ok(
                "GET", "/v1/leads", {"limit": 1000, **params, "site": site, "nextToken": token}
            )
            leads.extend(page["data"])
            token = page.get("nextToken")
            if not token:
                return leads

    def reset(self, site: str | None = None) -> None:
        """Delete everything, or one dataset."""
        self._ok("POST", "/_fakeboxer/reset", {"site": site})

    def set_clock_offset(self, offset_ms: int = 0) -> None:
        """Shift the clock that stamps hits sent without `t_ms` (0: the real time)."""
        self._ok("POST", "/_fakeboxer/clock", {"offset_ms": offset_ms})


def _body(raw: bytes, headers: Any) -> Any:
    if "json" in (headers.get("content-type") or ""):
        return json.loads(raw)
    return raw.decode("utf-8", "replace")


class ServerProcess:
    """`fakeboxer serve` on 127.0.0.1, a free port and a DuckDB file in `folder`, with a
    random API key. `start()` returns a `Fakeboxer` once /_fakeboxer/health answers;
    `stop()` sends SIGTERM (the graceful, flushing stop) and kills after `stop_timeout`.
    Also a context manager."""

    def __init__(
        self,
        folder: Path,
        extra_args: Sequence[str] = (),
        *,
        start_timeout: float = 30.0,
        stop_timeout: float = 30.0,
    ) -> None:
        self.folder = folder
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.db = folder / "fakeboxer.duckdb"
        self.log = folder / "fakeboxer.log"
        self.api_key = "fbtest_" + secrets.token_urlsafe(18)
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: Fakeboxer | None = None

    def __enter__(self) -> Fakeboxer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def output(self) -> str:
        """What the server printed (stdout and stderr)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> Fakeboxer:
        self.folder.mkdir(parents=True, exist_ok=True)
        attempts = 0
        while True:
            attempts += 1
            port = free_port()
            self._spawn(port)
            client = Fakeboxer(f"http://{HOST}:{port}", self.api_key)
            outcome = self._wait_healthy(client)
            if outcome == "healthy":
                self.client = client
                return client
            if outcome == "timeout":
                self.stop()
                raise FakeboxerError(
                    self._failure(f"was not healthy within {self.start_timeout} s")
                )
            # Exited. Another process may have taken the free port first: try another.
            if attempts >= PORT_ATTEMPTS or "port in use" not in self.output():
                code = self.proc.returncode if self.proc else None
                raise FakeboxerError(self._failure(f"exited with code {code}"))

    def _spawn(self, port: int) -> None:
        command = [
            sys.executable,
            "-m",
            "collector.cli",
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--db",
            str(self.db),
            "--api-key",
            self.api_key,
            "--log-level",
            "warning",
            *self.extra_args,
        ]
        with self.log.open("wb") as out:  # a fresh log per attempt
            # cwd: the temp folder, so `-m collector.cli` never picks up a package named
            # `collector` from the user's own project directory.
            self.proc = subprocess.Popen(
                command, cwd=self.folder, stdout=out, stderr=subprocess.STDOUT
            )

    def _wait_healthy(self, client: Fakeboxer) -> Literal["healthy", "exited", "timeout"]:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "exited"
            try:
                status, _ = client.request("GET", "/_fakeboxer/health", timeout=1.0)
            except FakeboxerError:
                status = 0  # not listening yet
            if status == 200:
                return "healthy"
            time.sleep(0.05)
        return "timeout"

    def _failure(self, how: str) -> str:
        return (
            f"the fakeboxer server {how} (database {self.db}, log {self.log}). "
            f"Its output:\n{self.output().strip() or '(nothing)'}"
        )

    def check_running(self) -> None:
        """FakeboxerError, with the server's output, if the process has died."""
        if self.proc is None or self.proc.poll() is not None:
            raise FakeboxerError(
                "the fakeboxer server is not running"
                + (f" (exit code {self.proc.returncode})" if self.proc else "")
                + f". Its output:\n{self.output().strip() or '(nothing)'}"
            )

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after `stop_timeout`; returns the exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode
