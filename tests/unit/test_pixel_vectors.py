"""The pixel's cookie arithmetic (tests/vectors/pixel.json) agrees with collector/identity.py.

The same vectors run against pixel/lb.js in Chromium (tests/browser/test_pixel_browser.py),
so the page and the collector derive the same user and session ids from `otui` / `ots`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collector.identity import (
    explicit_session,
    is_valid_id,
    new_otui,
    next_ots,
    parse_ots,
    parse_otui,
    resolve_user,
    session_id_for,
)
from collector.model import Hit

VECTORS_PATH = Path(__file__).resolve().parent.parent / "vectors" / "pixel.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
NOW = 1_750_000_000_000


def no_email_owner(site: str, email: str) -> str | None:
    return None


def never_random() -> int:
    raise AssertionError("the collector must not mint an id for a hit the pixel sent")


def collector_ids(otui: str, ots: str, event_ms: int, timeout_ms: int) -> tuple[str, str | None]:
    """The user and session the collector stores for a pixel hit carrying otui and ots."""
    hit = Hit(site="pixel", title="t", props={"ti": "t"}, t_ms=event_ms, otui=otui, ots=ots)
    user = resolve_user(hit, None, no_email_owner, NOW, never_random)
    session, warnings = explicit_session(hit, None, user, event_ms, timeout_ms)
    assert not user.warnings and not warnings
    return user.user_id, session


def test_every_section_is_present() -> None:
    for section in ("ids", "advance", "force", "adopt"):
        assert VECTORS[section], section


@pytest.mark.parametrize("case", VECTORS["ids"], ids=lambda c: f"{c['otui']}|{c['ots']}")
def test_ids(case: dict[str, Any]) -> None:
    user = parse_otui(case["otui"])
    assert (user.user_id if user else None) == case["user_id"]
    session = parse_ots(case["ots"])
    expected = None
    if user is not None and session is not None:
        expected = session_id_for(session.visit_start_ms, user.user_id)
    assert expected == case["session_id"]


@pytest.mark.parametrize("case", VECTORS["advance"], ids=lambda c: c["note"])
def test_advance(case: dict[str, Any]) -> None:
    before = parse_otui(case["otui"]) if case["otui"] is not None else None
    previous = parse_ots(case["ots"]) if before is not None and case["ots"] is not None else None
    t, timeout = case["event_ms"], case["timeout_ms"]
    after_ots = next_ots(previous, t, timeout)
    assert after_ots.format() == case["ots_after"]
    after = parse_otui(case["otui_after"])
    assert after is not None and after.format() == case["otui_after"]
    assert after.user_id == case["user_id"]
    assert session_id_for(after_ots.visit_start_ms, after.user_id) == case["session_id"]
    if before is None:
        assert new_otui(case["user_id"], t).format() == case["otui_after"]
        assert after.random == case["random"]
    else:
        assert before.user_id == after.user_id
        new_visit = previous is None or after_ots.visit_start_ms != previous.visit_start_ms
        assert after.events == before.events + 1
        if new_visit:
            assert (after.prev_visit_ms, after.cur_visit_ms) == (before.cur_visit_ms, t)
            assert after.sessions == before.sessions + 1
        else:
            assert (after.prev_visit_ms, after.cur_visit_ms) == (
                before.prev_visit_ms,
                before.cur_visit_ms,
            )
            assert after.sessions == before.sessions
    # what the page sends is what the collector stores
    assert collector_ids(case["otui_after"], case["ots_after"], t, timeout) == (
        case["user_id"],
        case["session_id"],
    )


@pytest.mark.parametrize("case", VECTORS["force"], ids=lambda c: c["note"])
def test_force(case: dict[str, Any]) -> None:
    assert is_valid_id(case["lb_uid"])
    forced = new_otui(case["lb_uid"], case["event_ms"])
    assert forced.format() == case["otui_after"]
    assert forced.user_id == case["user_id"]
    t = case["event_ms"]
    user_id, session = collector_ids(case["otui_after"], f"1.{t}.{t}.{t}", t, 1_800_000)
    assert user_id == case["user_id"]
    assert session == f"{t}.{forced.random}"


@pytest.mark.parametrize("case", VECTORS["adopt"], ids=lambda c: c["note"])
def test_adopt(case: dict[str, Any]) -> None:
    before = parse_otui(case["otui"])
    after = parse_otui(case["otui_after"])
    assert before is not None and after is not None
    assert after.user_id == case["user_id"]
    assert (after.prev_visit_ms, after.cur_visit_ms, after.sessions, after.events) == (
        before.prev_visit_ms,
        before.cur_visit_ms,
        before.sessions,
        before.events,
    )


def test_vector_numbers_are_safe_javascript_integers() -> None:
    for section in ("advance", "force"):
        for case in VECTORS[section]:
            assert case["event_ms"] < 2**53
