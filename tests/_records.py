"""Event records for the writer tests: one page view of site "s" titled "t"."""

from __future__ import annotations

from collector.model import EventRecord


def page_view(
    seq: int, user: str, ts: int, minted: bool = False, lc: str = "", ref: str = "", **props: str
) -> EventRecord:
    return EventRecord(
        seq=seq,
        site="s",
        event_id=f"{ts}.{100000000 + seq}",
        user_id=user,
        session_id=None,
        ts=ts,
        received_ms=ts,
        title="t",
        props={"ti": "t", **props},
        lc=lc,
        ref=ref,
        user_minted=minted,
    )
