"""Plain value types shared by the rule modules, the writer and the read side.

Nothing here imports starlette or duckdb: these are the nouns of the system, and the
pure rule modules (hits, identity, sessions, folding) take and return them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RawRequest:
    """What the collector knows about one HTTP request, before any interpretation.

    `headers` has lower-cased names; when a header repeats, the values are joined with
    ", " (cookies with "; ").
    """

    method: str
    path: str
    query: bytes
    body: bytes
    headers: dict[str, str]
    client_ip: str
    scheme: str = "http"


@dataclass(frozen=True, slots=True)
class BadHit:
    """A request that cannot become an event. Kept with its reasons, never dropped."""

    reasons: tuple[str, ...]  # machine-readable codes, e.g. ("missing_dataset",)
    message: str  # one human sentence naming what was wrong
    site: str | None = None  # the dataset, when one could be read
    json: bool = False  # the request asked for json=true (chooses the error answer)


@dataclass(slots=True)
class Hit:
    """A parsed, valid tracking hit (SPEC 2.2). Identity is not resolved yet.

    `props` holds every non-control parameter, in request order, with body pairs
    overriding query pairs of the same name. Control parameters (the dataset, ids,
    cookie states, t_ms, proxy, increment, json) are lifted into their own fields and are
    never properties. `ti` is always present in `props` (defaulted to ``NO TITLE``).
    """

    site: str
    title: str
    props: dict[str, str]
    t_ms: int | None = None  # client event time, already range-checked
    uid: str | None = None  # raw override strings; identity.py validates them
    lb_uid: str | None = None
    otui: str | None = None
    sid: str | None = None
    ots: str | None = None
    eid: str | None = None
    proxy: bool = False
    increment: bool = True
    json: bool = False
    email_pixel: bool = False  # came in through /log
    warnings: list[str] = field(default_factory=list)  # ignored-parameter codes


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits of SPEC 8.3, in bytes (and a count for properties)."""

    max_url: int = 8 * 1024
    max_body: int = 64 * 1024
    max_props: int = 200
    max_name: int = 128
    max_value: int = 4 * 1024
    max_future_ms: int = 24 * 3600 * 1000


@dataclass(slots=True)
class EventRecord:
    """An accepted hit with its identity resolved: what the spool stores and the writer
    ingests. Everything a replay needs is here, so replay reproduces the same ids."""

    seq: int  # arrival order, strictly increasing; breaks event-time ties (later wins)
    site: str
    event_id: str
    user_id: str
    session_id: str | None  # set when the hit named its session; else the writer assigns
    ts: int  # event time, epoch ms
    received_ms: int
    title: str
    props: dict[str, str]
    lc: str = ""
    ref: str = ""
    ip: str = ""
    user_agent: str = ""
    increment: bool = True
    user_minted: bool = False  # the id was minted for this hit: nothing is stored for it
    client_eid: bool = False  # event_id came from the client (`eid`): deduplicate it
    claimed_email: str = ""  # lower-cased email this hit attached to the user
    warnings: list[str] = field(default_factory=list)
    wants_ack: bool = False  # json=true: the caller waits for the stored ids


@dataclass(slots=True)
class BadRecord:
    """A bad hit as kept in the bad-hits store (SPEC 2.5)."""

    seq: int
    received_ms: int
    site: str
    reasons: list[str]
    message: str
    method: str
    path: str
    query: str
    body: str
    headers: dict[str, str]
    ip: str
