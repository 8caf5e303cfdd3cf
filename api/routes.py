"""The read API (SPEC 5): legacy `/api/...` and `/v1/...` routes, lookups and
`/openapi.json`. Every handler is async: it waits for the writer (read-your-writes),
then runs its query on a cursor of its own in the threadpool."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

import duckdb
import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from api import lookups, management, openapi, params, queries, serialize
from api.auth import ApiKey, authenticate, ensure_keys, require_site
from api.errors import (
    ApiError,
    api_json,
    bad_parameter,
    cors_headers,
    error_json,
    not_found,
    preflight_response,
)
from api.queries import ScoreRule
from api.scrolls import FrozenIds, ScrollRegistry
from collector.app_state import AppState
from collector.settings import Settings
from collector.storage import meta
from collector.storage.db import Store
from collector.storage.writer import WriterStopped

SCORE_RULES_META = "leadscore_rules"
_CALLBACK_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$.]{0,63}")

Handler = Callable[[Request, ApiKey], Awaitable[tuple[Any, int]]]


def endpoint(
    handler: Handler, *, keyless_on_loopback: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """Auth, CORS, preflight, errors as JSON, and JSONP `callback` on /api/ routes."""

    async def run(request: Request) -> Response:
        if request.method == "OPTIONS":
            return preflight_response(request)
        try:
            key = authenticate(
                request, request.app.state.api_keys, keyless_on_loopback=keyless_on_loopback
            )
            data, status = await handler(request, key)
        except ApiError as exc:
            return error_json(request, exc)
        except WriterStopped:
            return error_json(
                request, ApiError(503, "unavailable", "the writer stopped; see the server log")
            )
        callback = request.query_params.get("callback")
        if callback and request.url.path.startswith("/api/") and _CALLBACK_RE.fullmatch(callback):
            body = b"/**/" + callback.encode() + b"(" + orjson.dumps(data) + b");"
            return Response(
                body, status, headers=cors_headers(request), media_type="application/javascript"
            )
        return api_json(request, data, status)

    return run


# ------------------------------------------------------------------------------ helpers
def _scrolls(request: Request) -> ScrollRegistry:
    registry: ScrollRegistry = request.app.state.api_scrolls
    return registry


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.fakeboxer
    return state


def _rules(request: Request) -> tuple[ScoreRule, ...]:
    rules: tuple[ScoreRule, ...] = (
        getattr(request.app.state, "api_score_rules", None) or params.default_rules()
    )
    raw = request.query_params.get("leadscoreRules")
    if raw:
        rules = params.parse_score_rules(raw)
    return rules


def _sites(key: ApiKey, site: str | None) -> list[str] | None:
    """Datasets a request may read: the asked one (checked), else the key's own."""
    if site:
        require_site(key, site)
        return [site]
    return sorted(key.sites) if key.sites is not None else None


def _leadcard_base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/_fakeboxer/ui"


