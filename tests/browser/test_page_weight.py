"""The first visit of the home page stays light: under 150 KB on a phone and on a desktop.

Chromium reports what it received for each response (headers and the body as
sent, so compressed where the server compressed). The sum of every response
of the first load, with JavaScript on, an empty cache and the demo catalog,
must stay under the budget. Pictures are the heavy part: the cards ask for the
variant that fits their size (`srcset`/`sizes`), and only those near the
screen load at first (`loading="lazy"`).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser

BUDGET = 150 * 1024
VIEWPORTS = {
    "phone": {
        "viewport": {"width": 412, "height": 915},
        "device_scale_factor": 2.625,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1},
}


def first_load(
    browser: Browser, base_url: str, device: dict[str, Any], path: str
) -> dict[str, int]:
    """Bytes received per URL on the first load of `path` in a fresh browser context."""
    context = browser.new_context(base_url=base_url, locale="en-US", **device)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        urls: dict[str, str] = {}
        received: dict[str, int] = {}
        cdp.on(
            "Network.requestWillBeSent",
            lambda e: urls.update({e["requestId"]: e["request"]["url"]}),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: received.update(
                {urls.get(e["requestId"], e["requestId"]): int(e["encodedDataLength"])}
            ),
        )
        cdp.send("Network.enable")
        page.goto(path, wait_until="load")
        page.wait_for_load_state("networkidle")
        return received
    finally:
        context.close()


@pytest.mark.parametrize("device", VIEWPORTS, ids=list(VIEWPORTS))
def test_the_home_page_loads_under_150_kb(browser: Browser, live_server: str, device: str) -> None:
    received = first_load(browser, live_server, VIEWPORTS[device], "/")
    total = sum(received.values())
    listing = "\n".join(
        f"{size:>8} {url}" for url, size in sorted(received.items(), key=lambda i: -i[1])
    )
    print(f"\n{device}: {total} bytes in {len(received)} responses\n{listing}")
    assert total < BUDGET, f"{device}: {total} bytes\n{listing}"
