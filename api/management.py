"""Management routes (reference 2.2/2.3): datasets (create, rename, delete, list) and lead
tags, in both generations. Handlers only validate and answer; every write is a `Control`
item done by the writer thread in one transaction (`BatchWriter._control`), so it is
ordered with the hits around it and read-your-writes holds like for hits."""

from __future__ import annotations

import re
import secrets
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from api import params, queries, serialize
from api.auth import ApiKey, require_site
from api.errors import ApiError, bad_parameter
from collector.app_state import AppState
from collector.storage.writer import MAX_LEAD_TAGS, ControlRefused

DEFAULT_TIMEZONE = "Europe/Amsterdam"  # JleadBoxer's default
MAX_BODY = 65_536
MAX_NAME = 128
MAX_TAG = 64
_DATASET_ID_RE = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

OK = {"responseCode": 200, "responseMessage": "OK"}


# ---------------------------------------------------------------------------- parsing
async def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or 400 naming `body`."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise bad_parameter("body", f"a JSON object of at most {MAX_BODY} bytes")
    if not raw.strip():
        raise bad_parameter("body", "a JSON object (the body is empty)")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_parameter("body", "a JSON object (the body is not valid JSON)") from None
    if not isinstance(data, dict):
        raise bad_parameter("body", "a JSON object", type(data).__name__)
    return data


def human_name(value: Any, name: str = "humanName") -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise bad_parameter(name, "a dataset name (the parameter is required)")
    if not isinstance(value, str):
        raise bad_parameter(name, "a string", type(value).__name__)
    text = value.strip()
    if len(text) > MAX_NAME or _CONTROL_RE.search(text):
        raise bad_parameter(name, f"1 to {MAX_NAME} characters without control characters", text)
    return text


def time_zone(value: Any, name: str = "timezone") -> str:
    if value is None or value == "":
        return DEFAULT_TIMEZONE
    if not isinstance(value, str) or len(value) > 64:
        raise bad_parameter(name, "an IANA time zone name like Europe/Amsterdam", str(value))
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_parameter(name, "an IANA time zone name like Europe/Amsterdam", value) from None
    return value


def dataset_id(value: Any, name: str = "datasetId") -> str:
    if value is None or value == "":
        raise bad_parameter(name, "a dataset id (the parameter is required)")
    if not isinstance(value, str) or not _DATASET_ID_RE.fullmatch(value):
        raise bad_parameter(
            name, "a dataset id (letters, digits, `_ . : -`, at most 128)", str(value)
        )
    return value


def _optional_list(body: dict[str, Any], name: str, kind: type, what: str) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, list) or not all(
        isinstance(v, kind) and not isinstance(v, bool) for v in value
    ):
        raise bad_parameter(name, f"a list of {what}", orjson.dumps(value).decode()[:80])


