"""Server-side scrolls: the ordered lead ids of a lead query, frozen when its first page
was read, so paging with `nextToken` returns every lead that matched exactly once even
while hits keep moving leads around the sort order (SPEC 5.3).

A keyset cursor alone cannot promise that: a lead not yet returned whose sort key moves
past the cursor (a new hit under `lastEvent|desc`) would be skipped. LeadBoxer's tokens
are valid for 10 minutes, which is the lifetime used here. The ids of one scroll are
computed on the same DuckDB snapshot as its first page, after that page has been
answered, so the first page costs no more than a plain top-N query.

When a scroll is gone (expired, evicted, or the server restarted) the token still
carries the last row's sort key and id, and paging goes on as a keyset cursor.
No SQL here: `api.queries` computes the ids; this module only keeps them.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import pyarrow as pa

SCROLL_TTL_S = 600.0  # LeadBoxer: "the nextToken is valid for 10 minutes"
MAX_SCROLLS = 64  # the least recently used go first
# Ids kept over all scrolls. Held as Arrow strings (~30 bytes an id rather than ~90 as
# Python str), so this bounds the registry to roughly 150 MB.
MAX_IDS = 5_000_000


class FrozenIds:
    """The ordered ids of one scroll, as one Arrow string array."""

    def __init__(self, ids: pa.Array | pa.ChunkedArray) -> None:
        self._ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids

    def __len__(self) -> int:
        return len(self._ids)

    def page(self, start: int, count: int) -> list[str]:
        return [str(v) for v in self._ids.slice(start, count).to_pylist()]


@dataclass
class Scroll:
    fingerprint: str  # the query (site, filters, sort, rules) the ids belong to
    ids: Future[FrozenIds | None]  # None: the snapshot query failed
    last_used: float = field(default=0.0)


class ScrollRegistry:
    """Scroll id -> frozen id list, bounded in number and in age. Thread-safe: the id
    lists are filled in by threadpool workers while handlers look them up."""

    def __init__(
        self,
        ttl_s: float = SCROLL_TTL_S,
        capacity: int = MAX_SCROLLS,
        max_ids: int = MAX_IDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._max_ids = max_ids
        self._clock = clock
        self._lock = threading.Lock()
        self._scrolls: OrderedDict[str, Scroll] = OrderedDict()

    def open(self, fingerprint: str) -> tuple[str, Future[FrozenIds | None]]:
        """A new scroll whose ids the caller will set on the returned future (None if
        they could not be read)."""
        scroll_id = secrets.token_urlsafe(12)
        pending: Future[FrozenIds | None] = Future()
        with self._lock:
            self._expire()
            self._scrolls[scroll_id] = Scroll(fingerprint, pending, self._clock())
            self._trim()
        # The ids arrive after open() returned, often after later scrolls were opened:
        # bound the registry again then, or a burst of big scrolls (each read while the
        # others are still pending) holds several times max_ids (seen: 9.8M ids, ~300 MB,
        # after 8 quick calls on 1.4M leads).
        pending.add_done_callback(lambda _: self._trim_locked())
        return scroll_id, pending

    async def ids(self, scroll_id: str, fingerprint: str) -> FrozenIds | None:
        """The frozen ids of a live scroll of the same query, waiting for them if they are
        still being computed; None when the scroll is unknown, expired or failed."""
        with self._lock:
            self._expire()
            scroll = self._scrolls.get(scroll_id)
            if scroll is None or scroll.fingerprint != fingerprint:
                return None
            scroll.last_used = self._clock()
            self._scrolls.move_to_end(scroll_id)
        frozen = await asyncio.wrap_future(scroll.ids)
        if frozen is None:  # the snapshot query failed: the caller pages on by keyset
            self.drop(scroll_id)
        return frozen

    def drop(self, scroll_id: str) -> None:
        with self._lock:
            self._scrolls.pop(scroll_id, None)

    def clear(self) -> None:
        """Forget every scroll (reset / dataset delete: the ids no longer exist)."""
        with self._lock:
            self._scrolls.clear()

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._scrolls)

    def _trim_locked(self) -> None:
        with self._lock:
            self._trim()

    def _trim(self) -> None:
        """Drop the least recently used scrolls while over either bound."""
        while len(self._scrolls) > self._capacity or self._held() > self._max_ids:
            self._scrolls.popitem(last=False)

    def _held(self) -> int:
        """Ids held by the scrolls whose lists are complete."""
        return sum(len(s.ids.result() or ()) for s in self._scrolls.values() if s.ids.done())

    def _expire(self) -> None:
        deadline = self._clock() - self._ttl_s
        for scroll_id in [k for k, s in self._scrolls.items() if s.last_used < deadline]:
            del self._scrolls[scroll_id]
