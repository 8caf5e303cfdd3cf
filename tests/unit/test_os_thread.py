"""collector.os_thread: the writer's OS thread carries a name /proc shows."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from collector.os_thread import name_current_thread

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")


@linux_only
@pytest.mark.parametrize(
    ("name", "shown"),
    [("fb-writer", "fb-writer"), ("a-name-longer-than-15-bytes", "a-name-longer-t")],
)
def test_the_os_sees_the_name_cut_to_15_bytes(name: str, shown: str) -> None:
    seen: list[str] = []

    def body() -> None:
        assert name_current_thread(name)
        seen.append(Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text())

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen == [shown + "\n"]
