"""Locust load test for fakeboxer: visitors that behave like a browser with the pixel.

    locust -f loadtests/locustfile.py --headless -u 50 -r 10 -t 60s \\
        --host http://127.0.0.1:8080 --only-summary

Users:
- `PixelVisitor` (always): keeps its cookies (`_otui`, `_ots`) like a browser, sends page
  views (`lc`, `ti`, `ref`, `sw`, `sh`), custom events with properties, sometimes
  identifies itself with an e-mail, and now and then fetches the pixel script
  (`GET /?dataset=...`, where 200 and 404 both count as success).
- `ApiReader` (off unless FAKEBOXER_LOCUST_READER=1): reads `/_fakeboxer/events` and
  `/_fakeboxer/stats` while the visitors write.

Environment:
- FAKEBOXER_LOCUST_SITE (default `load`): the dataset id.
- FAKEBOXER_LOCUST_TIMEWARP=1: every hit carries `t_ms` from a per-visitor virtual clock
  that starts a week ago and jumps seconds to days between hits (so sessions split).
- FAKEBOXER_LOCUST_RESET (default 1): POST /_fakeboxer/reset at the start; with 0 the
  stored-events baseline is read instead, and the check compares the increase.
- FAKEBOXER_LOCUST_ALLOW_REMOTE=1: allow a non-loopback --host (off: loopback only).

At the end (local runner or master) the collector hits locust counted as successful
(requests named `hit: ...`) are compared with the events the server stored; a difference
is logged and the exit code is 1. Headless runs must set `-t`; a `--stop-timeout` of at
least 10 s is applied so no hit is cut off after the server stored it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import random
import socket
import time
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, between, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

log = logging.getLogger("fakeboxer.locust")

SITE = os.environ.get("FAKEBOXER_LOCUST_SITE", "load")
TIMEWARP = os.environ.get("FAKEBOXER_LOCUST_TIMEWARP", "") in ("1", "true", "yes")
RESET = os.environ.get("FAKEBOXER_LOCUST_RESET", "1") not in ("0", "false", "no")
ALLOW_REMOTE = os.environ.get("FAKEBOXER_LOCUST_ALLOW_REMOTE", "") in ("1", "true", "yes")
READER = os.environ.get("FAKEBOXER_LOCUST_READER", "") in ("1", "true", "yes")
HIT_PREFIX = "hit: "
MIN_STOP_TIMEOUT = 10.0

BASE = "https://www.load-demo.example"
PAGES = (
    ("/", "Home"),
    ("/product", "Product"),
    ("/pricing", "Pricing"),
    ("/resources", "Resources"),
    ("/blog/intent-data", "Blog: intent data"),
    ("/contact", "Contact sales"),
)
REFERRERS = ("", "https://www.google.com/", "https://www.linkedin.com/", "https://partner.example/")
SCREENS = ((1920, 1080), (1440, 900), (390, 844))
DOMAINS = ("acme.example", "globex.example", "initech.example")

_baseline = {"events": 0}


def _is_loopback(host: str) -> bool:
    name = urlsplit(host).hostname or ""
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def _control(environment: Environment, method: str, path: str) -> dict[str, Any]:
    import httpx

    assert environment.host is not None
    r = httpx.request(method, environment.host.rstrip("/") + path, timeout=60)
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    return body


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    opts = environment.parsed_options
    if opts is not None and getattr(opts, "headless", False) and not opts.run_time:
        log.error("headless runs must be bounded: add -t/--run-time (e.g. -t 60s)")
        raise SystemExit(2)
    if environment.host and not ALLOW_REMOTE and not _is_loopback(environment.host):
        log.error(
            "refusing non-loopback host %s (FAKEBOXER_LOCUST_ALLOW_REMOTE=1)", environment.host
        )
        raise SystemExit(2)
    if environment.stop_timeout < MIN_STOP_TIMEOUT:
        environment.stop_timeout = MIN_STOP_TIMEOUT


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or not environment.host:
        return
    if RESET:
        _control(environment, "POST", "/_fakeboxer/reset")
        _baseline["events"] = 0
    else:
        _baseline["events"] = int(_control(environment, "GET", "/_fakeboxer/stats")["events"])


def successful_hits(environment: Environment) -> int:
    """Successful collector hits as locust counted them (script fetches excluded)."""
    return sum(
        e.num_requests - e.num_failures
        for (name, _method), e in environment.stats.entries.items()
        if name.startswith(HIT_PREFIX)
    )


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or not environment.host:
        return
    if isinstance(environment.runner, MasterRunner):
        time.sleep(0.5)  # the workers' last stats reports
    counted = successful_hits(environment)
    try:
        stored = int(_control(environment, "GET", "/_fakeboxer/stats")["events"])
    except Exception as exc:  # noqa: BLE001 - report, do not crash the summary
        log.error("check: cannot read /_fakeboxer/stats: %s", exc)
        environment.process_exit_code = 1
        return
    stored -= _baseline["events"]
    if counted == stored:
        print(f"fakeboxer check: ok, {counted} successful hits = {stored} events stored")
    else:
        print(
            f"fakeboxer check: MISMATCH, locust counted {counted} successful hits but the "
            f"server stored {stored} events ({stored - counted:+d})"
        )
        environment.process_exit_code = 1


class PixelVisitor(FastHttpUser):
    """One browser: its cookie jar carries the collector's `_otui`/`_ots`."""

    wait_time = between(0.05, 0.5)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.screen = self.rng.choice(SCREENS)
        self.email = f"load-{uuid.uuid4().hex[:12]}@{self.rng.choice(DOMAINS)}"
        self.identified = False
        self.page = self.rng.choice(PAGES)
        self.ref = self.rng.choice(REFERRERS)
        self.clock_ms = int(time.time() * 1000) - 7 * 24 * 3600 * 1000

    def _t_ms(self) -> list[tuple[str, str]]:
        if not TIMEWARP:
            return []
        r = self.rng.random()
        if r < 0.8:
            self.clock_ms += self.rng.randrange(2_000, 300_000)
        elif r < 0.95:
            self.clock_ms += self.rng.randrange(31 * 60_000, 6 * 3600_000)
        else:
            self.clock_ms += self.rng.randrange(24 * 3600_000, 3 * 24 * 3600_000)
        self.clock_ms = min(self.clock_ms, int(time.time() * 1000))
        return [("t_ms", str(self.clock_ms))]

    def _hit(self, name: str, pairs: list[tuple[str, str]]) -> None:
        params = [("si", SITE), *pairs, *self._t_ms()]
        if self.identified:
            params.append(("email", self.email))
        self.client.get(
            "/?" + urlencode(params),
            name=HIT_PREFIX + name,
            headers={
                "Accept": "image/avif,image/webp,image/*,*/*;q=0.8",
                "Sec-Fetch-Dest": "image",
            },
        )

    @task(10)
    def page_view(self) -> None:
        previous = BASE + self.page[0] if self.ref == "" else self.ref
        self.page = self.rng.choice(PAGES)
        self._hit(
            "page",
            [
                ("ti", self.page[1]),
                ("lc", BASE + self.page[0]),
                ("ref", previous),
                ("sw", str(self.screen[0])),
                ("sh", str(self.screen[1])),
            ],
        )
        self.ref = ""

    @task(2)
    def custom_event(self) -> None:
        if self.rng.random() < 0.5:
            pairs = [("ti", "Download whitepaper"), ("asset", "abm-playbook.pdf")]
        else:
            pairs = [("ti", "Signup"), ("plan", self.rng.choice(("free", "team", "enterprise")))]
        self._hit("event", [*pairs, ("lc", BASE + self.page[0])])

    @task(1)
    def identify(self) -> None:
        self.identified = True
        self._hit("identify", [("ti", "Contact form"), ("lc", BASE + "/contact")])

    @task(1)
    def script(self) -> None:
        with self.client.get(
            f"/?dataset={SITE}", name="script: /?dataset", catch_response=True
        ) as resp:
            if resp.status_code in (200, 404):
                resp.success()
            else:
                resp.failure(f"script fetch answered {resp.status_code}")


class ApiReader(FastHttpUser):
    """Reads while the visitors write (enable with FAKEBOXER_LOCUST_READER=1)."""

    wait_time = between(0.5, 2.0)
    weight = 1
    fixed_count = 1 if READER else 0

    @task(3)
    def recent_events(self) -> None:
        self.client.get(f"/_fakeboxer/events?site={SITE}&limit=50", name="read: events")

    @task(1)
    def stats(self) -> None:
        self.client.get("/_fakeboxer/stats", name="read: stats")


if not READER:
    del ApiReader  # locust runs every User class it finds in the module
