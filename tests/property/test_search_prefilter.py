"""The lead search's substring prefilter never drops a lead the exact test would keep:
for any stored leads and any search term, prefiltered and exact search agree."""

from __future__ import annotations

import string

import duckdb
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from api import queries
from collector.storage.schema import migrate

FIELDS = (
    "firstName",
    "lastName",
    "name",
    "fullName",
    "company",
    "companyName",
    "organizationName",
    "organizationDomain",
    "lc",
    "plan",
)
ALPHABET = string.ascii_letters + string.digits + ' "\\\n\t.@-_/éÅ'

values = st.text(alphabet=ALPHABET, max_size=12)
leads = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(FIELDS), values, max_size=5),
        st.one_of(st.none(), values),  # email
        values,  # landing page
    ),
    min_size=1,
    max_size=6,
)

CON = duckdb.connect()
migrate(CON)


def search(term: str, exact_only: bool) -> list[str]:
    sql, params = (
        (f"contains({queries.SEARCH_SQL}, lower(?))", (term,))
        if exact_only
        else (queries.search_condition(term))
    )
    rows = CON.execute(
        f"SELECT u.user_id FROM users u WHERE {sql} ORDER BY u.user_id", list(params)
    ).fetchall()
    return [r[0] for r in rows]


@settings(max_examples=150, deadline=None)
@given(stored=leads, data=st.data())
def test_prefiltered_search_equals_exact_search(
    stored: list[tuple[dict[str, str], str | None, str]], data: st.DataObject
) -> None:
    CON.execute("DELETE FROM users")
    texts = []
    for i, (props, email, landing) in enumerate(stored):
        CON.execute(
            "INSERT INTO users (site, user_id, email, first_ms, last_ms, events, pages, "
            "first_landing_page, props, fold) VALUES ('s', ?, ?, 0, 0, 1, 1, ?, ?, '{}')",
            [f"1700000000000.{100000000 + i}", email, landing, orjson.dumps(props).decode()],
        )
        texts.extend([*props.values(), email or "", landing])
    source = data.draw(st.sampled_from(texts))
    start = data.draw(st.integers(0, len(source)))
    term = data.draw(st.one_of(st.just(source[start : start + 4]), values))
    if not term:
        return
    assert search(term, exact_only=False) == search(term, exact_only=True)
