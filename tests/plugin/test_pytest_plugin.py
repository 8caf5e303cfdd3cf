"""SPEC 7.2: the `fakeboxer` pytest fixture, as a user's own test suite gets it. Each test
runs a small user test file in a separate pytest process (pytester), with no conftest
and no `pytest_plugins`: the fixture can only come from the installed package's
`pytest11` entry point."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

pytest_plugins = ["pytester"]

RUN_TIMEOUT = 180  # a safety net for a hung child pytest, not a measured duration

USER_TESTS = """
import json
import pathlib
import urllib.error
import urllib.request

import pytest

from collector.testing import FakeboxerTimeout

URLS = []


def test_hits_become_leads(fakeboxer):
    URLS.append(fakeboxer.url)
    pathlib.Path("server_url.txt").write_text(fakeboxer.url)
    assert fakeboxer.url.startswith("http://127.0.0.1:")
    ada = fakeboxer.hit(si="shop", ti="Signup", email="ada@example.com", plan="pro")
    fakeboxer.hit(si="shop", ti="Pricing", uid=ada["userId"])
    fakeboxer.hit(si="shop", ti="Somebody else")
    events = fakeboxer.wait_for(count=3, site="shop", timeout=5)
    assert sorted(e["ti"] for e in events) == ["Pricing", "Signup", "Somebody else"]
    leads = {lead["use_id"]: lead for lead in fakeboxer.leads(site="shop")}
    assert len(leads) == 2
    assert leads[ada["userId"]]["email"] == "ada@example.com"
    assert leads[ada["userId"]]["total_events"] == 2
    assert leads[ada["userId"]]["plan"] == "pro"


def test_every_test_starts_from_an_empty_server(fakeboxer):
    assert fakeboxer.url == URLS[0]  # one server for the session
    assert fakeboxer.events() == []
    assert fakeboxer.leads(site="shop") == []


def test_the_default_dataset_and_reset_of_one_dataset(fakeboxer):
    fakeboxer.hit(ti="Default dataset")
    fakeboxer.hit(si="keep", ti="Kept")
    assert [e["ti"] for e in fakeboxer.events(site="test")] == ["Default dataset"]
    fakeboxer.reset(site="test")
    assert fakeboxer.leads() == []
    assert [e["ti"] for e in fakeboxer.events()] == ["Kept"]


def test_the_api_key_is_the_servers(fakeboxer):
    fakeboxer.hit(si="shop", ti="Hello")
    url = fakeboxer.url + "/v1/leads?site=shop"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url)
    assert refused.value.code == 401
    request = urllib.request.Request(url, headers={"x-api-key": fakeboxer.api_key})
    with urllib.request.urlopen(request) as answer:
        assert json.load(answer)["total"] == 1


def test_wait_for_says_what_it_saw(fakeboxer):
    fakeboxer.hit(si="shop", ti="Only one")
    with pytest.raises(FakeboxerTimeout, match="wanted 2 event.*1 stored.*Only one"):
        fakeboxer.wait_for(count=2, site="shop", timeout=0.2)
"""


def test_a_user_suite_gets_the_fixture_from_the_installed_package(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_user_suite=USER_TESTS)
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["plugins:*fakeboxer-*"])

    # The session's server was stopped when that pytest run ended.
    url = (pytester.path / "server_url.txt").read_text()
    address = urlsplit(url)
    with pytest.raises(ConnectionRefusedError), socket.socket() as s:
        s.connect((address.hostname or "", address.port or 0))


def test_the_fixture_is_the_fakeboxer_plugins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_uses_it(fakeboxer):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:fakeboxer", timeout=RUN_TIMEOUT)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'fakeboxer' not found*"])


def test_a_server_that_cannot_start_is_reported_with_its_output(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nfakeboxer_args = --session-timeout never\n")
    pytester.makepyfile("def test_uses_it(fakeboxer):\n    pass\n")
    result = pytester.runpytest_subprocess(timeout=RUN_TIMEOUT)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*FakeboxerError: the fakeboxer server exited with code 2*",
            "*fakeboxer: --session-timeout: expected a duration like 30m*got 'never'*",
        ]
    )
