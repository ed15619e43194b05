"""Which user agents the analytics leave out, and how search words are counted."""

from __future__ import annotations

import pytest

from kiosk.analytics.bots import is_bot
from kiosk.analytics.tracking import normalise_query, visitor_hash

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    "user_agent",
    [
        "",
        "   ",
        None,
        "curl/8.5.0",
        "Wget/1.21.3",
        "python-requests/2.32.3",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    ],
)
def test_bots_and_requests_without_a_user_agent_are_bots(user_agent: str | None) -> None:
    assert is_bot(user_agent)


@pytest.mark.parametrize(
    "user_agent",
    [
        CHROME,
        CHROME.replace("Chrome/", "HeadlessChrome/"),  # counted: see kiosk.analytics.bots
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    ],
)
def test_browsers_are_visitors(user_agent: str) -> None:
    assert not is_bot(user_agent)


def test_search_words_are_case_folded_collapsed_and_cut_at_100_characters() -> None:
    assert normalise_query("  Grüner   TEE\t straße ") == "grüner tee strasse"
    assert len(normalise_query("x" * 300)) == 100
    assert normalise_query("a" * 99 + "  b") == "a" * 99


def test_the_visitor_hash_depends_on_salt_address_and_user_agent() -> None:
    one = visitor_hash(b"s" * 32, "203.0.113.5", CHROME)
    assert len(one) == 32 and int(one, 16) >= 0
    assert one == visitor_hash(b"s" * 32, "203.0.113.5", CHROME)
    assert one != visitor_hash(b"t" * 32, "203.0.113.5", CHROME)
    assert one != visitor_hash(b"s" * 32, "203.0.113.6", CHROME)
    assert one != visitor_hash(b"s" * 32, "203.0.113.5", CHROME + " ")
