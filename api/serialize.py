"""Rows → LeadBoxer-shaped dicts. Explicit field by field, so a shape change is a
visible diff. Timestamps are epoch milliseconds as numbers."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from api import lookups


def event_object(row: dict[str, Any]) -> dict[str, Any]:
    """An event (SPEC 5.2): ids, title, time, page and the properties as sent."""
    props = orjson.loads(row["props"]) if isinstance(row["props"], str) else row["props"]
    return {
        "event_id": row["event_id"],
        "session_id": row["session_id"],
        "use_id": row["user_id"],
        "site": row["site"],
        "ti": row["title"],
        "timestamp": row["ts"],
        "received": row["received_ms"],
        "lc": row["lc"],
        "referrer": row["ref"],
        "ip": row["ip"],
        "user_agent": row["user_agent"],
        "increment": row["increment"],
        "explicit_session": row["explicit_session"],
        "properties": props,
    }


def bad_hit_object(row: dict[str, Any]) -> dict[str, Any]:
    headers = row["headers"]
    return {
        "received": row["received_ms"],
        "site": row["site"] or None,
        "reasons": list(row["reasons"]),
        "message": row["message"],
        "method": row["method"],
        "path": row["path"],
        "query": row["query"],
        "body": row["body"],
        "headers": orjson.loads(headers) if isinstance(headers, str) else headers,
        "ip": row["ip"],
    }


# ---------------------------------------------------------------------------------------
# Read API objects (SPEC 5.2). The lead is modelled on LeadBoxer's sample lead
# (reference 2.4): timestamps are epoch ms, several numbers are strings on purpose.
# ---------------------------------------------------------------------------------------

LEAD_TTL_MS = 31_622_400_000  # 366 days, as in LeadBoxer's sample

_IP_TO_LEAD = (
    ("ipCountryName", "last_country_name"),
    ("ipCountryCode", "last_country_code"),
    ("ipRegionName", "last_region_name"),
    ("ipCity", "last_city"),
    ("ipLatitude", "last_latitude"),
    ("ipLongitude", "last_longitude"),
    ("ipTimezone", "last_timezone"),
    ("ipRange", "last_ip_range"),
    ("ipUsageType", "last_ip_usageType"),
    ("ipIsp", "last_isp"),
    ("ipOrganization", "last_org"),
)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def pretty_age(then_ms: int, now_ms: int) -> str:
    """LeadBoxer's `prettyLastEvent` (en_US): "just now", "5 minutes ago", "1 hour ago"."""
    seconds = max(0, (now_ms - then_ms) // 1000)
    for size, unit in (
        (31_536_000, "year"),
        (2_592_000, "month"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
    ):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def _domain(url: str) -> str:
    return urlsplit(url).hostname or "" if url else ""


def _root(url: str) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _inet_aton(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    return str(int(address)) if address.version == 4 else ""


def lead_object(row: dict[str, Any], now_ms: int, leadcard_base: str) -> dict[str, Any]:
    """A lead (users row + score + page extras) as LeadBoxer shapes it. Folded
    properties come first as flat keys; every named field below overwrites them."""
    fold: dict[str, Any] = _json(row["fold"]) or {}
    # the users.props column, rebuilt from the fold: value of each [value, ts, seq]
    props: dict[str, Any] = {name: v[0] for name, v in (fold.get("props") or {}).items()}
    first: dict[str, list[Any]] = fold.get("first", {})
    last: dict[str, list[Any]] = fold.get("last", {})

    def f(name: str) -> str:
        return _str(first[name][0]) if name in first else ""

    def la(name: str) -> str:
        return _str(last[name][0]) if name in last else ""

    last_ms = int(row["last_ms"])
    first_session_ms = (
        row["first_session_ms"] if row["first_session_ms"] is not None else row["first_ms"]
    )
    last_session_ms = (
        row["last_session_ms"] if row["last_session_ms"] is not None else first_session_ms
    )
    last_session_id = _str(row["last_session_id"])
    previous_session_id = _str(row.get("previous_session_id")) or last_session_id
    previous_ms = row.get("previous_session_ms")
    previous_session_ms = previous_ms if previous_ms is not None else last_session_ms
    entry_url = _str(row["first_landing_page"]) or f("url")
    original_referrer = _str(row["first_referrer"]) or f("referrer")
    last_referrer = _str(row["last_referrer"]) or la("referrer")
    ip = la("ip")
    company = next(
        (
            str(props[k])
            for k in ("organizationName", "company", "companyName", "last_most_likely_company")
            if props.get(k)
        ),
        "",
    )
    lead: dict[str, Any] = {k: v for k, v in props.items()}
    lead.update(
        {
            "use_id": row["user_id"],
            "site": row["site"],
            "esScore": str(int(row["score"] or 0)),
            "lastEvent": last_ms,
            "prettyLastEvent": pretty_age(last_ms, now_ms),
            "eventEsTimestamp": str(last_ms),
            "eventUnixTimestamp": str(last_ms),
            "event_id": _str(row.get("last_event_id")),
            "session_id": last_session_id,
            "last_session_id": last_session_id,
            "previous_session_id": previous_session_id,
            "first_session_id": _str(row["first_session_id"]),
            "first_session_unix_timestamp": str(first_session_ms),
            "last_session_unix_timestamp": str(last_session_ms),
            "previous_session_unix_timestamp": str(previous_session_ms),
            "total_number_visits": int(row["visits"]),
            "total_pages_viewed": int(row["pages"]),
            "total_events": int(row["events"]),
            "total_session_duration": int(row["total_duration_ms"]),
            "last_visit_duration": str(int(row["last_visit_duration_ms"])),
            "email": _str(row["email"]),
            "firstName": _str(props.get("firstName")),
            "lastName": _str(props.get("lastName")),
            "last_most_likely_company": company,
            "last_ip_number": ip,
            "last_inet_aton": _inet_aton(ip),
            "last_browser": la("browser"),
            "last_browser_version": la("browser_version"),
            "last_platform": la("platform"),
            "last_user_agent": la("user_agent"),
            "last_resolution_width": la("sw"),
            "last_resolution_height": la("sh"),
            "last_channel": _str(row["last_channel"]) or la("channel"),
            "original_channel": _str(row["first_channel"]) or f("channel"),
            "last_referrer": last_referrer,
            "original_referrer": original_referrer,
            "original_referrer_domain": _domain(original_referrer),
            "referrer_domain": _domain(last_referrer),
            "entry_url": entry_url,
            "entry_root_url": _root(entry_url),
            "entry_query": urlsplit(entry_url).query if entry_url else "",
            "entry_title": f("title"),
            "last_original_url": la("url"),
            "last_title": la("title"),
            **{f"first_{k}": f(k) for k in _UTM},
            **{f"last_{k}": la(k) for k in _UTM},
            "customEventInfo": props,
            "leadcard_url": f"{leadcard_base}?site={quote(str(row['site']), safe='')}"
            f"&lead={quote(str(row['user_id']), safe='')}",
            "documentExpiryDate": last_ms + LEAD_TTL_MS,
            "ttl": LEAD_TTL_MS,
            "type": {"name": "user"},
            "leadTags": [str(t) for t in row.get("lead_tags") or ()],
        }
    )
    geo = lookups.ip_info_text(ip) if ip else {}
    for source, target in _IP_TO_LEAD:
        lead[target] = geo.get(source, "")
    return lead


_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def session_object(row: dict[str, Any]) -> dict[str, Any]:
    """A session (visit): SPEC 5.2 fields plus first-touch attribution."""
    start = int(row["start_ms"])
    return {
        "session_id": row["session_id"],
        "use_id": row["user_id"],
        "site": row["site"],
        "start": start,
        "end": int(row["end_ms"]),
        "duration": int(row["duration_ms"]),
        "timestamp": start,
        "eventEsTimestamp": str(start),
        "events": int(row["events"]),
        "pages_viewed": int(row["pages"]),
        "entry_url": row["entry_url"],
        "entry_root_url": _root(row["entry_url"]),
        "entry_title": row["entry_title"],
        "exit_url": row["exit_url"],
        "referrer": row["referrer"],
        "channel": row["channel"],
        "last_channel": row["last_channel"],
        **{k: _str(row[k]) for k in _UTM},
        "browser": row["browser"],
        "platform": row["platform"],
        "ip": row["ip"],
        "properties": _json(row["props"]) or {},
    }


def dataset_object(row: dict[str, Any]) -> dict[str, Any]:
    """A dataset as the management routes show it (LeadBoxer's request field names)."""
    return {
        "datasetId": row["dataset_id"],
        "humanName": row["human_name"],
        "timezone": row["timezone"],
        "created": int(row["created_ms"]),
        "deleted": int(row["deleted_ms"]) if row.get("deleted_ms") is not None else None,
    }
