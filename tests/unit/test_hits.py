"""Unit tests of collector.hits: request -> Hit | BadHit (SPEC 2.1-2.5, 8.3)."""

from __future__ import annotations

import pytest

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
DAY_MS = 24 * 3600 * 1000

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def make_req(
    query: bytes = b"",
    body: bytes = b"",
    *,
    method: str = "GET",
    path: str = "/",
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> RawRequest:
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["content-type"] = content_type
    return RawRequest(
        method=method,
        path=path,
        query=query,
        body=body,
        headers=all_headers,
        client_ip="127.0.0.1",
    )


def hit_of(req: RawRequest, limits: Limits = LIMITS, now_ms: int = NOW) -> Hit:
    result = parse_hit(req, now_ms, limits)
    assert isinstance(result, Hit), result
    return result


def bad_of(req: RawRequest, limits: Limits = LIMITS, now_ms: int = NOW) -> BadHit:
    result = parse_hit(req, now_ms, limits)
    assert isinstance(result, BadHit), result
    return result


def get(query: bytes, limits: Limits = LIMITS) -> Hit:
    return hit_of(make_req(query), limits=limits)


# --------------------------------------------------------------------------- split_pairs


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", []),
        (b"a=1&b=2", [("a", "1"), ("b", "2")]),
        (b"a", [("a", "")]),
        (b"a=", [("a", "")]),
        (b"=x", [("", "x")]),
        (b"&&a=1&&", [("a", "1")]),
        (b"a=b=c", [("a", "b=c")]),
        (b"a=1&a=2", [("a", "1"), ("a", "2")]),
        (b"a+b=c+d", [("a b", "c d")]),
        (b"a%20b=c%2Bd", [("a b", "c+d")]),
        (b"k=%E2%80%94", [("k", "\u2014")]),
        (b"k=%e2%80%94", [("k", "\u2014")]),
        (b"k=%F0%9F%98%80", [("k", "\U0001f600")]),
        (b"k=caf\xc3\xa9", [("k", "caf\u00e9")]),
        (b"caf%C3%A9=caf\xc3\xa9%21", [("caf\u00e9", "caf\u00e9!")]),
        (b"k=%3D%26", [("k", "=&")]),
        (b"%3D=1&%26=2", [("=", "1"), ("&", "2")]),
        (b"k=%00", [("k", "\x00")]),
        (b"k=%25", [("k", "%")]),
        (b"k=%2541", [("k", "%41")]),
        (b"k=%3D3D", [("k", "=3D")]),
        (b"k==41%20", [("k", "=41 ")]),
        (b"k=a=%3D", [("k", "a==")]),
        (b"k=x\n%20y", [("k", "x\n y")]),
        (b"k=%2B+%2b", [("k", "+ +")]),
        (b"k=_x_%5F", [("k", "_x__")]),
    ],
)
def test_split_pairs(data: bytes, expected: list[tuple[str, str]]) -> None:
    assert split_pairs(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"k=%",
        b"k=%2",
        b"k=%zz",
        b"k=%2G",
        b"k=%G2",
        b"%=1",
        b"k=%&x=1",
        b"k=%\n",
        b"k=%=41",
        b"k=\xff",
        b"k=%ff",
        b"k=%C3",
        b"k=%C3%28",
        b"k=\xc3",
        b"k=\xe2\x80&x=%20",
        b"k=%ED%A0%80",
        b"\xc0\xaf=1",
    ],
)
def test_split_pairs_rejects_malformed(data: bytes) -> None:
    with pytest.raises(MalformedEncoding):
        split_pairs(data)


def test_malformed_encoding_is_a_value_error() -> None:
    assert issubclass(MalformedEncoding, ValueError)


# ----------------------------------------------------------------------- the dataset


