"""BatchWriter.barrier(): waits for the writer with read_your_writes on (the default) and
returns at once with it off; control actions wait for their result either way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from collector.model import EventRecord
from collector.storage.db import Store
from collector.storage.writer import BatchWriter
from tests._aio import run

T0 = 1_700_000_000_000


def record(seq: int) -> EventRecord:
    return EventRecord(
        seq=seq,
        site="s",
        event_id=f"{T0}.{100000000 + seq}",
        user_id="1.111111111",
        session_id=None,
        ts=T0,
        received_ms=T0,
        title="t",
        props={"ti": "t"},
    )


@pytest.mark.parametrize("read_your_writes", [True, False])
def test_barrier_with_an_uncommitted_hit(tmp_path: Path, read_your_writes: bool) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    # Never started: what is submitted stays uncommitted, so only the setting decides.
    writer = BatchWriter(store, None, 30 * 60_000, read_your_writes=read_your_writes)

    async def scenario() -> bool:
        writer._loop = asyncio.get_running_loop()
        writer.submit(record(1), None)
        waiting = asyncio.ensure_future(writer.barrier())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        returned = waiting.done()
        waiting.cancel()
        return returned

    try:
        assert run(scenario()) is (not read_your_writes)
    finally:
        store.close()


def test_control_waits_for_its_result_with_read_your_writes_off(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "t.duckdb"))
    writer = BatchWriter(store, None, 30 * 60_000, read_your_writes=False)

    async def scenario() -> int:
        writer.start(asyncio.get_running_loop())
        writer.submit(record(1), None)
        await writer.control("reset")
        return writer.queue_depth  # the hit and the reset, both done when control returns

    try:
        assert run(scenario()) == 0
    finally:
        writer.close()
        store.close()
