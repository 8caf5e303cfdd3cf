"""Property tests of collector.hits (hypothesis)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.hits import (
    REASONS,
    RESERVED_CONTROL,
    MalformedEncoding,
    parse_hit,
    response_kind,
    split_pairs,
)
from collector.model import BadHit, Hit, Limits, RawRequest

NOW = 1_700_000_000_000
LIMITS = Limits()

CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "",
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/json",
            "Application/JSON; charset=utf-8",
            "multipart/form-data; boundary=x",
            "application/octet-stream",
        ]
    ),
    st.text(max_size=40),
)

# Fragments that steer random form data towards the interesting branches.
NAMES = st.one_of(
    st.sampled_from(sorted(RESERVED_CONTROL)),
    st.sampled_from(["ti", "lc", "email", "", "a b", "%", "%zz", "%C3", "si%3D", "\xff"]),
    st.text(max_size=10),
)
VALUES = st.one_of(
    st.sampled_from(
        ["", "true", "false", "1", "0", "yes", "off", "demo", "%", "%4", "%zz", "+", "%E2%80"]
    ),
    st.integers(min_value=-1, max_value=10**25).map(str),
    st.text(max_size=20),
)


@st.composite
def form_like(draw: st.DrawFn) -> bytes:
    pieces = draw(st.lists(st.tuples(NAMES, VALUES, st.booleans()), max_size=12))
    parts = []
    for name, value, has_eq in pieces:
        raw = name.encode("utf-8", "surrogatepass")
        if has_eq:
            raw += b"=" + value.encode("utf-8", "surrogatepass")
        parts.append(raw)
    return b"&".join(parts)


def json_like() -> st.SearchStrategy[bytes]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    )
    values = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=5,
    )
    docs = st.one_of(st.dictionaries(NAMES, values, max_size=8), values)
    return docs.map(lambda doc: orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS))


BYTES = st.one_of(st.binary(max_size=300), form_like(), json_like())
HEADERS = st.dictionaries(
    st.sampled_from(["accept", "sec-fetch-dest", "cookie", "referer", "x-other"]),
    st.text(max_size=30),
    max_size=3,
)
LIMIT_CHOICES = st.sampled_from(
    [LIMITS, Limits(max_url=64, max_body=64, max_props=3, max_name=4, max_value=8)]
)


def _check_result(result: Hit | BadHit) -> None:
    assert isinstance(result, (Hit, BadHit))
    if isinstance(result, BadHit):
        assert result.reasons
        assert len(set(result.reasons)) == len(result.reasons)
        assert set(result.reasons) <= set(REASONS)
        assert "internal_error" not in result.reasons, result.message
        assert result.message
        assert list(result.reasons) == [r for r in REASONS if r in result.reasons]
    else:
        assert result.site
        assert result.props["ti"] == result.title
        assert result.title.strip()
        assert not RESERVED_CONTROL & set(result.props)
        assert "" not in result.props


@settings(max_examples=500)
@given(
    method=st.sampled_from(["GET", "POST", "HEAD", "post"]),
    path=st.sampled_from(["/", "/log"]),
    query=BYTES,
    body=BYTES,
    content_type=CONTENT_TYPES,
    headers=HEADERS,
    limits=LIMIT_CHOICES,
    now_ms=st.integers(min_value=0, max_value=2**62),
    json_flag=st.booleans(),
)
def test_parse_hit_never_raises(
    method: str,
    path: str,
    query: bytes,
    body: bytes,
    content_type: str | None,
    headers: dict[str, str],
    limits: Limits,
    now_ms: int,
    json_flag: bool,
) -> None:
    all_headers = dict(headers)
    if content_type is not None:
        all_headers["content-type"] = content_type
    req = RawRequest(method, path, query, body, all_headers, "127.0.0.1")
    result = parse_hit(req, now_ms, limits)
    _check_result(result)
    assert response_kind(req, json_flag) in {"gif", "json", "text"}


# Names and values that fit the default limits (SPEC 8.3) once UTF-8 encoded.
PROP_NAMES = st.text(min_size=1, max_size=32).filter(lambda name: name not in RESERVED_CONTROL)
PROP_VALUES = st.text(max_size=200)
PROPS = st.dictionaries(PROP_NAMES, PROP_VALUES, max_size=20)


def _expected_props(props: dict[str, str], default_title: str = "NO TITLE") -> dict[str, str]:
    title = props.get("ti", "")
    return {**props, "ti": title if title.strip() else default_title}


@given(props=PROPS)
def test_round_trip_query(props: dict[str, str]) -> None:
    query = urllib.parse.urlencode({"si": "x", **props}).encode("ascii")
    # The URL limit is not what this property is about: lift it.
    limits = Limits(max_url=1 << 20)
    result = parse_hit(RawRequest("GET", "/", query, b"", {}, "::1"), NOW, limits)
    assert isinstance(result, Hit), result
    assert result.site == "x"
    assert result.props == _expected_props(props)
    assert list(result.props)[: len(props)] == list(props)


@given(props=PROPS, as_json=st.booleans())
def test_round_trip_body(props: dict[str, str], as_json: bool) -> None:
    if as_json:
        body = orjson.dumps({"si": "x", **props})
        content_type = "application/json"
    else:
        body = urllib.parse.urlencode({"si": "x", **props}).encode("ascii")
        content_type = "application/x-www-form-urlencoded"
    limits = Limits(max_body=1 << 20)
    req = RawRequest("POST", "/log", b"", body, {"content-type": content_type}, "::1")
    result = parse_hit(req, NOW, limits)
    assert isinstance(result, Hit), result
    assert result.props == _expected_props(props, "Email open")


def _raw_quote(text: str) -> str:
    """Escape only what the form syntax needs, leaving other characters raw."""
    return text.replace("%", "%25").replace("&", "%26").replace("=", "%3D").replace("+", "%2B")


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


QUOTERS: st.SearchStrategy[Callable[[str], str]] = st.sampled_from(
    [
        urllib.parse.quote_plus,
        lambda s: urllib.parse.quote(s, safe=""),
        lambda s: urllib.parse.quote(s, safe="/:?@!$'()*,;~ "),
        lambda s: _lower_hex(urllib.parse.quote_plus(s)),
        _raw_quote,
    ]
)


@st.composite
def well_formed(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(st.text(), st.text(), st.booleans()), max_size=10))
    quote = draw(QUOTERS)
    pieces = []
    for name, value, has_eq in pairs:
        pieces.append(quote(name) + "=" + quote(value) if has_eq else quote(name))
        pieces.extend([""] * draw(st.integers(min_value=0, max_value=2)))
    return "&".join(pieces)


@settings(max_examples=500)
@given(query=well_formed())
def test_split_pairs_agrees_with_parse_qsl(query: str) -> None:
    expected = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    assert split_pairs(query.encode("utf-8")) == expected


def _reference_split(data: bytes) -> list[tuple[str, str]] | None:
    """A slow, obviously strict reference decoder: None where the data is malformed."""
    hexdigits = b"0123456789abcdefABCDEF"
    pairs: list[tuple[str, str]] = []
    for piece in data.split(b"&"):
        if not piece:
            continue
        decoded: list[str] = []
        for part in piece.split(b"=", 1) if b"=" in piece else [piece, b""]:
            part = part.replace(b"+", b" ")
            for i, byte in enumerate(part):
                if byte == ord("%") and not (
                    i + 2 < len(part) and part[i + 1] in hexdigits and part[i + 2] in hexdigits
                ):
                    return None
            try:
                decoded.append(urllib.parse.unquote_to_bytes(part).decode("utf-8"))
            except UnicodeDecodeError:
                return None
        pairs.append((decoded[0], decoded[1]))
    return pairs


ESCAPEY = st.lists(
    st.one_of(
        st.sampled_from(
            [b"%", b"%4", b"%41", b"%e2%80%94", b"%C3", b"%zz", b"=", b"&", b"+", b"\n", b"=3D"]
        ),
        st.binary(max_size=4),
    ),
    max_size=20,
).map(b"".join)


@settings(max_examples=500)
@given(data=st.one_of(st.binary(max_size=100), ESCAPEY))
def test_split_pairs_is_strict(data: bytes) -> None:
    expected = _reference_split(data)
    if expected is None:
        try:
            split_pairs(data)
        except MalformedEncoding:
            return
        raise AssertionError(f"accepted malformed data {data!r}")
    assert split_pairs(data) == expected
