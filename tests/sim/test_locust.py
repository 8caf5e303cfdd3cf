"""A short headless locust run: its successful hits equal the events the server stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, Server

LOCUST = Path(sys.executable).parent / "locust"


def test_locust_hits_match_stored_events(server: Server, tmp_path: Path) -> None:
    r = subprocess.run(
        [
            str(LOCUST),
            "-f",
            "loadtests/locustfile.py",
            "--headless",
            "-u",
            "10",
            "-r",
            "10",
            "-t",
            "5s",
            "--host",
            server.url,
            "--only-summary",
            "--csv",
            str(tmp_path / "run"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "fakeboxer check: ok" in out
    events = server.stats()["events"]
    assert isinstance(events, int) and events > 0
    check = subprocess.run(
        [
            sys.executable,
            "loadtests/check_locust.py",
            "--csv",
            str(tmp_path / "run"),
            "--host",
            server.url,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_headless_without_run_time_is_refused(server: Server) -> None:
    r = subprocess.run(
        [
            str(LOCUST),
            "-f",
            "loadtests/locustfile.py",
            "--headless",
            "-u",
            "1",
            "--host",
            server.url,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
