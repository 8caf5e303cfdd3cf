"""The collector endpoints `/` and `/log` as a raw ASGI handler.

Raw ASGI because this is the hot path: starlette's Request/QueryParams cost about as
much as the whole response (ARCHITECTURE 3). The handler parses, resolves identity,
journals the hit to the spool, queues it for the writer and answers; it does no database
I/O and has no await between resolving identity and submitting, so the in-memory email
index cannot race with itself.
"""

from __future__ import annotations

import base64
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from collector import identity
from collector.clock import Clock, SeqCounter
from collector.hits import parse_hit, response_kind
from collector.model import BadHit, BadRecord, EventRecord, Hit, Limits, RawRequest
from collector.settings import Settings
from collector.spool import Spool, encode
from collector.storage.writer import STORE_FAILED, BatchWriter, WriterStopped

log = logging.getLogger("fakeboxer.collector")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
assert len(GIF) == 43

_NO_CACHE = (b"cache-control", b"no-cache, no-store, must-revalidate")
_EID_MAX = 128


class EmailIndex:
    """Which user owns an email in a dataset (SPEC 3.1 step 5). Lives on the event loop,
    so lookups need no database I/O; loaded from `user_emails` at start.

    Each claim is numbered, so that a reset can forget exactly the claims made before it
    was queued (their rows are deleted) and keep those of hits accepted while it ran."""

    def __init__(self, entries: dict[tuple[str, str], str] | None = None) -> None:
        self._owners: dict[tuple[str, str], tuple[str, int]] = {}
        self._claims = 0
        self.replace(entries or {})

    def owner(self, site: str, email_lower: str) -> str | None:
        found = self._owners.get((site, email_lower))
        return found[0] if found is not None else None

    def claim(self, site: str, email_lower: str, user_id: str) -> str | None:
        """Record the owner if the email is free; returns the existing owner otherwise."""
        key = (site, email_lower)
        found = self._owners.get(key)
        if found is None:
            self._claims += 1
            self._owners[key] = (user_id, self._claims)
            return None
        return found[0]

    def mark(self) -> int:
        """The number of the latest claim; take it in the same step as queuing a reset."""
        return self._claims

    def forget(self, site: str | None, claimed_up_to: int) -> None:
        """Drop the claims numbered up to `claimed_up_to` of one dataset (None: all)."""
        self._owners = {
            key: found
            for key, found in self._owners.items()
            if found[1] > claimed_up_to or (site is not None and key[0] != site)
        }

    def replace(self, entries: dict[tuple[str, str], str]) -> None:
        """Load the stored owners (at start)."""
        self._owners = {key: (user_id, 0) for key, user_id in entries.items()}


class EventIds:
    """Event ids `<receipt ms>.<9 digits>`, the digits a counter from a random start, so
    two events of one process never share an id."""

    def __init__(self, rng: random.Random) -> None:
        self._n = rng.randrange(900_000_000)

    def next(self, now_ms: int) -> str:
        self._n = (self._n + 1) % 900_000_000
        return f"{now_ms}.{self._n + 100_000_000}"