async def _read(request: Request, fn: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
    state = _state(request)
    await state.writer.barrier()
    return await run_in_threadpool(state.read, fn)


# ------------------------------------------------------------------------------- leads
async def _lead_list(
    request: Request, key: ApiKey
) -> tuple[list[dict[str, Any]], str | None, int, params.LeadQuery]:
    q = request.query_params
    site = params.required(q, "site", "the dataset id")
    require_site(key, site)
    state = _state(request)
    await state.writer.barrier()
    now = state.clock.now_ms()
    query = params.parse_lead_query(q, site, now, _rules(request))
    select = params.to_select(query)
    scrolls = _scrolls(request)
    fingerprint = params.query_fingerprint(q, site)
    frozen = await scrolls.ids(query.scroll[0], fingerprint) if query.scroll else None
    next_scroll: tuple[str, int] | None = None
    if query.scroll is not None and frozen is not None:
        # A later page of a live scroll: the next ids of its snapshot, as they are now.
        scroll_id, start = query.scroll
        rows: list[dict[str, Any]] = []
        while not rows and start < len(frozen):  # skips ids deleted since (reset)
            ids = frozen.page(start, query.limit)
            read = functools.partial(queries.lead_rows, q=select, ids=ids)
            rows = await run_in_threadpool(
                state.read, functools.partial(queries.in_snapshot, read=read)
            )
            start += len(ids)
        total = len(frozen)
        next_scroll = (scroll_id, start) if start < total else None
        more = next_scroll is not None
    elif query.after is None:
        rows, total, next_scroll = await _open_scroll(state, scrolls, select, fingerprint)
        more = next_scroll is not None
    else:
        # The scroll is gone (expired, evicted, server restarted): go on by keyset.
        rows, total, more = await run_in_threadpool(
            state.read, lambda cur: queries.in_snapshot(cur, lambda c: queries.lead_page(c, select))
        )
    base = _leadcard_base(request)
    leads = [serialize.lead_object(r, now, base) for r in rows]
    token = params.lead_token(query, rows[-1], next_scroll) if more and rows else None
    return leads, token, total, query


async def _open_scroll(
    state: AppState, scrolls: ScrollRegistry, select: queries.LeadSelect, fingerprint: str
) -> tuple[list[dict[str, Any]], int, tuple[str, int] | None]:
    """The first page of a new scroll. When more rows follow, the page's snapshot stays
    open and the background reader reads the full id list on it (one list at a time, at
    low CPU priority) while this page is already on its way."""

    def read_ids(
        cur: duckdb.DuckDBPyConnection, frozen: Future[FrozenIds | None], stopping: bool
    ) -> None:
        ids = None
        try:
            if not stopping:
                ids = queries.lead_ids(cur, select)
        finally:
            try:
                queries.end_snapshot(cur)
            finally:
                state.release_background_cursor(cur)
                # None when the read failed or was skipped: paging goes on by keyset.
                frozen.set_result(None if ids is None else FrozenIds(ids))

    def first_page() -> tuple[tuple[list[dict[str, Any]], int, bool], str | None]:
        # The id list is queued from here, not from the request's coroutine: a request
        # cancelled meanwhile must not leave the snapshot open with nobody to end it.
        cur = state.background_cursor()
        try:
            page = queries.first_page_in_snapshot(cur, select)
        except BaseException:
            state.release_background_cursor(cur)
            raise
        if not page[2]:
            state.release_background_cursor(cur)
            return page, None
        scroll_id, frozen = scrolls.open(fingerprint)
        state.run_in_background(functools.partial(read_ids, cur, frozen))
        return page, scroll_id

    (rows, total, _more), scroll_id = await run_in_threadpool(first_page)
    if scroll_id is None:
        return rows, total, None
    return rows, total, (scroll_id, len(rows))


async def legacy_leads(request: Request, key: ApiKey) -> tuple[Any, int]:
    leads, token, total, query = await _lead_list(request, key)
    return {
        "rows": len(leads),
        "nextToken": token,
        "total": total,
        "resultsList": leads,
        "site": query.site,
        "timeZone": query.time_zone,
    }, 200


async def v1_leads(request: Request, key: ApiKey) -> tuple[Any, int]:
    leads, token, total, _ = await _lead_list(request, key)
    return {"data": leads, "nextToken": token, "total": total}, 200


async def _one_lead(request: Request, key: ApiKey, lead_id: str) -> dict[str, Any]:
    sites = _sites(key, request.query_params.get("site") or None)
    rules = _rules(request)
    row = await _read(request, lambda cur: queries.lead_by_id(cur, lead_id, sites, rules))
    if row is None:
        raise not_found(
            f"no lead {lead_id!r}"
            + (f" in dataset {sites[0]!r}" if sites and len(sites) == 1 else "")
        )
    return serialize.lead_object(row, _state(request).clock.now_ms(), _leadcard_base(request))


async def legacy_lead_detail(request: Request, key: ApiKey) -> tuple[Any, int]:
    lead_id = params.required(request.query_params, "leadId", "the lead's use_id")
    return {"resultsList": [await _one_lead(request, key, lead_id)]}, 200


async def v1_lead(request: Request, key: ApiKey) -> tuple[Any, int]:
    return await _one_lead(request, key, request.path_params["leadId"]), 200


# ---------------------------------------------------------------------------- sessions
async def _sessions(
    request: Request, key: ApiKey, lead_id: str
) -> tuple[list[dict[str, Any]], str | None]:
    q = request.query_params
    sites = _sites(key, q.get("site") or None)
    limit = params.limit_param(q)
    token = params.decode_token(q, "sessions")
    after: tuple[int, str] | None = None
    if token is not None:
        if len(token) != 2 or not isinstance(token[0], int) or not isinstance(token[1], str):
            raise bad_parameter("nextToken", "a nextToken returned by a previous call")
        after = (token[0], token[1])

    def query(cur: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], bool] | None:
        if not queries.lead_exists(cur, lead_id, sites):
            return None
        return queries.session_page(cur, lead_id, sites, limit, after)

    found = await _read(request, query)
    if found is None:
        raise not_found(f"no lead {lead_id!r}")
    rows, more = found
    next_token = (
        params.encode_token(["sessions", rows[-1]["start_ms"], rows[-1]["session_id"]])
        if more and rows
        else None
    )
    return [serialize.session_object(r) for r in rows], next_token