@pytest.mark.parametrize(
    ("path", "query", "site"),
    [
        ("/", b"si=demo", "demo"),
        ("/", b"datasetId=demo", "demo"),
        ("/log", b"datasetId=demo", "demo"),
        ("/log", b"si=demo", "demo"),
        ("/", b"si=first&datasetId=second", "first"),
        ("/", b"datasetId=second&si=first", "first"),
        ("/", b"si=&datasetId=second", "second"),
        ("/", b"si=" + b"x" * 128, "x" * 128),
        ("/", b"si=caf%C3%A9-%E2%80%94", "caf\u00e9-\u2014"),
    ],
)
def test_dataset(path: str, query: bytes, site: str) -> None:
    hit = hit_of(make_req(query, path=path))
    assert hit.site == site
    assert "si" not in hit.props
    assert "datasetId" not in hit.props


@pytest.mark.parametrize(
    "query",
    [b"", b"ti=x", b"si=", b"datasetId=", b"si=&datasetId=", b"SI=demo", b"site=demo"],
)
def test_missing_dataset(query: bytes) -> None:
    bad = bad_of(make_req(query))
    assert bad.reasons == ("missing_dataset",)
    assert "si=" in bad.message
    assert bad.site is None


@pytest.mark.parametrize(
    "value",
    [
        b"a+b",
        b"a%09b",
        b"a%00b",
        b"demo%0A",
        b"%7F",
        b"a%C2%A0b",  # no-break space
        b"a%E2%80%8Bb",  # zero-width space (a format character)
        b"x" * 129,
    ],
)
def test_bad_dataset(value: bytes) -> None:
    bad = bad_of(make_req(b"si=" + value))
    assert bad.reasons == ("bad_dataset",)
    assert bad.site is None
    assert "dataset id" in bad.message


# ------------------------------------------------------------------ control parameters


@pytest.mark.parametrize("name", sorted(RESERVED_CONTROL))
def test_control_names_are_never_properties(name: str) -> None:
    value = "1700000000000" if name == "t_ms" else "1"
    query = f"si=demo&datasetId=demo&{name}={value}&free=1".encode()
    hit = hit_of(make_req(query))
    assert name not in hit.props
    assert hit.props == {"free": "1", "ti": "NO TITLE"}


def test_reserved_control_is_exactly_the_documented_set() -> None:
    assert {
        "si",
        "datasetId",
        "uid",
        "lb_uid",
        "otui",
        "sid",
        "ots",
        "eid",
        "t_ms",
        "proxy",
        "increment",
        "json",
    } == RESERVED_CONTROL


@pytest.mark.parametrize("field", ["uid", "lb_uid", "otui", "sid", "ots", "eid"])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("1700000000000.123456789", "1700000000000.123456789"),
        ("not-an-id", "not-an-id"),  # format checks belong to identity.py
        ("a b", "a b"),
    ],
)
def test_id_fields_are_raw_strings(field: str, raw: str | None, expected: str | None) -> None:
    query = b"si=demo"
    if raw is not None:
        query += f"&{field}={raw.replace(' ', '+')}".encode()
    hit = hit_of(make_req(query))
    assert getattr(hit, field) == expected
    assert field not in hit.props


@pytest.mark.parametrize(
    "name",
    ["ti", "lc", "ref", "otpe", "email", "utm_source", "utm_campaign", "gclid", "companyName"],
)
def test_documented_properties_stay_properties(name: str) -> None:
    hit = hit_of(make_req(f"si=demo&{name}=v".encode()))
    assert hit.props[name] == "v"


def test_properties_keep_request_order() -> None:
    hit = get(b"si=demo&z=1&a=2&ti=T&m=3")
    assert list(hit.props) == ["z", "a", "ti", "m"]


def test_defaulted_title_is_added_to_properties() -> None:
    hit = get(b"si=demo&z=1&a=2")
    assert list(hit.props) == ["z", "a", "ti"]


