"""`simulate --db` into a fresh file takes the bulk path, stores what the writer path
stores, and falls back to the writer for a dataset that already has data."""

from __future__ import annotations

from pathlib import Path

from tests._bulk_support import differences, run_simulate, tables


def test_bulk_verify_passes_and_equals_the_writer(tmp_path: Path) -> None:
    common = ["--users", "120", "--days", "6", "--seed", "11"]
    bulk_db, writer_db = tmp_path / "bulk.duckdb", tmp_path / "writer.duckdb"
    r = run_simulate(*common, "--db", str(bulk_db), "--verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in one bulk transaction" in r.stdout and "verify: ok" in r.stdout
    assert "events/s" in r.stdout
    r = run_simulate(*common, "--db", str(writer_db), "--verify", "--via-writer", "--batch", "150")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "through the writer in batches of 150 (--via-writer)" in r.stdout
    found = differences(tables(writer_db), tables(bulk_db))
    assert not found, "\n".join(found)


def test_a_dataset_with_data_goes_through_the_writer(tmp_path: Path) -> None:
    db = tmp_path / "sim.duckdb"
    assert run_simulate("--users", "20", "--days", "2", "--db", str(db)).returncode == 0
    r = run_simulate("--users", "20", "--days", "2", "--seed", "2", "--db", str(db), "--site", "b")
    assert r.returncode == 0 and "in one bulk transaction" in r.stdout  # another dataset
    r = run_simulate("--users", "20", "--days", "2", "--seed", "3", "--db", str(db))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "through the writer in batches of 50,000 (dataset demo already had data)" in r.stdout
