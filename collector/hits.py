"""Turn one raw collector request into a `Hit` or a `BadHit` (SPEC 2.1-2.5, 8.3).

Pure: no starlette, no duckdb, no I/O and no clock (the caller passes ``now_ms``).

The decoding rules are strict where the standard library is lenient: a ``%`` that is not
followed by two hex digits, or bytes that are not UTF-8, make the hit a bad hit
(``bad_encoding``) instead of being silently replaced. ``parse_hit`` never raises: any
unexpected failure becomes a ``BadHit`` with the reason ``internal_error``.
"""

from __future__ import annotations

import re
from binascii import a2b_qp

import orjson

from collector.model import BadHit, Hit, Limits, RawRequest

__all__ = [
    "DEFAULT_EMAIL_TITLE",
    "DEFAULT_TITLE",
    "EMAIL_PIXEL_PATH",
    "REASONS",
    "RESERVED_CONTROL",
    "WARNINGS",
    "MalformedEncoding",
    "parse_hit",
    "response_kind",
    "split_pairs",
]

DEFAULT_TITLE = "NO TITLE"
DEFAULT_EMAIL_TITLE = "Email open"
EMAIL_PIXEL_PATH = "/log"

#: Parameter names lifted into `Hit` fields; never stored as properties.
RESERVED_CONTROL: frozenset[str] = frozenset(
    {
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
    }
)

#: Every reason code `parse_hit` can emit, with a short description. The order here is
#: the order in which reasons are reported in a `BadHit`.
REASONS: dict[str, str] = {
    "missing_dataset": "the hit names no dataset (si or datasetId)",
    "bad_dataset": "the dataset id is longer than 128 characters or has spaces/control characters",
    "bad_encoding": "malformed percent-encoding or invalid UTF-8 in the query string or body",
    "bad_body": "the JSON body is not valid JSON or not a flat object of scalar values",
    "unsupported_body": "the body has a content type the collector does not read",
    "bad_t_ms": "t_ms is not epoch milliseconds written as ASCII digits",
    "t_ms_future": "t_ms is too far ahead of the server clock",
    "too_large": "the URL, body, property count, a name or a value is over the size limits",
    "internal_error": "the collector failed to read the request (a fakeboxer bug)",
}

WARNINGS: dict[str, str] = {
    "empty_name": "a parameter with an empty name was ignored",
}

_DATASET_MAX_CHARS = 128
_SHOWN_CHARS = 40  # how much of an offending value a message quotes
_MAX_CLAUSES = 3  # how many problems of one kind a message spells out

_TRUE_FLAG = frozenset({"true", "1", "yes", "on"})
_FALSE_FLAG = frozenset({"false", "0", "no", "off"})
_PROXY_TRUE = frozenset({"", "true", "1", "yes", "on"})
_JSON_TRUE = frozenset({"true", "1", "yes"})

_DATASET_NAMES = frozenset({"si", "datasetId"})
_FORM_TYPES = frozenset({"", "application/x-www-form-urlencoded", "text/plain"})
_JSON_TYPE = "application/json"


class MalformedEncoding(ValueError):
    """Form data with a bad percent-escape or bytes that are not UTF-8."""


# A "%" not followed by two hex digits. Escapes cannot straddle "&" or "=", so one search
# over the whole data validates every name and value in it.
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _percent_decode(raw: bytes) -> bytes:
    """Decode the (already validated) ``%XX`` escapes of one name or value.

    `binascii.a2b_qp` decodes ``=XX`` escapes in C; with every ``%`` known to start a
    valid escape and every literal ``=`` written as ``=3D`` it is an exact (and several
    times faster) percent-decoder. Everything else is copied through unchanged.
    """
    return a2b_qp(raw.replace(b"=", b"=3D").replace(b"%", b"="))


