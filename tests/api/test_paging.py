"""Keyset paging: ~2,000 leads, new hits arriving between pages, each lead exactly once."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

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