@pytest.mark.parametrize(
    ("query", "props"),
    [
        (b"first+name=Bob", {"first name": "Bob"}),
        (b"first%20name=Bob", {"first name": "Bob"}),
        (b"+lead=1", {" lead": "1"}),
        (b"Email=a&email=b", {"Email": "a", "email": "b"}),
        (b"UID=1&Si=2&JSON=3", {"UID": "1", "Si": "2", "JSON": "3"}),
        (b"flag", {"flag": ""}),
        (b"a=1&a=2&a=3", {"a": "3"}),
        (b"k=%E2%82%AC+%F0%9F%98%80", {"k": "\u20ac \U0001f600"}),
        (b"%E5%90%8D=%E5%80%A4", {"\u540d": "\u5024"}),
    ],
)
def test_property_names_and_values(query: bytes, props: dict[str, str]) -> None:
    hit = get(b"si=demo&" + query)
    assert hit.props == {**props, "ti": "NO TITLE"}


@pytest.mark.parametrize("query", [b"=x", b"=x&=y", b"%3D=1&=2"])
def test_empty_names_are_skipped_with_a_warning(query: bytes) -> None:
    hit = get(b"si=demo&" + query)
    assert "" not in hit.props
    assert hit.warnings == ["empty_name"]


def test_no_warnings_on_a_clean_hit() -> None:
    assert get(b"si=demo&a=1").warnings == []


# ---------------------------------------------------------------------------- titles


@pytest.mark.parametrize(
    ("path", "query", "title"),
    [
        ("/", b"si=demo", "NO TITLE"),
        ("/", b"si=demo&ti=", "NO TITLE"),
        ("/", b"si=demo&ti=+++", "NO TITLE"),
        ("/", b"si=demo&ti=%09%0A", "NO TITLE"),
        ("/", b"si=demo&ti=Home", "Home"),
        ("/", b"si=demo&ti=+Home+", " Home "),
        ("/", b"si=demo&ti=Hello%20World%20%E2%80%94%20A%20Post", "Hello World \u2014 A Post"),
        ("/log", b"datasetId=demo", "Email open"),
        ("/log", b"datasetId=demo&ti=", "Email open"),
        ("/log", b"datasetId=demo&ti=Newsletter", "Newsletter"),
    ],
)
def test_title(path: str, query: bytes, title: str) -> None:
    hit = hit_of(make_req(query, path=path))
    assert hit.title == title
    assert hit.props["ti"] == title


@pytest.mark.parametrize(("path", "email_pixel"), [("/", False), ("/log", True)])
def test_email_pixel_flag(path: str, email_pixel: bool) -> None:
    assert hit_of(make_req(b"si=demo", path=path)).email_pixel is email_pixel


# ---------------------------------------------------------------------------- t_ms


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("0", 0),
        ("1", 1),
        ("1700000000123", 1_700_000_000_123),
        ("0001700000000123", 1_700_000_000_123),
        (str(NOW), NOW),
        (str(NOW + DAY_MS), NOW + DAY_MS),  # exactly at the future bound
    ],
)
def test_t_ms_accepted(raw: str | None, expected: int | None) -> None:
    query = b"si=demo" + (b"" if raw is None else f"&t_ms={raw}".encode())
    assert get(query).t_ms == expected


@pytest.mark.parametrize(
    "raw",
    [b"abc", b"-1", b"1.5", b"1e12", b"+1", b"%201", b"1%20", b"0x10", b"%D9%A1%D9%A2"],
)
def test_bad_t_ms(raw: bytes) -> None:
    bad = bad_of(make_req(b"si=demo&t_ms=" + raw))
    assert bad.reasons == ("bad_t_ms",)
    assert bad.message.startswith("t_ms must be epoch milliseconds as digits, got ")
    assert bad.site == "demo"


@pytest.mark.parametrize(
    "raw",
    [str(NOW + DAY_MS + 1), "9" * 20, "9" * 4000, "1" + "0" * 30],
)
def test_t_ms_future(raw: str) -> None:
    bad = bad_of(make_req(f"si=demo&t_ms={raw}".encode()))
    assert bad.reasons == ("t_ms_future",)
    assert bad.site == "demo"


def test_t_ms_future_bound_follows_limits() -> None:
    limits = Limits(max_future_ms=1000)
    assert get(f"si=demo&t_ms={NOW + 1000}".encode(), limits=limits).t_ms == NOW + 1000
    bad = bad_of(make_req(f"si=demo&t_ms={NOW + 1001}".encode()), limits=limits)
    assert bad.reasons == ("t_ms_future",)


