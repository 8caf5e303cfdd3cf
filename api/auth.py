"""API keys (SPEC 5.1): configured `KEY` / `KEY:site1,site2`, or one generated key kept
in the `meta` table. Every comparison is constant time."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
from starlette.requests import Request

from api.errors import ApiError, forbidden, unauthorized
from collector.settings import Settings
from collector.storage import meta

GENERATED_KEY = "generated_api_key"


@dataclass(frozen=True, slots=True)
class ApiKey:
    key: str
    sites: frozenset[str] | None = None  # None: every dataset
    generated: bool = False

    def allows(self, site: str) -> bool:
        if self.sites is None:
            return True
        return any(hmac.compare_digest(site.encode(), s.encode()) for s in self.sites)

    def describe(self) -> str:
        scope = "all datasets" if self.sites is None else ", ".join(sorted(self.sites))
        return f"{self.key}  ({scope}{', generated' if self.generated else ''})"


def parse_key(text: str) -> ApiKey:
    key, sep, sites = text.partition(":")
    if not sep:
        return ApiKey(key)
    return ApiKey(key, frozenset(s.strip() for s in sites.split(",") if s.strip()))


def ensure_keys(cur: duckdb.DuckDBPyConnection, settings: Settings) -> list[ApiKey]:
    """The configured keys; with none, the generated one from `meta` (created and
    stored on first start). Runs before the writer thread starts."""
    if settings.api_keys:
        return [parse_key(text) for text in settings.api_keys]
    stored = meta.get(cur, GENERATED_KEY)
    if stored:
        return [ApiKey(stored, None, generated=True)]
    key = "fb_" + secrets.token_urlsafe(24)
    meta.put(cur, GENERATED_KEY, key)
    return [ApiKey(key, None, generated=True)]


def given_key(request: Request) -> str | None:
    """`x-api-key` header, else the `apiKey` query parameter (both accepted everywhere:
    n8n sends the header to /api/..., metorial the query to /api/ip-lookup)."""
    header = request.headers.get("x-api-key")
    if header:
        return header
    return request.query_params.get("apiKey") or None


def find_key(keys: Sequence[ApiKey], given: str) -> ApiKey | None:
    found: ApiKey | None = None
    for candidate in keys:  # no early exit: time does not depend on which key matched
        if hmac.compare_digest(given.encode(), candidate.key.encode()) and found is None:
            found = candidate
    return found


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authenticate(
    request: Request, keys: Sequence[ApiKey], *, keyless_on_loopback: bool = False
) -> ApiKey:
    """The caller's key, or 401. `keyless_on_loopback`: a *missing* key is tolerated
    when the server listens on loopback (JleadBoxer sends none to /api/leads/...)."""
    given = given_key(request)
    if given is None:
        if keyless_on_loopback:
            host = request.app.state.fakeboxer.settings.host
            if is_loopback(host):
                return ApiKey("", None)
        raise unauthorized()
    found = find_key(keys, given)
    if found is None:
        raise unauthorized()
    return found


def require_site(key: ApiKey, site: str) -> None:
    if not key.allows(site):
        raise forbidden(site)


def check(key: ApiKey, site: str | None) -> None:
    if site is not None:
        require_site(key, site)


__all__ = [
    "ApiError",
    "ApiKey",
    "authenticate",
    "check",
    "ensure_keys",
    "parse_key",
    "require_site",
]
