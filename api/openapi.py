"""The OpenAPI 3.1 document served at `GET /openapi.json`, written by hand so that it
describes exactly what the handlers do (a test checks every route is in it)."""

from __future__ import annotations

from typing import Any


def _q(
    name: str, description: str, *, required: bool = False, type_: str = "string"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": type_},
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _ok(schema: str, description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_ERRORS = {
    "400": _ok("Error", "a malformed parameter (`error` = `bad_parameter`)"),
    "401": _ok("Error", "missing or unknown API key"),
    "403": _ok("Error", "the key is limited to other datasets"),
}
_NOT_FOUND = {"404": _ok("Error", "unknown lead or session")}

_API_KEY = _q("apiKey", "API key (the `x-api-key` header is accepted too)")
_SITE = _q("site", "dataset id", required=True)
_SITE_OPT = _q("site", "dataset id (default: every dataset the key may read)")
_LIMIT = _q("limit", "page size, 1..1000 (default 50)", type_="integer")
_TOKEN = _q(
    "nextToken",
    "opaque token returned by the previous page (leads: a 10-minute server-side scroll, "
    "then a keyset cursor; sessions and events: a keyset cursor)",
)

_LEAD_QUERY = [
    _SITE,
    _q("search", "case-insensitive text over email, names, company, urls; `*` = all"),
    _LIMIT,
    _TOKEN,
    _q(
        "sortBy",
        "`field|asc` or `field|desc`: lastEvent, _score, esScore, "
        "first_session_unix_timestamp, last_session_unix_timestamp, total_number_visits, "
        "total_pages_viewed, total_session_duration, last_visit_duration, email, use_id",
    ),
    _q("period", "1d, 7d, 30d, 1y (also Nh, Nw; `all`) counted back from the server clock"),
    _q(
        "timeField",
        "field `period` applies to: eventEsTimestamp (default), first_session_unix_timestamp, ...",
    ),
    _q("timeZone", "IANA zone for day-based filters (default Europe/Amsterdam)"),
    _q(
        "criteriaTextFilter",
        "`field|is|isnot|contains|doesnotcontain|startswith|endswith|v1;v2`, comma-separated",
    ),
    _q(
        "criteriaNumberFilter",
        "`field|greaterthan|lessthan|is|isnot|between|notbetween|n` (`min-max` for ranges)",
    ),
    _q(
        "criteriaTimeFilter",
        "`field|exactly|N`, `field|lessthan|N`, `field|greaterthan|N`, "
        "`field|between|dd/MM/yyyy-dd/MM/yyyy`",
    ),
    _q("criteriaFieldFilter", "`hasanyvalue|a;b` (also hasallvalues, hasnovalue)"),
    _q("criteriaExitLinkFilter", "`exit_link|contains|is|isnot|doesnotcontain|v1;v2`"),
    _q("criteriaDisplayFilter", "company;person;unidentified"),
    _q("criteriaLeadscoreFilter", "leads whose score is above n (0..100)", type_="integer"),
    _q("leadscoreRules", "score rules for this request in LeadBoxer syntax"),
    _q("locale", "accepted and ignored (prettyLastEvent is en_US)"),
]

_STR = {"type": "string"}
_INT = {"type": "integer"}
_OBJ = {"type": "object", "additionalProperties": True}

LEAD_PROPERTIES: dict[str, Any] = {
    "use_id": _STR,
    "site": _STR,
    "esScore": _STR,
    "lastEvent": _INT,
    "prettyLastEvent": _STR,
    "eventEsTimestamp": _STR,
    "eventUnixTimestamp": _STR,
    "event_id": _STR,
    "session_id": _STR,
    "last_session_id": _STR,
    "previous_session_id": _STR,
    "first_session_id": _STR,
    "first_session_unix_timestamp": _STR,
    "last_session_unix_timestamp": _STR,
    "previous_session_unix_timestamp": _STR,
    "total_number_visits": _INT,
    "total_pages_viewed": _INT,
    "total_events": _INT,
    "total_session_duration": _INT,
    "last_visit_duration": _STR,
    "email": _STR,
    "firstName": _STR,
    "lastName": _STR,
    "last_most_likely_company": _STR,
    "last_ip_number": _STR,
    "last_inet_aton": _STR,
    "last_browser": _STR,
    "last_browser_version": _STR,
    "last_platform": _STR,
    "last_user_agent": _STR,
    "last_resolution_width": _STR,
    "last_resolution_height": _STR,
    "last_channel": _STR,
    "original_channel": _STR,
    "last_referrer": _STR,
    "original_referrer": _STR,
    "original_referrer_domain": _STR,
    "referrer_domain": _STR,
    "entry_url": _STR,
    "entry_root_url": _STR,
    "entry_query": _STR,
    "entry_title": _STR,
    "last_original_url": _STR,
    "last_title": _STR,
    **{
        f"{end}_utm_{k}": _STR
        for end in ("first", "last")
        for k in ("source", "medium", "campaign", "term", "content")
    },
    "last_country_name": _STR,
    "last_country_code": _STR,
    "last_region_name": _STR,
    "last_city": _STR,
    "last_latitude": _STR,
    "last_longitude": _STR,
    "last_timezone": _STR,
    "last_ip_range": _STR,
    "last_ip_usageType": _STR,
    "last_isp": _STR,
    "last_org": _STR,
    "customEventInfo": _OBJ,
    "leadcard_url": _STR,
    "documentExpiryDate": _INT,
    "ttl": _INT,
    "type": {"type": "object", "properties": {"name": _STR}},
    "leadTags": {"type": "array", "items": _STR},
}

SESSION_PROPERTIES: dict[str, Any] = {
    "session_id": _STR,
    "use_id": _STR,
    "site": _STR,
    "start": _INT,
    "end": _INT,
    "duration": _INT,
    "timestamp": _INT,
    "eventEsTimestamp": _STR,
    "events": _INT,
    "pages_viewed": _INT,
    "entry_url": _STR,
    "entry_root_url": _STR,
    "entry_title": _STR,
    "exit_url": _STR,
    "referrer": _STR,
    "channel": _STR,
    "last_channel": _STR,
    "utm_source": _STR,
    "utm_medium": _STR,
    "utm_campaign": _STR,
    "utm_term": _STR,
    "utm_content": _STR,
    "browser": _STR,
    "platform": _STR,
    "ip": _STR,
    "properties": _OBJ,
}

EVENT_PROPERTIES: dict[str, Any] = {
    "event_id": _STR,
    "session_id": _STR,
    "use_id": _STR,
    "site": _STR,
    "ti": _STR,
    "timestamp": _INT,
    "received": _INT,
    "lc": _STR,
    "referrer": _STR,
    "ip": _STR,
    "user_agent": _STR,
    "increment": {"type": "boolean"},
    "explicit_session": {"type": "boolean"},
    "properties": _OBJ,
}

_ARR = {"type": "array", "items": {"$ref": "#/components/schemas/Lead"}}
_TOKEN_SCHEMA = {"type": ["string", "null"]}


def _get(
    summary: str, parameters: list[dict[str, Any]], responses: dict[str, Any], tag: str
) -> dict[str, Any]:
    return {
        "get": {"summary": summary, "tags": [tag], "parameters": parameters, "responses": responses}
    }


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "nextToken": _TOKEN_SCHEMA,
        },
    }