# --------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("query", "proxy"),
    [
        (b"", False),
        (b"&proxy", True),
        (b"&proxy=", True),
        (b"&proxy=true", True),
        (b"&proxy=TRUE", True),
        (b"&proxy=1", True),
        (b"&proxy=yes", True),
        (b"&proxy=on", True),
        (b"&proxy=false", False),
        (b"&proxy=0", False),
        (b"&proxy=no", False),
        (b"&proxy=off", False),
        (b"&proxy=maybe", False),
    ],
)
def test_proxy(query: bytes, proxy: bool) -> None:
    assert get(b"si=demo" + query).proxy is proxy


@pytest.mark.parametrize(
    ("query", "increment"),
    [
        (b"", True),
        (b"&increment=false", False),
        (b"&increment=FALSE", False),
        (b"&increment=0", False),
        (b"&increment=no", False),
        (b"&increment=off", False),
        (b"&increment=true", True),
        (b"&increment=", True),
        (b"&increment=maybe", True),
        (b"&proxy=true", False),
        (b"&proxy=true&increment=true", True),
        (b"&proxy=1&increment=1", True),
        (b"&proxy=true&increment=yes", True),
        (b"&proxy=true&increment=on", True),
        (b"&proxy=true&increment=false", False),
        (b"&proxy=true&increment=", False),
        (b"&proxy=true&increment=maybe", False),
        (b"&proxy=false&increment=maybe", True),
    ],
)
def test_increment(query: bytes, increment: bool) -> None:
    assert get(b"si=demo" + query).increment is increment


@pytest.mark.parametrize(
    ("query", "json_flag"),
    [
        (b"", False),
        (b"&json=true", True),
        (b"&json=True", True),
        (b"&json=1", True),
        (b"&json=yes", True),
        (b"&json=", False),
        (b"&json", False),
        (b"&json=false", False),
        (b"&json=0", False),
        (b"&json=on", False),
    ],
)
def test_json_flag(query: bytes, json_flag: bool) -> None:
    assert get(b"si=demo" + query).json is json_flag


@pytest.mark.parametrize(("query", "json_flag"), [(b"json=true", True), (b"json=no", False)])
def test_bad_hit_carries_the_json_flag(query: bytes, json_flag: bool) -> None:
    bad = bad_of(make_req(query))
    assert bad.reasons == ("missing_dataset",)
    assert bad.json is json_flag


# ------------------------------------------------------------------------------ bodies


@pytest.mark.parametrize("content_type", [FORM, "text/plain", None, f"{FORM}; charset=UTF-8"])
def test_form_bodies(content_type: str | None) -> None:
    req = make_req(
        body=b"si=demo&ti=Hi+there&k=%E2%80%94", method="POST", content_type=content_type
    )
    hit = hit_of(req)
    assert hit.site == "demo"
    assert hit.props == {"ti": "Hi there", "k": "\u2014"}


def test_text_plain_body_with_charset() -> None:
    req = make_req(body=b"si=demo&a=1", method="POST", content_type="Text/Plain;charset=UTF-8")
    assert hit_of(req).props == {"a": "1", "ti": "NO TITLE"}


@pytest.mark.parametrize(
    ("query", "body", "site", "props"),
    [
        (b"si=q", b"si=b", "b", {"ti": "NO TITLE"}),
        (b"si=demo&ti=Q&x=1", b"ti=B", "demo", {"ti": "B", "x": "1"}),
        (b"si=demo&x=1&y=2", b"y=3&x=4&z=5", "demo", {"x": "4", "y": "3", "z": "5"}),
        (b"si=demo&x=1&x=2", b"", "demo", {"x": "2"}),
        (b"si=demo", b"x=1&x=2", "demo", {"x": "2"}),
        (b"x=1", b"si=demo&x=", "demo", {"x": ""}),
    ],
)
def test_body_overrides_query(query: bytes, body: bytes, site: str, props: dict[str, str]) -> None:
    hit = hit_of(make_req(query, body, method="POST", content_type=FORM))
    assert hit.site == site
    assert hit.props == {**props, "ti": props.get("ti", "NO TITLE")}


