"""Paging leads with nextToken: each lead exactly once while new hits keep arriving —
between pages, from another thread, and ones that move not-yet-returned leads past the
cursor (the scroll snapshot of api.scrolls); keyset paging once a scroll is gone."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.conftest import T0, Api, new_site, new_uid


def test_paging_2000_leads_with_hits_between_pages(api: Api) -> None:
    site = new_site("page")
    rng = random.Random(7)
    original = [new_uid() for _ in range(2000)]
    # ties of three: the use_id breaks them. Sent from a few threads to save time.
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: api.hit(site, original[i], T0 + (i // 3) * 1000), range(2000)))
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params = {"site": site, "limit": 137, "sortBy": "lastEvent|desc"}
        if token:
            params["nextToken"] = token
        r = api.v1("/v1/leads", **params)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [lead["use_id"] for lead in body["data"]]
        token = body["nextToken"]
        pages += 1
        if token is None:
            break
        # new leads anywhere in the ordering, and new activity of leads already sent
        for _ in range(5):
            api.hit(site, new_uid(), T0 + rng.randrange(0, 700_000))
        api.hit(site, rng.choice(seen), T0 + 800_000 + pages)
    assert len(seen) == len(set(seen)), "a lead was returned twice"
    missing = set(original) - set(seen)
    assert not missing, f"{len(missing)} leads never returned"


def test_paging_by_score_and_ascending(api: Api) -> None:
    site = new_site("page")
    made = []
    for i in range(60):
        uid = new_uid()
        made.append(uid)
        api.hit(site, uid, T0 + i, **({"email": f"x{i}@e.test"} if i % 2 else {}))
    for sort in ("_score|desc", "lastEvent|asc", "total_number_visits|asc", "email|asc"):
        seen: list[str] = []
        token = None
        while True:
            params = {
                "site": site,
                "limit": 7,
                "sortBy": sort,
                **({"nextToken": token} if token else {}),
            }
            body = api.v1("/v1/leads", **params).json()
            seen += [lead["use_id"] for lead in body["data"]]
            assert body["total"] == 60
            token = body["nextToken"]
            if token is None:
                break
        assert sorted(seen) == sorted(made), sort


def _page_all(api: Api, params: dict[str, str], between: Callable[[list[str]], None]) -> list[str]:
    seen: list[str] = []
    token: str | None = None
    totals = set()
    while True:
        r = api.v1("/v1/leads", **params, **({"nextToken": token} if token else {}))
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [lead["use_id"] for lead in body["data"]]
        totals.add(body["total"])
        token = body["nextToken"]
        if token is None:
            return seen
        between(seen)
        # the scroll's total is the snapshot's: it does not move while paging
        assert len(totals) == 1, totals


def test_lead_moving_past_the_cursor_is_still_returned_once(api: Api) -> None:
    """The case a keyset cursor alone gets wrong: a lead not yet returned gets a new hit
    that lifts it above the cursor (lastEvent|desc). The scroll's snapshot returns it."""
    site = new_site("page")
    made = [new_uid() for _ in range(120)]
    for i, uid in enumerate(made):
        api.hit(site, uid, T0 + i * 1000)
    lifted: list[str] = []

    def lift_one_not_yet_returned(seen: list[str]) -> None:
        waiting = [uid for uid in made if uid not in seen and uid not in lifted]
        if waiting:
            lifted.append(waiting[0])  # the oldest lead: it would come on the last page
            api.hit(site, waiting[0], T0 + 10_000_000 + len(lifted))

    seen = _page_all(
        api, {"site": site, "limit": "10", "sortBy": "lastEvent|desc"}, lift_one_not_yet_returned
    )
    assert len(lifted) >= 5
    assert len(seen) == len(set(seen)), "a lead was returned twice"
    assert set(seen) == set(made), f"missing: {set(made) - set(seen)}"


@pytest.mark.parametrize(
    "sort", ["lastEvent|desc", "total_number_visits|desc", "_score|desc", "email|asc"]
)
def test_scroll_snapshot_under_concurrent_hits(api: Api, sort: str) -> None:
    """Hits from another thread all through the paging, including ones that move leads
    in every direction of the order and identify leads (changing score and email)."""
    site = new_site("page")
    made = [new_uid() for _ in range(300)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: api.hit(site, made[i], T0 + i * 997), range(len(made))))
    stop = threading.Event()
    rng = random.Random(sort)

    def churn() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            uid = rng.choice(made)
            extra = {"email": f"p{n}@churn.test"} if n % 3 == 0 else {}
            api.hit(site, uid, T0 + rng.randrange(0, 40_000_000), **extra)

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(churn)
        try:
            seen = _page_all(api, {"site": site, "limit": "17", "sortBy": sort}, lambda _: None)
        finally:
            stop.set()
        running.result()
    assert len(seen) == len(set(seen)), "a lead was returned twice"
    assert set(seen) == set(made)


def test_expired_scroll_goes_on_by_keyset(api: Api) -> None:
    """A token whose scroll is gone (expired, or the server restarted) still pages on,
    from the last row it carries."""
    site = new_site("page")
    made = [new_uid() for _ in range(30)]
    for i, uid in enumerate(made):
        api.hit(site, uid, T0 + i * 1000)
    first = api.v1("/v1/leads", site=site, limit=10).json()
    api.app.web.state.api_scrolls.clear()
    seen = [lead["use_id"] for lead in first["data"]]
    token = first["nextToken"]
    while token:
        body = api.v1("/v1/leads", site=site, limit=10, nextToken=token).json()
        seen += [lead["use_id"] for lead in body["data"]]
        token = body["nextToken"]
    assert seen == list(reversed(made))


def test_scroll_token_of_another_query_pages_by_keyset(api: Api) -> None:
    """A token carried over to a query with other filters does not replay the first
    query's snapshot: it is a keyset cursor for the new one."""
    site = new_site("page")
    for i in range(20):
        api.hit(site, new_uid(), T0 + i * 1000, plan="pro" if i % 2 else "free")
    token = api.v1("/v1/leads", site=site, limit=5).json()["nextToken"]
    body = api.v1(
        "/v1/leads",
        site=site,
        limit=50,
        nextToken=token,
        criteriaTextFilter="plan|is|pro",
    ).json()
    assert body["data"] and all(lead["plan"] == "pro" for lead in body["data"])
