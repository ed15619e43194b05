"""Language and colour theme: plain forms in the header, remembered in cookies."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.support import body_luminance

DARK, LIGHT = 0.2, 0.5  # luminance below DARK looks dark, above LIGHT looks light


def test_language_switch_to_german_lasts_across_pages(page: Page) -> None:
    """The "DE" button turns the shop German, this page and the next; "EN" turns it back."""
    page.goto("/products")
    page.get_by_role("button", name=re.compile(r"^DE\b")).click()

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page).to_have_url(re.compile(r"/products$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Alle Produkte")
    expect(page.get_by_label("Nur vorrätige Artikel")).to_be_visible()

    page.get_by_role("link", name="Kiosk", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Willkommen bei Kiosk")
    expect(page.locator("html")).to_have_attribute("lang", "de")

    page.get_by_role("button", name=re.compile(r"^EN\b")).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Kiosk")


def test_dark_theme_button_darkens_the_page(page: Page) -> None:
    """The "Dark" button wins over a light system: data-theme="dark", a dark background."""
    page.goto("/")
    assert body_luminance(page) > LIGHT
    page.get_by_role("button", name="Dark").click()

    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_role("button", name="Dark")).to_have_attribute("aria-pressed", "true")
    assert body_luminance(page) < DARK


def test_light_theme_button_lightens_the_page(page: Page) -> None:
    """The "Light" button wins over a dark system: data-theme="light", a light background."""
    page.emulate_media(color_scheme="dark")
    page.goto("/")
    assert body_luminance(page) < DARK
    page.get_by_role("button", name="Light").click()

    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(page.get_by_role("button", name="Light")).to_have_attribute("aria-pressed", "true")
    assert body_luminance(page) > LIGHT


def test_system_theme_follows_the_system_setting(page: Page) -> None:
    """The "System" button (after another choice) follows the system's light or dark."""
    page.goto("/")
    page.get_by_role("button", name="Light").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.emulate_media(color_scheme="dark")
    assert body_luminance(page) > LIGHT

    page.get_by_role("button", name="System").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "auto")
    assert body_luminance(page) < DARK
    page.emulate_media(color_scheme="light")
    assert body_luminance(page) > LIGHT