def test_body_overrides_query_controls() -> None:
    hit = hit_of(
        make_req(
            b"si=demo&t_ms=1&uid=1.1&json=false",
            b"t_ms=2&uid=2.2&json=true",
            method="POST",
            content_type=FORM,
        )
    )
    assert (hit.t_ms, hit.uid, hit.json) == (2, "2.2", True)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_body_of_a_get_is_ignored(method: str) -> None:
    hit = hit_of(make_req(b"si=demo", b"si=other&x=1", method=method, content_type=FORM))
    assert hit.site == "demo"
    assert "x" not in hit.props


def test_empty_post_body_of_any_type_is_fine() -> None:
    hit = hit_of(make_req(b"si=demo", b"", method="POST", content_type="multipart/form-data"))
    assert hit.site == "demo"


@pytest.mark.parametrize(
    ("body", "props"),
    [
        (b'{"si": "demo", "a": "x"}', {"a": "x"}),
        (b'{"si": "demo", "n": 42, "f": 1.5, "neg": -3}', {"n": "42", "f": "1.5", "neg": "-3"}),
        (b'{"si": "demo", "t": true, "f": false, "z": null}', {"t": "true", "f": "false", "z": ""}),
        (b'{"si": "demo", "k": "\\u2014 caf\xc3\xa9"}', {"k": "\u2014 caf\u00e9"}),
        (b'{"si": "demo", "first name": "Bob"}', {"first name": "Bob"}),
        (b'{"si": "demo", "a": "1", "a": "2"}', {"a": "2"}),
        (b'{"si": "demo"}', {}),
    ],
)
def test_json_bodies(body: bytes, props: dict[str, str]) -> None:
    hit = hit_of(make_req(body=body, method="POST", content_type=JSON))
    assert hit.site == "demo"
    assert hit.props == {**props, "ti": "NO TITLE"}


def test_json_body_controls() -> None:
    body = b'{"si": "demo", "t_ms": 1700000000123, "json": true, "proxy": true, "uid": "1.2"}'
    hit = hit_of(make_req(body=body, method="POST", content_type="Application/JSON; charset=utf-8"))
    assert hit.t_ms == 1_700_000_000_123
    assert hit.json is True
    assert hit.proxy is True
    assert hit.increment is False
    assert hit.uid == "1.2"
    assert hit.props == {"ti": "NO TITLE"}


def test_json_body_overrides_query() -> None:
    hit = hit_of(
        make_req(b"si=q&a=1&b=2", b'{"si": "b", "a": 3}', method="POST", content_type=JSON)
    )
    assert hit.site == "b"
    assert hit.props == {"a": "3", "b": "2", "ti": "NO TITLE"}


def test_json_body_empty_name_warns() -> None:
    hit = hit_of(make_req(body=b'{"si": "demo", "": "x"}', method="POST", content_type=JSON))
    assert hit.warnings == ["empty_name"]
    assert "" not in hit.props


@pytest.mark.parametrize(
    "body",
    [
        b'{"si": "demo", "a": {"b": 1}}',
        b'{"si": "demo", "a": [1, 2]}',
        b'{"si": "demo", "a": []}',
        b"[1, 2]",
        b'"si=demo"',
        b"42",
        b"null",
        b"{",
        b"si=demo",
        b'{"si": "demo",}',
    ],
)
def test_bad_json_body(body: bytes) -> None:
    bad = bad_of(make_req(body=body, method="POST", content_type=JSON))
    assert "bad_body" in bad.reasons
    assert "JSON" in bad.message


def test_nested_json_still_reads_the_dataset() -> None:
    bad = bad_of(make_req(body=b'{"si": "demo", "a": {"b": 1}}', method="POST", content_type=JSON))
    assert bad.reasons == ("bad_body",)
    assert bad.site == "demo"
    assert "'a'" in bad.message