def _control(summary: str, method: str = "get") -> dict[str, Any]:
    return {
        method: {
            "summary": summary,
            "tags": ["test support"],
            "responses": {"200": {"description": "OK"}},
        }
    }


def _op(
    method: str,
    summary: str,
    parameters: list[dict[str, Any]],
    responses: dict[str, Any],
    tag: str,
    body: str | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "parameters": parameters,
        "responses": responses,
    }
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return {method: op}


_EMAIL = _q("email", "the LeadBoxer login email (accepted and ignored)")
_DATASET_ID = _path("datasetId", "dataset id")
_HUMAN_NAME = _q("humanName", "the new name (1..128 characters)", required=True)
_MGMT_ERRORS = {**_ERRORS, "404": _ok("Error", "unknown dataset or lead")}
_CREATE_ERRORS = {
    **_ERRORS,
    "403": _ok("Error", "keys limited to some datasets cannot create datasets"),
    "409": _ok("Error", "an explicit `datasetId` that already exists"),
}

MANAGEMENT_SCHEMAS: dict[str, Any] = {
    "Dataset": {
        "type": "object",
        "properties": {
            "datasetId": _STR,
            "humanName": _STR,
            "timezone": _STR,
            "created": _INT,
            "deleted": {"type": ["integer", "null"]},
        },
    },
    "DatasetCreate": {
        "type": "object",
        "required": ["humanName"],
        "properties": {
            "humanName": _STR,
            "timezone": {"type": "string", "default": "Europe/Amsterdam"},
            "sendEmail": {"type": "boolean"},
            "userIds": {"type": "array", "items": _INT},
            "emails": {"type": "array", "items": _STR},
            "datasetId": {
                "type": "string",
                "description": "fakeboxer extension: use this id instead of a new 32-hex one",
            },
        },
    },
    "DatasetList": {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/Dataset"}}
        },
    },
    "LegacyDatasetList": {
        "type": "object",
        "properties": {
            "datasets": {"type": "array", "items": {"$ref": "#/components/schemas/Dataset"}},
            "responseCode": _INT,
            "responseMessage": _STR,
        },
    },
    "LegacyDatasetResponse": {
        "type": "object",
        "properties": {"datasetId": _STR, "responseCode": _INT, "responseMessage": _STR},
    },
    "LeadTagsUpdate": {
        "type": "object",
        "required": ["datasetId", "leadId", "leadTags"],
        "properties": {
            "datasetId": _STR,
            "leadId": _STR,
            "leadTags": {
                "type": ["string", "array"],
                "description": "comma-separated tags (a list of strings is accepted too); "
                "replaces all tags, empty string removes all; at most 100, each 1..64 chars",
            },
        },
    },
    "LeadTags": {
        "type": "object",
        "properties": {
            "datasetId": _STR,
            "leadId": _STR,
            "leadTags": {"type": "array", "items": _STR},
        },
    },
    "LegacyLeadTags": {
        "type": "object",
        "properties": {
            "leadId": _STR,
            "site": _STR,
            "leadTags": {"type": "array", "items": _STR},
            "responseCode": _INT,
            "responseMessage": _STR,
        },
    },
}