async def legacy_sessions(request: Request, key: ApiKey) -> tuple[Any, int]:
    lead_id = params.required(request.query_params, "leadId", "the lead's use_id")
    sessions, _ = await _sessions(request, key, lead_id)
    return {"sessions": sessions, "responseCode": 200, "responseMessage": "OK"}, 200


async def v1_sessions(request: Request, key: ApiKey) -> tuple[Any, int]:
    lead_id = request.path_params.get("leadId") or params.required(
        request.query_params, "leadId", "the lead's use_id"
    )
    sessions, token = await _sessions(request, key, lead_id)
    return {"data": sessions, "nextToken": token}, 200


# ------------------------------------------------------------------------------ events
async def _events(
    request: Request, key: ApiKey, *, session_id: str | None, lead_id: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    q = request.query_params
    sites = _sites(key, q.get("site") or None)
    limit = params.limit_param(q)
    token = params.decode_token(q, "events")
    after: tuple[int, int] | None = None
    if token is not None:
        if len(token) != 2 or not all(isinstance(t, int) for t in token):
            raise bad_parameter("nextToken", "a nextToken returned by a previous call")
        after = (token[0], token[1])

    def query(cur: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], bool] | None:
        if lead_id is not None and not queries.lead_exists(cur, lead_id, sites):
            return None
        page = queries.api_event_page(
            cur, session_id=session_id, user_id=lead_id, sites=sites, limit=limit, after=after
        )
        if session_id is not None and not page[0] and after is None:
            return None
        return page

    found = await _read(request, query)
    if found is None:
        raise not_found(
            f"no lead {lead_id!r}" if lead_id is not None else f"no session {session_id!r}"
        )
    rows, more = found
    next_token = (
        params.encode_token(["events", rows[-1]["ts"], rows[-1]["seq"]]) if more and rows else None
    )
    return [serialize.event_object(r) for r in rows], next_token


async def legacy_events(request: Request, key: ApiKey) -> tuple[Any, int]:
    session_id = params.required(request.query_params, "sessionId", "a session_id")
    events, _ = await _events(request, key, session_id=session_id, lead_id=None)
    return {"events": events, "responseCode": 200, "responseMessage": "OK"}, 200


async def v1_events(request: Request, key: ApiKey) -> tuple[Any, int]:
    q = request.query_params
    lead_id: str | None = request.path_params.get("leadId") or q.get("leadId") or None
    session_id = q.get("sessionId") or None
    if lead_id is None and session_id is None:
        raise bad_parameter("sessionId", "a session_id (or leadId) (the parameter is required)")
    events, token = await _events(request, key, session_id=session_id, lead_id=lead_id)
    return {"data": events, "nextToken": token}, 200


# ----------------------------------------------------------------------------- lookups
async def ip_lookup(request: Request, key: ApiKey) -> tuple[Any, int]:
    return lookups.ip_lookup(request.query_params.get("ip")), 200


async def domain_lookup(request: Request, key: ApiKey) -> tuple[Any, int]:
    return {"output": lookups.domain_lookup(request.query_params.get("domain"))}, 200