def test_json_body_that_is_not_utf8_is_bad_encoding() -> None:
    bad = bad_of(make_req(b"si=demo", b'{"a": "\xff"}', method="POST", content_type=JSON))
    assert bad.reasons == ("bad_encoding",)


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data; boundary=x", "application/xml", "image/png", "application/jsonx"],
)
def test_unsupported_body(content_type: str) -> None:
    bad = bad_of(make_req(b"si=demo", b"si=demo", method="POST", content_type=content_type))
    assert bad.reasons == ("unsupported_body",)
    assert bad.site == "demo"
    assert content_type.split(";")[0] in bad.message


# --------------------------------------------------------------------------- encoding


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (b"si=demo&a=%zz", b""),
        (b"si=demo&a=%", b""),
        (b"si=demo&a=\xff", b""),
        (b"si=demo&%C3=1", b""),
        (b"si=demo", b"a=%E2%80"),
        (b"si=demo", b"a=\xc3\x28"),
    ],
)
def test_bad_encoding(query: bytes, body: bytes) -> None:
    bad = bad_of(make_req(query, body, method="POST", content_type=FORM))
    assert bad.reasons == ("bad_encoding",)
    assert bad.site == "demo"  # the readable pieces are still read
    assert "percent-encoding" in bad.message


def test_bad_encoding_message_names_the_parameters() -> None:
    bad = bad_of(make_req(b"si=demo&a=%zz&b=ok&c=\xff&%C3=1"))
    assert bad.reasons == ("bad_encoding",)
    assert bad.message == ("the query string has malformed percent-encoding or UTF-8 (in 'a', 'c')")


def test_bad_encoding_in_query_and_body() -> None:
    bad = bad_of(make_req(b"si=demo&a=%zz", b"b=%zz", method="POST", content_type=FORM))
    assert bad.reasons == ("bad_encoding",)
    assert "the query string" in bad.message
    assert "the body" in bad.message


@pytest.mark.parametrize("query", [b"si=de%ZZmo&ti=x", b"datasetId=%C3", b"ti=x&si=%"])
def test_bad_encoding_in_the_dataset_itself(query: bytes) -> None:
    bad = bad_of(make_req(query))
    assert bad.reasons == ("bad_encoding",)  # not also "missing_dataset"
    assert "'si'" in bad.message or "'datasetId'" in bad.message
    assert bad.site is None


# ------------------------------------------------------------------------------ limits

SMALL = Limits(max_url=64, max_body=48, max_props=3, max_name=8, max_value=12)


@pytest.mark.parametrize("path", ["/", "/log"])
def test_url_limit(path: str) -> None:
    limits = Limits(max_url=64)
    at = b"si=demo&a=" + b"v" * (64 - len(path) - 1 - 10)
    assert len(path) + len(at) + 1 == 64
    assert isinstance(parse_hit(make_req(at, path=path), NOW, limits), Hit)
    over = at + b"x"
    bad = bad_of(make_req(over, path=path), limits=limits)
    assert bad.reasons == ("too_large",)
    assert "URL of 65 bytes" in bad.message


def test_url_limit_default_is_8k() -> None:
    at = b"si=demo&a=" + b"v" * 4000 + b"&b=" + b"v" * 4000 + b"&c=" + b"v" * 174
    assert len("/") + len(at) + 1 == 8192
    assert isinstance(parse_hit(make_req(at), NOW, LIMITS), Hit)
    assert bad_of(make_req(at + b"v")).reasons == ("too_large",)


def test_oversize_url_is_not_decoded_but_the_dataset_is_peeked() -> None:
    query = b"si=demo&json=true&bad=%zz&t_ms=abc&pad=" + b"x" * 100
    bad = bad_of(make_req(query), limits=SMALL)
    assert bad.reasons == ("too_large",)
    assert bad.site == "demo"
    assert bad.json is True


