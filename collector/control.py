"""Test-support endpoints under /_fakeboxer/ (SPEC 7.1)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import auth, queries, serialize
from api.errors import ApiError, bad_parameter, unauthorized
from api.params import int_param
from collector.app_state import AppState


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def error_response(status: int, code: str, message: str) -> Response:
    return json_response({"error": code, "message": message}, status)


def _float_param(request: Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise bad_parameter(name, f"a number of seconds from {low} to {high}", raw) from None
    if not low <= value <= high:
        raise bad_parameter(name, f"a number of seconds from {low} to {high}", raw)
    return value


def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """API errors (bad parameters) become their JSON answer; off loopback, an API key
    is required. The error shape and checks are the read API's own (api.errors,
    api.params, api.auth)."""

    async def endpoint(request: Request) -> Response:
        state: AppState = request.app.state.fakeboxer
        if not auth.is_loopback(state.settings.host):
            # Off loopback the control endpoints need any API key (configured or generated).
            given = auth.given_key(request) or ""
            if auth.find_key(request.app.state.api_keys, given) is None:
                error = unauthorized()
                return error_response(error.status, error.error, error.message)
        try:
            result: Response = await handler(request)
            return result
        except ApiError as exc:
            return error_response(exc.status, exc.error, exc.message)

    return endpoint


async def health(request: Request) -> Response:
    state: AppState = request.app.state.fakeboxer
    writer_ok = state.writer.healthy
    try:
        db_ok = await run_in_threadpool(state.read, queries.ping)
    except Exception:  # noqa: BLE001 - health reports, it does not raise
        db_ok = False
    status = 200 if writer_ok and db_ok else 503
    return json_response(
        {
            "status": "ok" if status == 200 else "unavailable",
            "accepting_hits": writer_ok,
            "queryable": db_ok,
        },
        status,
    )


async def stats(request: Request) -> Response:
    state: AppState = request.app.state.fakeboxer
    await state.writer.barrier()
    counts, stored = await run_in_threadpool(
        state.read, lambda cur: (queries.table_counts(cur), queries.stored_counters(cur))
    )
    bad_by_reason = {k.removeprefix("bad."): v for k, v in stored.items() if k.startswith("bad.")}
    ignored = {k.removeprefix("ignored."): v for k, v in stored.items() if k.startswith("ignored.")}
    return json_response(
        {
            "hits": stored.get("hits", 0),
            "events": counts["events"],
            "users": counts["users"],
            "sessions": counts["sessions"],
            "bad_hits": {"total": counts["bad_hits"], "by_reason": bad_by_reason},
            "ignored": ignored,
            "duplicates": stored.get("duplicates", 0),
            "merges": 0,
            "warnings": {"stitch_conflict": ignored.get("stitch_conflict", 0)},
            "queue_depth": state.writer.queue_depth,
            "rejected_503": state.collector.counters["rejected_503"],
            "spool_errors": state.collector.counters["spool_errors"],
            "writer": state.writer.stats.as_dict(),
            "uptime_s": round(time.monotonic() - state.started, 1),
            "clock_offset_ms": state.clock.offset_ms,
        }
    )


def _event_filter(request: Request) -> queries.EventFilter:
    q = request.query_params
    return queries.EventFilter(
        site=q.get("site") or None,
        title=q.get("ti") or None,
        user=q.get("user") or None,
        session=q.get("session") or None,
        limit=int_param(request.query_params, "limit", 50, 1, 1000),
    )


async def events(request: Request) -> Response:
    state: AppState = request.app.state.fakeboxer
    f = _event_filter(request)
    await state.writer.barrier()
    rows, total = await run_in_threadpool(state.read, lambda cur: queries.list_events(cur, f))
    return json_response({"events": [serialize.event_object(r) for r in rows], "total": total})


async def wait(request: Request) -> Response:
    """Long-poll until `count` matching events are stored (200), or `timeout` s (408)."""
    state: AppState = request.app.state.fakeboxer
    f = _event_filter(request)
    count = int_param(request.query_params, "count", 1, 1, 1_000_000)
    timeout = _float_param(request, "timeout", 10.0, 0.0, 300.0)
    deadline = time.monotonic() + timeout
    while True:
        await state.writer.barrier()
        seen = await run_in_threadpool(state.read, lambda cur: queries.count_events(cur, f))
        if seen >= count or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    limited = queries.EventFilter(f.site, f.title, f.user, f.session, min(max(count, 1), 1000))
    rows, total = await run_in_threadpool(state.read, lambda cur: queries.list_events(cur, limited))
    body = {"events": [serialize.event_object(r) for r in rows], "total": total, "wanted": count}
    return json_response(body, 200 if total >= count else 408)


async def bad(request: Request) -> Response:
    state: AppState = request.app.state.fakeboxer
    site = request.query_params.get("site") or None
    limit = int_param(request.query_params, "limit", 50, 1, 1000)
    await state.writer.barrier()
    rows, total = await run_in_threadpool(
        state.read, lambda cur: queries.list_bad_hits(cur, site, limit)
    )
    return json_response({"bad_hits": [serialize.bad_hit_object(r) for r in rows], "total": total})


async def reset(request: Request) -> Response:
    state: AppState = request.app.state.fakeboxer
    site = request.query_params.get("site") or None
    # No await between the mark and queuing the reset: the claims up to the mark are of
    # hits queued before it, whose rows the reset deletes; later claims must stay.
    claimed = state.collector.emails.mark()
    await state.writer.control("reset", site)
    state.collector.emails.forget(site, claimed)
    return json_response({"reset": True, "site": site})


async def clock(request: Request) -> Response:
    """GET reads the clock; POST sets it with one of `offset_ms`, `advance_ms`, `now_ms`
    (query parameters or a JSON body)."""
    state: AppState = request.app.state.fakeboxer
    if request.method == "POST":
        values: dict[str, Any] = dict(request.query_params)
        body = await request.body()
        if body:
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                raise ApiError(400, "bad_body", "the body must be a JSON object") from None
            if not isinstance(parsed, dict):
                raise ApiError(400, "bad_body", "the body must be a JSON object")
            values.update(parsed)
        given = [k for k in ("offset_ms", "advance_ms", "now_ms") if k in values]
        if len(given) != 1:
            raise ApiError(
                400, "bad_parameter", "give exactly one of offset_ms, advance_ms or now_ms"
            )
        name = given[0]
        raw = values[name]
        try:
            # JSON numbers must be whole (1.5 and true are not milliseconds); query text
            # must be digits with an optional sign.
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                raise ValueError(raw)
            value = int(raw)
        except (TypeError, ValueError):
            raise bad_parameter(name, "a whole number of milliseconds", str(raw)) from None
        if name == "offset_ms":
            state.clock.set_offset(value)
        elif name == "advance_ms":
            state.clock.advance(value)
        else:
            state.clock.set_now(value)
    return json_response({"now_ms": state.clock.now_ms(), "offset_ms": state.clock.offset_ms})


def routes() -> list[Route]:
    return [
        Route("/_fakeboxer/health", guarded(health), methods=["GET"]),
        Route("/_fakeboxer/stats", guarded(stats), methods=["GET"]),
        Route("/_fakeboxer/events", guarded(events), methods=["GET"]),
        Route("/_fakeboxer/wait", guarded(wait), methods=["GET"]),
        Route("/_fakeboxer/bad", guarded(bad), methods=["GET"]),
        Route("/_fakeboxer/reset", guarded(reset), methods=["POST"]),
        Route("/_fakeboxer/clock", guarded(clock), methods=["GET", "POST"]),
    ]
