"""Unit tests of collector.enrich: channel, browser and platform (SPEC 4.2)."""

from __future__ import annotations

import pytest

from collector.enrich import (
    CLICK_IDS,
    browser_of,
    channel_of,
    external_referrer,
    host_of,
    platform_of,
)

PAGE = "https://shop.example/pricing?x=1"

# --------------------------------------------------------------------------- channel_of


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        # paid: click ids and paid mediums
        *[pytest.param({click_id: "abc123"}, "paid", id=click_id) for click_id in CLICK_IDS],
        pytest.param({"utm_source": "google", "utm_medium": "cpc"}, "paid", id="cpc"),
        pytest.param({"utm_source": "bing", "utm_medium": "ppc"}, "paid", id="ppc"),
        pytest.param({"utm_medium": "paidsearch"}, "paid", id="paidsearch"),
        pytest.param({"utm_medium": " CPC "}, "paid", id="medium-case-and-spaces"),
        pytest.param({"utm_medium": "display"}, "paid", id="display"),
        pytest.param({"utm_medium": "email", "gclid": "x"}, "paid", id="click-id-beats-email"),
        # email
        pytest.param({"utm_medium": "email", "utm_source": "mailchimp"}, "email", id="email"),
        pytest.param({"utm_medium": "E-Mail"}, "email", id="e-mail"),
        pytest.param({"utm_medium": "newsletter"}, "email", id="newsletter-medium"),
        pytest.param({"utm_source": "newsletter"}, "email", id="newsletter-source"),
        # social
        pytest.param({"utm_medium": "social", "utm_source": "linkedin"}, "social", id="social"),
        pytest.param({"utm_medium": "social-media"}, "social", id="social-media"),
        # organic
        pytest.param({"utm_medium": "organic", "utm_source": "google"}, "organic", id="organic"),
        # referral: any other campaign tagging
        pytest.param({"utm_medium": "referral", "utm_source": "partner"}, "referral", id="ref"),
        pytest.param({"utm_source": "partner"}, "referral", id="source-only"),
        pytest.param({"utm_campaign": "spring"}, "referral", id="campaign-only"),
        pytest.param({"utm_medium": "affiliate"}, "referral", id="other-medium"),
        # no signal at all
        pytest.param({}, None, id="nothing"),
        pytest.param({"color": "red", "ti": "Home"}, None, id="unrelated-props"),
        pytest.param({"utm_source": "", "utm_medium": "", "gclid": ""}, None, id="empty-values"),
    ],
)
def test_channel_of_campaign_signals(props: dict[str, str], expected: str | None) -> None:
    assert channel_of(props, None) == expected


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        ("https://www.google.com/", "organic"),
        ("https://www.google.co.uk/search?q=fakeboxer", "organic"),
        ("https://google.nl/", "organic"),
        ("https://www.bing.com/search?q=x", "organic"),
        ("https://duckduckgo.com/", "organic"),
        ("https://search.yahoo.com/search?p=x", "organic"),
        ("https://www.ecosia.org/", "organic"),
        ("https://www.linkedin.com/feed/", "social"),
        ("https://linkedin.com/", "social"),
        ("https://lnkd.in/abcd", "social"),
        ("https://t.co/xyz", "social"),
        ("https://l.facebook.com/l.php?u=x", "social"),
        ("https://m.facebook.com/", "social"),
        ("https://x.com/someone", "social"),
        ("https://www.youtube.com/watch?v=1", "social"),
        ("https://old.reddit.com/r/python", "social"),
        ("https://mail.google.com/mail/u/0/", "email"),
        ("https://outlook.live.com/mail/", "email"),
        ("https://outlook.office365.com/", "email"),
        ("https://webmail.provider.example/", "email"),
        ("https://news.ycombinator.com/item?id=1", "referral"),
        ("https://blog.partner.example/post", "referral"),
        ("https://www.notgoogle.example/", "referral"),
        ("https://microsoft.com/", "referral"),
        ("https://www.dropbox.com/", "referral"),
        ("https://netflix.com/", "referral"),
    ],
)
def test_channel_of_referrer(referrer: str, expected: str) -> None:
    assert channel_of({}, external_referrer(referrer, PAGE)) == expected


@pytest.mark.parametrize(
    ("props", "referrer", "expected"),
    [
        ({"utm_medium": "email"}, "https://www.google.com/", "email"),
        ({"utm_source": "partner"}, "https://www.linkedin.com/", "referral"),
        ({"gclid": "x"}, "https://www.linkedin.com/", "paid"),
        ({"color": "red"}, "https://www.linkedin.com/", "social"),
    ],
)
def test_campaign_signals_beat_the_referrer(
    props: dict[str, str], referrer: str, expected: str
) -> None:
    assert channel_of(props, referrer) == expected


