"""`--db-memory-mb` bounds DuckDB's buffers, so a server reading a large file keeps a
bounded footprint; without it the Store keeps DuckDB's default (80 % of the RAM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.settings import SettingError, load_settings
from collector.storage.db import Store


@pytest.mark.parametrize("mb", [64, 512, 3000])
def test_the_limit_reaches_duckdb(tmp_path: Path, mb: int) -> None:
    store = Store(str(tmp_path / "t.duckdb"), mb)
    (row,) = store.cursor().execute("SELECT current_setting('memory_limit')").fetchall()
    store.close()
    # DuckDB reports the limit in its own rounding ("64.0 MiB", "2.9 GiB").
    value, unit = str(row[0]).split()
    assert float(value) * {"MiB": 1, "GiB": 1024}[unit] == pytest.approx(mb, rel=0.05)


def test_without_a_limit_duckdb_keeps_its_default(tmp_path: Path) -> None:
    limited = Store(str(tmp_path / "a.duckdb"), 64)
    default = Store(str(tmp_path / "b.duckdb"))
    limits = [
        s.cursor().execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        for s in (limited, default)
    ]
    limited.close()
    default.close()
    assert limits[0] != limits[1]


def test_the_setting_defaults_to_256_and_refuses_nonsense() -> None:
    assert load_settings({}, {}).db_memory_mb == 256
    assert load_settings({"db_memory_mb": "2048"}, {}).db_memory_mb == 2048
    assert load_settings({}, {"FAKEBOXER_DB_MEMORY_MB": "300"}).db_memory_mb == 300
    for bad in ("0", "-5", "lots", "1.5"):
        with pytest.raises(SettingError, match="--db-memory-mb"):
            load_settings({"db_memory_mb": bad}, {})


def test_checkpoints_do_not_vacuum(tmp_path: Path) -> None:
    """Vacuuming made every 16th checkpoint rewrite 16x the new data (collector/storage/db)."""
    store = Store(str(tmp_path / "t.duckdb"))
    (row,) = store.cursor().execute("SELECT current_setting('max_vacuum_tasks')").fetchall()
    store.close()
    assert row[0] == 0
