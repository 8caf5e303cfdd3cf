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
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class SimHit:
    """One generated hit. `params` holds everything sent except the dataset, `uid` and
    `t_ms` (those are fields), in sending order."""

    site: str
    uid: str
    t_ms: int
    title: str  # the title the server will store ("Email open" for /log without ti)
    params: tuple[tuple[str, str], ...]
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


def _weighted_start(rng: random.Random, config: SimConfig) -> int:
    """A visit start: a day (weekends less likely), an hour by the working-day shape."""
    day_weights = []
    for d in range(config.days):
        weekday = ((config.start_ms + d * DAY_MS) // DAY_MS + 3) % 7  # 0 = Monday
        day_weights.append(_WEEKEND_FACTOR if weekday >= 5 else 1.0)
    day = rng.choices(range(config.days), weights=day_weights)[0]
    hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0]
    return config.start_ms + day * DAY_MS + hour * HOUR_MS + rng.randrange(HOUR_MS)


def _think_time(rng: random.Random, timeout_ms: int) -> int:
    """Gap between two hits of one visit: mostly seconds to minutes, sometimes long reads
    just under the timeout, rarely exactly the timeout (still the same session)."""
    r = rng.random()
    if r < 0.02:
        return timeout_ms
    if r < 0.06:
        return timeout_ms - rng.randrange(1_000, 5 * MINUTE_MS)
    return int(rng.lognormvariate(10.6, 1.0)) + 2_000  # median ~42 s


def _return_gap(rng: random.Random, timeout_ms: int) -> int:
    """Gap from the end of one visit to the next: just over the timeout, hours, or days."""
    r = rng.random()
    if r < 0.15:
        return timeout_ms + rng.randrange(1_000, 15 * MINUTE_MS)
    if r < 0.35:
        return rng.randrange(2 * HOUR_MS, 8 * HOUR_MS)
    return rng.randrange(DAY_MS, 6 * DAY_MS) + rng.randrange(-3 * HOUR_MS, 3 * HOUR_MS)


def _entry(rng: random.Random, visitor: Visitor) -> tuple[str, list[tuple[str, str]]]:
    """The referrer and the campaign parameters of a visit's landing hit."""
    r = rng.random()
    if r < 0.25:
        return "", []  # direct
    if r < 0.50:
        return "https://www.google.com/", []  # organic
    if r < 0.62:
        utm = [
            ("utm_source", "linkedin"),
            ("utm_medium", "social"),
            ("utm_campaign", rng.choice(SOCIAL_CAMPAIGNS)),
        ]
        return "https://www.linkedin.com/", utm if rng.random() < 0.6 else []
    if r < 0.74:
        return rng.choice(PARTNERS), []
    if r < 0.87:
        utm = [
            ("utm_source", "google"),
            ("utm_medium", "cpc"),
            ("utm_campaign", rng.choice(PAID_CAMPAIGNS)),
            ("utm_term", rng.choice(("b2b analytics", "lead tracking", "visitor id"))),
            ("gclid", f"Cj0KCQ{rng.getrandbits(64):016x}"),
        ]
        return "https://www.google.com/", utm
    utm = [
        ("utm_source", "newsletter"),
        ("utm_medium", "email"),
        ("utm_campaign", rng.choice(EMAIL_CAMPAIGNS)),
        ("utm_content", rng.choice(("header-link", "cta-button"))),
    ]
    return "", utm


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.emails: set[str] = set()

    def uid(self, first_ms: int) -> str:
        while True:
            uid = f"{first_ms}.{self.rng.randrange(100_000_000, 1_000_000_000)}"
            if uid not in self.used:
                self.used.add(uid)
                return uid

    def email(self, domain: str) -> str:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        base = f"{first}.{last}"
        address, n = f"{base}@{domain}", 1
        while address in self.emails:
            n += 1
            address = f"{base}{n}@{domain}"
        self.emails.add(address)
        return address


def generate(config: SimConfig) -> Traffic:
    if config.users < 0 or config.days < 1:
        raise ValueError("users must be >= 0 and days >= 1")
    rng = random.Random(config.seed)
    ids = _Ids(rng)
    end_ms = config.start_ms + config.days * DAY_MS
    visitors: list[Visitor] = []
    for _ in range(config.users):
        first_ms = _weighted_start(rng, config)
        company = rng.choice(COMPANIES) if rng.random() < 0.7 else ""
        will_identify = rng.random() < (0.45 if company else 0.15)
        email = ids.email(company or rng.choice(FREE_MAIL)) if will_identify else ""
        visitor = Visitor(
            uid=ids.uid(first_ms),
            company=company,
            email=email,
            screen=rng.choice(SCREENS),
            user_agent=rng.choice(USER_AGENTS),
        )
        # Visits: 55 % come once; the rest return up to 7 more times.
        visits = 1 if rng.random() < 0.55 else 1 + min(7, int(rng.expovariate(0.45)) + 1)
        t = first_ms
        for v in range(visits):
            if t >= end_ms:
                break
            t = _visit(rng, config, visitor, t, end_ms, first_visit=v == 0)
            t += _return_gap(rng, config.timeout_ms)
        _campaign_opens(rng, config, visitor, end_ms)
        if visitor.hits:
            visitors.append(visitor)
    order = [(h.t_ms, i, h) for i, h in enumerate(h for v in visitors for h in v.hits)]
    order.sort(key=lambda x: (x[0], x[1]))
    return Traffic(
        config,
        [h for _, _, h in order],
        visitors,
        {v.uid: v.user_agent for v in visitors},
    )