def _optional_bool(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise bad_parameter(name, "true or false", orjson.dumps(value).decode()[:80])


def lead_tags(value: Any, name: str = "leadTags") -> list[str]:
    """LeadBoxer's comma-separated tag list (a JSON list of strings is accepted too).
    An empty string is no tags. Each tag: 1..64 characters after strip, no comma, no
    control characters; repeats count once; at most 100."""
    if value is None:
        raise bad_parameter(name, "comma-separated tags (the parameter is required)")
    if isinstance(value, str):
        if not value.strip():
            return []
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = list(value)
        if any("," in v for v in items):
            raise bad_parameter(name, "tags without commas")
    else:
        raise bad_parameter(name, "comma-separated tags", orjson.dumps(value).decode()[:80])
    tags: list[str] = []
    for item in items:
        tag = item.strip()
        if not 1 <= len(tag) <= MAX_TAG or _CONTROL_RE.search(tag):
            raise bad_parameter(
                name, f"tags of 1 to {MAX_TAG} characters without control characters", tag
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_LEAD_TAGS:
        raise bad_parameter(name, f"at most {MAX_LEAD_TAGS} tags per lead", f"{len(tags)} tags")
    return tags


# ---------------------------------------------------------------------------- writing
def _state(request: Request) -> AppState:
    state: AppState = request.app.state.fakeboxer
    return state


async def _write(request: Request, action: str, payload: dict[str, Any]) -> Any:
    result = await _state(request).writer.control(action, payload=payload)
    if isinstance(result, ControlRefused):
        raise ApiError(result.status, result.error, result.message)
    return result


def _may_create(key: ApiKey) -> None:
    """Decision: a key limited to some datasets cannot create one (it could not read the
    new dataset anyway: key scopes are fixed configuration)."""
    if key.sites is not None:
        raise ApiError(
            403,
            "Forbidden",
            "this API key is limited to some datasets and cannot create datasets",
        )


async def _create(request: Request, key: ApiKey) -> dict[str, Any]:
    _may_create(key)
    body = await json_body(request)
    name = human_name(body.get("humanName"))
    zone = time_zone(body.get("timezone"))
    _optional_bool(body, "sendEmail")
    _optional_list(body, "userIds", int, "numbers")
    _optional_list(body, "emails", str, "strings")
    given = body.get("datasetId")
    new_id = dataset_id(given) if given not in (None, "") else secrets.token_hex(16)
    row: dict[str, Any] = await _write(
        request,
        "dataset_create",
        {
            "dataset_id": new_id,
            "human_name": name,
            "timezone": zone,
            "now_ms": _state(request).clock.now_ms(),
        },
    )
    return serialize.dataset_object(row)


async def _rename(request: Request, key: ApiKey) -> dict[str, Any]:
    target = dataset_id(request.path_params["datasetId"])
    require_site(key, target)
    name = human_name(request.query_params.get("humanName"))
    row: dict[str, Any] = await _write(
        request,
        "dataset_rename",
        {
            "dataset_id": target,
            "human_name": name,
            "default_timezone": DEFAULT_TIMEZONE,
            "now_ms": _state(request).clock.now_ms(),
        },
    )
    return serialize.dataset_object(row)


async def _delete(request: Request, key: ApiKey) -> dict[str, Any]:
    target = dataset_id(request.path_params["datasetId"])
    require_site(key, target)
    state = _state(request)
    # As for reset: the claims up to this mark belong to hits queued before the delete.
    claimed = state.collector.emails.mark()
    row: dict[str, Any] = await _write(
        request,
        "dataset_delete",
        {
            "dataset_id": target,
            "default_timezone": DEFAULT_TIMEZONE,
            "now_ms": state.clock.now_ms(),
        },
    )
    # The dataset's emails are gone: the collector's email index must forget them too.
    state.collector.emails.forget(target, claimed)
    return serialize.dataset_object(row)


async def _list(request: Request, key: ApiKey) -> list[dict[str, Any]]:
    state = _state(request)
    await state.writer.barrier()
    sites = sorted(key.sites) if key.sites is not None else None
    rows = await run_in_threadpool(state.read, lambda cur: queries.list_datasets(cur, sites))
    return [serialize.dataset_object(r) for r in rows]


async def _tags(
    request: Request,
    key: ApiKey,
    *,
    site: str | None,
    lead_id: str,
    mode: str,
    tags: list[str],
) -> dict[str, Any]:
    if site is not None:
        require_site(key, site)
    result: dict[str, Any] = await _write(
        request,
        "lead_tags",
        {
            "site": site,
            "sites": sorted(key.sites) if key.sites is not None else None,
            "user_id": lead_id,
            "mode": mode,
            "tags": tags,
            "param": "leadTags",
        },
    )
    return result


# ---------------------------------------------------------------------------- legacy
async def legacy_create(request: Request, key: ApiKey) -> tuple[Any, int]:
    dataset = await _create(request, key)
    return {"datasetId": dataset["datasetId"], **OK}, 200


async def legacy_list(request: Request, key: ApiKey) -> tuple[Any, int]:
    return {"datasets": await _list(request, key), **OK}, 200


async def legacy_rename(request: Request, key: ApiKey) -> tuple[Any, int]:
    dataset = await _rename(request, key)
    return {"datasetId": dataset["datasetId"], **OK}, 200


async def legacy_delete(request: Request, key: ApiKey) -> tuple[Any, int]:
    dataset = await _delete(request, key)
    return {"datasetId": dataset["datasetId"], **OK}, 200


async def legacy_update_lead_tags(request: Request, key: ApiKey) -> tuple[Any, int]:
    """`GET /api/management/update_lead_tags?action=add|remove&userId=&leadTags=`;
    without `action` the tags are replaced."""
    q = request.query_params
    lead_id = q.get("userId") or q.get("leadId") or None
    if lead_id is None:
        raise bad_parameter("userId", "the lead's use_id (the parameter is required)")
    action = q.get("action") or "set"
    if action not in ("set", "add", "remove"):
        raise bad_parameter("action", "add or remove (or absent: replace all tags)", action)
    raw = q.get("leadTags")
    if raw is not None and len(raw) > params.MAX_PARAM:
        raise bad_parameter("leadTags", f"at most {params.MAX_PARAM} characters")
    tags = lead_tags(raw)
    site_raw = q.get("site") or q.get("datasetId") or None
    site = dataset_id(site_raw, "site") if site_raw is not None else None
    result = await _tags(request, key, site=site, lead_id=lead_id, mode=action, tags=tags)
    return {"leadId": lead_id, "site": result["site"], "leadTags": result["tags"], **OK}, 200


# -------------------------------------------------------------------------------- v1
async def v1_create(request: Request, key: ApiKey) -> tuple[Any, int]:
    return await _create(request, key), 200


async def v1_list(request: Request, key: ApiKey) -> tuple[Any, int]:
    return {"data": await _list(request, key)}, 200


async def v1_rename(request: Request, key: ApiKey) -> tuple[Any, int]:
    return await _rename(request, key), 200


async def v1_delete(request: Request, key: ApiKey) -> tuple[Any, int]:
    return await _delete(request, key), 200


async def v1_lead_tags(request: Request, key: ApiKey) -> tuple[Any, int]:
    """`PUT /v1/management/lead-tags` body `{datasetId, leadId, leadTags}`: replaces the
    lead's tags (an empty string removes all)."""
    body = await json_body(request)
    site = dataset_id(body.get("datasetId"))
    lead_id = body.get("leadId")
    if not isinstance(lead_id, str) or not lead_id or len(lead_id) > 256:
        raise bad_parameter(
            "leadId", "the lead's use_id (a non-empty string)", orjson.dumps(lead_id).decode()
        )
    if "leadTags" not in body:
        raise bad_parameter("leadTags", "comma-separated tags (the parameter is required)")
    tags = lead_tags(body["leadTags"])
    result = await _tags(request, key, site=site, lead_id=lead_id, mode="set", tags=tags)
    return {"datasetId": result["site"], "leadId": lead_id, "leadTags": result["tags"]}, 200
