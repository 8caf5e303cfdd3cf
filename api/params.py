"""Query parameters → typed objects (SPEC 5.3). Every malformed value raises
`bad_parameter` naming the parameter and what was expected; the SQL for each typed
filter is built in `to_condition` from allow-listed expressions and bound values."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from starlette.datastructures import QueryParams

from api import queries
from api.errors import bad_parameter
from api.queries import Condition, ScoreRule

DAY_MS = 86_400_000
DEFAULT_TIME_ZONE = "Europe/Amsterdam"
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_PARAM = 4096

# LeadBoxer-style scoring rules used when nothing else is configured (reference §3).
DEFAULT_SCORE_RULES = (
    "email|30,firstName|5,lastName|5,organizationName|15,company|10,companyName|10,phone|10,"
    "total_number_visits|2|3|10,total_number_visits|4|1000000000|20,"
    "total_pages_viewed|3|9|5,total_pages_viewed|10|1000000000|10"
)

_PROPERTY_RE = re.compile(r"[A-Za-z0-9_$@.:\-]{1,128}")
_PERIOD_RE = re.compile(r"([0-9]{1,5})([hdwy])")
_PERIOD_MS = {"h": 3_600_000, "d": DAY_MS, "w": 7 * DAY_MS, "y": 365 * DAY_MS}
_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
_RANGE_RE = re.compile(rf"({_NUMBER})-({_NUMBER})")
_DATE_RANGE_RE = re.compile(
    r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})-([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"
)
_CLAUSE_START = re.compile(r"[^|,]+\|[A-Za-z]+(\||$)")

TEXT_OPS = ("is", "isnot", "contains", "doesnotcontain", "startswith", "endswith")
NUMBER_OPS = ("greaterthan", "lessthan", "is", "isnot", "between", "notbetween")
TIME_OPS = ("exactly", "lessthan", "greaterthan", "between")
FIELD_OPS = ("hasanyvalue", "hasallvalues", "hasnovalue")
EXIT_OPS = ("contains", "is", "isnot", "doesnotcontain")
DISPLAY_KINDS = ("company", "person", "unidentified")
EXIT_FIELDS = ("exit_link", "exitLink", "exit_url", "url")


# ------------------------------------------------------------------------ small readers
def _raw(q: QueryParams, name: str) -> str | None:
    value = q.get(name)
    if value is None or value == "":
        return None
    if len(value) > MAX_PARAM:
        raise bad_parameter(name, f"at most {MAX_PARAM} characters")
    return value


def int_param(q: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = _raw(q, name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?[0-9]{1,12}", raw.strip()):
        raise bad_parameter(name, f"a whole number from {low} to {high}", raw)
    value = int(raw)
    if not low <= value <= high:
        raise bad_parameter(name, f"a whole number from {low} to {high}", raw)
    return value


def limit_param(q: QueryParams) -> int:
    return int_param(q, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)


def required(q: QueryParams, name: str, what: str) -> str:
    raw = _raw(q, name)
    if raw is None:
        raise bad_parameter(name, f"{what} (the parameter is required)")
    return raw


def property_name(param: str, name: str) -> str:
    name = name.strip()
    if name in queries.LEAD_FIELDS or _PROPERTY_RE.fullmatch(name):
        return name
    raise bad_parameter(param, "a lead field or property name (letters, digits, _ $ @ . : -)", name)


def time_zone(q: QueryParams) -> ZoneInfo:
    raw = _raw(q, "timeZone") or DEFAULT_TIME_ZONE
    try:
        if ".." in raw or raw.startswith("/"):
            raise ValueError(raw)
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_parameter("timeZone", "an IANA time zone like Europe/Amsterdam", raw) from None


def _split_clauses(raw: str) -> list[str]:
    """`a|op|v1,b|op|v2` → clauses; a comma inside a value (not followed by
    `name|op`) stays part of that value."""
    clauses: list[str] = []
    for piece in raw.split(","):
        if clauses and not _CLAUSE_START.match(piece.strip()):
            clauses[-1] += "," + piece
        else:
            clauses.append(piece)
    return [c.strip() for c in clauses if c.strip()]


def _values(text: str) -> tuple[str, ...]:
    return tuple(v for v in (p.strip() for p in text.split(";")) if v)


def _number(param: str, text: str) -> float:
    if not re.fullmatch(_NUMBER, text.strip()):
        raise bad_parameter(param, "a number", text)
    return float(text)


# --------------------------------------------------------------------------- cursors
def encode_token(payload: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_token(q: QueryParams, kind: str) -> list[Any] | None:
    """The payload of an opaque `nextToken` made by `encode_token`, checked to be of
    `kind` (leads sort field, "sessions" or "events")."""
    raw = _raw(q, "nextToken")
    if raw is None:
        return None
    expected = "a nextToken returned by a previous call with the same sortBy"
    try:
        data = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise bad_parameter("nextToken", expected, raw) from None
    if not isinstance(data, list) or len(data) < 2 or data[0] != kind:
        raise bad_parameter("nextToken", expected, raw)
    return data[1:]


# --------------------------------------------------------------------------- filters
@dataclass(frozen=True, slots=True)
class TextFilter:
    field: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumberFilter:
    field: str
    op: str
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class TimeRange:
    field: str
    start_ms: int | None  # inclusive
    end_ms: int | None  # exclusive


@dataclass(frozen=True, slots=True)
class FieldFilter:
    op: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExitLinkFilter:
    field: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DisplayFilter:
    kinds: frozenset[str]


@dataclass(frozen=True, slots=True)
class SearchFilter:
    text: str


@dataclass(frozen=True, slots=True)
class ScoreAbove:
    minimum: int


Filter = (
    TextFilter
    | NumberFilter
    | TimeRange
    | FieldFilter
    | ExitLinkFilter
    | DisplayFilter
    | SearchFilter
    | ScoreAbove
)


def parse_text_filters(raw: str, param: str = "criteriaTextFilter") -> list[TextFilter]:
    out: list[TextFilter] = []
    for clause in _split_clauses(raw):
        parts = clause.split("|", 2)
        if len(parts) != 3 or parts[1].lower() not in TEXT_OPS:
            raise bad_parameter(
                param, "field|operator|value with operator " + "/".join(TEXT_OPS), clause
            )
        values = _values(parts[2])
        if not values:
            raise bad_parameter(param, "a value after field|operator|", clause)
        out.append(TextFilter(property_name(param, parts[0]), parts[1].lower(), values))
    return out


def parse_number_filters(raw: str, param: str = "criteriaNumberFilter") -> list[NumberFilter]:
    out: list[NumberFilter] = []
    for clause in _split_clauses(raw):
        parts = clause.split("|", 2)
        if len(parts) != 3 or parts[1].lower() not in NUMBER_OPS:
            raise bad_parameter(
                param, "field|operator|value with operator " + "/".join(NUMBER_OPS), clause
            )
        field, op, value = property_name(param, parts[0]), parts[1].lower(), parts[2].strip()
        if op in ("between", "notbetween"):
            m = _RANGE_RE.fullmatch(value)
            if not m:
                raise bad_parameter(param, f"a range min-max for {op}", value)
            low, high = float(m.group(1)), float(m.group(2))
            if low > high:
                raise bad_parameter(param, "a range whose min is not above its max", value)
        else:
            low = high = _number(param, value)
        out.append(NumberFilter(field, op, low, high))
    return out


def _time_field(param: str, name: str) -> str:
    name = name.strip()
    if name not in queries.TIME_FIELDS:
        raise bad_parameter(param, "a time field: " + ", ".join(queries.TIME_FIELDS), name)
    return name


def _day_start_ms(day: date, tz: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


def parse_time_filters(
    raw: str, tz: ZoneInfo, now_ms: int, param: str = "criteriaTimeFilter"
) -> list[TimeRange]:
    """exactly|N (N days ago, 0 = today), lessthan|N (today and the N days before: 6 =
    last 7 days), greaterthan|N (before that), between|dd/MM/yyyy-dd/MM/yyyy (both
    days included). Days are calendar days in `tz`."""
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    out: list[TimeRange] = []
    for clause in _split_clauses(raw):
        parts = clause.split("|", 2)
        if len(parts) != 3 or parts[1].lower() not in TIME_OPS:
            raise bad_parameter(
                param, "field|operator|value with operator " + "/".join(TIME_OPS), clause
            )
        field, op, value = _time_field(param, parts[0]), parts[1].lower(), parts[2].strip()
        if op == "between":
            m = _DATE_RANGE_RE.fullmatch(value)
            if not m:
                raise bad_parameter(param, "between|dd/MM/yyyy-dd/MM/yyyy", value)
            d = [int(g) for g in m.groups()]
            try:
                first, last = date(d[2], d[1], d[0]), date(d[5], d[4], d[3])
            except ValueError:
                raise bad_parameter(param, "real calendar dates dd/MM/yyyy", value) from None
            if first > last:
                raise bad_parameter(param, "a first date not after the second", value)
            out.append(
                TimeRange(field, _day_start_ms(first, tz), _day_start_ms(last + timedelta(1), tz))
            )
            continue
        if not re.fullmatch(r"[0-9]{1,5}", value):
            raise bad_parameter(param, f"a whole number of days after {op}|", value)
        day = today - timedelta(days=int(value))
        start = _day_start_ms(day, tz)
        if op == "exactly":
            out.append(TimeRange(field, start, _day_start_ms(day + timedelta(1), tz)))
        elif op == "lessthan":
            out.append(TimeRange(field, start, None))
        else:
            out.append(TimeRange(field, None, start))
    return out


def parse_field_filters(raw: str, param: str = "criteriaFieldFilter") -> list[FieldFilter]:
    out: list[FieldFilter] = []
    for clause in _split_clauses(raw):
        parts = clause.split("|", 1)
        if len(parts) != 2 or parts[0].lower() not in FIELD_OPS:
            raise bad_parameter(
                param, "hasanyvalue|field1;field2 (or hasallvalues, hasnovalue)", clause
            )
        fields = tuple(property_name(param, f) for f in _values(parts[1]))
        if not fields:
            raise bad_parameter(param, "at least one field name after the operator", clause)
        out.append(FieldFilter(parts[0].lower(), fields))
    return out


def parse_exit_link_filters(
    raw: str, param: str = "criteriaExitLinkFilter"
) -> list[ExitLinkFilter]:
    out: list[ExitLinkFilter] = []
    for clause in _split_clauses(raw):
        parts = clause.split("|", 2)
        if len(parts) != 3 or parts[1].lower() not in EXIT_OPS:
            raise bad_parameter(
                param, "field|operator|value with operator " + "/".join(EXIT_OPS), clause
            )
        values = _values(parts[2])
        if not values:
            raise bad_parameter(param, "values separated by ;", clause)
        out.append(ExitLinkFilter(property_name(param, parts[0]), parts[1].lower(), values))
    return out


def parse_display_filter(raw: str, param: str = "criteriaDisplayFilter") -> DisplayFilter:
    kinds = [k.strip().lower() for k in re.split(r"[;,]", raw) if k.strip()]
    bad = [k for k in kinds if k not in DISPLAY_KINDS]
    if bad or not kinds:
        raise bad_parameter(param, "company, person or unidentified joined with ;", raw)
    return DisplayFilter(frozenset(kinds))


def parse_score_rules(raw: str, param: str = "leadscoreRules") -> tuple[ScoreRule, ...]:
    """LeadBoxer's rule syntax, comma-separated: range `field|start|end|score`, match
    `field|value|score`, exist `field|score`, boost `root_url|<url>|score`."""
    rules: list[ScoreRule] = []
    for clause in (c.strip() for c in raw.split(",")):
        if not clause:
            continue
        parts = [p.strip() for p in clause.split("|")]
        field = parts[0]
        if field.startswith("user."):  # e.g. user.total_number_visits.total_number_visits_long
            field = field.removeprefix("user.").split(".")[0]
        if len(parts) == 2:
            rules.append(ScoreRule("exist", property_name(param, field), _number(param, parts[1])))
        elif len(parts) == 3 and field == "root_url":
            rules.append(ScoreRule("boost", field, _number(param, parts[2]), value=parts[1]))
        elif len(parts) == 3:
            rules.append(
                ScoreRule("match", property_name(param, field), _number(param, parts[2]), parts[1])
            )
        elif len(parts) == 4:
            rules.append(
                ScoreRule(
                    "range",
                    property_name(param, field),
                    _number(param, parts[3]),
                    low=_number(param, parts[1]),
                    high=_number(param, parts[2]),
                )
            )
        else:
            raise bad_parameter(
                param,
                "rules field|score, field|value|score, field|start|end|score or root_url|url|score",
                clause,
            )
    return tuple(rules)


# ------------------------------------------------------------------------ lead query
@dataclass(frozen=True, slots=True)
class LeadQuery:
    site: str
    limit: int
    sort_field: str
    desc: bool
    after: tuple[Any, str] | None
    filters: tuple[Filter, ...]
    time_zone: str
    rules: tuple[ScoreRule, ...]
    # (scroll id, position of the next lead in its frozen id list), see api.scrolls
    scroll: tuple[str, int] | None = None


def parse_sort(q: QueryParams) -> tuple[str, bool]:
    raw = _raw(q, "sortBy") or "lastEvent|desc"
    parts = raw.split("|")
    field = parts[0].strip()
    direction = parts[1].strip().lower() if len(parts) > 1 else "desc"
    if len(parts) > 2 or field not in queries.SORT_FIELDS or direction not in ("asc", "desc"):
        raise bad_parameter(
            "sortBy",
            "field|asc or field|desc with field one of " + ", ".join(queries.SORT_FIELDS),
            raw,
        )
    return field, direction == "desc"


def parse_lead_query(
    q: QueryParams, site: str, now_ms: int, rules: tuple[ScoreRule, ...]
) -> LeadQuery:
    limit = limit_param(q)
    sort_field, desc = parse_sort(q)
    tz = time_zone(q)
    filters: list[Filter] = []
    search = _raw(q, "search")
    if search is not None and search.strip() not in ("*", ""):
        filters.append(SearchFilter(search.strip()))
    time_field = _raw(q, "timeField")
    if time_field is not None:
        time_field = _time_field("timeField", time_field)
    period = _raw(q, "period")
    if period is not None and period != "all":
        m = _PERIOD_RE.fullmatch(period.strip())
        if not m:
            raise bad_parameter("period", "a period like 1d, 7d, 30d, 1y, 12h, 2w or all", period)
        span = int(m.group(1)) * _PERIOD_MS[m.group(2)]
        filters.append(TimeRange(time_field or "eventEsTimestamp", now_ms - span, None))
    for name, parse in (
        ("criteriaTextFilter", parse_text_filters),
        ("criteriaNumberFilter", parse_number_filters),
        ("criteriaFieldFilter", parse_field_filters),
        ("criteriaExitLinkFilter", parse_exit_link_filters),
    ):
        raw = _raw(q, name)
        if raw is not None:
            filters.extend(parse(raw))
    raw = _raw(q, "criteriaTimeFilter")
    if raw is not None:
        filters.extend(parse_time_filters(raw, tz, now_ms))
    raw = _raw(q, "criteriaDisplayFilter")
    if raw is not None:
        filters.append(parse_display_filter(raw))
    raw = _raw(q, "criteriaLeadscoreFilter")
    if raw is not None:
        filters.append(ScoreAbove(int_param(q, "criteriaLeadscoreFilter", 0, 0, 100)))
    raw = _raw(q, "leadscoreRules")
    if raw is not None:
        rules = parse_score_rules(raw)
    after: tuple[Any, str] | None = None
    scroll: tuple[str, int] | None = None
    token = decode_token(q, "leads:" + sort_field + ("|desc" if desc else "|asc"))
    if token is not None:
        if (
            len(token) not in (2, 4)
            or not isinstance(token[1], str)
            or not isinstance(token[0], (int, float, str))
            or (len(token) == 4 and not _scroll_position(token[2], token[3]))
        ):
            raise bad_parameter("nextToken", "a nextToken returned by a previous call")
        after = (token[0], token[1])
        if len(token) == 4:
            scroll = (token[2], token[3])
    return LeadQuery(site, limit, sort_field, desc, after, tuple(filters), tz.key, rules, scroll)


def _scroll_position(scroll_id: Any, position: Any) -> bool:
    return (
        isinstance(scroll_id, str)
        and isinstance(position, int)
        and not isinstance(position, bool)
        and position >= 0
    )


def lead_token(q: LeadQuery, last: dict[str, Any], scroll: tuple[str, int] | None) -> str:
    """The next page's token: the last row's sort key and id (a keyset cursor, used
    when the scroll is gone) and, when there is one, the scroll and where to go on."""
    kind = "leads:" + q.sort_field + ("|desc" if q.desc else "|asc")
    payload: list[Any] = [kind, last["sort_key"], last["user_id"]]
    if scroll is not None:
        payload += [scroll[0], scroll[1]]
    return encode_token(payload)


# Parameters that do not change which leads a query matches or their order; a scroll
# stays valid across pages that differ only in these.
_PAGING_ONLY = frozenset({"nextToken", "limit", "apiKey", "callback"})


def query_fingerprint(q: QueryParams, site: str) -> str:
    """Identifies the lead query a scroll belongs to, from the request text itself
    (relative periods such as `7d` must not make each page a different query)."""
    pairs = sorted((k, v) for k, v in q.multi_items() if k not in _PAGING_ONLY)
    return orjson.dumps([site, pairs]).decode()


# ------------------------------------------------------------------- SQL conditions
def _like_any(expr: str, op: str, values: tuple[str, ...], fparams: list[Any]) -> Condition:
    """Case-insensitive text comparison; positive ops match any value, negative ops
    require that none matches."""
    pieces: list[str] = []
    params: list[Any] = []
    for value in values:
        if op in ("is", "isnot"):
            pieces.append(f"lower({expr}) = lower(?)")
        elif op in ("contains", "doesnotcontain"):
            pieces.append(f"contains(lower({expr}), lower(?))")
        elif op == "startswith":
            pieces.append(f"starts_with(lower({expr}), lower(?))")
        else:
            pieces.append(f"suffix(lower({expr}), lower(?))")
        params += [*fparams, value]
    joined = " OR ".join(pieces)
    if op in ("isnot", "doesnotcontain"):
        return Condition(f"NOT ({joined})", tuple(params))
    return Condition(joined, tuple(params))


def _text_expr(name: str) -> tuple[str, list[Any]]:
    sql, params, kind = queries.field_sql(name)
    return (sql if kind == "text" else f"CAST({sql} AS VARCHAR)"), params


def to_condition(f: Filter) -> Condition:
    if isinstance(f, SearchFilter):
        sql, search_params = queries.search_condition(f.text)
        return Condition(sql, search_params)
    if isinstance(f, TextFilter):
        expr, fparams = _text_expr(f.field)
        return _like_any(expr, f.op, f.values, fparams)
    if isinstance(f, NumberFilter):
        sql, fparams, _ = queries.field_sql(f.field)
        num = f"TRY_CAST({sql} AS DOUBLE)"
        ops = {
            "greaterthan": (f"{num} > ?", [f.low]),
            "lessthan": (f"{num} < ?", [f.low]),
            "is": (f"{num} = ?", [f.low]),
            "isnot": (f"{num} IS DISTINCT FROM ?", [f.low]),
            "between": (f"{num} BETWEEN ? AND ?", [f.low, f.high]),
            "notbetween": (f"NOT coalesce({num} BETWEEN ? AND ?, false)", [f.low, f.high]),
        }
        text, values = ops[f.op]
        return Condition(text, (*fparams, *values))
    if isinstance(f, TimeRange):
        sql = queries.LEAD_FIELDS[f.field][0]
        clauses, params = [], []
        if f.start_ms is not None:
            clauses.append(f"{sql} >= ?")
            params.append(f.start_ms)
        if f.end_ms is not None:
            clauses.append(f"{sql} < ?")
            params.append(f.end_ms)
        return Condition(" AND ".join(clauses) or "true", tuple(params))
    if isinstance(f, FieldFilter):
        pieces, params = [], []
        for name in f.fields:
            expr, fparams = _text_expr(name)
            pieces.append(f"coalesce({expr}, '') <> ''")
            params += fparams
        if f.op == "hasanyvalue":
            return Condition(" OR ".join(pieces), tuple(params))
        if f.op == "hasallvalues":
            return Condition(" AND ".join(pieces), tuple(params))
        return Condition("NOT (" + " OR ".join(pieces) + ")", tuple(params))
    if isinstance(f, ExitLinkFilter):
        if f.field in EXIT_FIELDS:
            # any page the lead left a visit from (session exit urls)
            positive_op = {"isnot": "is", "doesnotcontain": "contains"}.get(f.op, f.op)
            inner = _like_any("s.exit_url", positive_op, f.values, [])
            positive = Condition(
                "EXISTS (SELECT 1 FROM sessions s WHERE s.site = u.site AND s.user_id = u.user_id "
                f"AND ({inner.sql}))",
                inner.params,
            )
            if f.op in ("isnot", "doesnotcontain"):
                return Condition(f"NOT ({positive.sql})", positive.params)
            return positive
        expr, fparams = _text_expr(f.field)
        return _like_any(expr, f.op, f.values, fparams)
    if isinstance(f, DisplayFilter):
        company = f"{queries.COMPANY_SQL} <> ''"
        person = "coalesce(u.email, '') <> ''"
        pieces = []
        if "company" in f.kinds:
            pieces.append(company)
        if "person" in f.kinds:
            pieces.append(person)
        if "unidentified" in f.kinds:
            pieces.append(f"NOT ({company}) AND NOT ({person})")
        return Condition(" OR ".join(f"({p})" for p in pieces))
    return Condition("u.score > ?", (f.minimum,))


def to_select(q: LeadQuery) -> queries.LeadSelect:
    return queries.LeadSelect(
        site=q.site,
        conditions=tuple(to_condition(f) for f in q.filters),
        sort_field=q.sort_field,
        desc=q.desc,
        limit=q.limit,
        after=q.after,
        rules=q.rules,
    )


def default_rules() -> tuple[ScoreRule, ...]:
    return parse_score_rules(DEFAULT_SCORE_RULES)
