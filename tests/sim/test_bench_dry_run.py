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
    "| server RSS ≤ 1 GB (10⁹ bytes = 953.7 MiB) at 10M events |",
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


def test_cpu_per_hit_finds_the_writer_thread() -> None:
    """`loadtests/bench_cpu.py` for one short run: the writer's OS thread is found by its
    name (fb-writer), so its column is not silently folded into 'other threads'."""
    done = subprocess.run(
        [sys.executable, "loadtests/bench_cpu.py", "--runs", "1", "--duration", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith(("| server", "| ---"))
    }
    assert set(rows) == {"fakeboxer", "bare starlette GIF"}, done.stdout
    rate, loop, writer, others, total = (float(c.replace(",", "")) for c in rows["fakeboxer"])
    assert rate > 0 and loop > 0 and writer > 0
    assert total >= loop + writer + others - 3  # each cell is rounded on its own
    assert float(rows["bare starlette GIF"][2]) == 0  # no writer thread there
