"""The `fakeboxer` pytest fixture (SPEC 7.2), loaded by pytest through the `pytest11`
entry point as soon as the package is installed.

- `fakeboxer_server` (session scope): one real `fakeboxer serve` process per test
  session (per worker under xdist) on 127.0.0.1, a free port and a DuckDB file in a
  temporary folder, with a random API key. Starting a server costs about a second, so
  it is shared; it is stopped (SIGTERM, then SIGKILL) when the session ends.
- `fakeboxer` (function scope): that server, emptied (`reset()`) and its clock put back
  before each test, so every test starts from nothing. It is a `collector.testing.Fakeboxer`:
  `.url`, `.api_key`, `.hit()`, `.wait_for()`, `.leads()`, `.events()`, `.reset()`.

Settings, in the `[pytest]` ini section: `fakeboxer_args` (more `fakeboxer serve` flags,
e.g. `--session-timeout 5m`) and `fakeboxer_start_timeout` (seconds, default 30).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collector.testing import Fakeboxer, ServerProcess


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "fakeboxer_args",
        type="args",
        default=[],
        help="extra `fakeboxer serve` flags for the fakeboxer fixture's server",
    )
    parser.addini(
        "fakeboxer_start_timeout",
        default="30",
        help="seconds the fakeboxer fixture waits for its server to be healthy",
    )


def _start_timeout(config: pytest.Config) -> float:
    raw = config.getini("fakeboxer_start_timeout")
    try:
        return float(raw)
    except ValueError:
        raise pytest.UsageError(
            f"fakeboxer_start_timeout: expected a number of seconds, got {raw!r}"
        ) from None


@pytest.fixture(scope="session")
def fakeboxer_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """The session's fakeboxer process (use `fakeboxer` in tests)."""
    server = ServerProcess(
        tmp_path_factory.mktemp("fakeboxer"),
        request.config.getini("fakeboxer_args"),
        start_timeout=_start_timeout(request.config),
    )
    try:
        server.start()  # a FakeboxerError carries the server's own output
        yield server
    finally:
        server.stop()


@pytest.fixture
def fakeboxer(fakeboxer_server: ServerProcess) -> Fakeboxer:
    """The running server, emptied and with its clock put back, for this test."""
    fakeboxer_server.check_running()
    client = fakeboxer_server.client
    assert client is not None  # start() succeeded
    client.reset()
    client.set_clock_offset(0)
    return client