def _unquote(raw: bytes) -> str:
    """Decode one form-encoded name or value (``+`` is space, ``%XX`` strict, UTF-8)."""
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        if _BAD_ESCAPE.search(raw):
            raise MalformedEncoding("a % not followed by two hex digits")
        raw = _percent_decode(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedEncoding("not valid UTF-8") from None


def split_pairs(data: bytes) -> list[tuple[str, str]]:
    """Split ``application/x-www-form-urlencoded`` data into (name, value) pairs.

    Pieces are separated by ``&`` and split on their first ``=`` (no ``=``: the value is
    empty); empty pieces are skipped. ``+`` is a space. Raises `MalformedEncoding` on a
    ``%`` not followed by two hex digits or on bytes that are not UTF-8.
    """
    pairs: list[tuple[str, str]] = []
    append = pairs.append
    try:
        if b"%" not in data:
            if b"+" in data:
                data = data.replace(b"+", b" ")
            for text_piece in data.decode("utf-8").split("&"):
                if text_piece:
                    name, _, value = text_piece.partition("=")
                    append((name, value))
            return pairs
        if _BAD_ESCAPE.search(data):
            raise MalformedEncoding("a % not followed by two hex digits")
        if b"+" in data:
            data = data.replace(b"+", b" ")
        for piece in data.split(b"&"):
            if not piece:
                continue
            if b"%" in piece:
                name_b, _, value_b = piece.partition(b"=")
                if b"%" in name_b:
                    name_b = _percent_decode(name_b)
                if b"%" in value_b:
                    value_b = _percent_decode(value_b)
                append((name_b.decode("utf-8"), value_b.decode("utf-8")))
            else:
                name, _, value = piece.decode("utf-8").partition("=")
                append((name, value))
    except UnicodeDecodeError:
        raise MalformedEncoding("not valid UTF-8") from None
    return pairs


def _split_lenient(data: bytes) -> tuple[list[tuple[str, str]], list[str]]:
    """Like `split_pairs`, but skip malformed pieces.

    Returns the readable pairs and the names of the skipped pieces (``""`` where the
    name itself is unreadable).
    """
    pairs: list[tuple[str, str]] = []
    skipped: list[str] = []
    for piece in data.split(b"&"):
        if not piece:
            continue
        name_b, _, value_b = piece.partition(b"=")
        try:
            name = _unquote(name_b)
        except MalformedEncoding:
            skipped.append("")
            continue
        try:
            pairs.append((name, _unquote(value_b)))
        except MalformedEncoding:
            skipped.append(name)
    return pairs, skipped


def _encoding_clause(where: str, skipped: list[str]) -> str:
    names = [_show(name) for name in skipped if name]
    clause = f"{where} has malformed percent-encoding or UTF-8"
    if names:
        clause += f" (in {', '.join(names[:_MAX_CLAUSES])})"
    return clause


def _peek(data: bytes, names: tuple[str, ...]) -> dict[str, str]:
    """Read only a few plainly named parameters, without decoding the rest of `data`."""
    found: dict[str, str] = {}
    prefixes = tuple(name.encode("ascii") + b"=" for name in names)
    for piece in data.split(b"&"):
        if piece.startswith(prefixes):
            name_b, _, value_b = piece.partition(b"=")
            try:
                found[name_b.decode("ascii")] = _unquote(value_b)
            except MalformedEncoding:
                continue
    return found


def _utf8_len_over(text: str, limit: int) -> bool:
    """Whether `text` is more than `limit` bytes long in UTF-8 (cheap when clearly not)."""
    n = len(text)
    if n > limit:
        return True
    if n * 4 <= limit or text.isascii():
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


def _show(value: str) -> str:
    """A short, quoted rendering of client data for a message."""
    if len(value) > _SHOWN_CHARS:
        value = value[:_SHOWN_CHARS] + "..."
    return repr(value)


def _dataset_ok(dataset: str) -> bool:
    if len(dataset) > _DATASET_MAX_CHARS:
        return False
    if dataset.isascii():
        return dataset.isprintable() and " " not in dataset
    for ch in dataset:
        if ch.isspace() or not ch.isprintable():
            return False
    return True


def _media_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _json_scalar(value: object) -> str | None:
    """The string form of a flat JSON value, or None when it is nested."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None


class _Problems:
    """Reasons found so far, each with the clauses that explain it."""

    __slots__ = ("clauses", "more", "unreadable")

    def __init__(self) -> None:
        self.clauses: dict[str, list[str]] = {}
        self.more: dict[str, int] = {}
        self.unreadable: set[str] = set()  # names whose values could not be decoded

    def add(self, reason: str, clause: str) -> None:
        found = self.clauses.setdefault(reason, [])
        if clause in found:
            return
        if len(found) < _MAX_CLAUSES:
            found.append(clause)
        else:
            self.more[reason] = self.more.get(reason, 0) + 1

    def __bool__(self) -> bool:
        return bool(self.clauses)

    def bad_hit(self, site: str | None, json_flag: bool) -> BadHit:
        reasons = tuple(r for r in REASONS if r in self.clauses)
        parts: list[str] = []
        for reason in reasons:
            clauses = list(self.clauses[reason])
            if reason in self.more:
                clauses.append(f"and {self.more[reason]} more")
            if reason == "too_large":
                parts.append("the hit is over the size limits: " + ", ".join(clauses))
            else:
                parts.extend(clauses)
        return BadHit(reasons=reasons, message="; ".join(parts), site=site, json=json_flag)


def _read_body(req: RawRequest, problems: _Problems) -> list[tuple[str, str]]:
    """The body's pairs of a POST (empty when there are none or they cannot be read)."""
    body = req.body
    if not body or req.method.upper() != "POST":
        return []
    media = _media_type(req.headers)
    if media in _FORM_TYPES:
        try:
            return split_pairs(body)
        except MalformedEncoding:
            pairs, skipped = _split_lenient(body)
            problems.add("bad_encoding", _encoding_clause("the body", skipped))
            problems.unreadable.update(skipped)
            return pairs
    if media == _JSON_TYPE:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            problems.add("bad_encoding", "the JSON body is not valid UTF-8")
            return []
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            problems.add("bad_body", f"the JSON body does not parse ({exc.msg})")
            return []
        if not isinstance(doc, dict):
            problems.add(
                "bad_body",
                f"the JSON body must be an object of name/value pairs, got {type(doc).__name__}",
            )
            return []
        json_pairs: list[tuple[str, str]] = []
        nested: list[str] = []
        for name, value in doc.items():
            text_value = _json_scalar(value)
            if text_value is None:
                nested.append(name)
            else:
                json_pairs.append((name, text_value))
        if nested:
            where = ", ".join(_show(name) for name in nested[:_MAX_CLAUSES])
            problems.add(
                "bad_body",
                "JSON body values must be strings, numbers, booleans or null, "
                f"not nested objects or arrays (at {where})",
            )
        return json_pairs
    problems.add(
        "unsupported_body",
        f"a body of type {_show(media)} is not read: send application/x-www-form-urlencoded, "
        "text/plain or application/json",
    )
    return []


def _flag(values: dict[str, str], name: str, true_set: frozenset[str]) -> bool:
    value = values.get(name)
    return value is not None and value.lower() in true_set


def _readable_site(values: dict[str, str]) -> str | None:
    dataset = values.get("si") or values.get("datasetId")
    if dataset and _dataset_ok(dataset):
        return dataset
    return None


def _event_time(raw: str, now_ms: int, limits: Limits, problems: _Problems) -> int | None:
    """`t_ms` as an int (None when absent or bad; a bad one is added to `problems`)."""
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        problems.add("bad_t_ms", f"t_ms must be epoch milliseconds as digits, got {_show(raw)}")
        return None
    latest = now_ms + limits.max_future_ms
    digits = raw.lstrip("0") or "0"
    # Compare lengths first: int() of a huge digit string is slow (or refused).
    if len(digits) > len(str(max(latest, 0))) or int(digits) > latest:
        problems.add(
            "t_ms_future",
            f"t_ms {_show(raw)} is more than {limits.max_future_ms} ms ahead of the server clock",
        )
        return None
    return int(digits)


def _increment(raw: str | None, proxy: bool) -> bool:
    """`increment`: explicit false/true wins; otherwise counted unless relayed by a proxy."""
    value = raw.lower() if raw is not None else None
    if value in _FALSE_FLAG:
        return False
    if value in _TRUE_FLAG:
        return True
    return not proxy


def _too_large_early(req: RawRequest, limits: Limits) -> BadHit | None:
    """The size checks done before any decoding (SPEC 8.3)."""
    url_len = len(req.path.encode("utf-8", "surrogatepass")) + len(req.query) + 1
    url_over = url_len > limits.max_url
    body_over = len(req.body) > limits.max_body
    if not url_over and not body_over:
        return None
    problems = _Problems()
    if url_over:
        problems.add("too_large", f"URL of {url_len} bytes (limit {limits.max_url})")
    if body_over:
        problems.add("too_large", f"body of {len(req.body)} bytes (limit {limits.max_body})")
    # Only peek at the few names that decide where the bad hit is filed and how it is
    # answered; the oversize data is not decoded.
    peeked = _peek(req.query, ("si", "datasetId", "json"))
    return problems.bad_hit(_readable_site(peeked), _flag(peeked, "json", _JSON_TRUE))


def _parse(req: RawRequest, now_ms: int, limits: Limits) -> Hit | BadHit:
    early = _too_large_early(req, limits)
    if early is not None:
        return early
    problems = _Problems()

    try:
        query_pairs = split_pairs(req.query)
    except MalformedEncoding:
        query_pairs, skipped = _split_lenient(req.query)
        problems.add("bad_encoding", _encoding_clause("the query string", skipped))
        problems.unreadable.update(skipped)
    body_pairs = _read_body(req, problems)

    values: dict[str, str] = {}
    warnings: list[str] = []
    max_name, max_value = limits.max_name, limits.max_value
    # Up to a quarter of a limit in characters cannot be over it in UTF-8 bytes: only
    # longer strings need a closer look.
    name_sure, value_sure = max_name // 4, max_value // 4
    for pairs in (query_pairs, body_pairs):
        for name, value in pairs:
            if not name:
                if "empty_name" not in warnings:
                    warnings.append("empty_name")
                continue
            if len(name) > name_sure and _utf8_len_over(name, max_name):
                problems.add("too_large", f"a name over {max_name} bytes ({_show(name)})")
            if len(value) > value_sure and _utf8_len_over(value, max_value):
                problems.add("too_large", f"a value over {max_value} bytes (of {_show(name)})")
            values[name] = value

    props = {name: value for name, value in values.items() if name not in RESERVED_CONTROL}
    if len(props) > limits.max_props:
        problems.add("too_large", f"{len(props)} properties (limit {limits.max_props})")

    # Dataset.
    dataset = values.get("si") or values.get("datasetId") or ""
    site: str | None = None
    if not dataset:
        if not problems.unreadable & _DATASET_NAMES:  # else bad_encoding says it all
            problems.add("missing_dataset", "the hit names no dataset: add si=<dataset id>")
    elif not _dataset_ok(dataset):
        problems.add(
            "bad_dataset",
            f"the dataset id {_show(dataset)} is not valid: use at most "
            f"{_DATASET_MAX_CHARS} characters without spaces or control characters",
        )
    else:
        site = dataset

    t_ms = _event_time(values.get("t_ms", ""), now_ms, limits, problems)

    json_flag = _flag(values, "json", _JSON_TRUE)
    if problems:
        return problems.bad_hit(site, json_flag)
    assert site is not None

    # Flags.
    proxy = _flag(values, "proxy", _PROXY_TRUE)
    increment = _increment(values.get("increment"), proxy)

    # Title.
    email_pixel = req.path == EMAIL_PIXEL_PATH
    title = props.get("ti", "")
    if not title.strip():
        title = DEFAULT_EMAIL_TITLE if email_pixel else DEFAULT_TITLE
    props["ti"] = title

    return Hit(
        site=site,
        title=title,
        props=props,
        t_ms=t_ms,
        uid=values.get("uid") or None,
        lb_uid=values.get("lb_uid") or None,
        otui=values.get("otui") or None,
        sid=values.get("sid") or None,
        ots=values.get("ots") or None,
        eid=values.get("eid") or None,
        proxy=proxy,
        increment=increment,
        json=json_flag,
        email_pixel=email_pixel,
        warnings=warnings,
    )


def parse_hit(req: RawRequest, now_ms: int, limits: Limits) -> Hit | BadHit:
    """Read one collector request (``/`` or ``/log``) as a `Hit` or a `BadHit`.

    Pairs come from the query string, then from the body of a POST (body pairs override
    query pairs of the same name; within one source the last occurrence wins). Every
    problem found is reported, in `REASONS` order. Never raises.
    """
    try:
        return _parse(req, now_ms, limits)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raise"
        return BadHit(
            reasons=("internal_error",),
            message=f"the collector failed to read the hit ({type(exc).__name__})",
        )


def response_kind(req: RawRequest, json_flag: bool) -> str:
    """Which answer a request gets (SPEC 2.4): ``"gif"``, ``"json"`` or ``"text"``."""
    if req.path == EMAIL_PIXEL_PATH:
        return "gif"
    if json_flag:
        return "json"
    headers = req.headers
    accept = headers.get("accept", "")
    if accept:
        first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
        if first.startswith("image/"):
            return "gif"
    if headers.get("sec-fetch-dest", "").strip().lower() == "image":
        return "gif"
    if req.method.upper() in ("GET", "HEAD"):
        return "gif"
    return "text"
