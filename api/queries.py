"""Every read query, one small function each, bound parameters only.

Callers pass a cursor of their own thread (`Store.cursor()`); nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

T = TypeVar("T")

EVENT_COLUMNS = (
    "site, event_id, seq, user_id, session_id, explicit_session, ts, received_ms, title, lc, "
    "ref, ip, user_agent, increment, props"
)


@dataclass(frozen=True, slots=True)
class EventFilter:
    site: str | None = None
    title: str | None = None
    user: str | None = None
    session: str | None = None
    limit: int = 50


def _event_where(f: EventFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("site", f.site),
        ("title", f.title),
        ("user_id", f.user),
        ("session_id", f.session),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")  # column names are constants above
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_events(cur: duckdb.DuckDBPyConnection, f: EventFilter) -> tuple[list[dict[str, Any]], int]:
    """Matching events newest first (event time, then arrival), and how many match."""
    where, params = _event_where(f)
    total_row = cur.execute(f"SELECT count(*) FROM events{where}", params).fetchone()
    rows = cur.execute(
        f"SELECT {EVENT_COLUMNS} FROM events{where} ORDER BY ts DESC, seq DESC LIMIT ?",
        [*params, f.limit],
    ).fetchall()
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in rows], int(
        total_row[0] if total_row else 0
    )


def count_events(cur: duckdb.DuckDBPyConnection, f: EventFilter) -> int:
    where, params = _event_where(f)
    row = cur.execute(f"SELECT count(*) FROM events{where}", params).fetchone()
    return int(row[0]) if row else 0


def list_bad_hits(
    cur: duckdb.DuckDBPyConnection, site: str | None, limit: int
) -> tuple[list[dict[str, Any]], int]:
    where, params = (" WHERE site = ?", [site]) if site is not None else ("", [])
    total_row = cur.execute(f"SELECT count(*) FROM bad_hits{where}", params).fetchone()
    rows = cur.execute(
        "SELECT seq, received_ms, site, reasons, message, method, path, query, body, headers, ip "
        f"FROM bad_hits{where} ORDER BY seq DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in rows], int(
        total_row[0] if total_row else 0
    )


def table_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    row = cur.execute(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM users), "
        "(SELECT count(*) FROM sessions), (SELECT count(*) FROM bad_hits)"
    ).fetchone()
    assert row is not None
    return {"events": row[0], "users": row[1], "sessions": row[2], "bad_hits": row[3]}


def stored_counters(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The totals: `counters` plus the increments the writer has not folded in yet."""
    return dict(
        cur.execute(
            "SELECT name, sum(value)::BIGINT FROM "
            "(SELECT name, value FROM counters UNION ALL SELECT name, value FROM counter_deltas) "
            "GROUP BY name ORDER BY name"
        ).fetchall()
    )


