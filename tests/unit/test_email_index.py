"""The collector's email index: first claim wins, and a reset forgets exactly the claims
made before it was queued (collector.routes.EmailIndex)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.routes import EmailIndex


def test_first_claim_wins_per_dataset() -> None:
    index = EmailIndex({("a", "x@e.test"): "u0"})
    assert index.claim("a", "x@e.test", "u1") == "u0"
    assert index.claim("b", "x@e.test", "u1") is None
    assert index.owner("b", "x@e.test") == "u1"
    assert index.owner("a", "y@e.test") is None


@pytest.mark.parametrize(
    ("site", "kept"),
    [
        ("a", {("a", "late@e.test"), ("b", "early@e.test"), ("b", "late@e.test")}),
        (None, {("a", "late@e.test"), ("b", "late@e.test")}),
    ],
)
def test_reset_forgets_claims_before_its_mark_only(
    site: str | None, kept: set[tuple[str, str]]
) -> None:
    index = EmailIndex()
    index.claim("a", "early@e.test", "u1")
    index.claim("b", "early@e.test", "u2")
    mark = index.mark()
    index.claim("a", "late@e.test", "u3")  # accepted while the reset ran
    index.claim("b", "late@e.test", "u4")
    index.forget(site, mark)
    present = {
        (s, e)
        for s in ("a", "b")
        for e in ("early@e.test", "late@e.test")
        if index.owner(s, e) is not None
    }
    assert present == kept


def test_loaded_owners_go_with_a_reset() -> None:
    index = EmailIndex({("a", "x@e.test"): "u0", ("b", "x@e.test"): "u9"})
    index.forget("a", index.mark())
    assert index.owner("a", "x@e.test") is None
    assert index.owner("b", "x@e.test") == "u9"


ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("claim"),
            st.sampled_from(["a", "b"]),
            st.sampled_from(["p@e", "q@e", "r@e"]),
            st.sampled_from(["u1", "u2", "u3"]),
        ),
        st.tuples(st.just("reset"), st.sampled_from(["a", "b", None]), st.just(""), st.just("")),
    ),
    max_size=40,
)


@given(ops)
def test_index_equals_a_replay_of_what_survives(sequence: list[tuple[str, ...]]) -> None:
    """The index after any mix of claims and resets (each reset applied at once) equals
    the index built by replaying only the claims no later reset removed."""
    index = EmailIndex()
    log: list[tuple[str, str, str]] = []
    for op, site, email, user in sequence:
        if op == "claim":
            index.claim(site, email, user)
            log.append((site, email, user))
        else:
            index.forget(site, index.mark())
            log = [c for c in log if site is not None and c[0] != site]
    model: dict[tuple[str, str], str] = {}
    for claim_site, claim_email, claim_user in log:
        model.setdefault((claim_site, claim_email), claim_user)
    for s in ("a", "b"):
        for e in ("p@e", "q@e", "r@e"):
            assert index.owner(s, e) == model.get((s, e))
