"""SPEC 5.3: search, filters, sorts, period, score; malformed values → 400, never 500."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import DAY, MIN, T0, Api, new_site, new_uid

AMS = ZoneInfo("Europe/Amsterdam")


def ids(api: Api, site: str, **params: object) -> list[str]:
    r = api.v1("/v1/leads", site=site, limit=1000, **params)
    assert r.status_code == 200, r.text
    return [lead["use_id"] for lead in r.json()["data"]]


@pytest.fixture(scope="module")
def crowd(api: Api) -> tuple[str, dict[str, str]]:
    site = new_site("q")
    u = {name: new_uid() for name in ("ann", "bob", "cat", "dan", "eve")}
    api.hit(
        site,
        u["ann"],
        T0,
        email="ann@acme.example",
        firstName="Ann",
        lastName="Smith",
        lc="https://shop.example/pricing",
        organizationName="Acme",
        visits_note="x",
    )
    api.hit(site, u["ann"], T0 + 1 * MIN, lc="https://shop.example/checkout")
    api.hit(site, u["ann"], T0 + 2 * DAY, lc="https://shop.example/again")
    api.hit(
        site,
        u["bob"],
        T0 + 10 * MIN,
        email="bob@globex.example",
        lc="https://shop.example/blog",
        plan="gold",
        seats="12",
    )
    api.hit(
        site, u["cat"], T0 + 20 * MIN, company="Initech", lc="https://shop.example/jobs", seats="3"
    )
    api.hit(site, u["dan"], T0 + 30 * MIN, lc="https://other.example/", plan="Silver")
    api.hit(site, u["eve"], T0 - 5 * DAY, lc="https://shop.example/old")
    return site, u


def test_search(api: Api, crowd: tuple[str, dict[str, str]]) -> None:
    site, u = crowd
    assert ids(api, site, search="ANN") == [u["ann"]]
    assert ids(api, site, search="ann smith") == [u["ann"]]
    assert ids(api, site, search="globex") == [u["bob"]]
    assert ids(api, site, search="initech") == [u["cat"]]
    assert set(ids(api, site, search="shop.example")) == {u["ann"], u["bob"], u["cat"], u["eve"]}
    assert len(ids(api, site, search="*")) == 5
    assert ids(api, site, search="%") == []  # no LIKE wildcards
    assert ids(api, site, search="nothing-matches") == []


def test_text_filters(api: Api, crowd: tuple[str, dict[str, str]]) -> None:
    site, u = crowd
    assert ids(api, site, criteriaTextFilter="plan|is|GOLD") == [u["bob"]]
    assert set(ids(api, site, criteriaTextFilter="plan|is|gold;silver")) == {u["bob"], u["dan"]}
    assert u["bob"] not in ids(api, site, criteriaTextFilter="plan|isnot|gold")
    assert set(ids(api, site, criteriaTextFilter="email|contains|example")) == {u["ann"], u["bob"]}
    assert set(ids(api, site, criteriaTextFilter="email|doesnotcontain|acme")) == {
        u["bob"],
        u["cat"],
        u["dan"],
        u["eve"],
    }
    assert ids(api, site, criteriaTextFilter="email|startswith|ann,email|endswith|.example") == [
        u["ann"]
    ]
    assert ids(api, site, criteriaTextFilter="last_original_url|contains|again") == [u["ann"]]
    # a property name that looks like a JSON path is data, not syntax
    assert ids(api, site, criteriaTextFilter="a.b|is|x") == []


def test_number_filters(api: Api, crowd: tuple[str, dict[str, str]]) -> None:
    site, u = crowd
    assert ids(api, site, criteriaNumberFilter="seats|greaterthan|5") == [u["bob"]]
    assert ids(api, site, criteriaNumberFilter="seats|lessthan|5") == [u["cat"]]
    assert set(ids(api, site, criteriaNumberFilter="seats|between|3-12")) == {u["bob"], u["cat"]}
    assert u["cat"] not in ids(api, site, criteriaNumberFilter="seats|notbetween|1-5")
    assert ids(api, site, criteriaNumberFilter="total_number_visits|is|2") == [u["ann"]]
    assert u["ann"] not in ids(api, site, criteriaNumberFilter="total_number_visits|isnot|2")
    assert ids(api, site, criteriaNumberFilter="total_pages_viewed|greaterthan|2") == [u["ann"]]


def test_time_filters_use_time_zone_days(api: Api, crowd: tuple[str, dict[str, str]]) -> None:
    site, u = crowd
    now = T0 + 2 * DAY + 60 * MIN  # 23:13 UTC on Nov 16 = 00:13 Nov 17 in Amsterdam
    api.set_now(now)
    try:
        assert ids(api, site, criteriaTimeFilter="eventEsTimestamp|exactly|0") == []
        assert ids(api, site, criteriaTimeFilter="eventEsTimestamp|exactly|1") == [u["ann"]]
        assert ids(api, site, timeZone="UTC", criteriaTimeFilter="lastEvent|exactly|0") == [
            u["ann"]
        ]
        three_days_ago = set(ids(api, site, criteriaTimeFilter="lastEvent|exactly|3"))
        assert three_days_ago == {u["bob"], u["cat"], u["dan"]}
        utc = set(ids(api, site, timeZone="UTC", criteriaTimeFilter="lastEvent|exactly|2"))
        assert utc == {u["bob"], u["cat"], u["dan"]}
        week = set(ids(api, site, criteriaTimeFilter="first_session_unix_timestamp|lessthan|6"))
        assert week == {u["ann"], u["bob"], u["cat"], u["dan"]}
        older = ids(api, site, criteriaTimeFilter="first_session_unix_timestamp|greaterthan|6")
        assert older == [u["eve"]]
        day = datetime.fromtimestamp(T0 / 1000, AMS).strftime("%d/%m/%Y")
        between = set(
            ids(api, site, criteriaTimeFilter=f"first_session_unix_timestamp|between|{day}-{day}")
        )
        assert between == {u["ann"], u["bob"], u["cat"], u["dan"]}
        # period counts back from the server clock
        assert ids(api, site, period="1d") == [u["ann"]]
        assert len(ids(api, site, period="7d")) == 4
        assert len(ids(api, site, period="1y")) == 5
        assert len(ids(api, site, period="7d", timeField="first_session_unix_timestamp")) == 4
    finally:
        api.app.state.clock.set_offset(0)


def test_field_display_exit_filters(api: Api, crowd: tuple[str, dict[str, str]]) -> None:
    site, u = crowd
    assert set(ids(api, site, criteriaFieldFilter="hasanyvalue|firstName;company")) == {
        u["ann"],
        u["cat"],
    }
    assert ids(api, site, criteriaFieldFilter="hasallvalues|firstName;email") == [u["ann"]]
    assert set(ids(api, site, criteriaDisplayFilter="company")) == {u["ann"], u["cat"]}
    assert set(ids(api, site, criteriaDisplayFilter="person")) == {u["ann"], u["bob"]}
    assert set(ids(api, site, criteriaDisplayFilter="unidentified")) == {u["dan"], u["eve"]}
    assert set(ids(api, site, criteriaDisplayFilter="company;person")) == {
        u["ann"],
        u["bob"],
        u["cat"],
    }
    assert ids(api, site, criteriaExitLinkFilter="exit_link|contains|checkout") == [u["ann"]]
    assert u["ann"] not in ids(
        api, site, criteriaExitLinkFilter="exit_link|doesnotcontain|checkout;jobs"
    )
    assert u["cat"] not in ids(
        api, site, criteriaExitLinkFilter="exit_link|doesnotcontain|checkout;jobs"
    )


def test_sorts_and_score(api: Api, crowd: tuple[str, dict[str, str]]) -> None:
    site, u = crowd
    assert ids(api, site)[0] == u["ann"]  # lastEvent desc by default
    assert ids(api, site, sortBy="lastEvent|asc")[0] == u["eve"]
    assert ids(api, site, sortBy="first_session_unix_timestamp|asc")[:2] == [u["eve"], u["ann"]]
    assert ids(api, site, sortBy="total_number_visits|desc")[0] == u["ann"]
    data = api.v1("/v1/leads", site=site, sortBy="_score|desc").json()["data"]
    scores = [int(lead["esScore"]) for lead in data]
    assert scores == sorted(scores, reverse=True) and data[0]["use_id"] == u["ann"]
    # ann: email 30, firstName 5, lastName 5, organizationName 15, 2 visits 10, 3 pages 5
    assert data[0]["esScore"] == "70"
    assert ids(api, site, criteriaLeadscoreFilter="60") == [u["ann"]]
    assert set(ids(api, site, criteriaLeadscoreFilter="0")) == {u["ann"], u["bob"], u["cat"]}
    custom = api.v1(
        "/v1/leads",
        site=site,
        sortBy="_score|desc",
        leadscoreRules="plan|silver|70,root_url|shop.example/jobs|20",
    ).json()["data"]
    assert [(d["use_id"], d["esScore"]) for d in custom[:2]] == [(u["dan"], "70"), (u["cat"], "20")]
    range_rule = api.v1(
        "/v1/leads",
        site=site,
        sortBy="_score|desc",
        leadscoreRules="user.total_number_visits.total_number_visits_long|2|5|2.3",
    ).json()
    assert range_rule["data"][0]["esScore"] == "2"


BAD = [
    ("limit", "0"),
    ("limit", "1001"),
    ("limit", "ten"),
    ("limit", "1e3"),
    ("sortBy", "lastEvent|sideways"),
    ("sortBy", "drop table|desc"),
    ("sortBy", "a|b|c"),
    ("period", "7x"),
    ("period", "-1d"),
    ("timeZone", "Mars/Base"),
    ("timeZone", "../etc/passwd"),
    ("timeField", "email"),
    ("nextToken", "garbage!"),
    ("nextToken", "WyJ4Il0"),
    ("criteriaTextFilter", "email|like|x"),
    ("criteriaTextFilter", "email|is"),
    ("criteriaTextFilter", "em'ail|is|x"),
    ("criteriaTextFilter", 'a"b|is|x'),
    ("criteriaNumberFilter", "seats|greaterthan|many"),
    ("criteriaNumberFilter", "seats|between|5"),
    ("criteriaNumberFilter", "seats|between|9-1"),
    ("criteriaNumberFilter", "seats|around|1"),
    ("criteriaTimeFilter", "lastEvent|exactly|x"),
    ("criteriaTimeFilter", "email|exactly|0"),
    ("criteriaTimeFilter", "lastEvent|between|31/02/2024-01/03/2024"),
    ("criteriaTimeFilter", "lastEvent|between|2024-01-01"),
    ("criteriaTimeFilter", "lastEvent|between|02/01/2024-01/01/2024"),
    ("criteriaFieldFilter", "hasany|email"),
    ("criteriaFieldFilter", "hasanyvalue|"),
    ("criteriaExitLinkFilter", "exit_link|near|x"),
    ("criteriaDisplayFilter", "robots"),
    ("criteriaLeadscoreFilter", "101"),
    ("criteriaLeadscoreFilter", "high"),
    ("leadscoreRules", "email|x"),
    ("leadscoreRules", "a|b|c|d|e"),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_malformed_parameters_are_400(api: Api, name: str, value: str) -> None:
    for path in ("/v1/leads", "/api/views/c_view_leads"):
        r = api.v1(path, site="any", **{name: value})
        assert r.status_code == 400, (name, value, r.text)
        body = r.json()
        assert body["error"] == "bad_parameter" and name in body["message"]


def test_missing_required_parameters(api: Api) -> None:
    for path, name in (
        ("/v1/leads", "site"),
        ("/api/views/c_view_leads", "site"),
        ("/api/views/lead_detail", "leadId"),
        ("/api/leads/sessions", "leadId"),
        ("/api/leads/events", "sessionId"),
        ("/v1/leads/sessions", "leadId"),
        ("/v1/leads/events", "sessionId"),
        ("/v1/ip-lookup", "ip"),
        ("/v1/domain-lookup", "domain"),
    ):
        r = api.v1(path)
        assert r.status_code == 400 and name in r.json()["message"], (path, r.text)


def test_token_of_another_sort_is_rejected(api: Api, crowd: tuple[str, dict[str, str]]) -> None:
    site, _ = crowd
    token = api.v1("/v1/leads", site=site, limit=1).json()["nextToken"]
    assert token
    r = api.v1("/v1/leads", site=site, limit=1, nextToken=token, sortBy="_score|desc")
    assert r.status_code == 400 and "nextToken" in r.json()["message"]
    assert api.v1("/v1/leads/sessions", leadId="x", nextToken=token).status_code == 400


NAMES = st.sampled_from(
    [
        "search",
        "limit",
        "nextToken",
        "sortBy",
        "period",
        "timeField",
        "timeZone",
        "criteriaTextFilter",
        "criteriaNumberFilter",
        "criteriaTimeFilter",
        "criteriaFieldFilter",
        "criteriaExitLinkFilter",
        "criteriaDisplayFilter",
        "criteriaLeadscoreFilter",
        "leadscoreRules",
    ]
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="|,;-/0123456789abcdefghijklmnopqrstuvwxyz_.'\"%*", max_size=40),
    st.sampled_from(
        [
            "email|is|x",
            "seats|between|1-2",
            "lastEvent|exactly|0",
            "hasanyvalue|a",
            "_score|desc",
            "1d",
            "company",
            "lastEvent|between|01/01/2024-02/01/2024",
        ]
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(NAMES, VALUES, max_size=4))
def test_no_parameter_combination_gives_500(api: Api, params: dict[str, str]) -> None:
    r = api.v1("/v1/leads", site="fuzz", **params)
    assert r.status_code in (200, 400), (params, r.text)
    if r.status_code == 400:
        assert r.json()["error"] == "bad_parameter"