def _visit(
    rng: random.Random,
    config: SimConfig,
    visitor: Visitor,
    t: int,
    end_ms: int,
    *,
    first_visit: bool,
) -> int:
    """Append one visit's hits from time t; returns the time of its last hit."""
    site, timeout = config.site, config.timeout_ms
    ref, utm = _entry(rng, visitor)
    identified = visitor.identified_at is not None
    # An identified visitor who arrives through an e-mail campaign opened it first.
    if identified and any(k == "utm_medium" and v == "email" for k, v in utm):
        campaign = next(v for k, v in utm if k == "utm_campaign")
        open_t = t - rng.randrange(MINUTE_MS, 3 * HOUR_MS)
        if open_t > visitor.hits[-1].t_ms:
            _email_open(visitor, site, open_t, campaign)
    elif identified and rng.random() < 0.2:
        # An open that leads to no visit (the hit before this visit, days ago or today).
        open_t = t - rng.randrange(2 * HOUR_MS, DAY_MS)
        if open_t > visitor.hits[-1].t_ms:
            _email_open(visitor, site, open_t, rng.choice(EMAIL_CAMPAIGNS))
    pages = 1 + min(11, int(rng.expovariate(0.35)))
    previous_url = ref
    last = t
    for p in range(pages):
        if t >= end_ms:
            break
        if p == 0 and first_visit:
            path, title = PAGES[0] if rng.random() < 0.5 else rng.choices(PAGES, _PAGE_WEIGHTS)[0]
        else:
            path, title = rng.choices(PAGES, _PAGE_WEIGHTS)[0]
        url = BASE_URL + path
        params: list[tuple[str, str]] = [("ti", title), ("lc", url)]
        if previous_url:
            params.append(("ref", previous_url))
        params += [("sw", str(visitor.screen[0])), ("sh", str(visitor.screen[1]))]
        if p == 0:
            params += utm
        _add(visitor, site, t, title, params)
        last = t
        previous_url = url
        # Custom events on some pages, a few seconds after the page view.
        extra = _custom_event(rng, visitor, path)
        if extra is not None:
            t += rng.randrange(3_000, 90_000)
            if t >= end_ms:
                break
            title, custom = extra
            _add(visitor, site, t, title, [("ti", title), ("lc", url), *custom])
            last = t
        t += _think_time(rng, timeout)
    return last


def _custom_event(
    rng: random.Random, visitor: Visitor, path: str
) -> tuple[str, list[tuple[str, str]]] | None:
    r = rng.random()
    if path == "/resources" and r < 0.35:
        return "Download whitepaper", [("asset", rng.choice(ASSETS))]
    if path == "/pricing" and r < 0.2:
        props = [("plan", rng.choice(PLANS))]
        if visitor.company:
            props.append(("company", visitor.company.split(".")[0].title()))
        return "Signup", props
    if path == "/contact" and r < 0.3:
        return "Request demo", [("formId", "demo-request"), ("employees", rng.choice(("1-10", "11-50", "51-200", "201+")))]  # fmt: skip
    if path.startswith("/blog/") and r < 0.1:
        return "Subscribe newsletter", [("list", "weekly")]
    return None


def _add(visitor: Visitor, site: str, t: int, title: str, params: list[tuple[str, str]]) -> None:
    if visitor.hits and t <= visitor.hits[-1].t_ms:
        t = visitor.hits[-1].t_ms + 1  # one visitor's hits have distinct, rising times
    # Forms identify: a visitor who will give an e-mail does so on a form or a signup,
    # or after a few hits; from then on every hit carries it.
    if visitor.email and visitor.identified_at is None:
        form = title in ("Signup", "Request demo", "Download whitepaper", "Subscribe newsletter")
        if form or len(visitor.hits) >= 6:
            visitor.identified_at = t
    if visitor.identified_at is not None:
        params = [*params, ("email", visitor.email)]
    visitor.hits.append(SimHit(site, visitor.uid, t, title, tuple(params)))


def _campaign_opens(rng: random.Random, config: SimConfig, visitor: Visitor, end_ms: int) -> None:
    """Newsletters go out twice a week at 09:00; an identified visitor opens some of
    them minutes to hours later (an open without a visit, through `/log`)."""
    if visitor.identified_at is None:
        return
    taken = {h.t_ms for h in visitor.hits}
    added = False
    for day in range(config.days):
        send = config.start_ms + day * DAY_MS + 9 * HOUR_MS
        weekday = (send // DAY_MS + 3) % 7
        if weekday not in (1, 3) or send <= visitor.identified_at or rng.random() >= 0.45:
            continue
        t = send + int(rng.lognormvariate(8.5, 1.2)) * 1000
        while t in taken:
            t += 1
        if t >= end_ms:
            continue
        taken.add(t)
        _email_open(visitor, config.site, t, EMAIL_CAMPAIGNS[day % len(EMAIL_CAMPAIGNS)])
        added = True
    if added:
        visitor.hits.sort(key=lambda h: h.t_ms)


def _email_open(visitor: Visitor, site: str, t: int, campaign: str) -> None:
    params = (("campaign", campaign), ("email", visitor.email))
    visitor.hits.append(SimHit(site, visitor.uid, t, "Email open", params, "/log"))


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