async def openapi_json(request: Request) -> Response:
    if request.method == "OPTIONS":
        return preflight_response(request)
    return api_json(request, openapi.document())


def routes() -> list[BaseRoute]:
    methods = ["GET", "OPTIONS"]
    return [
        Route("/api/views/c_view_leads", endpoint(legacy_leads), methods=methods),
        Route("/api/views/c_view_leads/", endpoint(legacy_leads), methods=methods),
        Route("/api/views/lead_detail", endpoint(legacy_lead_detail), methods=methods),
        Route(
            "/api/leads/sessions",
            endpoint(legacy_sessions, keyless_on_loopback=True),
            methods=methods,
        ),
        Route(
            "/api/leads/events", endpoint(legacy_events, keyless_on_loopback=True), methods=methods
        ),
        Route("/api/ip-lookup", endpoint(ip_lookup), methods=methods),
        Route("/api/domain-lookup", endpoint(domain_lookup), methods=methods),
        Route("/v1/leads", endpoint(v1_leads), methods=methods),
        Route("/v1/leads/sessions", endpoint(v1_sessions), methods=methods),
        Route("/v1/leads/events", endpoint(v1_events), methods=methods),
        Route("/v1/leads/{leadId}", endpoint(v1_lead), methods=methods),
        Route("/v1/leads/{leadId}/sessions", endpoint(v1_sessions), methods=methods),
        Route("/v1/leads/{leadId}/events", endpoint(v1_events), methods=methods),
        Route("/v1/ip-lookup", endpoint(ip_lookup), methods=methods),
        Route("/v1/domain-lookup", endpoint(domain_lookup), methods=methods),
        # management (reference 2.2/2.3): datasets and lead tags, written by the writer
        Route("/api/datasets", endpoint(management.legacy_list), methods=methods),
        Route("/api/datasets", endpoint(management.legacy_create), methods=["POST"]),
        Route(
            "/api/datasets/{datasetId}/name",
            endpoint(management.legacy_rename),
            methods=["PUT", "OPTIONS"],
        ),
        Route(
            "/api/datasets/{datasetId}",
            endpoint(management.legacy_delete),
            methods=["DELETE", "OPTIONS"],
        ),
        Route(
            "/api/management/update_lead_tags",
            endpoint(management.legacy_update_lead_tags, keyless_on_loopback=True),
            methods=methods,
        ),
        Route("/v1/datasets", endpoint(management.v1_create), methods=["POST", "OPTIONS"]),
        Route("/v1/users/datasets", endpoint(management.v1_list), methods=methods),
        Route(
            "/v1/datasets/{datasetId}/name",
            endpoint(management.v1_rename),
            methods=["PUT", "OPTIONS"],
        ),
        Route(
            "/v1/datasets/{datasetId}",
            endpoint(management.v1_delete),
            methods=["DELETE", "OPTIONS"],
        ),
        Route(
            "/v1/management/lead-tags",
            endpoint(management.v1_lead_tags),
            methods=["PUT", "OPTIONS"],
        ),
        Route("/openapi.json", openapi_json, methods=methods),
    ]


def install(
    web: Starlette, store: Store, settings: Settings, score_rules: str | None = None
) -> list[ApiKey]:
    """Mount the read API on the starlette app and set up what its handlers need:
    `web.state.api_keys` (configured, or the generated key from `meta`) and
    `web.state.api_score_rules` (the `score_rules` argument, else the `meta` row
    'leadscore_rules', else the defaults). Call it before the writer thread starts.
    Returns the keys so the caller can print them."""
    cur = store.cursor()
    try:
        keys = ensure_keys(cur, settings)
        stored = meta.get(cur, SCORE_RULES_META)
    finally:
        cur.close()
    text = score_rules if score_rules is not None else (stored or None)
    try:
        rules = params.parse_score_rules(text) if text is not None else params.default_rules()
    except ApiError as exc:
        raise ValueError(f"lead score rules: {exc.message}") from None
    web.state.api_keys = keys
    web.state.api_score_rules = rules
    web.state.api_scrolls = ScrollRegistry()
    web.router.routes.extend(routes())
    return keys