@pytest.mark.parametrize(
    ("ref", "page", "expected"),
    [
        ("", PAGE, None),
        ("https://shop.example/", PAGE, None),
        ("https://www.shop.example/", PAGE, None),
        ("https://shop.example/", "https://www.shop.example/", None),
        ("http://SHOP.example/other", PAGE, None),
        ("https://www.google.com/", PAGE, "https://www.google.com/"),
        ("https://blog.shop.example/", PAGE, "https://blog.shop.example/"),
        ("https://www.google.com/", "", "https://www.google.com/"),
        ("not a url", PAGE, None),
        ("/relative/path", PAGE, None),
    ],
)
def test_external_referrer(ref: str, page: str, expected: str | None) -> None:
    assert external_referrer(ref, page) == expected


def test_same_site_referrer_gives_no_channel() -> None:
    assert channel_of({}, external_referrer("https://shop.example/", PAGE)) is None
    assert channel_of({}, external_referrer("https://www.google.com/", PAGE)) == "organic"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.google.com/search", "google.com"),
        ("https://WWW.Example.COM:8443/x", "example.com"),
        ("http://sub.www.example.com/", "sub.www.example.com"),
        ("http://[::1]:8080/", "::1"),
        ("http://[bad/", ""),
        ("", ""),
        ("no scheme", ""),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


# --------------------------------------------------------------------------- user agents

UA = {
    "chrome_windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.6367.91 Safari/537.36"
    ),
    "chrome_mac": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36"
    ),
    "chrome_os": (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36"
    ),
    "firefox_windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
    ),
    "firefox_linux": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "firefox_mac": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0"
    ),
    "safari_mac": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"
    ),
    "edge_windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67"
    ),
    "opera_windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0"
    ),
    "iphone_safari": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
    ),
    "iphone_chrome": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1"
    ),
    "iphone_firefox": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15"
    ),
    "iphone_edge": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 EdgiOS/124.2478.71 Mobile/15E148 Safari/605.1.15"
    ),
    "ipad_safari": (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
    ),
    "android_chrome": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36"
    ),
    "android_pixel": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.6367.82 Mobile Safari/537.36"
    ),
    "android_samsung": (
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 "
        "(KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"
    ),
    "android_firefox": "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
    "android_edge": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64"
    ),
    "ie11": "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "curl": "curl/8.5.0",
    "requests": "python-requests/2.31.0",
    "bot": "Googlebot-Image/1.0",
    "empty": "",
}


@pytest.mark.parametrize(
    ("ua", "browser", "version", "platform"),
    [
        ("chrome_windows", "Chrome", "124.0.6367.91", "Windows NT 10.0"),
        ("chrome_mac", "Chrome", "124.0.0.0", "Intel Mac OS X 10.15.7"),
        ("chrome_os", "Chrome", "124.0.0.0", "Chrome OS"),
        ("firefox_windows", "Firefox", "125.0", "Windows NT 10.0"),
        ("firefox_linux", "Firefox", "125.0", "Linux"),
        ("firefox_mac", "Firefox", "125.0", "Intel Mac OS X 10.15"),
        ("safari_mac", "Safari", "17.4.1", "Intel Mac OS X 10.15.7"),
        ("edge_windows", "Edge", "124.0.2478.67", "Windows NT 10.0"),
        ("opera_windows", "Opera", "110.0.0.0", "Windows NT 10.0"),
        ("iphone_safari", "Safari", "17.4.1", "iOS 17.4.1"),
        ("iphone_chrome", "Chrome", "124.0.6367.88", "iOS 17.4"),
        ("iphone_firefox", "Firefox", "125.0", "iOS 17.4.1"),
        ("iphone_edge", "Edge", "124.2478.71", "iOS 17.4"),
        ("ipad_safari", "Safari", "16.6", "iPadOS 16.6"),
        ("android_chrome", "Chrome", "124.0.0.0", "Android 10"),
        ("android_pixel", "Chrome", "124.0.6367.82", "Android 14"),
        ("android_samsung", "Samsung Internet", "24.0", "Android 13"),
        ("android_firefox", "Firefox", "125.0", "Android 14"),
        ("android_edge", "Edge", "124.0.2478.64", "Android 10"),
        ("ie11", "Internet Explorer", "11.0", "Windows NT 10.0"),
        ("curl", "curl", "8.5.0", ""),
        ("requests", "python-requests", "2.31.0", ""),
        ("bot", "", "", ""),
        ("empty", "", "", ""),
    ],
)
def test_browser_and_platform(ua: str, browser: str, version: str, platform: str) -> None:
    assert browser_of(UA[ua]) == (browser, version)
    assert platform_of(UA[ua]) == platform


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("facebook", "social"),
        ("LinkedIn", "social"),
        ("google", "organic"),
        ("www.bing.com", "organic"),
        ("partner-blog", "referral"),
    ],
)
def test_utm_source_without_medium_is_judged_by_name(source: str, expected: str) -> None:
    assert channel_of({"utm_source": source}, None) == expected
