"""Which requests come from bots, so that the figures count people.

The patterns are the community's list of crawler user agents (the `crawler-user-agents`
package: search engines, SEO tools, monitors, feed readers, HTTP libraries such as curl,
Wget, python-requests, Go's client), kept up to date upstream instead of by us. Two
decisions of our own on top of it:

- No user agent at all is a bot: every browser sends one.
- Headless Chrome ("HeadlessChrome" in the user agent) counts as a visitor, although the
  list names it. The shop's own browser tests drive headless Chromium and must see their
  visits recorded (tests/browser/test_consent.py proves that the crawl records without
  setting anything in the browser). The price is that a scraper which keeps headless
  Chrome's default user agent is counted too; it still has to fetch pages like a person.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

COUNTED_ANYWAY = frozenset({"HeadlessChrome"})


@cache
def _pattern() -> re.Pattern[str]:
    # Imported here: the package reads its JSON list when imported (no work at import time).
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    patterns = [
        entry["pattern"]
        for entry in CRAWLER_USER_AGENTS_DATA
        if entry["pattern"] not in COUNTED_ANYWAY
    ]
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


@lru_cache(maxsize=4096)
def is_bot(user_agent: str | None) -> bool:
    """Whether a request with this User-Agent header comes from a bot (cached: a shop
    sees the same few hundred user agents again and again)."""
    if not user_agent or not user_agent.strip():
        return True
    return _pattern().search(user_agent) is not None