def test_body_limit() -> None:
    at = b"si=demo&a=vvvvvvvvvvv&b=vvvvvvvvv&c=vvvvvvvvvvvv"
    assert len(at) == 48
    hit = hit_of(make_req(body=at, method="POST", content_type=FORM), limits=SMALL)
    assert hit.props["c"] == "v" * 12
    bad = bad_of(make_req(body=at + b"v", method="POST", content_type=FORM), limits=SMALL)
    assert bad.reasons == ("too_large",)
    assert "body of 49 bytes" in bad.message


def test_oversize_body_is_not_decoded() -> None:
    body = b"t_ms=abc&x=%zz\xff" + b"x" * 100
    bad = bad_of(make_req(b"si=demo&json=1", body, method="POST", content_type=FORM), limits=SMALL)
    assert bad.reasons == ("too_large",)
    assert bad.site == "demo"
    assert bad.json is True


def test_oversize_json_body_is_too_large_not_bad_body() -> None:
    body = b"{" + b" " * 100
    bad = bad_of(make_req(b"si=demo", body, method="POST", content_type=JSON), limits=SMALL)
    assert bad.reasons == ("too_large",)


@pytest.mark.parametrize(
    ("query", "ok"),
    [
        (b"a=1&b=2&c=3", True),
        (b"a=1&b=2&ti=3", True),
        (b"a=1&b=2&c=3&uid=1.1&t_ms=1&json=0&proxy=0", True),  # controls do not count
        (b"a=1&b=2&c=3&a=4&b=5", True),  # repeated names count once
        (b"a=1&b=2&=3&=4", True),  # skipped empty names do not count
        (b"a=1&b=2&c=3&d=4", False),
        (b"a=1&b=2&c=3&ti=x", False),
    ],
)
def test_property_count_limit(query: bytes, ok: bool) -> None:
    result = parse_hit(make_req(b"si=d&" + query), NOW, SMALL)
    if ok:
        assert isinstance(result, Hit)
    else:
        assert isinstance(result, BadHit)
        assert result.reasons == ("too_large",)
        assert "4 properties (limit 3)" in result.message


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("n" * 8, True),
        ("n" * 9, False),
        ("\u00e9" * 4, True),  # 8 bytes
        ("\u00e9" * 4 + "n", False),  # 9 bytes, 5 characters
        ("\u20ac\u20ac", True),  # 6 bytes
        ("\u20ac\u20ac\u20ac", False),  # 9 bytes, 3 characters
    ],
)
def test_name_limit(name: str, ok: bool) -> None:
    from urllib.parse import quote

    result = parse_hit(make_req(f"si=d&{quote(name)}=1".encode()), NOW, SMALL)
    if ok:
        assert isinstance(result, Hit)
        assert result.props[name] == "1"
    else:
        assert isinstance(result, BadHit)
        assert result.reasons == ("too_large",)
        assert "a name over 8 bytes" in result.message


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("v" * 12, True),
        ("v" * 13, False),
        ("\u00e9" * 6, True),  # 12 bytes
        ("\u00e9" * 6 + "v", False),  # 13 bytes
        ("\U0001f600" * 3, True),  # 12 bytes, 3 characters
        ("\U0001f600" * 3 + "v", False),  # 13 bytes, 4 characters
    ],
)
def test_value_limit(value: str, ok: bool) -> None:
    from urllib.parse import quote

    limits = Limits(max_url=1000, max_name=8, max_value=12)
    result = parse_hit(make_req(f"si=d&k={quote(value)}".encode()), NOW, limits)
    if ok:
        assert isinstance(result, Hit)
        assert result.props["k"] == value
    else:
        assert isinstance(result, BadHit)
        assert result.reasons == ("too_large",)
        assert "a value over 12 bytes" in result.message


def test_value_limit_applies_to_control_values() -> None:
    limits = Limits(max_url=1000, max_value=12)
    bad = bad_of(make_req(b"si=d&uid=" + b"1" * 13), limits=limits)
    assert bad.reasons == ("too_large",)


def test_value_limit_applies_to_json_values() -> None:
    body = b'{"si": "d", "k": "' + b"v" * 13 + b'"}'
    limits = Limits(max_value=12)
    bad = bad_of(make_req(body=body, method="POST", content_type=JSON), limits=limits)
    assert bad.reasons == ("too_large",)


