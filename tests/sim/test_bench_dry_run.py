"""`loadtests/bench.py --dry-run` end to end: every section of `make bench` runs for a
second or two (wrk, servers, simulate, the read API) and the table has every row. No
figure is judged here: speed belongs to the benchmark, not the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SECTIONS = (
    "## `make bench` results (dry run)",
    "### Collector throughput (wrk, pinned)",
    "### Latency at half capacity (paced wrk)",
    "### Freshness (2xx to visible through the API, read-your-writes off)",
    "### Bulk ingest (`fakeboxer simulate --db`)",
    "### Read API latency (real HTTP)",
    "### Peak memory (VmHWM of each server; rusage of simulate)",
    "### Commands run",
)
TARGET_ROWS = (
    "| collector ≥ 0.6 × bare starlette GIF |",
    "| zero hits lost (events stored = wrk's 2xx) |",
    "| p99 ≤ 15 ms at half capacity |",
    "| freshness p99 ≤ 250 ms |",
    "| bulk ingest ≥ 100,000 events/s |",
    "| `c_view_leads` first page ≤ 50 ms at 1M events |",
    "| server RSS ≤ 1 GB at 10M events |",
)
SERVER_ROWS = ("| fakeboxer |", "| bare starlette GIF |")
API_ROWS = (
    "| c_view_leads first page, default sort |",
    "| c_view_leads first page, filter + sort |",
    "| lead_detail |",
    "| a lead's sessions |",
)


def test_dry_run_has_every_section_and_every_hit_stored(tmp_path: Path) -> None:
    assert shutil.which("wrk"), (
        "wrk not found: install it with apt-get install wrk (make test does)"
    )
    out = tmp_path / "performance.md"
    done = subprocess.run(
        [sys.executable, "loadtests/bench.py", "--dry-run", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    text = out.read_text(encoding="utf-8")
    assert text.count("<!-- bench:start -->") == 1 and text.count("<!-- bench:end -->") == 1
    for needle in SECTIONS + TARGET_ROWS + SERVER_ROWS + API_ROWS:
        assert needle in text, f"{needle!r} missing from the report:\n{text}"
    assert "FAILED" not in text and "Sections that failed" not in text, text
    # After the throughput run and after the half-capacity run: every 2xx was stored.
    assert text.count("every 2xx stored: ok") == 2, text
    # nginx is optional: measured when installed, otherwise a row says why it is skipped.
    assert "| nginx empty_gif |" in text
    assert "All 10 probes together" in text, text  # the freshness run sent every probe
    assert "| 200 |" in text  # the API answered


def test_a_second_run_keeps_the_notes_outside_the_markers(tmp_path: Path) -> None:
    from loadtests.bench_report import write_report

    out = tmp_path / "performance.md"
    out.write_text("# Title\n\nintro\n\n<!-- bench:start -->\nold\n<!-- bench:end -->\n\nnotes\n")
    write_report(out, "<!-- bench:start -->\nnew\n<!-- bench:end -->\n")
    assert out.read_text() == (
        "# Title\n\nintro\n\n<!-- bench:start -->\nnew\n<!-- bench:end -->\n\nnotes\n"
    )
