"""Name the calling OS thread, so that `top -H`, py-spy and /proc/<pid>/task/*/comm tell
the writer apart from the event loop and DuckDB's workers (CPython 3.11 names only its
own Thread objects, which the OS never sees). Linux only; elsewhere a no-op."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_PR_SET_NAME = 15  # prctl(2)
_MAX_NAME = 15  # bytes, without the terminating NUL


def name_current_thread(name: str) -> bool:
    """True when the OS took the name (at most 15 bytes are kept)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        return int(libc.prctl(_PR_SET_NAME, name.encode()[:_MAX_NAME], 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False
