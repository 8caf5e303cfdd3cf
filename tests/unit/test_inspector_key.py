"""Which API key the inspector page is served with (collector.inspector.page_key)."""

from __future__ import annotations

import pytest

from api.auth import ApiKey, parse_key
from collector.inspector import page_key

SHOP = parse_key("key-for-shop:shop")
BLOG = parse_key("key-for-blog:blog,news")
ALL = parse_key("key-for-everything")


@pytest.mark.parametrize(
    ("keys", "given", "site", "expected"),
    [
        # the caller's own key, when it is one of the server's
        ([SHOP, ALL], "key-for-shop", None, "key-for-shop"),
        ([SHOP, ALL], "key-for-shop", "blog", "key-for-shop"),  # its 403s are honest
        # no key or an unknown one: the server's, one that reads everything first
        ([SHOP, ALL], None, None, "key-for-everything"),
        ([SHOP, ALL], "key-of-another-server", "shop", "key-for-everything"),
        # only limited keys: one that reads the page's dataset, else the first
        ([SHOP, BLOG], None, "news", "key-for-blog"),
        ([SHOP, BLOG], None, "shop", "key-for-shop"),
        ([SHOP, BLOG], None, "elsewhere", "key-for-shop"),
        ([SHOP, BLOG], None, None, "key-for-shop"),
        ([], None, None, ""),
    ],
)
def test_page_key(keys: list[ApiKey], given: str | None, site: str | None, expected: str) -> None:
    assert page_key(keys, given, site) == expected