def management_paths() -> dict[str, Any]:
    return {
        "/api/datasets": {
            **_op(
                "get",
                "Datasets the key may read (registered, not deleted)",
                [_API_KEY, _EMAIL],
                {"200": _ok("LegacyDatasetList"), **_ERRORS},
                "legacy",
            ),
            **_op(
                "post",
                "Create a dataset",
                [_API_KEY, _EMAIL],
                {"200": _ok("LegacyDatasetResponse"), **_CREATE_ERRORS},
                "legacy",
                body="DatasetCreate",
            ),
        },
        "/api/datasets/{datasetId}/name": _op(
            "put",
            "Rename a dataset",
            [_DATASET_ID, _HUMAN_NAME, _API_KEY, _EMAIL],
            {"200": _ok("LegacyDatasetResponse"), **_MGMT_ERRORS},
            "legacy",
        ),
        "/api/datasets/{datasetId}": _op(
            "delete",
            "Delete a dataset and all of its data",
            [_DATASET_ID, _API_KEY, _EMAIL],
            {"200": _ok("LegacyDatasetResponse"), **_MGMT_ERRORS},
            "legacy",
        ),
        "/api/management/update_lead_tags": _op(
            "get",
            "Add, remove or replace a lead's tags (key optional on loopback)",
            [
                _API_KEY,
                _q("userId", "the lead's use_id (`leadId` accepted too)", required=True),
                _q("leadTags", "comma-separated tags; empty = none", required=True),
                _q("action", "`add` or `remove`; absent: replace all tags"),
                _q("site", "dataset id (default: the most recently active lead with that id)"),
            ],
            {"200": _ok("LegacyLeadTags"), **_MGMT_ERRORS},
            "legacy",
        ),
        "/v1/datasets": _op(
            "post",
            "Create a dataset",
            [_EMAIL],
            {"200": _ok("Dataset"), **_CREATE_ERRORS},
            "v1",
            body="DatasetCreate",
        ),
        "/v1/users/datasets": _op(
            "get",
            "Datasets the key may read (registered, not deleted)",
            [_EMAIL],
            {"200": _ok("DatasetList"), **_ERRORS},
            "v1",
        ),
        "/v1/datasets/{datasetId}/name": _op(
            "put",
            "Rename a dataset",
            [_DATASET_ID, _HUMAN_NAME, _EMAIL],
            {"200": _ok("Dataset"), **_MGMT_ERRORS},
            "v1",
        ),
        "/v1/datasets/{datasetId}": _op(
            "delete",
            "Delete a dataset and all of its data",
            [_DATASET_ID, _EMAIL],
            {"200": _ok("Dataset"), **_MGMT_ERRORS},
            "v1",
        ),
        "/v1/management/lead-tags": _op(
            "put",
            "Replace a lead's tags",
            [],
            {"200": _ok("LeadTags"), **_MGMT_ERRORS},
            "v1",
            body="LeadTagsUpdate",
        ),
    }


