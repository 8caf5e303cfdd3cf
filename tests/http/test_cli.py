"""`fakeboxer serve` refuses bad settings with one line and exit 2, and a database it
cannot open or lock with one line and a non-zero exit — never a server that answers 200
and stores nothing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, Server, free_port


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--port", "0"], {}, "--port"),
        (["--port", "http"], {}, "--port"),
        (["--session-timeout", "soon"], {}, "--session-timeout"),
        (["--queue-max", "-1"], {}, "--queue-max"),
        (["--api-key", "short"], {}, "--api-key"),
        (["--strict", "maybe"], {}, "--strict"),
        ([], {"FAKEBOXER_PORT": "99999"}, "FAKEBOXER_PORT"),
        ([], {"FAKEBOXER_SESSION_TIMEOUT": "0m"}, "FAKEBOXER_SESSION_TIMEOUT"),
        (["--no-such-flag"], {}, "unrecognized arguments"),
    ],
)
def test_bad_setting_is_one_line_and_exit_2(
    args: list[str], env: dict[str, str], needle: str, tmp_path: Path
) -> None:
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEBOXER_")}
    full_env.update(env)
    result = run_cli("serve", "--db", str(tmp_path / "x.duckdb"), *args, env=full_env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.duckdb").exists()


def test_flag_beats_env(make_server: Callable[..., Server]) -> None:
    port = free_port()
    server = make_server("--port", str(port), env={"FAKEBOXER_PORT": "1"}, port=port)
    assert server.client().get("/_fakeboxer/health").status_code == 200


def test_locked_database_is_refused(make_server: Callable[..., Server], tmp_path: Path) -> None:
    first = make_server()
    result = run_cli("serve", "--db", str(first.db), "--port", str(free_port()))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "another process holds it" in lines[0], result.stderr


@pytest.mark.parametrize(
    ("make_path", "needle"),
    [
        (lambda p: p / "missing-folder" / "x.duckdb", "does not exist"),
        (
            lambda p: (
                (p / "junk.duckdb").write_bytes(b"not a database" * 500) and p / "junk.duckdb"
            ),
            "cannot",
        ),
    ],
    ids=["missing-folder", "not-a-database"],
)
def test_unusable_database_is_one_line(
    make_path: Callable[[Path], Path], needle: str, tmp_path: Path
) -> None:
    result = run_cli("serve", "--db", str(make_path(tmp_path)), "--port", str(free_port()))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
