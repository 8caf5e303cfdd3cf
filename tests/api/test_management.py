"""Management routes (reference 2.2/2.3): datasets and lead tags, stored by the writer
thread and shown on leads, in both API generations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.app import create_app
from collector.settings import Settings
from collector.storage.db import Store
from tests.api.conftest import KEY, LIMITED, MIN, T0, Api, new_site, new_uid, served

UNAUTHORIZED = {"error": "Unauthorized", "message": "Invalid or missing API key"}
H = {"x-api-key": KEY}


def _legacy_names(api: Api) -> dict[str, str]:
    r = api.legacy("/api/datasets")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["responseCode"] == 200 and body["responseMessage"] == "OK"
    return {d["datasetId"]: d["humanName"] for d in body["datasets"]}


def _v1_names(api: Api, key: str = KEY) -> dict[str, str]:
    r = api.v1_key(key, "/v1/users/datasets")
    assert r.status_code == 200, r.text
    return {d["datasetId"]: d["humanName"] for d in r.json()["data"]}


def _tags_everywhere(api: Api, site: str, uid: str) -> list[str]:
    """The lead's tags as c_view_leads, lead_detail, /v1/leads and /v1/leads/{id} show
    them (they must agree)."""
    seen = []
    r = api.legacy("/api/views/c_view_leads", site=site)
    seen.append(next(x for x in r.json()["resultsList"] if x["use_id"] == uid)["leadTags"])
    r = api.legacy("/api/views/lead_detail", site=site, leadId=uid)
    seen.append(r.json()["resultsList"][0]["leadTags"])
    r = api.v1("/v1/leads", site=site)
    seen.append(next(x for x in r.json()["data"] if x["use_id"] == uid)["leadTags"])
    seen.append(api.v1(f"/v1/leads/{uid}", site=site).json()["leadTags"])
    assert all(s == seen[0] for s in seen), seen
    tags: list[str] = seen[0]
    return tags


def _legacy_tags(api: Api, uid: str, tags: str, **extra: str) -> httpx.Response:
    return api.legacy("/api/management/update_lead_tags", userId=uid, leadTags=tags, **extra)


def _v1_tags(api: Api, site: str, uid: str, tags: Any, key: str = KEY) -> httpx.Response:
    return api.client.put(
        "/v1/management/lead-tags",
        json={"datasetId": site, "leadId": uid, "leadTags": tags},
        headers={"x-api-key": key},
    )


# ------------------------------------------------------------------------------ datasets
def test_legacy_dataset_round_trip(api: Api) -> None:
    r = api.client.post(
        "/api/datasets",
        params={"apiKey": KEY, "email": "me@example.com"},
        json={"humanName": "Shop", "sendEmail": False, "timezone": "UTC", "userIds": [1, 2]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    dataset = body["datasetId"]
    assert re.fullmatch(r"[0-9a-f]{32}", dataset)
    assert body["responseCode"] == 200 and body["responseMessage"] == "OK"
    assert _legacy_names(api)[dataset] == "Shop"
    listed = next(
        d for d in api.v1("/v1/users/datasets").json()["data"] if d["datasetId"] == dataset
    )
    assert listed["timezone"] == "UTC" and listed["deleted"] is None

    r = api.client.put(
        f"/api/datasets/{dataset}/name", params={"apiKey": KEY, "humanName": " Shop NL "}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"datasetId": dataset, "responseCode": 200, "responseMessage": "OK"}
    assert _v1_names(api)[dataset] == "Shop NL"

    r = api.client.delete(f"/api/datasets/{dataset}", params={"apiKey": KEY})
    assert r.status_code == 200, r.text
    assert r.json()["responseCode"] == 200
    assert dataset not in _legacy_names(api)
    r = api.client.put(f"/api/datasets/{dataset}/name", params={"apiKey": KEY, "humanName": "x"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert api.client.delete(f"/api/datasets/{dataset}", params={"apiKey": KEY}).status_code == 404


def test_v1_dataset_round_trip_with_explicit_id_and_default_timezone(api: Api) -> None:
    site = new_site("mgmt")
    r = api.client.post(
        "/v1/datasets",
        params={"email": "me@example.com"},
        json={"humanName": "Blog", "emails": ["a@example.com"], "datasetId": site},
        headers=H,
    )
    assert r.status_code == 200, r.text
    assert r.json()["datasetId"] == site and r.json()["timezone"] == "Europe/Amsterdam"
    again = api.client.post("/v1/datasets", json={"humanName": "B", "datasetId": site}, headers=H)
    assert again.status_code == 409
    r = api.client.put(f"/v1/datasets/{site}/name", params={"humanName": "Blog 2"}, headers=H)
    assert r.status_code == 200 and r.json()["humanName"] == "Blog 2"
    assert _legacy_names(api)[site] == "Blog 2"
    r = api.client.delete(f"/v1/datasets/{site}", headers=H)
    assert r.status_code == 200 and r.json()["deleted"] is not None
    assert site not in _v1_names(api)
    # a deleted id may be created again
    r = api.client.post("/v1/datasets", json={"humanName": "Back", "datasetId": site}, headers=H)
    assert r.status_code == 200 and _v1_names(api)[site] == "Back"


def test_delete_removes_the_datasets_data_only(api: Api) -> None:
    site, other = new_site("mgmt"), new_site("mgmt")
    uid = new_uid()
    api.hit(site, uid, T0, email="gone@example.com")
    api.hit(other, uid, T0)
    assert _legacy_tags(api, uid, "vip", site=site).status_code == 200
    r = api.client.delete(f"/v1/datasets/{site}", headers=H)  # never registered: has data
    assert r.status_code == 200, r.text
    assert api.v1("/v1/leads", site=site).json()["total"] == 0
    assert api.v1(f"/v1/leads/{uid}", site=site).status_code == 404
    assert api.v1("/v1/leads", site=other).json()["total"] == 1
    # hits may arrive again afterwards; the old tags do not come back
    api.hit(site, uid, T0 + MIN)
    assert _tags_everywhere(api, site, uid) == []


def test_rename_registers_a_dataset_known_from_hits(api: Api) -> None:
    site = new_site("mgmt")
    r = api.client.put(f"/v1/datasets/{site}/name", params={"humanName": "x"}, headers=H)
    assert r.status_code == 404  # no hits, not registered
    api.hit(site, new_uid(), T0)
    r = api.client.put(f"/v1/datasets/{site}/name", params={"humanName": "From hits"}, headers=H)
    assert r.status_code == 200, r.text
    assert _v1_names(api)[site] == "From hits"


# ------------------------------------------------------------------------------ lead tags
def test_tags_add_remove_overwrite_clear_and_shown_on_leads(api: Api) -> None:
    site = new_site("tags")
    uid, other = new_uid(), new_uid()
    api.hit(site, uid, T0, email="t@example.com", firstName="Ann")
    api.hit(site, other, T0 + MIN)
    before = api.v1(f"/v1/leads/{uid}", site=site).json()
    assert before["leadTags"] == []

    r = _legacy_tags(api, uid, " Customer , Partner,Customer")  # no action: overwrite
    assert r.status_code == 200, r.text
    assert r.json() == {
        "leadId": uid,
        "site": site,
        "leadTags": ["Customer", "Partner"],
        "responseCode": 200,
        "responseMessage": "OK",
    }
    assert _legacy_tags(api, uid, "Key account,Customer", action="add").status_code == 200
    assert _tags_everywhere(api, site, uid) == ["Customer", "Key account", "Partner"]
    r = _legacy_tags(api, uid, "Partner,unknown", action="remove", site=site)
    assert r.json()["leadTags"] == ["Customer", "Key account"]
    assert _tags_everywhere(api, site, uid) == ["Customer", "Key account"]
    assert _tags_everywhere(api, site, other) == []

    r = _v1_tags(api, site, uid, "Competitor")  # replaces the full list
    assert r.status_code == 200, r.text
    assert r.json() == {"datasetId": site, "leadId": uid, "leadTags": ["Competitor"]}
    assert _tags_everywhere(api, site, uid) == ["Competitor"]
    assert _v1_tags(api, site, uid, ["a", "b"]).json()["leadTags"] == ["a", "b"]
    assert _v1_tags(api, site, uid, "").json()["leadTags"] == []
    assert _tags_everywhere(api, site, uid) == []
    assert _legacy_tags(api, uid, "x").json()["leadTags"] == ["x"]
    assert _legacy_tags(api, uid, "").json()["leadTags"] == []

    # every other field of the lead is unchanged by tagging
    _v1_tags(api, site, uid, "one,two")
    after = api.v1(f"/v1/leads/{uid}", site=site).json()
    assert after.pop("leadTags") == ["one", "two"]
    before.pop("leadTags")
    assert after == before


def test_tag_limit_is_100(api: Api) -> None:
    site = new_site("tags")
    uid = new_uid()
    api.hit(site, uid, T0)
    hundred = ",".join(f"t{i:03d}" for i in range(100))
    assert _v1_tags(api, site, uid, hundred).status_code == 200
    r = _legacy_tags(api, uid, "one-more", action="add")
    assert r.status_code == 400 and r.json()["error"] == "bad_parameter"
    assert "leadTags" in r.json()["message"] and "100" in r.json()["message"]
    assert len(_tags_everywhere(api, site, uid)) == 100  # the refused write changed nothing
    assert _legacy_tags(api, uid, "t000", action="add").status_code == 200  # already there
    r = _v1_tags(api, site, uid, hundred + ",t100")
    assert r.status_code == 400 and "leadTags" in r.json()["message"]
    assert _legacy_tags(api, uid, "t000,t001", action="remove").status_code == 200
    assert len(_tags_everywhere(api, site, uid)) == 98


def test_unknown_lead_is_404(api: Api) -> None:
    site = new_site("tags")
    api.hit(site, new_uid(), T0)
    r = _v1_tags(api, site, "no-such-lead", "a")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert _legacy_tags(api, "no-such-lead", "a").status_code == 404


def test_legacy_tags_need_no_key_on_loopback(api: Api) -> None:
    site = new_site("tags")
    uid = new_uid()
    api.hit(site, uid, T0)
    r = api.client.get(
        "/api/management/update_lead_tags", params={"userId": uid, "leadTags": "web"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["leadTags"] == ["web"]
    bad = api.client.get(
        "/api/management/update_lead_tags",
        params={"userId": uid, "leadTags": "web", "apiKey": "wrong"},
    )
    assert bad.status_code == 401


# ------------------------------------------------------------------------------ auth
WRITES = [
    ("post", "/api/datasets", {"humanName": "x"}),
    ("get", "/api/datasets", None),
    ("put", "/api/datasets/site-a/name?humanName=x", None),
    ("delete", "/api/datasets/site-a", None),
    ("post", "/v1/datasets", {"humanName": "x"}),
    ("get", "/v1/users/datasets", None),
    ("put", "/v1/datasets/site-a/name?humanName=x", None),
    ("delete", "/v1/datasets/site-a", None),
    ("put", "/v1/management/lead-tags", {"datasetId": "site-a", "leadId": "1", "leadTags": ""}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_missing_or_wrong_key_is_401(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    r = api.client.request(method, path, json=body)
    assert r.status_code == 401 and r.json() == UNAUTHORIZED
    r = api.client.request(method, path, json=body, headers={"x-api-key": "nope"})
    assert r.status_code == 401 and r.json() == UNAUTHORIZED


def test_limited_key(api: Api) -> None:
    lim = {"x-api-key": LIMITED}
    # cannot create (decision: a limited key could not read the new dataset anyway)
    for path in ("/api/datasets", "/v1/datasets"):
        r = api.client.post(path, json={"humanName": "x"}, headers=lim)
        assert r.status_code == 403 and r.json()["error"] == "Forbidden"
    # nothing outside its datasets
    site = new_site("mgmt")
    uid = new_uid()
    api.hit(site, uid, T0)
    for method, path in (
        ("put", f"/api/datasets/{site}/name?humanName=x"),
        ("delete", f"/api/datasets/{site}"),
        ("put", f"/v1/datasets/{site}/name?humanName=x"),
        ("delete", f"/v1/datasets/{site}"),
    ):
        r = api.client.request(method, path, headers=lim)
        assert r.status_code == 403, (method, path, r.text)
    assert _v1_tags(api, site, uid, "x", key=LIMITED).status_code == 403
    r = api.client.get(
        "/api/management/update_lead_tags",
        params={"userId": uid, "leadTags": "x", "site": site},
        headers=lim,
    )
    assert r.status_code == 403
    # without a site the limited key only finds leads in its own datasets
    r = api.client.get(
        "/api/management/update_lead_tags", params={"userId": uid, "leadTags": "x"}, headers=lim
    )
    assert r.status_code == 404
    assert api.v1(f"/v1/leads/{uid}", site=site).json()["leadTags"] == []
    # inside its datasets it may tag, and it lists only its own datasets
    mine = new_uid()
    api.hit("site-a", mine, T0)
    r = _v1_tags(api, "site-a", mine, "ok", key=LIMITED)
    assert r.status_code == 200 and r.json()["leadTags"] == ["ok"]
    assert set(_v1_names(api, LIMITED)) <= {"site-a", "site-b"}


# ------------------------------------------------------------------------------ malformed
BAD_CREATE = [
    (b"{not json", "body"),
    (b"[1, 2]", "body"),
    (b"", "body"),
    (b'{"timezone": "UTC"}', "humanName"),
    (b'{"humanName": "   "}', "humanName"),
    (b'{"humanName": 5}', "humanName"),
    (b'{"humanName": "' + b"n" * 129 + b'"}', "humanName"),
    (b'{"humanName": "x", "timezone": "Mars/Base"}', "timezone"),
    (b'{"humanName": "x", "userIds": ["a"]}', "userIds"),
    (b'{"humanName": "x", "emails": "a@b.c"}', "emails"),
    (b'{"humanName": "x", "sendEmail": "yes"}', "sendEmail"),
    (b'{"humanName": "x", "datasetId": "a/b c"}', "datasetId"),
]


@pytest.mark.parametrize(("body", "param"), BAD_CREATE)
def test_malformed_create_is_400(api: Api, body: bytes, param: str) -> None:
    for path in ("/api/datasets", "/v1/datasets"):
        r = api.client.post(path, content=body, headers={**H, "content-type": "application/json"})
        assert r.status_code == 400, (path, r.text)
        assert r.json()["error"] == "bad_parameter"
        assert r.json()["message"].startswith(param + ":"), r.json()


def test_malformed_rename_and_tags_are_400(api: Api) -> None:
    site = new_site("tags")
    uid = new_uid()
    api.hit(site, uid, T0)

    def check(r: httpx.Response, param: str) -> None:
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "bad_parameter"
        assert r.json()["message"].startswith(param + ":"), r.json()

    check(api.client.put(f"/v1/datasets/{site}/name", headers=H), "humanName")
    check(api.client.put(f"/api/datasets/{site}/name", params={"apiKey": KEY}), "humanName")
    check(_v1_tags(api, site, uid, 5), "leadTags")
    check(_v1_tags(api, site, uid, "a,,b"), "leadTags")
    check(_v1_tags(api, site, uid, "x" * 65), "leadTags")
    check(_v1_tags(api, site, uid, ["a,b"]), "leadTags")
    check(_v1_tags(api, site, 7, "a"), "leadId")
    check(_v1_tags(api, "", uid, "a"), "datasetId")
    r = api.client.put(
        "/v1/management/lead-tags", json={"datasetId": site, "leadId": uid}, headers=H
    )
    check(r, "leadTags")
    r = api.client.put("/v1/management/lead-tags", content=b"nope", headers=H)
    check(r, "body")
    check(_legacy_tags(api, uid, "a", action="toggle"), "action")
    check(api.legacy("/api/management/update_lead_tags", leadTags="a"), "userId")
    check(api.legacy("/api/management/update_lead_tags", userId=uid), "leadTags")
    check(_legacy_tags(api, uid, "bad\ttag"), "leadTags")
    assert _tags_everywhere(api, site, uid) == []


# ------------------------------------------------------------------------------ restart
def test_datasets_and_tags_survive_a_restart(tmp_path: Path) -> None:
    settings = Settings(db=str(tmp_path / "restart.duckdb"), api_keys=(KEY,))
    site, uid = "restart-site", new_uid()
    with served(create_app(settings, Store(settings.db))) as client:
        r = client.post("/v1/datasets", json={"humanName": "Kept", "datasetId": site}, headers=H)
        assert r.status_code == 200, r.text
        client.get("/", params={"si": site, "uid": uid, "t_ms": str(T0)})
        r = client.put(
            "/v1/management/lead-tags",
            json={"datasetId": site, "leadId": uid, "leadTags": "kept"},
            headers=H,
        )
        assert r.status_code == 200, r.text
    with served(create_app(settings, Store(settings.db))) as client:
        data = client.get("/v1/users/datasets", headers=H).json()["data"]
        assert [(d["datasetId"], d["humanName"]) for d in data] == [(site, "Kept")]
        lead = client.get(f"/v1/leads/{uid}", params={"site": site}, headers=H).json()
        assert lead["leadTags"] == ["kept"]
