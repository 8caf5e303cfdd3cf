"""`--read-your-writes` / FAKEBOXER_READ_YOUR_WRITES (default on): off lets API and control
reads see what is committed now instead of waiting for the writer, which is what the
freshness benchmark measures. Parsed like every other setting; control actions such as
reset still wait for their own result."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, Server


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--read-your-writes", "off"], {}), ([], {"FAKEBOXER_READ_YOUR_WRITES": "off"})],
)
def test_off_serves_and_control_actions_still_wait(
    make_server: Callable[..., Server], args: list[str], env: dict[str, str]
) -> None:
    server = make_server(*args, env=env)
    client = server.client()
    for n in range(20):
        assert server.hit(client, si="ryw", ti=f"p{n}").status_code == 200
    # /wait polls until the events are committed, whatever the setting.
    waited = client.get("/_fakeboxer/wait", params={"site": "ryw", "count": 20, "timeout": 30})
    assert waited.status_code == 200, waited.text
    # reset is queued behind the hits and answers after it ran, so nothing is left.
    assert client.post("/_fakeboxer/reset").json() == {"reset": True, "site": None}
    assert client.get("/_fakeboxer/events", params={"site": "ryw"}).json()["total"] == 0


def test_on_is_the_default_and_reads_wait(make_server: Callable[..., Server]) -> None:
    server = make_server("--read-your-writes", "on")
    client = server.client()
    for n in range(20):
        server.hit(client, si="ryw", ti=f"p{n}")
    assert client.get("/_fakeboxer/events", params={"site": "ryw"}).json()["total"] == 20


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--read-your-writes", "maybe"], {}, "--read-your-writes"),
        ([], {"FAKEBOXER_READ_YOUR_WRITES": "sometimes"}, "FAKEBOXER_READ_YOUR_WRITES"),
    ],
)
def test_bad_value_is_one_line_and_exit_2(
    args: list[str], env: dict[str, str], needle: str, tmp_path: Path
) -> None:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEBOXER_")}
    full_env.update(env)
    result = subprocess.run(
        [sys.executable, "-m", "collector.cli", "serve", "--db", str(tmp_path / "x.duckdb"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env=full_env,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and "expected true or false" in lines[0]
    assert not (tmp_path / "x.duckdb").exists()