def test_many_oversize_values_make_one_reason_and_a_short_message() -> None:
    limits = Limits(max_url=100_000, max_value=2, max_props=1000)
    query = b"si=d&" + b"&".join(b"k%d=vvv" % i for i in range(50))
    bad = bad_of(make_req(query), limits=limits)
    assert bad.reasons == ("too_large",)
    assert len(bad.message) < 400
    assert "and 47 more" in bad.message


# ------------------------------------------------------------ several reasons at once


def test_reasons_are_collected_deduped_and_ordered() -> None:
    limits = Limits(max_value=12)
    query = b"t_ms=abc&a=" + b"v" * 13 + b"&b=" + b"v" * 14 + b"&c=%zz"
    bad = bad_of(make_req(query), limits=limits)
    assert bad.reasons == ("missing_dataset", "bad_encoding", "bad_t_ms", "too_large")
    assert len(set(bad.reasons)) == len(bad.reasons)
    assert bad.message.count("t_ms must be") == 1


def test_message_names_every_reason_in_one_sentence() -> None:
    bad = bad_of(make_req(b"t_ms=abc"))
    assert bad.reasons == ("missing_dataset", "bad_t_ms")
    assert bad.message == (
        "the hit names no dataset: add si=<dataset id>; "
        "t_ms must be epoch milliseconds as digits, got 'abc'"
    )
    assert "\n" not in bad.message


def test_message_quotes_long_values_briefly() -> None:
    bad = bad_of(make_req(b"si=demo&t_ms=" + b"x" * 1000))
    assert len(bad.message) < 150


def test_every_emitted_reason_is_documented() -> None:
    for reason in [
        "missing_dataset",
        "bad_dataset",
        "bad_encoding",
        "bad_body",
        "unsupported_body",
        "bad_t_ms",
        "t_ms_future",
        "too_large",
        "internal_error",
    ]:
        assert REASONS[reason]


def test_never_raises_on_a_broken_request_object() -> None:
    broken = RawRequest(
        method="GET",
        path="/",
        query=None,  # type: ignore[arg-type]
        body=b"",
        headers={},
        client_ip="127.0.0.1",
    )
    bad = bad_of(broken)
    assert bad.reasons == ("internal_error",)
    assert "TypeError" in bad.message


# --------------------------------------------------------------------- response_kind


@pytest.mark.parametrize(
    ("method", "path", "headers", "json_flag", "kind"),
    [
        ("GET", "/log", {}, True, "gif"),
        ("POST", "/log", {}, False, "gif"),
        ("POST", "/log", {"accept": "application/json"}, True, "gif"),
        ("GET", "/", {}, True, "json"),
        ("POST", "/", {}, True, "json"),
        ("GET", "/", {"accept": "image/avif,image/webp,*/*"}, True, "json"),
        ("GET", "/", {}, False, "gif"),
        ("HEAD", "/", {}, False, "gif"),
        ("get", "/", {}, False, "gif"),
        ("GET", "/", {"accept": "application/json"}, False, "gif"),
        ("POST", "/", {}, False, "text"),
        ("POST", "/", {"accept": "*/*"}, False, "text"),
        ("POST", "/", {"accept": "text/plain, image/gif"}, False, "text"),
        ("POST", "/", {"accept": "image/gif"}, False, "gif"),
        ("POST", "/", {"accept": "Image/WebP;q=0.9, */*"}, False, "gif"),
        ("POST", "/", {"accept": " image/*"}, False, "gif"),
        ("POST", "/", {"sec-fetch-dest": "image"}, False, "gif"),
        ("POST", "/", {"sec-fetch-dest": "empty"}, False, "text"),
        ("POST", "/", {"sec-fetch-dest": "document"}, False, "text"),
    ],
)
def test_response_kind(
    method: str, path: str, headers: dict[str, str], json_flag: bool, kind: str
) -> None:
    req = make_req(method=method, path=path, headers=headers)
    assert response_kind(req, json_flag) == kind