def email_owners(cur: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    rows = cur.execute("SELECT site, email, user_id FROM user_emails").fetchall()
    return {(site, email): user for site, email, user in rows}


def ping(cur: duckdb.DuckDBPyConnection) -> bool:
    row = cur.execute("SELECT 1").fetchone()
    return row is not None and row[0] == 1


# ---------------------------------------------------------------------------------------
# Read API (SPEC 5): leads, sessions and events. SQL is built only from the constant
# expressions below and from allow-listed names; every user value is a bound parameter.
# ---------------------------------------------------------------------------------------

# Lead field name -> (SQL over the users row aliased `u`, kind). Kinds: text, number, time.
_FOLD_LAST = "json_extract_string(u.fold, '$.last.{0}[0]')"
_FOLD_FIRST = "json_extract_string(u.fold, '$.first.{0}[0]')"
_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _prop(name: str) -> str:
    return f"json_extract_string(u.props, '$.{name}')"


COMPANY_SQL = (
    "coalesce(nullif(" + _prop("organizationName") + ", ''), nullif(" + _prop("company") + ", ''), "
    "nullif("
    + _prop("companyName")
    + ", ''), nullif("
    + _prop("last_most_likely_company")
    + ", ''), '')"
)

LEAD_FIELDS: dict[str, tuple[str, str]] = {
    "use_id": ("u.user_id", "text"),
    "site": ("u.site", "text"),
    "email": ("coalesce(u.email, '')", "text"),
    "lastEvent": ("u.last_ms", "time"),
    "eventEsTimestamp": ("u.last_ms", "time"),
    "eventUnixTimestamp": ("u.last_ms", "time"),
    "firstEvent": ("u.first_ms", "time"),
    "first_session_unix_timestamp": ("coalesce(u.first_session_ms, u.first_ms)", "time"),
    "last_session_unix_timestamp": ("coalesce(u.last_session_ms, u.first_ms)", "time"),
    "total_number_visits": ("u.visits", "number"),
    "total_pages_viewed": ("u.pages", "number"),
    "total_events": ("u.events", "number"),
    "total_session_duration": ("u.total_duration_ms", "number"),
    "last_visit_duration": ("u.last_visit_duration_ms", "number"),
    "esScore": ("u.score", "number"),
    "_score": ("u.score", "number"),
    "last_channel": ("coalesce(u.last_channel, '')", "text"),
    "original_channel": ("coalesce(u.first_channel, '')", "text"),
    "last_referrer": ("coalesce(u.last_referrer, '')", "text"),
    "original_referrer": ("coalesce(u.first_referrer, '')", "text"),
    "entry_url": ("coalesce(u.first_landing_page, '')", "text"),
    "last_landing_page": ("coalesce(u.last_landing_page, '')", "text"),
    "last_original_url": ("coalesce(" + _FOLD_LAST.format("url") + ", '')", "text"),
    "last_title": ("coalesce(" + _FOLD_LAST.format("title") + ", '')", "text"),
    "last_browser": ("coalesce(" + _FOLD_LAST.format("browser") + ", '')", "text"),
    "last_browser_version": ("coalesce(" + _FOLD_LAST.format("browser_version") + ", '')", "text"),
    "last_platform": ("coalesce(" + _FOLD_LAST.format("platform") + ", '')", "text"),
    "last_user_agent": ("coalesce(" + _FOLD_LAST.format("user_agent") + ", '')", "text"),
    "last_ip_number": ("coalesce(" + _FOLD_LAST.format("ip") + ", '')", "text"),
    "last_resolution_width": ("coalesce(" + _FOLD_LAST.format("sw") + ", '')", "text"),
    "last_resolution_height": ("coalesce(" + _FOLD_LAST.format("sh") + ", '')", "text"),
    "last_most_likely_company": (COMPANY_SQL, "text"),
    **{f"first_{k}": ("coalesce(" + _FOLD_FIRST.format(k) + ", '')", "text") for k in _UTM},
    **{f"last_{k}": ("coalesce(" + _FOLD_LAST.format(k) + ", '')", "text") for k in _UTM},
}

TIME_FIELDS = tuple(name for name, (_, kind) in LEAD_FIELDS.items() if kind == "time")

SORT_FIELDS = (
    "lastEvent",
    "eventEsTimestamp",
    "eventUnixTimestamp",
    "_score",
    "esScore",
    "first_session_unix_timestamp",
    "last_session_unix_timestamp",
    "total_number_visits",
    "total_pages_viewed",
    "total_session_duration",
    "last_visit_duration",
    "email",
    "use_id",
)

# Lead columns read for serialisation (plus the computed score).
LEAD_COLUMNS = (
    "u.site, u.user_id, u.email, u.first_ms, u.last_ms, u.events, u.pages, u.visits, "
    "u.total_duration_ms, u.last_visit_duration_ms, u.first_session_id, u.first_session_ms, "
    "u.last_session_id, u.last_session_ms, u.first_channel, u.last_channel, "
    # no u.props: it is the fold's props without their stamps (serialize derives it), and
    # reading it too cost ~20 ms of a 50-lead page at 160k leads
    "u.first_landing_page, u.last_landing_page, u.first_referrer, u.last_referrer, "
    "u.fold, u.score, u.previous_session_id, u.previous_session_ms, u.last_event_id"
)

SEARCH_SQL = (
    "lower(concat_ws(chr(10), coalesce(u.email, ''), "
    "concat_ws(' ', "
    + _prop("firstName")
    + ", "
    + _prop("lastName")
    + "), "
    + _prop("name")
    + ", "
    + _prop("fullName")
    + ", "
    + COMPANY_SQL
    + ", "
    + _prop("organizationDomain")
    + ", u.user_id, coalesce(u.first_landing_page, ''), coalesce(u.last_landing_page, ''), "
    + _prop("lc")
    + "))"
)

# Every field SEARCH_SQL looks at is a column or a value inside the props JSON text, so
# a term that JSON leaves unescaped (no quote, backslash or control character) and that
# cannot span two fields (no whitespace) must occur literally in one of these. This
# cheap substring scan runs first; the exact per-field test only sees its survivors
# (1.4 s -> ~0.1 s over 160k leads here).
_SEARCH_PREFILTER = (
    "(contains(lower(u.props), lower(?)) OR contains(lower(coalesce(u.email, '')), lower(?)) "
    "OR contains(lower(coalesce(u.first_landing_page, '')), lower(?)) "
    "OR contains(lower(coalesce(u.last_landing_page, '')), lower(?)) "
    "OR contains(lower(u.user_id), lower(?)))"
)


def search_condition(text: str) -> tuple[str, tuple[Any, ...]]:
    """The `search` filter: SQL and its bound parameters."""
    exact = f"contains({SEARCH_SQL}, lower(?))"
    if any(ch in text for ch in '"\\') or any(ch.isspace() or not ch.isprintable() for ch in text):
        return exact, (text,)
    return f"{_SEARCH_PREFILTER} AND {exact}", (text,) * 6


def field_sql(name: str) -> tuple[str, list[Any], str]:
    """SQL for a lead field: a known field's constant expression, or a folded property
    read with a bound JSON path. Callers validate `name` first (params.property_name)."""
    known = LEAD_FIELDS.get(name)
    if known is not None:
        return known[0], [], known[1]
    return "coalesce(json_extract_string(u.props, ?), '')", ['$."' + name + '"'], "text"


def _text(sql: str, kind: str) -> str:
    return sql if kind == "text" else f"CAST({sql} AS VARCHAR)"


@dataclass(frozen=True, slots=True)
class ScoreRule:
    kind: str  # "exist" | "match" | "range" | "boost"
    field: str
    score: float
    value: str = ""
    low: float = 0.0
    high: float = 0.0


def score_sql(rules: tuple[ScoreRule, ...]) -> tuple[str, list[Any]]:
    """Lead score 0..100 as an integer: the sum of the matching rules, clamped."""
    if not rules:
        return "CAST(0 AS BIGINT)", []
    parts: list[str] = []
    params: list[Any] = []
    for rule in rules:
        if rule.kind == "boost":
            urls = (
                "lower(concat_ws(' ', u.first_landing_page, u.last_landing_page, "
                + _FOLD_LAST.format("url")
                + "))"
            )
            parts.append(f"CASE WHEN contains({urls}, lower(?)) THEN ? ELSE 0 END")
            params += [rule.value, rule.score]
            continue
        sql, fparams, kind = field_sql(rule.field)
        if rule.kind == "exist":
            parts.append(f"CASE WHEN coalesce({_text(sql, kind)}, '') <> '' THEN ? ELSE 0 END")
            params += [*fparams, rule.score]
        elif rule.kind == "match":
            parts.append(f"CASE WHEN lower({_text(sql, kind)}) = lower(?) THEN ? ELSE 0 END")
            params += [*fparams, rule.value, rule.score]
        else:
            parts.append(f"CASE WHEN TRY_CAST({sql} AS DOUBLE) BETWEEN ? AND ? THEN ? ELSE 0 END")
            params += [*fparams, rule.low, rule.high, rule.score]
    total = " + ".join(parts)
    return f"CAST(greatest(0, least(100, round({total}))) AS BIGINT)", params


@dataclass(frozen=True, slots=True)
class Condition:
    """One WHERE clause over the lead row `u`, with its bound values."""

    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class LeadSelect:
    site: str
    conditions: tuple[Condition, ...]
    sort_field: str
    desc: bool
    limit: int
    after: tuple[Any, str] | None  # (sort value, use_id) of the last row already sent
    rules: tuple[ScoreRule, ...]


def _sort_sql(name: str) -> str:
    if name not in SORT_FIELDS:  # allow-list; params validated it already
        raise ValueError(f"not a sort field: {name}")
    return LEAD_FIELDS[name][0] if name != "use_id" else "u.user_id"


def _base(site: str, rules: tuple[ScoreRule, ...]) -> tuple[str, list[Any]]:
    sql, params = score_sql(rules)
    return f"(SELECT u.*, {sql} AS score FROM users u WHERE u.site = ?) u", [*params, site]


def _base_rows(rules: tuple[ScoreRule, ...], rowids: list[int]) -> tuple[str, list[Any]]:
    """`_base` narrowed to some users by rowid. DuckDB turns a rowid list into point
    reads; a filter on user_id instead scans the whole `fold` JSON column (~4 ms
    against ~230 ms for 50 leads out of 160k)."""
    sql, params = score_sql(rules)
    return (
        f"(SELECT u.*, {sql} AS score FROM users u WHERE u.rowid IN (SELECT unnest(?))) u",
        [*params, rowids],
    )


def _where(conditions: tuple[Condition, ...]) -> tuple[str, list[Any]]:
    if not conditions:
        return "", []
    params: list[Any] = []
    for c in conditions:
        params.extend(c.params)
    return " WHERE " + " AND ".join(f"({c.sql})" for c in conditions), params


def _keyset(q: LeadSelect) -> tuple[Condition, ...]:
    """The query's conditions, plus "after the cursor" when it pages by keyset."""
    if q.after is None:
        return q.conditions
    key = _sort_sql(q.sort_field)
    op = "<" if q.desc else ">"
    return (
        *q.conditions,
        Condition(
            f"{key} {op} ? OR ({key} = ? AND u.user_id {op} ?)",
            (q.after[0], q.after[0], q.after[1]),
        ),
    )


def _ordered_ids_sql(q: LeadSelect) -> tuple[str, list[Any]]:
    base, base_params = _base(q.site, q.rules)
    where, where_params = _where(_keyset(q))
    key = _sort_sql(q.sort_field)
    direction = "DESC" if q.desc else "ASC"
    return (
        f"SELECT u.user_id FROM {base}{where} ORDER BY {key} {direction}, u.user_id {direction}",
        [*base_params, *where_params],
    )


def lead_total(cur: duckdb.DuckDBPyConnection, q: LeadSelect) -> int:
    """How many leads match the query's filters (the cursor aside)."""
    base, base_params = _base(q.site, q.rules)
    where, where_params = _where(q.conditions)
    row = cur.execute(f"SELECT count(*) FROM {base}{where}", [*base_params, *where_params])
    fetched = row.fetchone()
    return int(fetched[0]) if fetched else 0


def lead_rows(
    cur: duckdb.DuckDBPyConnection, q: LeadSelect, ids: list[str]
) -> list[dict[str, Any]]:
    """The wide lead rows of `ids`, in that order (ids no longer stored are left out).
    Run it inside a transaction: the rowids it reads first are only stable within one."""
    if not ids:
        return []
    rowids = [
        int(row[0])
        for row in cur.execute(
            "SELECT rowid FROM users WHERE site = ? AND user_id IN (SELECT unnest(?))",
            [q.site, ids],
        ).fetchall()
    ]
    base, base_params = _base_rows(q.rules, rowids)
    key = _sort_sql(q.sort_field)
    rows = cur.execute(
        f"SELECT {LEAD_COLUMNS}, {key} AS sort_key FROM {base}", base_params
    ).fetchall()
    names = [d[0] for d in cur.description or []]
    position = {user_id: i for i, user_id in enumerate(ids)}
    out = sorted(
        (dict(zip(names, row, strict=True)) for row in rows),
        key=lambda lead: position[lead["user_id"]],
    )
    _add_lead_extras(cur, out)
    return out


def lead_page(
    cur: duckdb.DuckDBPyConnection, q: LeadSelect
) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of leads (keyset after `q.after`), the total matching, and whether more
    rows follow."""
    total = lead_total(cur, q)
    sql, params = _ordered_ids_sql(q)
    # Two steps: pick the page's ids with only the sort key computed, then build the
    # wide lead rows for those ids alone. In one step DuckDB computed every lead column
    # (JSON extractions included) for every lead before the top-N: ~800 ms at 160k leads.
    ids = [row[0] for row in cur.execute(f"{sql} LIMIT ?", [*params, q.limit + 1]).fetchall()]
    more = len(ids) > q.limit
    return lead_rows(cur, q, ids[: q.limit]), total, more


def lead_ids(cur: duckdb.DuckDBPyConnection, q: LeadSelect) -> pa.ChunkedArray:
    """Every matching lead id in page order, as Arrow strings (a scroll's snapshot)."""
    sql, params = _ordered_ids_sql(q)
    # Arrow, not fetchall: 160k ids come back in ~40 ms instead of ~120 ms. `sql()`
    # rather than `execute()`: Arrow from a DB-API result makes an extra copy.
    return cur.sql(sql, params=params).to_arrow_table().column(0)


def in_snapshot(
    cur: duckdb.DuckDBPyConnection, read: Callable[[duckdb.DuckDBPyConnection], T]
) -> T:
    """Run several reads on one snapshot: a commit landing between them (a user row
    replaced, so with a new rowid) cannot make them disagree."""
    cur.execute("BEGIN TRANSACTION")
    try:
        return read(cur)
    finally:
        cur.execute("COMMIT")


def first_page_in_snapshot(
    cur: duckdb.DuckDBPyConnection, q: LeadSelect
) -> tuple[list[dict[str, Any]], int, bool]:
    """A scroll's first page, read in a transaction that stays open when more rows
    follow: the caller then reads every id on the same snapshot (`lead_ids`, however
    many commits land meanwhile) and ends it with `end_snapshot`."""
    cur.execute("BEGIN TRANSACTION")
    try:
        page = lead_page(cur, q)
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    if not page[2]:
        cur.execute("COMMIT")
    return page


def end_snapshot(cur: duckdb.DuckDBPyConnection) -> None:
    """End the transaction of `first_page_in_snapshot` (it only read: nothing to keep;
    after an interrupted read DuckDB accepts only a rollback)."""
    cur.execute("ROLLBACK")


def lead_by_id(
    cur: duckdb.DuckDBPyConnection,
    user_id: str,
    sites: list[str] | None,
    rules: tuple[ScoreRule, ...],
) -> dict[str, Any] | None:
    """One lead by id; `sites` narrows the datasets searched (None: any). The most
    recently active wins if the id exists in several."""
    found = cur.execute(
        "SELECT site FROM users WHERE user_id = ? ORDER BY last_ms DESC", [user_id]
    ).fetchall()
    for (site,) in found:
        if sites is not None and site not in sites:
            continue
        base, params = _base(site, rules)
        rows = cur.execute(
            f"SELECT {LEAD_COLUMNS} FROM {base} WHERE u.user_id = ?", [*params, user_id]
        ).fetchall()
        names = [d[0] for d in cur.description or []]
        out = [dict(zip(names, row, strict=True)) for row in rows]
        _add_lead_extras(cur, out)
        return out[0] if out else None
    return None


def _add_lead_extras(cur: duckdb.DuckDBPyConnection, leads: list[dict[str, Any]]) -> None:
    """The tags of each lead on the page (its latest event id is on its row)."""
    if not leads:
        return
    site = leads[0]["site"]
    ids = [lead["user_id"] for lead in leads]
    by_id = {lead["user_id"]: lead for lead in leads}
    for lead in leads:
        lead["lead_tags"] = []
    tags = cur.execute(
        "SELECT user_id, list(tag ORDER BY tag) FROM lead_tags "
        "WHERE site = ? AND list_contains(?, user_id) GROUP BY user_id",
        [site, ids],
    ).fetchall()
    for user_id, lead_tags in tags:
        by_id[user_id]["lead_tags"] = list(lead_tags)


SESSION_COLUMNS = (
    "site, session_id, user_id, start_ms, end_ms, duration_ms, events, pages, entry_url, "
    "entry_title, exit_url, referrer, channel, last_channel, utm_source, utm_medium, "
    "utm_campaign, utm_term, utm_content, browser, platform, ip, props"
)


def _in_sites(sites: list[str] | None) -> tuple[str, list[Any]]:
    if sites is None:
        return "", []
    return " AND list_contains(?, site)", [sites]


def session_page(
    cur: duckdb.DuckDBPyConnection,
    user_id: str,
    sites: list[str] | None,
    limit: int,
    after: tuple[int, str] | None,
) -> tuple[list[dict[str, Any]], bool]:
    """A lead's sessions, newest first, keyset on (start_ms, session_id)."""
    in_sites, params = _in_sites(sites)
    keyset, kparams = "", []
    if after is not None:
        keyset = " AND (start_ms < ? OR (start_ms = ? AND session_id < ?))"
        kparams = [after[0], after[0], after[1]]
    rows = cur.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = ?{in_sites}{keyset} "
        "ORDER BY start_ms DESC, session_id DESC LIMIT ?",
        [user_id, *params, *kparams, limit + 1],
    ).fetchall()
    names = [d[0] for d in cur.description or []]
    out = [dict(zip(names, row, strict=True)) for row in rows]
    return out[:limit], len(out) > limit


def lead_exists(cur: duckdb.DuckDBPyConnection, user_id: str, sites: list[str] | None) -> bool:
    in_sites, params = _in_sites(sites)
    row = cur.execute(
        f"SELECT count(*) FROM users WHERE user_id = ?{in_sites}", [user_id, *params]
    ).fetchone()
    return bool(row and row[0])


def api_event_page(
    cur: duckdb.DuckDBPyConnection,
    *,
    session_id: str | None,
    user_id: str | None,
    sites: list[str] | None,
    limit: int,
    after: tuple[int, int] | None,
) -> tuple[list[dict[str, Any]], bool]:
    """Events of a session or a lead, newest first, keyset on (ts, seq)."""
    clauses: list[str] = []
    params: list[Any] = []
    if session_id is not None:
        clauses.append("session_id = ?")
        params.append(session_id)
    if user_id is not None:
        clauses.append("user_id = ?")
        params.append(user_id)
    if sites is not None:
        clauses.append("list_contains(?, site)")
        params.append(sites)
    if after is not None:
        clauses.append("(ts < ? OR (ts = ? AND seq < ?))")
        params += [after[0], after[0], after[1]]
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    rows = cur.execute(
        f"SELECT {EVENT_COLUMNS} FROM events{where} ORDER BY ts DESC, seq DESC LIMIT ?",
        [*params, limit + 1],
    ).fetchall()
    names = [d[0] for d in cur.description or []]
    out = [dict(zip(names, row, strict=True)) for row in rows]
    return out[:limit], len(out) > limit


# ---------------------------------------------------------------------------------------
# Management reads: datasets and lead tags (written by the writer thread only).
# ---------------------------------------------------------------------------------------

DATASET_COLUMNS = ("dataset_id", "human_name", "timezone", "created_ms", "deleted_ms")


def list_datasets(cur: duckdb.DuckDBPyConnection, sites: list[str] | None) -> list[dict[str, Any]]:
    """Registered, not deleted datasets (`sites`: only these; None: all), oldest first."""
    in_sites, params = ("", []) if sites is None else (" AND list_contains(?, dataset_id)", [sites])
    rows = cur.execute(
        f"SELECT {', '.join(DATASET_COLUMNS)} FROM datasets WHERE deleted_ms IS NULL{in_sites} "
        "ORDER BY created_ms, dataset_id",
        params,
    ).fetchall()
    return [dict(zip(DATASET_COLUMNS, row, strict=True)) for row in rows]


def site_overview(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every dataset that holds leads or bad hits or is registered, with its counts; the
    most recently active first. For the inspector's dataset picker (`/_fakeboxer/sites`)."""
    rows = cur.execute(
        """
        SELECT site, sum(leads), sum(events), sum(bad_hits), max(last_event), max(name)
        FROM (
            SELECT site, count(*) AS leads, sum(events) AS events, 0 AS bad_hits,
                max(last_ms) AS last_event, NULL AS name
            FROM users GROUP BY site
            UNION ALL
            SELECT site, 0, 0, count(*), NULL, NULL FROM bad_hits WHERE site <> '' GROUP BY site
            UNION ALL
            SELECT dataset_id, 0, 0, 0, NULL, human_name FROM datasets WHERE deleted_ms IS NULL
        )
        GROUP BY site
        ORDER BY max(last_event) DESC NULLS LAST, site
        """
    ).fetchall()
    return [
        {
            "site": site,
            "leads": int(leads),
            "events": int(events),
            "bad_hits": int(bad),
            "last_event": last_event,
            "name": name,
        }
        for site, leads, events, bad, last_event, name in rows
    ]