class Collector:
    def __init__(
        self,
        settings: Settings,
        writer: BatchWriter,
        spool: Spool | None,
        clock: Clock,
        emails: EmailIndex,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.writer = writer
        self.spool = spool
        self.clock = clock
        self.emails = emails
        self.seq = SeqCounter()
        self.rng = rng or random.Random()
        self.event_ids = EventIds(self.rng)
        self.limits = Limits(
            max_url=settings.max_url,
            max_body=settings.max_body,
            max_props=settings.max_props,
            max_name=settings.max_name,
            max_value=settings.max_value,
        )
        self.counters: Counter[str] = Counter()  # process-local: 503s, spool errors

    def _random_digits(self) -> int:
        return self.rng.randrange(100_000_000, 1_000_000_000)

    # ------------------------------------------------------------------ ASGI entry
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            await _preflight(scope, send)
            return
        if method not in ("GET", "POST", "HEAD"):
            await _respond(
                send,
                405,
                b"text/plain; charset=utf-8",
                b"method not allowed: use GET or POST",
                [(b"allow", b"GET, POST, OPTIONS")],
            )
            return
        headers = _headers(scope)
        body = b""
        if method == "POST":
            body, complete = await _read_body(receive, self.settings.max_body)
            if not complete:
                return  # the client went away mid-body: it got no answer, so store nothing
        client = scope.get("client")
        request = RawRequest(
            method=method,
            path=scope["path"],
            query=scope.get("query_string", b""),
            body=body,
            headers=headers,
            client_ip=client[0] if client else "",
            scheme=scope.get("scheme", "http"),
        )
        extra = _cors(headers)
        if self.writer.queue_depth >= self.settings.queue_max or not self.writer.healthy:
            self.counters["rejected_503"] += 1
            await _respond(
                send,
                503,
                b"application/json",
                orjson.dumps(
                    {
                        "error": "overloaded",
                        "message": "the writer is behind (or stopped); the hit was not stored, retry "
                        "after the delay in Retry-After",
                    }
                ),
                [(b"retry-after", b"1"), *extra],
            )
            return
        now = self.clock.now_ms()
        parsed = parse_hit(request, now, self.limits)
        if isinstance(parsed, BadHit):
            await self._bad(request, parsed, now, send, extra)
            return
        await self._accept(request, parsed, now, send, extra)

    # ------------------------------------------------------------------ good hits
    async def _accept(
        self,
        request: RawRequest,
        hit: Hit,
        now: int,
        send: Send,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        cookies = identity.parse_cookie_header(request.headers.get("cookie", ""))
        cookie_otui = cookies.get("_otui")
        cookie_ots = cookies.get("_ots")
        user = identity.resolve_user(hit, cookie_otui, self.emails.owner, now, self._random_digits)
        event_ms = hit.t_ms if hit.t_ms is not None else now
        # The `_ots` cookie describes the visit of the `_otui` cookie's user; it says
        # nothing about another user named by uid/lb_uid/otui/email.
        cookie_user = identity.parse_otui(cookie_otui) if cookie_otui else None
        cookie_is_user = cookie_user is not None and cookie_user.user_id == user.user_id
        own_ots = cookie_ots if cookie_is_user else None
        session_id, session_warnings = identity.explicit_session(
            hit, own_ots, user, event_ms, self.settings.session_timeout_ms
        )
        warnings = hit.warnings + user.warnings + session_warnings
        claimed = ""
        email = hit.props.get("email", "").strip().lower()
        if email:
            owner = self.emails.owner(hit.site, email)
            if owner is None:
                claimed = email  # recorded in the index once the hit is journaled
            elif owner != user.user_id:
                warnings.append("stitch_conflict")
        eid = hit.eid
        client_eid = eid is not None and 0 < len(eid) <= _EID_MAX and eid.isprintable()
        if eid is not None and not client_eid:
            warnings.append("invalid_eid")
        headers = request.headers
        props = hit.props
        page = props.get("lc") or ("" if hit.proxy else headers.get("referer", ""))
        record = EventRecord(
            seq=self.seq.next(),
            site=hit.site,
            event_id=eid if client_eid and eid is not None else self.event_ids.next(now),
            user_id=user.user_id,
            session_id=session_id,
            ts=event_ms,
            received_ms=now,
            title=hit.title,
            props=props,
            lc=page,
            ref=props.get("ref") or ("" if hit.proxy else headers.get("referer", "")),
            ip=props.get("ip") or ("" if hit.proxy else request.client_ip),
            user_agent="" if hit.proxy else headers.get("user-agent", ""),
            increment=hit.increment,
            user_minted=user.minted,
            client_eid=client_eid,
            claimed_email=claimed,
            warnings=warnings,
            wants_ack=hit.json,
        )
        if not self._journal_and_submit(record):
            await _respond(
                send,
                503,
                b"application/json",
                orjson.dumps(
                    {
                        "error": "spool_unavailable",
                        "message": "the hit could not be journaled to disk, so it was not stored",
                    }
                ),
                [(b"retry-after", b"1"), *extra],
            )
            return
        if claimed:
            self.emails.claim(hit.site, claimed, user.user_id)  # no await since the check
        kind = response_kind(request, hit.json)
        if kind == "json":
            try:
                event_id, user_id, stored_session = await self.writer.wait_ack(record.seq)
            except WriterStopped:
                await _respond(
                    send,
                    503,
                    b"application/json",
                    orjson.dumps(
                        {
                            "error": "writer_stopped",
                            "message": "the writer stopped before committing this hit; it is journaled "
                            "and will be stored when the server restarts",
                        }
                    ),
                    extra,
                )
                return
            if stored_session == STORE_FAILED:
                await _respond(
                    send,
                    500,
                    b"application/json",
                    orjson.dumps(
                        {
                            "error": "store_failed",
                            "message": "the hit could not be stored as an event; it was kept as a bad "
                            "hit (see /_fakeboxer/bad)",
                        }
                    ),
                    extra,
                )
                return
            await _respond(
                send,
                200,
                b"application/json",
                orjson.dumps(
                    {
                        "eventId": event_id,
                        "userId": user_id,
                        "sessionId": stored_session,
                        "site": hit.site,
                    }
                ),
                extra,
            )
        elif kind == "text":
            await _respond(send, 200, b"text/plain; charset=utf-8", record.event_id.encode(), extra)
        else:
            cookie_headers = self._cookies(request, hit, user, cookie_is_user, own_ots, event_ms)
            await _respond(
                send,
                200,
                b"image/gif",
                GIF,
                [_NO_CACHE, *cookie_headers, *extra],
                head=request.method == "HEAD",
            )

    def _journal_and_submit(self, record: EventRecord | BadRecord) -> bool:
        position = None
        if self.spool is not None:
            try:
                position = self.spool.append(encode(record))
            except OSError:
                log.exception("cannot write the spool")
                self.counters["spool_errors"] += 1
                return False
        self.writer.submit(record, position)
        return True

    def _cookies(
        self,
        request: RawRequest,
        hit: Hit,
        user: identity.UserResolution,
        cookie_is_user: bool,
        own_ots: str | None,
        event_ms: int,
    ) -> list[tuple[bytes, bytes]]:
        """`_otui` when the request had no valid one for this user; `_ots` always."""
        secure = self.settings.cookie_secure or request.scheme == "https"
        domain = self.settings.cookie_domain
        out = []
        if not cookie_is_user:
            otui = identity.new_otui(user.user_id, event_ms).format()
            cookie = identity.set_cookie_header(
                "_otui", otui, identity.OTUI_MAX_AGE_S, secure=secure, domain=domain
            )
            out.append((b"set-cookie", cookie.encode()))
        ots_param = identity.parse_ots(hit.ots) if hit.ots else None
        previous = identity.parse_ots(own_ots) if own_ots else None
        ots = ots_param or identity.next_ots(previous, event_ms, self.settings.session_timeout_ms)
        cookie = identity.set_cookie_header(
            "_ots", ots.format(), identity.OTS_MAX_AGE_S, secure=secure, domain=domain
        )
        out.append((b"set-cookie", cookie.encode()))
        return out

    # ------------------------------------------------------------------ bad hits
    async def _bad(
        self,
        request: RawRequest,
        bad: BadHit,
        now: int,
        send: Send,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        record = BadRecord(
            seq=self.seq.next(),
            received_ms=now,
            site=bad.site or "",
            reasons=list(bad.reasons),
            message=bad.message,
            method=request.method,
            path=request.path,
            query=request.query.decode("latin-1")[: self.settings.max_url * 2],
            body=request.body.decode("latin-1")[: self.settings.max_body],
            headers={k: v for k, v in request.headers.items() if k != "cookie"},
            ip=request.client_ip,
        )
        if not self._journal_and_submit(record):
            await _respond(
                send,
                503,
                b"application/json",
                orjson.dumps(
                    {
                        "error": "spool_unavailable",
                        "message": "the bad hit could not be journaled to disk",
                    }
                ),
                [(b"retry-after", b"1"), *extra],
            )
            return
        codes = ",".join(bad.reasons)
        kind = response_kind(request, bad.json)
        error_headers = [(b"x-fakeboxer-error", codes.encode()), *extra]
        if kind == "gif" and not self.settings.strict:
            await _respond(
                send,
                200,
                b"image/gif",
                GIF,
                [_NO_CACHE, *error_headers],
                head=request.method == "HEAD",
            )
            return
        status = 400
        if self.settings.strict and "too_large" in bad.reasons:
            too_long_url = len(request.path) + len(request.query) + 1 > self.settings.max_url
            status = 414 if too_long_url else 413
        await _respond(
            send,
            status,
            b"application/json",
            orjson.dumps(
                {
                    "error": bad.reasons[0],
                    "reasons": list(bad.reasons),
                    "message": bad.message,
                }
            ),
            error_headers,
        )


# ---------------------------------------------------------------------- ASGI helpers
def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in out:
            out[name] = out[name] + ("; " if name == "cookie" else ", ") + value
        else:
            out[name] = value
    return out


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body (or its first limit+1 bytes: enough to know it is too large), and whether
    it arrived whole (False when the client disconnected first)."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", False
        chunk = message.get("body", b"")
        if size <= limit:
            chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body[: limit + 1], True


def _cors(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    origin = headers.get("origin")
    if not origin:
        return []
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers", b"X-Fakeboxer-Error"),
        (b"vary", b"Origin"),
    ]


async def _preflight(scope: Scope, send: Send) -> None:
    headers = _headers(scope)
    extra = _cors(headers) or [(b"access-control-allow-origin", b"*")]
    requested = headers.get("access-control-request-headers", "content-type")
    await _respond(
        send,
        204,
        None,
        b"",
        [
            *extra,
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", requested.encode("latin-1")),
            (b"access-control-max-age", b"86400"),
        ],
    )


async def _respond(
    send: Send,
    status: int,
    content_type: bytes | None,
    body: bytes,
    extra: list[tuple[bytes, bytes]],
    head: bool = False,
) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
