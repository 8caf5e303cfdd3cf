"""Offline IP and domain enrichment from a small bundled, deterministic table
(`api/data/lookups.json`). Unknown → every field present and empty."""

from __future__ import annotations

import ipaddress
import time
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from api.errors import bad_parameter

DATA = Path(__file__).resolve().parent / "data" / "lookups.json"

IP_FIELDS = (
    "ipRange",
    "ipCountryCode",
    "ipCountryName",
    "ipSubContinent",
    "ipRegionName",
    "ipCity",
    "ipLatitude",
    "ipLongitude",
    "ipTimezone",
    "ipIsp",
    "ipOrganization",
    "ipDomain",
    "ipUsageType",
)

DOMAIN_FIELDS = (
    "organizationName",
    "organizationType",
    "organizationStatus",
    "organizationDomain",
    "organizationIndustryCode",
    "organizationIndustryGroup",
    "organizationIndustryName",
    "organizationEmployeeCountRangeCode",
    "organizationEmployeeCountRangeName",
    "organizationSource",
    "organizationReportDate",
    "organizationDescription",
    "organizationDescriptionShort",
)
ADDRESS_FIELDS = (
    "organizationStreetName",
    "organizationCity",
    "organizationState",
    "organizationPostalCode",
    "organizationCountry",
    "organizationCountryCode",
    "organizationPhone",
)


@cache
def _table() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(DATA.read_bytes())
    nets = []
    for entry in data["ips"]:
        nets.append((ipaddress.ip_network(entry["ipRange"]), entry))
    # most specific network first
    nets.sort(key=lambda pair: pair[0].prefixlen, reverse=True)
    data["_nets"] = nets
    return data


def parse_ip(raw: str | None, param: str = "ip") -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if raw is None or not raw.strip():
        raise bad_parameter(param, "an IPv4 or IPv6 address (the parameter is required)")
    try:
        return ipaddress.ip_address(raw.strip())
    except ValueError:
        raise bad_parameter(param, "an IPv4 or IPv6 address like 8.8.8.8", raw) from None


def ip_info(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> dict[str, Any]:
    """The table's fields for `ip` ("" when unknown); no search metadata."""
    found: dict[str, Any] = {}
    span = ""
    for net, entry in _table()["_nets"]:
        if ip.version == net.version and ip in net:
            found = entry
            span = f"{net[0]} - {net[-1]}"
            break
    out: dict[str, Any] = {name: str(found.get(name, "")) for name in IP_FIELDS}
    out["ipRange"] = span
    return out


def ip_lookup(raw: str | None) -> dict[str, Any]:
    started = time.perf_counter()
    ip = parse_ip(raw)
    out = ip_info(ip)
    out["searchIp"] = str(ip)
    out["searchResponseTimeMs"] = round((time.perf_counter() - started) * 1000, 3)
    return out


def ip_info_text(raw: str) -> dict[str, str]:
    """For lead objects: lookup of a stored IP; bad or empty → all empty."""
    try:
        ip = ipaddress.ip_address(raw.strip())
    except ValueError:
        return {name: "" for name in IP_FIELDS}
    return {k: str(v) for k, v in ip_info(ip).items()}


def normalise_domain(raw: str | None, param: str = "domain") -> str:
    if raw is None or not raw.strip():
        raise bad_parameter(param, "a domain name like example.com (the parameter is required)")
    text = raw.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.split("/", 1)[0].split(":", 1)[0].removeprefix("www.")
    labels = text.split(".")
    if (
        len(text) > 253
        or len(labels) < 2
        or not all(lb and len(lb) <= 63 and lb.replace("-", "").isalnum() for lb in labels)
        or not all(lb.isascii() for lb in labels)
    ):
        raise bad_parameter(param, "a domain name like example.com", raw)
    return text


def domain_lookup(raw: str | None) -> dict[str, Any]:
    domain = normalise_domain(raw)
    entry: dict[str, Any] = _table()["domains"].get(domain, {})
    out: dict[str, Any] = {name: str(entry.get(name, "")) for name in DOMAIN_FIELDS}
    if entry:
        out["organizationDomain"] = domain
    out["organizationDomainAliases"] = list(entry.get("organizationDomainAliases", []))
    out["organizationSpecialties"] = list(entry.get("organizationSpecialties", []))
    address = entry.get("organizationAddress", {})
    out["organizationAddress"] = {name: str(address.get(name, "")) for name in ADDRESS_FIELDS}
    social = entry.get("organizationSocialLinks", {})
    out["organizationSocialLinks"] = {
        "organizationLinkedinUrl": str(social.get("organizationLinkedinUrl", ""))
    }
    return out