def document() -> dict[str, Any]:
    lead_id = _path("leadId", "the lead's use_id")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fakeboxer",
            "version": "0.1.0",
            "description": "A local, offline fake of LeadBoxer. See docs/api.md.",
        },
        "components": {
            "securitySchemes": {
                "header": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "query": {"type": "apiKey", "in": "query", "name": "apiKey"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": _STR, "message": _STR},
                    "required": ["error", "message"],
                },
                "Lead": {
                    "type": "object",
                    "properties": LEAD_PROPERTIES,
                    "additionalProperties": _STR,
                },
                "Session": {"type": "object", "properties": SESSION_PROPERTIES},
                "Event": {"type": "object", "properties": EVENT_PROPERTIES},
                "LegacyLeads": {
                    "type": "object",
                    "properties": {
                        "rows": _INT,
                        "nextToken": _TOKEN_SCHEMA,
                        "total": _INT,
                        "resultsList": _ARR,
                        "site": _STR,
                        "timeZone": _STR,
                    },
                },
                "V1Leads": {
                    "type": "object",
                    "properties": {"data": _ARR, "nextToken": _TOKEN_SCHEMA, "total": _INT},
                },
                "LegacyLead": {"type": "object", "properties": {"resultsList": _ARR}},
                "LegacySessions": {
                    "type": "object",
                    "properties": {
                        "sessions": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Session"},
                        },
                        "responseCode": _INT,
                        "responseMessage": _STR,
                    },
                },
                "LegacyEvents": {
                    "type": "object",
                    "properties": {
                        "events": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Event"},
                        },
                        "responseCode": _INT,
                        "responseMessage": _STR,
                    },
                },
                "SessionPage": _page("Session"),
                "EventPage": _page("Event"),
                "IpLookup": {
                    "type": "object",
                    "properties": {"searchIp": _STR, "searchResponseTimeMs": {"type": "number"}},
                    "additionalProperties": _STR,
                },
                "DomainLookup": {"type": "object", "properties": {"output": _OBJ}},
                **MANAGEMENT_SCHEMAS,
            },
        },
        "security": [{"header": []}, {"query": []}],
        "paths": {
            "/api/views/c_view_leads": _get(
                "List leads (legacy)",
                [_API_KEY, *_LEAD_QUERY],
                {"200": _ok("LegacyLeads"), **_ERRORS},
                "legacy",
            ),
            "/api/views/c_view_leads/": _get(
                "List leads (legacy, trailing slash as in LeadBoxer's docs)",
                [_API_KEY, *_LEAD_QUERY],
                {"200": _ok("LegacyLeads"), **_ERRORS},
                "legacy",
            ),
            "/api/views/lead_detail": _get(
                "One lead (legacy)",
                [_API_KEY, _q("leadId", "use_id", required=True), _SITE_OPT],
                {"200": _ok("LegacyLead"), **_ERRORS, **_NOT_FOUND},
                "legacy",
            ),
            "/api/leads/sessions": _get(
                "A lead's sessions, newest first (legacy; key optional on loopback)",
                [_API_KEY, _q("leadId", "use_id", required=True), _LIMIT, _SITE_OPT],
                {"200": _ok("LegacySessions"), **_ERRORS, **_NOT_FOUND},
                "legacy",
            ),
            "/api/leads/events": _get(
                "A session's events, newest first (legacy; key optional on loopback)",
                [_API_KEY, _q("sessionId", "session_id", required=True), _LIMIT, _SITE_OPT],
                {"200": _ok("LegacyEvents"), **_ERRORS, **_NOT_FOUND},
                "legacy",
            ),
            "/api/ip-lookup": _get(
                "IP enrichment",
                [_API_KEY, _q("ip", "IPv4 or IPv6 address", required=True)],
                {"200": _ok("IpLookup"), **_ERRORS},
                "lookups",
            ),
            "/api/domain-lookup": _get(
                "Domain enrichment",
                [_API_KEY, _q("domain", "domain name", required=True)],
                {"200": _ok("DomainLookup"), **_ERRORS},
                "lookups",
            ),
            "/v1/leads": _get("List leads", _LEAD_QUERY, {"200": _ok("V1Leads"), **_ERRORS}, "v1"),
            "/v1/leads/sessions": _get(
                "A lead's sessions, newest first",
                [_q("leadId", "use_id", required=True), _SITE_OPT, _LIMIT, _TOKEN],
                {"200": _ok("SessionPage"), **_ERRORS, **_NOT_FOUND},
                "v1",
            ),
            "/v1/leads/events": _get(
                "Events of a session (or a lead), newest first",
                [_q("sessionId", "session_id"), _q("leadId", "use_id"), _SITE_OPT, _LIMIT, _TOKEN],
                {"200": _ok("EventPage"), **_ERRORS, **_NOT_FOUND},
                "v1",
            ),
            "/v1/leads/{leadId}": _get(
                "One lead as a flat object",
                [lead_id, _SITE_OPT],
                {"200": _ok("Lead"), **_ERRORS, **_NOT_FOUND},
                "v1",
            ),
            "/v1/leads/{leadId}/sessions": _get(
                "A lead's sessions, newest first",
                [lead_id, _SITE_OPT, _LIMIT, _TOKEN],
                {"200": _ok("SessionPage"), **_ERRORS, **_NOT_FOUND},
                "v1",
            ),
            "/v1/leads/{leadId}/events": _get(
                "A lead's events, newest first",
                [lead_id, _SITE_OPT, _LIMIT, _TOKEN],
                {"200": _ok("EventPage"), **_ERRORS, **_NOT_FOUND},
                "v1",
            ),
            "/v1/ip-lookup": _get(
                "IP enrichment",
                [_q("ip", "IPv4 or IPv6 address", required=True)],
                {"200": _ok("IpLookup"), **_ERRORS},
                "lookups",
            ),
            "/v1/domain-lookup": _get(
                "Domain enrichment",
                [_q("domain", "domain name", required=True)],
                {"200": _ok("DomainLookup"), **_ERRORS},
                "lookups",
            ),
            **management_paths(),
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "tags": ["meta"],
                    "security": [],
                    "responses": {"200": {"description": "OK"}},
                }
            },
            # collector and test support (SPEC 2, 6, 7.1); see README and SPEC for details
            "/": {
                "get": {
                    "summary": "Collector hit (`si`/`datasetId` + properties), or the pixel script with `?dataset=ID`",
                    "tags": ["collector"],
                    "security": [],
                    "responses": {
                        "200": {"description": "event id as text, JSON with json=true, or a GIF"},
                        "400": {"description": "bad hit"},
                        "503": {"description": "overloaded, retry"},
                    },
                },
                "post": {
                    "summary": "Collector hit (form body)",
                    "tags": ["collector"],
                    "security": [],
                    "responses": {"200": {"description": "OK"}},
                },
            },
            "/log": {
                "get": {
                    "summary": "Collector hit answered with a GIF",
                    "tags": ["collector"],
                    "security": [],
                    "responses": {"200": {"description": "GIF"}},
                },
                "post": {
                    "summary": "Collector hit (form body)",
                    "tags": ["collector"],
                    "security": [],
                    "responses": {"200": {"description": "GIF"}},
                },
            },
            "/pixel.js": _control("The JavaScript pixel (`?dataset=ID`)"),
            "/_fakeboxer/health": _control("200 when accepting hits and queryable"),
            "/_fakeboxer/stats": _control("Counters"),
            "/_fakeboxer/events": _control("Stored events, newest first"),
            "/_fakeboxer/wait": _control(
                "Long-poll until N matching events are stored (408 on timeout)"
            ),
            "/_fakeboxer/bad": _control("Bad hits with reasons"),
            "/_fakeboxer/reset": _control("Clear everything, or one dataset", "post"),
            "/_fakeboxer/clock": {
                **_control("Read the server clock"),
                **_control("Set or advance the clock", "post"),
            },
            "/_fakeboxer/ui": _control(
                "The inspector page (HTML, `?site=&lead=`): live event tail, leads, a lead's "
                "sessions and events, bad hits; served with an API key for the read API"
            ),
            "/_fakeboxer/sites": _control(
                "Datasets with leads, bad hits or a registration, and their counts"
            ),
            "/_fakeboxer/demo": _control("A demo page that embeds the pixel (HTML)"),
        },
    }
