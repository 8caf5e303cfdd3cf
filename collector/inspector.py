"""The inspector (SPEC 7.1): `GET /_fakeboxer/ui`, one self-contained HTML page, and
`GET /_fakeboxer/sites`, the dataset list its picker offers.

The page is a plain client of this server's own endpoints: the live tail and the bad
hits come from `/_fakeboxer/events` and `/_fakeboxer/bad`, the leads and a lead's
sessions and events from the read API (`/v1/leads...`). The read API needs an API key,
so the page is served with one written into it (see `page_key`). Both routes sit behind
the control endpoints' guard: no key while the server listens on loopback, a valid key
otherwise. So the key only reaches someone who may already use the control endpoints,
which read every event and can delete everything: it grants them nothing new.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Sequence
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import auth, queries
from collector import control
from collector.app_state import AppState

PAGE = Path(__file__).resolve().parent / "static" / "inspector.html"


def page_key(keys: Sequence[auth.ApiKey], given: str | None, site: str | None) -> str:
    """The API key the page uses for the read API: the key the request carried when it is
    one of the server's (off loopback the guard has already required one), else the
    server's own, preferring one that reads every dataset, then one that reads `site`."""
    if given:
        found = auth.find_key(keys, given)
        if found is not None:
            return found.key

    def rank(key: auth.ApiKey) -> int:
        if key.sites is None:
            return 0
        return 1 if site and key.allows(site) else 2

    return min(keys, key=rank).key if keys else ""


def content_security_policy(nonce: str) -> str:
    """Only the page's own inline script and style run, and it may only talk to this
    server: a second line of defence behind escaping every stored value."""
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


async def inspector_page(request: Request) -> Response:
    if not PAGE.is_file():
        return control.error_response(404, "no_inspector", "the inspector page is not installed")
    key = page_key(
        request.app.state.api_keys,
        auth.given_key(request),
        request.query_params.get("site") or None,
    )
    nonce = secrets.token_urlsafe(16)  # URL-safe alphabet: nothing to escape
    # The nonce first: a key that happened to contain "{{NONCE}}" stays inert text.
    text = PAGE.read_text(encoding="utf-8").replace("{{NONCE}}", nonce)
    text = text.replace("{{API_KEY}}", html.escape(key, quote=True))
    return Response(
        text,
        headers={
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-store",  # it carries an API key
            "content-security-policy": content_security_policy(nonce),
            "referrer-policy": "no-referrer",  # the URL may carry apiKey=
            "x-content-type-options": "nosniff",
        },
    )


async def sites(request: Request) -> Response:
    """`{"sites": [{"site", "leads", "events", "bad_hits", "last_event", "name"}]}`."""
    state: AppState = request.app.state.fakeboxer
    await state.writer.barrier()
    rows = await run_in_threadpool(state.read, queries.site_overview)
    return control.json_response({"sites": rows})


def routes() -> list[Route]:
    return [
        Route("/_fakeboxer/ui", control.guarded(inspector_page), methods=["GET", "HEAD"]),
        Route("/_fakeboxer/sites", control.guarded(sites), methods=["GET"]),
    ]
