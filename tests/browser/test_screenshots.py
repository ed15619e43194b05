"""Full-page screenshots for people to look at: each page, light and dark, JS on and off.

They go to test-artifacts/screenshots/ (git-ignored), named like home-dark-nojs.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import PAGES


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES)
def test_screenshot(
    page: Page,
    context: BrowserContext,
    live_server: str,
    screenshot_dir: Path,
    js: bool,
    name: str,
    theme: str,
) -> None:
    """The page renders in the chosen theme with every picture loaded; a screenshot is kept."""
    context.add_cookies([{"name": "kiosk_theme", "value": theme, "url": live_server}])
    page.goto(PAGES[name])
    expect(page.locator("html")).to_have_attribute("data-theme", theme)
    load_every_picture(page)

    path = screenshot_dir / f"{name}-{theme}-{'js' if js else 'nojs'}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000


def load_every_picture(page: Page) -> None:
    """Load and decode every picture, also lazy ones below the fold, and check none is broken.

    Without decoding, a full-page screenshot leaves pictures below the fold blank.
    """
    page.evaluate(
        """Promise.allSettled([...document.images].map(img => {
            img.loading = "eager";
            return img.decode();
        }))"""
    )
    broken = page.evaluate(
        "[...document.images].filter(img => !img.naturalWidth).map(img => img.src)"
    )
    assert broken == []
