"""The spool: an append-only journal of accepted hits, written before the 2xx.

One `os.write` per hit on an O_APPEND file descriptor: the bytes are in the kernel when
the call returns, so they survive the process being killed (SIGKILL). The writer commits
"how far into each file it has ingested" in the same DuckDB transaction as the rows, so a
restart replays exactly the records after that offset: exactly once, without guessing.

Records are one line each: a kind byte (E = event, B = bad hit) and an orjson object.
A file is never appended to after a restart; a new one is started, and files that are
fully ingested are deleted.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from collector.model import BadRecord, EventRecord

SUFFIX = ".spool"
log = logging.getLogger("fakeboxer.spool")


def encode(record: EventRecord | BadRecord) -> bytes:
    kind = b"E" if isinstance(record, EventRecord) else b"B"
    return kind + orjson.dumps(record) + b"\n"


def decode(line: bytes) -> EventRecord | BadRecord:
    data = orjson.loads(line[1:])
    if line[:1] == b"E":
        return EventRecord(**data)
    return BadRecord(**data)


@dataclass(frozen=True, slots=True)
class SpoolPosition:
    file: str
    end_offset: int  # byte offset just after this record


class Spool:
    def __init__(self, directory: Path, max_file_bytes: int = 64 * 1024 * 1024) -> None:
        self.directory = directory
        self.max_file_bytes = max_file_bytes
        self._fd = -1
        self._name = ""
        self._size = 0

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._start_file()

    def _start_file(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1  # never write through a closed (and maybe reused) descriptor
        name = f"{time.time_ns():020d}{SUFFIX}"
        fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._name, self._fd, self._size = name, fd, 0

    @property
    def current_file(self) -> str:
        return self._name

    def append(self, line: bytes) -> SpoolPosition:
        """Journal one record; raises OSError when it cannot (the caller answers 503)."""
        if self._fd < 0 or self._size >= self.max_file_bytes:
            self._start_file()  # raises OSError when no file can be opened: a 503
        try:
            written = os.write(self._fd, line)
        except OSError:
            self._start_file()  # never append after bytes of unknown extent
            raise
        if written != len(line):
            # A short write (disk full): the torn bytes stay at the end of this file, where
            # replay skips them as an unacknowledged tail; later records go to a new file.
            self._start_file()
            raise OSError("short write to the spool")
        self._size += written
        return SpoolPosition(self._name, self._size)

    def files(self) -> list[str]:
        return sorted(p.name for p in self.directory.glob(f"*{SUFFIX}"))

    def pending(
        self, committed: dict[str, int]
    ) -> Iterator[tuple[EventRecord | BadRecord, SpoolPosition]]:
        """Records not yet committed, oldest first. A torn last line (a write that never
        completed, so never acknowledged) is skipped."""
        for name in self.files():
            if name == self._name:
                continue
            start = committed.get(name, 0)
            data = (self.directory / name).read_bytes()
            offset = start
            while offset < len(data):
                end = data.find(b"\n", offset)
                if end < 0:
                    break
                line = data[offset:end]
                offset = end + 1
                try:
                    record = decode(line)
                except (ValueError, TypeError):
                    # Only a write that failed (and was answered 503) can leave such bytes.
                    log.error("skipping an unreadable spool record in %s at %d", name, offset)
                    continue
                yield record, SpoolPosition(name, offset)

    def drop_ingested(self, committed: dict[str, int], include_current: bool = False) -> list[str]:
        """Delete files whose every complete record is committed; returns their names.
        Bytes after the last newline are a torn write that was never acknowledged."""
        dropped = []
        for name in self.files():
            if name == self._name and not include_current:
                continue
            path = self.directory / name
            with path.open("rb") as f:
                f.seek(committed.get(name, 0))
                rest = f.read()
            if b"\n" not in rest:
                path.unlink()
                dropped.append(name)
        return dropped

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
