"""The bare baseline for collector benchmarks: a starlette endpoint that only returns the
43-byte GIF and sets a cookie, no parsing and no storage. Run it the way fakeboxer runs:

    .venv/bin/uvicorn loadtests.bare_gif:app --host 127.0.0.1 --port 18081 \\
        --http httptools --loop uvloop --no-access-log --log-level warning
"""

from __future__ import annotations

import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.routes import GIF


async def pixel(request: Request) -> Response:
    uid = request.cookies.get("_otui")
    response = Response(
        GIF,
        media_type="image/gif",
        headers={"cache-control": "no-cache, no-store, must-revalidate"},
    )
    if uid is None:
        response.set_cookie("_otui", str(uuid.uuid4()), max_age=63072000, samesite="lax")
    return response


app = Starlette(routes=[Route("/", pixel)])
