"""create_app(): builds the whole server from plain values. No module-level state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import queries
from api.routes import install as install_api
from collector import control, gc_policy, inspector
from collector.app_state import AppState
from collector.clock import Clock
from collector.routes import Collector, EmailIndex, Receive, Scope, Send
from collector.settings import Settings
from collector.spool import Spool
from collector.storage.db import Store
from collector.storage.writer import BatchWriter

log = logging.getLogger("fakeboxer")

PIXEL_DIR = Path(__file__).resolve().parent.parent / "pixel"
SCRIPT_ALIASES = ("dataset", "account", "site")


def is_script_request(query: bytes) -> bool:
    """`/?dataset=ID` (or account=/site=) without `si`/`datasetId` asks for the pixel."""
    names = {pair.partition(b"=")[0] for pair in query.split(b"&")}
    if b"si" in names or b"datasetId" in names:
        return False
    return any(alias.encode() in names for alias in SCRIPT_ALIASES)


async def pixel_script(request: Request) -> Response:
    """The JavaScript pixel, as is: it reads its dataset, `&form` and the collector's origin
    from its own `src`, so one static file serves every dataset."""
    script = PIXEL_DIR / "lb.js"
    if not script.is_file():
        return control.error_response(404, "no_pixel", "the pixel script is not installed")
    return Response(
        script.read_bytes(),
        headers={
            "content-type": "application/javascript; charset=utf-8",
            "cache-control": "public, max-age=300",
        },
    )


_HOST_RE = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


async def demo_page(request: Request) -> Response:
    """`/_fakeboxer/demo`: LeadBoxer's snippet pointed at this server, and the events it
    recorded. The Host header is client data: only a plain host[:port] is written into it."""
    page = PIXEL_DIR / "demo.html"
    if not page.is_file():
        return control.error_response(404, "no_demo", "the demo page is not installed")
    host = request.headers.get("host", "")
    if not _HOST_RE.fullmatch(host):
        server = request.scope.get("server") or ("127.0.0.1", 8080)
        name = f"[{server[0]}]" if ":" in str(server[0]) else str(server[0])
        host = f"{name}:{server[1]}"
    html = page.read_text(encoding="utf-8").replace("{{HOST}}", host)
    return Response(
        html,
        headers={"content-type": "text/html; charset=utf-8", "cache-control": "no-store"},
    )


class FakeboxerApp:
    """The ASGI entry: `/` and `/log` hits go straight to the raw collector; everything
    else (pixel script, control endpoints, read API, lifespan) goes through starlette."""

    def __init__(self, state: AppState, web: Starlette) -> None:
        self.state = state
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in ("/", "/log"):
            script = scope["method"] in ("GET", "HEAD") and is_script_request(
                scope.get("query_string", b"")
            )
            if scope["path"] == "/log" or not script:
                await self.state.collector(scope, receive, send)
                return
        await self.web(scope, receive, send)


def create_app(
    settings: Settings,
    store: Store,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    settle_gc: bool = False,
) -> FakeboxerApp:
    """`settle_gc`: freeze what is alive once started (gc_policy); for the one server of a
    process (`fakeboxer serve`), not for servers that tests start and stop by the dozen."""
    clock = clock or Clock()
    spool_dir = store.spool_dir
    spool = Spool(spool_dir) if spool_dir is not None else None
    writer = BatchWriter(
        store,
        spool,
        settings.session_timeout_ms,
        settings.batch_max,
        read_your_writes=settings.read_your_writes,
    )
    collector = Collector(settings, writer, spool, clock, EmailIndex(), rng)
    state = AppState(settings, store, spool, writer, collector, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        replayed = writer.replay()
        if replayed:
            log.warning("replayed %d journaled hits that were not yet committed", replayed)
        cur = store.cursor()
        collector.emails.replace(queries.email_owners(cur))
        cur.close()
        if spool is not None:
            spool.open()
        writer.start(asyncio.get_running_loop())
        if settle_gc:
            gc_policy.settle()
        state.started = time.monotonic()
        try:
            yield {}
        finally:
            # uvicorn has drained the in-flight requests; what a scroll still reads for
            # its id list is interrupted (that scroll pages on by keyset after a restart
            # anyway); then the writer flushes what the requests queued.
            await state.stop_background_reads()
            await asyncio.to_thread(writer.close)
            if spool is not None:
                cur = store.cursor()
                writer.drop_ingested(cur, include_current=True)
                cur.close()
                spool.close()
            store.close()

    routes = [
        Route("/", pixel_script, methods=["GET", "HEAD"]),
        Route("/pixel.js", pixel_script, methods=["GET", "HEAD"]),
        Route("/_fakeboxer/demo", control.guarded(demo_page), methods=["GET", "HEAD"]),
        *control.routes(),
        *inspector.routes(),  # /_fakeboxer/ui and the dataset list it reads
    ]
    web = Starlette(routes=routes, lifespan=lifespan)
    web.state.fakeboxer = state
    install_api(web, store, settings)  # read API routes, API keys (before the writer starts)
    return FakeboxerApp(state, web)
