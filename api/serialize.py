"""Rows → LeadBoxer-shaped dicts. Explicit field by field, so a shape change is a
visible diff. Timestamps are epoch milliseconds as numbers."""

from __future__ import annotations

from typing import Any

import orjson


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
