"""One error shape for the read API: `{"error": code, "message": sentence}`, plus
LeadBoxer's own 401 body. Every response carries CORS headers (see `cors_headers`)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

UNAUTHORIZED_MESSAGE = "Invalid or missing API key"


class ApiError(Exception):
    """Raised anywhere below a handler; the route wrapper turns it into JSON."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def bad_parameter(name: str, expected: str, got: str | None = None) -> ApiError:
    """400 naming the parameter and what was expected."""
    shown = "" if got is None else f", got {_show(got)}"
    return ApiError(400, "bad_parameter", f"{name}: expected {expected}{shown}")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", UNAUTHORIZED_MESSAGE)


def forbidden(site: str) -> ApiError:
    return ApiError(403, "Forbidden", f"this API key has no access to dataset {_show(site)}")


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)


def _show(value: str, limit: int = 80) -> str:
    text = value if len(value) <= limit else value[:limit] + "..."
    return repr(text)


def cors_headers(request: Request) -> dict[str, str]:
    """Echo the Origin with credentials allowed; without an Origin, allow any."""
    origin = request.headers.get("origin")
    if origin:
        return {
            "access-control-allow-origin": origin,
            "access-control-allow-credentials": "true",
            "vary": "Origin",
        }
    return {"access-control-allow-origin": "*", "vary": "Origin"}


def preflight_response(request: Request) -> Response:
    headers = cors_headers(request)
    headers["access-control-allow-methods"] = "GET, POST, PUT, DELETE, OPTIONS"
    asked = request.headers.get("access-control-request-headers")
    headers["access-control-allow-headers"] = asked or "x-api-key, content-type, accept"
    headers["access-control-max-age"] = "600"
    return Response(status_code=204, headers=headers)


def api_json(request: Request, data: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status,
        headers=cors_headers(request),
        media_type="application/json",
    )


def error_json(request: Request, exc: ApiError) -> Response:
    return api_json(request, {"error": exc.error, "message": exc.message}, exc.status)
