"""The frame around every page: keyboard use, what the browser loads, small screens."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.support import PAGES


def test_first_tab_focuses_a_visible_skip_link_to_main(page: Page) -> None:
    """Tab once shows the skip link; Enter on it moves the focus to the main content."""
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport(ratio=1)

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    expect(skip).not_to_be_in_viewport()


def test_tab_order_reaches_the_search_field_after_the_logo(page: Page) -> None:
    """The header's tab order: skip link, logo, then the search field."""
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Kiosk", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("search").get_by_role("searchbox")).to_be_focused()


def test_pages_load_nothing_from_other_hosts(page: Page, live_server: str) -> None:
    """Home, a listing and a product page fetch everything from the shop itself."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    for path in PAGES.values():
        page.goto(path)

    shop = urlsplit(live_server).netloc
    assert len(requests) > len(PAGES)
    assert [url for url in requests if urlsplit(url).netloc != shop] == []


def test_pages_log_no_errors_and_violate_no_content_security_policy(page: Page) -> None:
    """Browsing home, a listing (next page, too) and a product logs no error or CSP report."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    for path in PAGES.values():
        page.goto(path)
    page.goto("/products")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").click()
    expect(page.locator(".pagination [aria-current=page]")).to_have_text("2")

    assert problems == []


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_320_pixel_screen(page: Page, name: str) -> None:
    """At 320 CSS pixels wide (a small phone), nothing makes the page scroll sideways."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(PAGES[name])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{PAGES[name]} is {width}px wide: {too_wide(page, 320)}"


def too_wide(page: Page, width: int) -> list[str]:
    """The elements that reach past `width`, to say what to fix."""
    elements: list[str] = page.evaluate(
        """width => [...document.body.querySelectorAll("*")]
            .filter(e => e.getBoundingClientRect().right > width + 0.5)
            .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`)""",
        width,
    )
    return elements


def test_legal_pages_are_linked_from_every_page(page: Page) -> None:
    """Imprint, privacy policy, terms, withdrawal, shipping, the accessibility statement and
    the cookie settings are one click from the footer."""
    for name, heading in (
        ("Imprint", "Imprint"),
        ("Privacy policy", "Privacy policy"),
        ("Terms and conditions", "Terms and conditions"),
        ("Right of withdrawal", "Right of withdrawal"),
        ("Withdraw from contract", "Withdraw from contract"),
        ("Shipping and delivery", "Shipping and delivery"),
        ("Accessibility", "Accessibility statement"),
    ):
        page.goto("/")
        page.get_by_role("contentinfo").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
