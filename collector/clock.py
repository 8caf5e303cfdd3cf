"""The server clock: wall time plus an offset that tests can set (SPEC 7.1 `clock`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Clock:
    def __init__(self, wall_ms: Callable[[], int] | None = None) -> None:
        self._wall_ms = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self._offset_ms = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return self._wall_ms() + self._offset_ms

    @property
    def offset_ms(self) -> int:
        return self._offset_ms

    def set_offset(self, offset_ms: int) -> None:
        with self._lock:
            self._offset_ms = offset_ms

    def advance(self, delta_ms: int) -> None:
        with self._lock:
            self._offset_ms += delta_ms

    def set_now(self, now_ms: int) -> None:
        with self._lock:
            self._offset_ms = now_ms - self._wall_ms()


class SeqCounter:
    """Arrival sequence numbers: strictly increasing, and above any earlier run's (they
    start from wall-clock microseconds), so a tie in event time goes to the later hit."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, time.time_ns() // 1000)
        return self._last

    def at_least(self, value: int) -> None:
        self._last = max(self._last, value)
