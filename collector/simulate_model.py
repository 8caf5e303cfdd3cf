"""A deterministic model of B2B website traffic, for `fakeboxer simulate`. Pure.

`generate(config)` returns the hits a population of visitors would send over a number
of days, sorted by event time. Everything random comes from one `random.Random(seed)`,
and the start time is given, so a seed always yields the same hits (ids included).

The model: visitors arrive over the days, weighted towards working hours on weekdays;
some return (the same day, after a pause just over the session timeout, or days later);
each visit has a channel (direct, organic google, linkedin, partner sites, e-mail and paid
campaigns with utm values and a gclid), a few pages with think times (mostly short, some
just under the session timeout, some exactly at it), custom events with properties
("Download whitepaper" with `asset`, "Signup" with `plan`, "Request demo"), and some
visitors identify themselves with a company e-mail. Identified visitors get campaign
e-mails whose opens arrive through `/log` (`datasetId`, `campaign`, `email`).

Every hit carries the visitor's `uid` and its `t_ms`, so the server stores exactly the
generated identities and times; identified visitors also send `email` from then on.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import itemgetter
from typing import NamedTuple

DAY_MS = 24 * 3600 * 1000
HOUR_MS = 3600 * 1000
MINUTE_MS = 60 * 1000

# 2026-11-01T00:00:00Z, a Sunday.
DEFAULT_START_MS = 1_793_491_200_000

BASE_URL = "https://www.fakeboxer-demo.example"

# Hourly arrival weights (UTC taken as the visitors' local time): a working-day shape.
_HOUR_WEIGHTS = (
    1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 16, 12, 15, 17, 16, 13, 9, 6, 5, 4, 3, 2, 1,
)  # fmt: skip
_WEEKEND_FACTOR = 0.25

PAGES: tuple[tuple[str, str], ...] = (
    ("/", "Home | Demo Analytics"),
    ("/product", "Product overview"),
    ("/features/lead-scoring", "Lead scoring"),
    ("/features/integrations", "Integrations"),
    ("/pricing", "Pricing"),
    ("/customers", "Customer stories"),
    ("/resources", "Resources"),
    ("/blog/b2b-intent-data", "Blog: what intent data tells you"),
    ("/blog/account-based-marketing", "Blog: account-based marketing in practice"),
    ("/about", "About us"),
    ("/contact", "Contact sales"),
    ("/docs/getting-started", "Docs: getting started"),
)
_PAGE_WEIGHTS = (20, 12, 8, 6, 10, 5, 7, 6, 5, 3, 4, 4)

COMPANIES: tuple[str, ...] = (
    "acme.example",
    "globex.example",
    "initech.example",
    "umbrella.example",
    "hooli.example",
    "stark-industries.example",
    "wayne-enterprises.example",
    "soylent.example",
    "tyrell.example",
    "cyberdyne.example",
    "vandelay.example",
    "wonka.example",
)
FREE_MAIL = ("gmail.example", "outlook.example")
FIRST_NAMES = ("ada", "grace", "alan", "linus", "barbara", "edsger", "margaret", "ken",
               "donald", "frances", "john", "radia", "tim", "sophie", "dennis", "katherine")  # fmt: skip
LAST_NAMES = ("lovelace", "hopper", "turing", "torvalds", "liskov", "dijkstra", "hamilton",
              "thompson", "knuth", "allen", "backus", "perlman", "berners-lee", "wilson",
              "ritchie", "johnson")  # fmt: skip

ASSETS = ("state-of-b2b-2026.pdf", "lead-scoring-guide.pdf", "abm-playbook.pdf", "roi-sheet.xlsx")
PLANS = ("free", "team", "business", "enterprise")
EMAIL_CAMPAIGNS = ("nov-newsletter", "webinar-invite", "product-update", "case-study-acme")
PAID_CAMPAIGNS = ("brand-search", "competitor-search", "retargeting")
SOCIAL_CAMPAIGNS = ("linkedin-launch", "linkedin-webinar")
PARTNERS = (
    "https://partner-one.example/blog/tools-we-like",
    "https://reseller.example/catalog/analytics",
    "https://g2-reviews.example/products/demo-analytics",
)
SCREENS = ((1920, 1080), (1440, 900), (2560, 1440), (1366, 768), (390, 844), (1536, 864))
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
)


Params = tuple[tuple[str, str], ...]


class SimHit(NamedTuple):
    """One generated hit. `params` holds everything sent except the dataset, `uid` and
    `t_ms` (those are fields), in sending order. Immutable (a named tuple: a million of
    them are built in a second or so, several times faster than a frozen dataclass)."""

    site: str
    uid: str
    t_ms: int
    title: str  # the title the server will store ("Email open" for /log without ti)
    params: Params
    path: str = "/"  # "/" or "/log"

    def query_pairs(self) -> list[tuple[str, str]]:
        """The full parameter list as sent to the collector."""
        dataset = "datasetId" if self.path == "/log" else "si"
        return [(dataset, self.site), ("uid", self.uid), ("t_ms", str(self.t_ms)), *self.params]

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class SimConfig:
    users: int
    days: int
    seed: int = 1
    site: str = "demo"
    start_ms: int = DEFAULT_START_MS
    timeout_ms: int = 30 * MINUTE_MS


@dataclass(slots=True)
class Visitor:
    uid: str
    company: str  # "" for anonymous consumers
    email: str  # the address the visitor will give, "" if never
    screen: tuple[int, int]
    user_agent: str
    identified_at: int | None = None  # t_ms of the first hit carrying the email
    hits: list[SimHit] = field(default_factory=list)


@dataclass(slots=True)
class Traffic:
    config: SimConfig
    hits: list[SimHit]  # sorted by (t_ms, generation order)
    visitors: list[Visitor]  # every visitor with at least one hit
    user_agents: dict[str, str]  # uid -> user agent to send


class _Draw:
    """The random draws of the model, on one `random.Random`.

    Each method consumes the generator exactly like the `random` call it replaces
    (named in its docstring), so a seed gives the same traffic as it always did; the
    shortcuts only skip per-call overhead (`choices` rebuilding cumulative weights, the
    argument checks of `randrange`). `tests/sim/test_model_golden.py` pins the output
    of known seeds and checks each draw against the `random` call it stands for.
    """

    __slots__ = ("rng", "random", "getrandbits", "lognormvariate", "expovariate")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.random = rng.random
        self.getrandbits = rng.getrandbits
        self.lognormvariate = rng.lognormvariate
        self.expovariate = rng.expovariate

    def below(self, n: int) -> int:
        """`rng.randrange(n)` (n > 0): the getrandbits rejection loop of `random.Random`."""
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return r

    def weighted(self, weights: Sequence[float]) -> Callable[[], int]:
        """A draw of an index, like `rng.choices(range(len(weights)), weights)[0]`."""
        cum = list(accumulate(weights))
        total = cum[-1] + 0.0
        hi = len(cum) - 1
        draw = self.random
        return lambda: bisect(cum, draw() * total, 0, hi)


class _Model:
    """One run of the model (see `generate`). The methods are the steps of the original
    functional model, in the same order of random draws."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.draw = _Draw(self.rng)
        self.end_ms = config.start_ms + config.days * DAY_MS
        day_weights = []
        for d in range(config.days):
            weekday = ((config.start_ms + d * DAY_MS) // DAY_MS + 3) % 7  # 0 = Monday
            day_weights.append(_WEEKEND_FACTOR if weekday >= 5 else 1.0)
        self.pick_day = self.draw.weighted(day_weights)
        self.pick_hour = self.draw.weighted(_HOUR_WEIGHTS)
        self.pick_page = self.draw.weighted(_PAGE_WEIGHTS)
        self.used_uids: set[str] = set()
        self.used_emails: set[str] = set()

    # ------------------------------------------------------------------ visitors
    def weighted_start(self) -> int:
        """A visit start: a day (weekends less likely), an hour by the working-day shape."""
        day = self.pick_day()
        hour = self.pick_hour()
        return self.config.start_ms + day * DAY_MS + hour * HOUR_MS + self.draw.below(HOUR_MS)

    def new_uid(self, first_ms: int) -> str:
        below = self.draw.below
        while True:
            uid = f"{first_ms}.{100_000_000 + below(900_000_000)}"
            if uid not in self.used_uids:
                self.used_uids.add(uid)
                return uid

    def new_email(self, domain: str) -> str:
        below = self.draw.below
        first = FIRST_NAMES[below(len(FIRST_NAMES))]
        last = LAST_NAMES[below(len(LAST_NAMES))]
        base = f"{first}.{last}"
        address, n = f"{base}@{domain}", 1
        while address in self.used_emails:
            n += 1
            address = f"{base}{n}@{domain}"
        self.used_emails.add(address)
        return address

    def visitor(self) -> Visitor:
        draw = self.draw
        below = draw.below
        first_ms = self.weighted_start()
        company = COMPANIES[below(len(COMPANIES))] if draw.random() < 0.7 else ""
        will_identify = draw.random() < (0.45 if company else 0.15)
        email = ""
        if will_identify:
            email = self.new_email(company or FREE_MAIL[below(len(FREE_MAIL))])
        uid = self.new_uid(first_ms)
        screen = SCREENS[below(len(SCREENS))]
        user_agent = USER_AGENTS[below(len(USER_AGENTS))]
        visitor = Visitor(uid, company, email, screen, user_agent)
        # Visits: 55 % come once; the rest return up to 7 more times.
        visits = 1 if draw.random() < 0.55 else 1 + min(7, int(draw.expovariate(0.45)) + 1)
        end_ms, timeout = self.end_ms, self.config.timeout_ms
        t = first_ms
        for v in range(visits):
            if t >= end_ms:
                break
            t = self.visit(visitor, t, first_visit=v == 0)
            t += self.return_gap(timeout)
        self.campaign_opens(visitor)
        return visitor

    def think_time(self, timeout_ms: int) -> int:
        """Gap between two hits of one visit: mostly seconds to minutes, sometimes long
        reads just under the timeout, rarely exactly the timeout (still the same session)."""
        r = self.draw.random()
        if r < 0.02:
            return timeout_ms
        if r < 0.06:
            return timeout_ms - (1_000 + self.draw.below(5 * MINUTE_MS - 1_000))
        return int(self.draw.lognormvariate(10.6, 1.0)) + 2_000  # median ~42 s

    def return_gap(self, timeout_ms: int) -> int:
        """Gap from the end of one visit to the next: just over the timeout, hours, or days."""
        below = self.draw.below
        r = self.draw.random()
        if r < 0.15:
            return timeout_ms + 1_000 + below(15 * MINUTE_MS - 1_000)
        if r < 0.35:
            return 2 * HOUR_MS + below(6 * HOUR_MS)
        days = DAY_MS + below(5 * DAY_MS)
        return days + (-3 * HOUR_MS + below(6 * HOUR_MS))

    def entry(self) -> tuple[str, Params, str]:
        """The referrer and the campaign parameters of a visit's landing hit, and the
        campaign when it is an e-mail campaign (else "")."""
        draw = self.draw
        below = draw.below
        r = draw.random()
        if r < 0.25:
            return "", (), ""  # direct
        if r < 0.50:
            return "https://www.google.com/", (), ""  # organic
        if r < 0.62:
            utm: Params = (
                ("utm_source", "linkedin"),
                ("utm_medium", "social"),
                ("utm_campaign", SOCIAL_CAMPAIGNS[below(len(SOCIAL_CAMPAIGNS))]),
            )
            return "https://www.linkedin.com/", utm if draw.random() < 0.6 else (), ""
        if r < 0.74:
            return PARTNERS[below(len(PARTNERS))], (), ""
        if r < 0.87:
            campaign = PAID_CAMPAIGNS[below(len(PAID_CAMPAIGNS))]
            term = _PAID_TERMS[below(len(_PAID_TERMS))]
            utm = (
                ("utm_source", "google"),
                ("utm_medium", "cpc"),
                ("utm_campaign", campaign),
                ("utm_term", term),
                ("gclid", f"Cj0KCQ{draw.getrandbits(64):016x}"),
            )
            return "https://www.google.com/", utm, ""
        campaign = EMAIL_CAMPAIGNS[below(len(EMAIL_CAMPAIGNS))]
        content = _EMAIL_CONTENT[below(len(_EMAIL_CONTENT))]
        utm = (
            ("utm_source", "newsletter"),
            ("utm_medium", "email"),
            ("utm_campaign", campaign),
            ("utm_content", content),
        )
        return "", utm, campaign

    # ------------------------------------------------------------------ one visit
    def visit(self, visitor: Visitor, t: int, *, first_visit: bool) -> int:
        """Append one visit's hits from time t; returns the time of its last hit."""
        draw = self.draw
        random_, below = draw.random, draw.below
        site, timeout, end_ms = self.config.site, self.config.timeout_ms, self.end_ms
        ref, utm, email_campaign = self.entry()
        if visitor.identified_at is not None:
            # An identified visitor who arrives through an e-mail campaign opened it first.
            if email_campaign:
                open_t = t - (MINUTE_MS + below(3 * HOUR_MS - MINUTE_MS))
                if open_t > visitor.hits[-1].t_ms:
                    _email_open(visitor, site, open_t, email_campaign)
            elif random_() < 0.2:
                # An open that leads to no visit (the hit before this visit, days ago or today).
                open_t = t - (2 * HOUR_MS + below(DAY_MS - 2 * HOUR_MS))
                if open_t > visitor.hits[-1].t_ms:
                    _email_open(visitor, site, open_t, EMAIL_CAMPAIGNS[below(len(EMAIL_CAMPAIGNS))])
        pages = 1 + min(11, int(draw.expovariate(0.35)))
        screen = (("sw", str(visitor.screen[0])), ("sh", str(visitor.screen[1])))
        previous_url = ref
        last = t
        pick_page = self.pick_page
        for p in range(pages):
            if t >= end_ms:
                break
            if p == 0 and first_visit and random_() < 0.5:
                page = 0
            else:
                page = pick_page()
            path, title = PAGES[page]
            url = _URLS[page]
            if previous_url:
                params: Params = (
                    ("ti", title),
                    ("lc", url),
                    ("ref", previous_url),
                    *screen,
                )
            else:
                params = (("ti", title), ("lc", url), *screen)
            if p == 0:
                params += utm
            _add(visitor, site, t, title, params)
            last = t
            previous_url = url
            # Custom events on some pages, a few seconds after the page view.
            extra = self.custom_event(visitor, path)
            if extra is not None:
                t += 3_000 + below(87_000)
                if t >= end_ms:
                    break
                title, custom = extra
                _add(visitor, site, t, title, (("ti", title), ("lc", url), *custom))
                last = t
            t += self.think_time(timeout)
        return last

    def custom_event(self, visitor: Visitor, path: str) -> tuple[str, Params] | None:
        draw = self.draw
        below = draw.below
        r = draw.random()
        if path == "/resources" and r < 0.35:
            return "Download whitepaper", (("asset", ASSETS[below(len(ASSETS))]),)
        if path == "/pricing" and r < 0.2:
            plan = ("plan", PLANS[below(len(PLANS))])
            if visitor.company:
                return "Signup", (plan, ("company", visitor.company.split(".")[0].title()))
            return "Signup", (plan,)
        if path == "/contact" and r < 0.3:
            return "Request demo", (("formId", "demo-request"), ("employees", _EMPLOYEES[below(len(_EMPLOYEES))]))  # fmt: skip
        if path.startswith("/blog/") and r < 0.1:
            return "Subscribe newsletter", (("list", "weekly"),)
        return None

    def campaign_opens(self, visitor: Visitor) -> None:
        """Newsletters go out twice a week at 09:00; an identified visitor opens some of
        them minutes to hours later (an open without a visit, through `/log`)."""
        if visitor.identified_at is None:
            return
        config, draw = self.config, self.draw
        taken = {h.t_ms for h in visitor.hits}
        added = False
        for day in range(config.days):
            send = config.start_ms + day * DAY_MS + 9 * HOUR_MS
            weekday = (send // DAY_MS + 3) % 7
            if weekday not in (1, 3) or send <= visitor.identified_at or draw.random() >= 0.45:
                continue
            t = send + int(draw.lognormvariate(8.5, 1.2)) * 1000
            while t in taken:
                t += 1
            if t >= self.end_ms:
                continue
            taken.add(t)
            _email_open(visitor, config.site, t, EMAIL_CAMPAIGNS[day % len(EMAIL_CAMPAIGNS)])
            added = True
        if added:
            visitor.hits.sort(key=_T_MS)


_PAID_TERMS = ("b2b analytics", "lead tracking", "visitor id")
_EMAIL_CONTENT = ("header-link", "cta-button")
_EMPLOYEES = ("1-10", "11-50", "51-200", "201+")
_URLS = tuple(BASE_URL + path for path, _ in PAGES)
_FORMS = frozenset({"Signup", "Request demo", "Download whitepaper", "Subscribe newsletter"})
_T_MS = itemgetter(2)  # SimHit.t_ms
_new_hit = tuple.__new__  # SimHit(...) without the keyword-argument layer


def generate(config: SimConfig) -> Traffic:
    return next(generate_chunks(config, max(config.users, 1)))


def generate_chunks(config: SimConfig, visitors_per_chunk: int) -> Iterator[Traffic]:
    """The traffic of `generate(config)` in parts of at most `visitors_per_chunk`
    visitors each, in generation order, so that a large simulation need not hold all of
    it at once. Every visitor, with all its hits, is in exactly one part; merging the
    parts' hits by time (earlier parts first on a tie) gives `generate(config).hits`."""
    if config.users < 0 or config.days < 1:
        raise ValueError("users must be >= 0 and days >= 1")
    if visitors_per_chunk < 1:
        raise ValueError("visitors_per_chunk must be >= 1")
    model = _Model(config)
    left = config.users
    while True:
        visitors: list[Visitor] = []
        for _ in range(min(left, visitors_per_chunk)):
            visitor = model.visitor()
            if visitor.hits:
                visitors.append(visitor)
        left -= min(left, visitors_per_chunk)
        # Sorted by (t_ms, generation order): the sort is stable.
        hits = [h for v in visitors for h in v.hits]
        hits.sort(key=_T_MS)
        yield Traffic(config, hits, visitors, {v.uid: v.user_agent for v in visitors})
        if left <= 0:
            return


def _add(visitor: Visitor, site: str, t: int, title: str, params: Params) -> None:
    hits = visitor.hits
    if hits and t <= hits[-1][2]:
        t = hits[-1][2] + 1  # one visitor's hits have distinct, rising times
    # Forms identify: a visitor who will give an e-mail does so on a form or a signup,
    # or after a few hits; from then on every hit carries it.
    if visitor.email and visitor.identified_at is None:
        if title in _FORMS or len(hits) >= 6:
            visitor.identified_at = t
    if visitor.identified_at is not None:
        params = (*params, ("email", visitor.email))
    hits.append(_new_hit(SimHit, (site, visitor.uid, t, title, params, "/")))


def _email_open(visitor: Visitor, site: str, t: int, campaign: str) -> None:
    params = (("campaign", campaign), ("email", visitor.email))
    visitor.hits.append(_new_hit(SimHit, (site, visitor.uid, t, "Email open", params, "/log")))


# ---------------------------------------------------------------------- ground truth
FOLDED_CHECKS = ("email", "plan", "asset", "ti", "utm_campaign", "campaign")


def expected_props(hits: list[SimHit]) -> dict[str, str]:
    """The latest-by-time value of each checked property over one user's hits."""
    out: dict[str, str] = {}
    for h in sorted(hits, key=lambda h: h.t_ms):
        for name in FOLDED_CHECKS:
            value = h.title if name == "ti" else h.param(name)
            if value is not None:
                out[name] = value
    return out
