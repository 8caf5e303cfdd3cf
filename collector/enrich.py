"""Derived event fields: traffic channel, browser and platform. Pure, table-driven.

Channels follow LeadBoxer's six (direct, organic, social, email, referral, paid). An event
only *carries* a channel when it has an attribution signal (utm values, a click id or an
external referrer); a visit with no signal at all is `direct` (decided when folding).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

CLICK_IDS = ("gclid", "msclkid", "dclid", "yclid", "ttclid", "twclid", "fbclid", "li_fat_id")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

_PAID_MEDIUMS = {
    "cpc",
    "ppc",
    "paidsearch",
    "paid",
    "paid_search",
    "paid-search",
    "cpm",
    "display",
    "paid_social",
    "paidsocial",
    "paid-social",
    "cpv",
    "cpa",
}
_SOCIAL_MEDIUMS = {
    "social",
    "social-network",
    "social-media",
    "sm",
    "social_network",
    "social_media",
}
_EMAIL_MEDIUMS = {"email", "e-mail", "e_mail", "newsletter", "mail"}
_ORGANIC_MEDIUMS = {"organic", "seo"}

_SEARCH_HOSTS = (
    "google.",
    "bing.",
    "yahoo.",
    "duckduckgo.",
    "baidu.",
    "yandex.",
    "ecosia.",
    "qwant.",
    "startpage.",
    "search.brave.",
)
_SOCIAL_HOSTS = (
    "facebook.",
    "linkedin.",
    "lnkd.in",
    "twitter.",
    "t.co",
    "x.com",
    "instagram.",
    "youtube.",
    "reddit.",
    "pinterest.",
    "tiktok.",
    "xing.",
)
_SOCIAL_NAMES = {
    "facebook",
    "linkedin",
    "twitter",
    "x",
    "instagram",
    "youtube",
    "reddit",
    "pinterest",
    "tiktok",
    "xing",
}
_SEARCH_NAMES = {"google", "bing", "yahoo", "duckduckgo", "baidu", "yandex", "ecosia"}
_MAIL_HOSTS = ("mail.google.", "outlook.live.", "outlook.office", "mail.yahoo.", "webmail.")


@lru_cache(maxsize=4096)
def host_of(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    return any(host.startswith(p) or f".{p}" in f".{host}" for p in patterns)


@lru_cache(maxsize=4096)
def external_referrer(ref: str, page_url: str) -> str | None:
    """The referrer when it comes from another site than the page, else None."""
    if not ref:
        return None
    ref_host = host_of(ref)
    if not ref_host:
        return None
    if page_url and ref_host == host_of(page_url):
        return None
    return ref


def channel_of(props: dict[str, str], referrer: str | None) -> str | None:
    """The channel an event's attribution signals point to, or None without signals."""
    medium = props.get("utm_medium", "").strip().lower()
    source = props.get("utm_source", "").strip().lower()
    if any(props.get(k) for k in CLICK_IDS) or medium in _PAID_MEDIUMS:
        return "paid"
    if medium in _EMAIL_MEDIUMS or source in _EMAIL_MEDIUMS:
        return "email"
    if medium in _SOCIAL_MEDIUMS:
        return "social"
    if medium in _ORGANIC_MEDIUMS:
        return "organic"
    if not medium and source:
        # A source without a medium: judge it by name, like a referrer host.
        if _host_matches(source, _SOCIAL_HOSTS) or source.rstrip(".") in _SOCIAL_NAMES:
            return "social"
        if _host_matches(source, _SEARCH_HOSTS) or source.rstrip(".") in _SEARCH_NAMES:
            return "organic"
    if medium or source or props.get("utm_campaign"):
        return "referral"
    if referrer:
        host = host_of(referrer)
        if _host_matches(host, _MAIL_HOSTS):
            return "email"
        if _host_matches(host, _SEARCH_HOSTS):
            return "organic"
        if _host_matches(host, _SOCIAL_HOSTS):
            return "social"
        return "referral"
    return None


# Order matters: Edge and Opera carry "Chrome", Chrome carries "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/([\d.]+)")),
    ("Opera", re.compile(r"OPR/([\d.]+)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/([\d.]+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/([\d.]+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/([\d.]+)")),
    ("Safari", re.compile(r"Version/([\d.]+).*Safari/")),
    ("Internet Explorer", re.compile(r"(?:MSIE |Trident/.*rv:)([\d.]+)")),
    ("curl", re.compile(r"^curl/([\d.]+)")),
    ("python-requests", re.compile(r"python-requests/([\d.]+)")),
    ("Locust", re.compile(r"[Ll]ocust/([\d.]+)")),
)
_PLATFORMS = (
    (re.compile(r"iPhone OS ([\d_]+)"), "iOS"),
    (re.compile(r"iPad.*OS ([\d_]+)"), "iPadOS"),
    (re.compile(r"Android ([\d.]+)"), "Android"),
    (re.compile(r"(Intel Mac OS X [\d_.]+)"), ""),
    (re.compile(r"Windows NT ([\d.]+)"), "Windows NT"),
    (re.compile(r"CrOS"), "Chrome OS"),
    (re.compile(r"Linux"), "Linux"),
)


@lru_cache(maxsize=1024)
def browser_of(user_agent: str) -> tuple[str, str]:
    """(browser, version) from a User-Agent; ("", "") when unknown."""
    for name, pattern in _BROWSERS:
        m = pattern.search(user_agent)
        if m:
            return name, m.group(1)
    return "", ""


@lru_cache(maxsize=1024)
def platform_of(user_agent: str) -> str:
    for pattern, label in _PLATFORMS:
        m = pattern.search(user_agent)
        if m:
            if not label:
                return m.group(1).replace("_", ".")
            version = m.group(1).replace("_", ".") if m.groups() else ""
            return f"{label} {version}".strip()
    return ""
