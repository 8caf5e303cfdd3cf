"""How the collector serves the pixel script and the demo page (plain HTTP, no browser)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import Collector

SCRIPT = Path(__file__).resolve().parent.parent.parent / "pixel" / "lb.js"


@pytest.mark.parametrize(
    "path",
    [
        "/?dataset=shop",
        "/?account=shop",
        "/?site=shop",
        "/?dataset=shop&form",
        "/?dataset=shop&onload=false",
        "/pixel.js?dataset=shop",
        "/pixel.js",
    ],
)
def test_script_is_served_with_javascript_headers(collector: Collector, path: str) -> None:
    r = collector.http.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.content == SCRIPT.read_bytes()
    head = collector.http.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/javascript; charset=utf-8"


def test_a_hit_naming_si_is_never_the_script(collector: Collector) -> None:
    r = collector.http.get("/", params={"si": "script-or-hit", "dataset": "x", "ti": "Hit"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
    (event,) = collector.wait("script-or-hit", 1)
    assert event["properties"]["dataset"] == "x"


def test_script_stays_small() -> None:
    """Under 5 KB minified (pixel/README.md has the terser figure); as a check without a
    JavaScript toolchain: comments and indentation stripped, and gzipped."""
    text = SCRIPT.read_text(encoding="utf-8")
    stripped = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    stripped = "\n".join(
        line.strip() for line in stripped.splitlines() if not line.strip().startswith("//")
    )
    size, gzipped = len(stripped.encode()), len(gzip.compress(stripped.encode(), 9))
    assert len(SCRIPT.read_bytes()) < 14_000
    assert size < 8_500, size
    assert gzipped < 4_000, gzipped


def test_demo_page_embeds_the_snippet_for_the_request_host(collector: Collector) -> None:
    r = collector.http.get("/_fakeboxer/demo")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    host = f"127.0.0.1:{collector.port}"
    assert f'<script src="//{host}/?dataset=demo"></script>' in r.text
    assert "{{HOST}}" not in r.text
    named = collector.http.get("/_fakeboxer/demo", headers={"host": f"localhost:{collector.port}"})
    assert f'<script src="//localhost:{collector.port}/?dataset=demo"></script>' in named.text


@pytest.mark.parametrize(
    "host", ['evil"><script>alert(1)</script>', "a b", "x/y", "<", "a" * 300, ""]
)
def test_demo_page_writes_no_hostile_host_header(collector: Collector, host: str) -> None:
    r = httpx.get(f"{collector.server.url}/_fakeboxer/demo", headers={"host": host})
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "{{HOST}}" not in r.text
    assert f'<script src="//127.0.0.1:{collector.port}/?dataset=demo"></script>' in r.text
