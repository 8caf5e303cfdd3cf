"""Unit tests of collector.folding: property folding and attribution (SPEC 4.2)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from collector.folding import (
    Fold,
    add_event,
    event_signals,
    flat_props,
    from_jsonable,
    merge,
    to_jsonable,
)

T = 1_700_000_000_000
SEQ = 1_700_000_000_000_000  # arrival seqs start from wall-clock microseconds

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.91 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)


@dataclass
class Ev:
    ts: int
    seq: int
    props: dict[str, str] = field(default_factory=dict)
    signals: dict[str, str] = field(default_factory=dict)
    increment: bool = True
    implicit: bool = True


def fold_of(*events: Ev) -> Fold:
    fold = Fold()
    for e in events:
        add_event(
            fold,
            e.ts,
            e.seq,
            dict(e.props),
            dict(e.signals),
            increment=e.increment,
            implicit=e.implicit,
        )
    return fold


def both_orders(a: Ev, b: Ev) -> list[Fold]:
    return [
        fold_of(a, b),
        fold_of(b, a),
        merge(fold_of(a), fold_of(b)),
        merge(fold_of(b), fold_of(a)),
    ]


# --------------------------------------------------------------------------- latest wins


@pytest.mark.parametrize(
    ("a", "b", "winner"),
    [
        pytest.param(
            Ev(T + 200, SEQ + 1, {"x": "a"}),
            Ev(T + 100, SEQ + 2, {"x": "b"}),
            "a",
            id="later-event-time-wins-over-later-arrival",
        ),
        pytest.param(
            Ev(T + 100, SEQ + 1, {"x": "a"}),
            Ev(T + 200, SEQ + 2, {"x": "b"}),
            "b",
            id="later-event-time-wins",
        ),
        pytest.param(
            Ev(T, SEQ + 5, {"x": "a"}), Ev(T, SEQ + 3, {"x": "b"}), "a", id="tie-later-arrival-wins"
        ),
        pytest.param(
            Ev(T, SEQ + 3, {"x": "a"}),
            Ev(T, SEQ + 5, {"x": "b"}),
            "b",
            id="tie-later-arrival-wins-2",
        ),
        pytest.param(
            Ev(T + 1, 1, {"x": "a"}), Ev(T, SEQ * 1000, {"x": "b"}), "a", id="one-ms-beats-any-seq"
        ),
    ],
)
def test_latest_by_event_time_wins(a: Ev, b: Ev, winner: str) -> None:
    for fold in both_orders(a, b):
        assert fold.value("x") == winner
        assert flat_props(fold) == {"x": winner}


def test_property_missing_on_later_event_is_kept() -> None:
    early = Ev(T, SEQ, {"email": "ada@example.com", "plan": "free"})
    late = Ev(T + 1000, SEQ + 1, {"plan": "pro"})
    for fold in both_orders(early, late):
        assert flat_props(fold) == {"email": "ada@example.com", "plan": "pro"}


def test_value_of_unknown_property_is_none() -> None:
    fold = fold_of(Ev(T, SEQ, {"a": "1"}))
    assert fold.value("a") == "1"
    assert fold.value("b") is None
    assert Fold().value("a") is None


# --------------------------------------------------------------------------- first / last


def test_first_and_last_attribution() -> None:
    first = Ev(T, SEQ + 3, signals={"utm_source": "google", "channel": "paid", "url": "/a"})
    middle = Ev(T + 10, SEQ + 1, signals={"url": "/b"})
    last = Ev(
        T + 20, SEQ + 2, signals={"utm_source": "newsletter", "channel": "email", "url": "/c"}
    )
    for events in ([first, middle, last], [last, middle, first], [middle, last, first]):
        fold = fold_of(*events)
        assert fold.first_value("utm_source") == "google"
        assert fold.last_value("utm_source") == "newsletter"
        assert fold.first_value("channel") == "paid"
        assert fold.last_value("channel") == "email"
        assert fold.first_value("url") == "/a"
        assert fold.last_value("url") == "/c"


def test_first_and_last_ties_go_by_arrival() -> None:
    a = Ev(T, SEQ + 1, signals={"referrer": "https://a.test/"})
    b = Ev(T, SEQ + 2, signals={"referrer": "https://b.test/"})
    for fold in both_orders(a, b):
        assert fold.first_value("referrer") == "https://a.test/"
        assert fold.last_value("referrer") == "https://b.test/"


def test_first_last_defaults() -> None:
    fold = fold_of(Ev(T, SEQ, signals={"url": "/x"}))
    assert fold.first_value("channel") == ""
    assert fold.last_value("channel", "direct") == "direct"
    assert fold.first_value("url", "zzz") == "/x"


def test_signals_are_not_properties_and_properties_are_not_signals() -> None:
    fold = fold_of(Ev(T, SEQ, props={"color": "red"}, signals={"url": "/x"}))
    assert fold.value("url") is None
    assert fold.first_value("color") == ""


# --------------------------------------------------------------------------- counters, spans


@pytest.mark.parametrize(
    ("increments", "events", "pages"),
    [([], 0, 0), ([True], 1, 1), ([False], 1, 0), ([True, False, True, False, False], 5, 2)],
)
def test_event_and_page_counters(increments: list[bool], events: int, pages: int) -> None:
    fold = fold_of(*(Ev(T + i, SEQ + i, increment=inc) for i, inc in enumerate(increments)))
    assert (fold.events, fold.pages) == (events, pages)


@pytest.mark.parametrize(
    ("events", "span", "implicit_span"),
    [
        ([], (None, None), (None, None)),
        ([(T + 5, True)], (T + 5, T + 5), (T + 5, T + 5)),
        ([(T + 5, False)], (T + 5, T + 5), (None, None)),
        (
            [(T + 50, True), (T, False), (T + 90, False), (T + 20, True)],
            (T, T + 90),
            (T + 20, T + 50),
        ),
        ([(T + 50, False), (T, False)], (T, T + 50), (None, None)),
    ],
)
def test_span_and_implicit_span(
    events: list[tuple[int, bool]],
    span: tuple[int | None, int | None],
    implicit_span: tuple[int | None, int | None],
) -> None:
    fold = fold_of(*(Ev(ts, SEQ + i, implicit=imp) for i, (ts, imp) in enumerate(events)))
    assert (fold.start_ms, fold.end_ms) == span
    assert (fold.implicit_start_ms, fold.implicit_end_ms) == implicit_span
    expected_duration = 0 if span[0] is None else span[1] - span[0]  # type: ignore[operator]
    assert fold.duration_ms == expected_duration


# --------------------------------------------------------------------------- merge


EVENTS = [
    Ev(T + 30, SEQ + 1, {"a": "1", "b": "x"}, {"url": "/1", "utm_source": "g"}, True, True),
    Ev(T + 10, SEQ + 2, {"a": "2"}, {"url": "/2"}, False, False),
    Ev(T + 30, SEQ + 3, {"b": "y", "c": "z"}, {"url": "/3", "channel": "social"}, True, True),
    Ev(T + 90, SEQ + 4, {"a": "4"}, {"utm_source": "bing"}, True, False),
]


@pytest.mark.parametrize("cut", range(len(EVENTS) + 1))
def test_merge_equals_folding_everything(cut: int) -> None:
    whole = fold_of(*EVENTS)
    assert merge(fold_of(*EVENTS[:cut]), fold_of(*EVENTS[cut:])) == whole
    assert merge(fold_of(*EVENTS[cut:]), fold_of(*EVENTS[:cut])) == whole


def test_merge_expected_values() -> None:
    fold = merge(fold_of(EVENTS[0], EVENTS[3]), fold_of(EVENTS[1], EVENTS[2]))
    assert flat_props(fold) == {"a": "4", "b": "y", "c": "z"}
    assert fold.first_value("url") == "/2" and fold.last_value("url") == "/3"
    assert fold.first_value("utm_source") == "g" and fold.last_value("utm_source") == "bing"
    assert (fold.events, fold.pages) == (4, 3)
    assert (fold.start_ms, fold.end_ms) == (T + 10, T + 90)
    assert (fold.implicit_start_ms, fold.implicit_end_ms) == (T + 30, T + 30)


def test_merge_with_empty_is_identity() -> None:
    fold = fold_of(*EVENTS)
    assert merge(fold, Fold()) == fold
    assert merge(Fold(), fold) == fold
    assert merge(Fold(), Fold()) == Fold()


def test_merge_does_not_change_its_inputs() -> None:
    a, b = fold_of(*EVENTS[:2]), fold_of(*EVENTS[2:])
    a_before, b_before = copy.deepcopy(a), copy.deepcopy(b)
    merged = merge(a, b)
    add_event(
        merged, T + 999, SEQ + 99, {"a": "late"}, {"url": "/z"}, increment=True, implicit=True
    )
    assert a == a_before
    assert b == b_before


# --------------------------------------------------------------------------- json form


@pytest.mark.parametrize(
    "fold",
    [
        pytest.param(Fold(), id="empty"),
        pytest.param(fold_of(*EVENTS), id="events"),
        pytest.param(fold_of(Ev(T, 2**63 - 1, {"a": "max-seq"}, {"url": "/"})), id="max-seq"),
        pytest.param(
            fold_of(Ev(T, SEQ, {"name with space": "Ünïcødé ✓", "empty": ""}, {"title": "\n"})),
            id="odd-text",
        ),
        pytest.param(fold_of(Ev(T, SEQ, implicit=False, increment=False)), id="explicit-only"),
    ],
)
def test_json_round_trip(fold: Fold) -> None:
    data = to_jsonable(fold)
    assert from_jsonable(data) == fold
    text = orjson.dumps(data)  # must stay within JSON's 64-bit integers
    assert from_jsonable(orjson.loads(text)) == fold


def test_json_form_keeps_event_time_and_seq_readable() -> None:
    fold = fold_of(Ev(T + 7, SEQ + 9, {"a": "v"}, {"url": "/u"}))
    data: dict[str, Any] = orjson.loads(orjson.dumps(to_jsonable(fold)))
    assert data["props"]["a"] == ["v", T + 7, SEQ + 9]
    assert data["first"]["url"] == ["/u", T + 7, SEQ + 9]
    assert data["last"]["url"] == ["/u", T + 7, SEQ + 9]
    assert (data["start"], data["end"], data["events"], data["pages"]) == (T + 7, T + 7, 1, 1)


def test_folding_continues_after_a_json_round_trip() -> None:
    stored = from_jsonable(orjson.loads(orjson.dumps(to_jsonable(fold_of(*EVENTS[:2])))))
    for e in EVENTS[2:]:
        add_event(
            stored, e.ts, e.seq, e.props, e.signals, increment=e.increment, implicit=e.implicit
        )
    assert stored == fold_of(*EVENTS)


# --------------------------------------------------------------------------- event_signals


def test_event_signals_page_view() -> None:
    assert event_signals({"ti": "Home"}, "https://shop.test/", "", "", "") == {
        "url": "https://shop.test/",
        "title": "Home",
    }


def test_event_signals_nothing() -> None:
    assert event_signals({}, "", "", "", "") == {}


@pytest.mark.parametrize(
    ("props", "lc", "ref", "expected"),
    [
        pytest.param(
            {},
            "https://shop.test/p",
            "https://www.google.com/",
            {"referrer": "https://www.google.com/", "channel": "organic"},
            id="organic",
        ),
        pytest.param({}, "https://shop.test/p", "https://shop.test/", {}, id="same-site-ignored"),
        pytest.param(
            {}, "https://www.shop.test/p", "https://shop.test/x", {}, id="same-site-www-ignored"
        ),
        pytest.param(
            {},
            "https://shop.test/p",
            "https://www.linkedin.com/feed/",
            {"referrer": "https://www.linkedin.com/feed/", "channel": "social"},
            id="social",
        ),
        pytest.param(
            {},
            "https://shop.test/p",
            "https://blog.other.test/post",
            {"referrer": "https://blog.other.test/post", "channel": "referral"},
            id="referral",
        ),
        pytest.param(
            {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring"},
            "https://shop.test/",
            "",
            {
                "utm_source": "google",
                "utm_medium": "cpc",
                "utm_campaign": "spring",
                "channel": "paid",
            },
            id="utm-paid",
        ),
        pytest.param(
            {"gclid": "abc123"},
            "https://shop.test/",
            "https://shop.test/",
            {"gclid": "abc123", "channel": "paid"},
            id="click-id",
        ),
        pytest.param({"utm_source": "", "utm_medium": ""}, "", "", {}, id="empty-utm-ignored"),
        pytest.param(
            {"utm_medium": "email", "utm_term": "t", "utm_content": "c"},
            "",
            "",
            {"utm_medium": "email", "utm_term": "t", "utm_content": "c", "channel": "email"},
            id="utm-email",
        ),
        pytest.param(
            {"sw": "1920", "sh": "1080"}, "", "", {"sw": "1920", "sh": "1080"}, id="screen"
        ),
        pytest.param(
            {"ref": "https://www.google.com/", "color": "red"},
            "",
            "",
            {},
            id="props-that-are-not-signals",
        ),
    ],
)
def test_event_signals_attribution(
    props: dict[str, str], lc: str, ref: str, expected: dict[str, str]
) -> None:
    signals = event_signals(props, lc, ref, "", "")
    signals.pop("url", None)
    assert signals == expected


def test_event_signals_browser_and_platform_from_user_agent() -> None:
    signals = event_signals({}, "", "", "203.0.113.9", CHROME_WIN)
    assert signals == {
        "browser": "Chrome",
        "browser_version": "124.0.6367.91",
        "platform": "Windows NT 10.0",
        "ip": "203.0.113.9",
        "user_agent": CHROME_WIN,
    }


def test_event_signals_iphone() -> None:
    signals = event_signals({}, "", "", "", IPHONE)
    assert (signals["browser"], signals["browser_version"]) == ("Safari", "17.4.1")
    assert signals["platform"] == "iOS 17.4.1"


def test_event_signals_explicit_browser_properties_win_over_user_agent() -> None:
    props = {"browser": "Custom", "browserVersion": "2.0", "platform": "Plan 9"}
    signals = event_signals(props, "", "", "", CHROME_WIN)
    assert (signals["browser"], signals["browser_version"]) == ("Custom", "2.0")
    assert signals["platform"] == "Plan 9"
    assert signals["user_agent"] == CHROME_WIN


def test_event_signals_unknown_user_agent() -> None:
    signals = event_signals({}, "", "", "", "SomeBot/1.0")
    assert "browser" not in signals and "platform" not in signals
    assert signals["user_agent"] == "SomeBot/1.0"
