"""Staff create and edit a product, and change the prices of a selection, in a real browser.

Every test runs with JavaScript on and off (the `js` fixture) and makes its own products
and staff member, because the live server lasts the whole session.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from kiosk.extensions import db
from kiosk.i18n import LANGUAGE_COOKIE
from tests.browser.test_staff_orders import _staff_sign_in
from tests.factories import make_product


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def test_staff_create_a_product_then_change_its_price(page: Page, live_app: Flask) -> None:
    """A wrong price is named and the rest kept; the preview renders the Markdown; the
    saved product is active in the shop; a price typed with a comma is saved too."""
    token = uuid.uuid4().hex[:8]
    _staff_sign_in(page, live_app)
    page.goto("/staff/orders")
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Products").click()
    _heading(page, "Products")
    page.get_by_role("link", name="New product").click()
    _heading(page, "New product")

    page.get_by_label("Name", exact=True).fill(f"Becher {token}")
    page.get_by_label("SKU (article number)").fill(f"MUG-{token}")
    page.get_by_label("Price (gross)").fill("zwölf")
    page.get_by_label("Description (Markdown)").fill("Ein **schöner** Becher.")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Price (gross): Enter an amount such as 10 or 12.50.")
    expect(page.get_by_label("Name", exact=True)).to_have_value(f"Becher {token}")
    expect(page.get_by_label("Price (gross)")).to_have_value("zwölf")

    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#markdown-preview strong")).to_have_text("schöner")
    page.get_by_label("Price (gross)").fill("12.90")
    page.get_by_label("Active: shown in the shop").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("The product is saved.")
    _heading(page, f"Becher {token}")
    expect(page.get_by_label("Web address (slug)")).to_have_value(f"becher-{token}")

    page.get_by_label("Price (gross)").fill("13,50")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("The product is saved.")
    expect(page.get_by_label("Price (gross)")).to_have_value("13.50")
    shop_link = page.get_by_role("link", name="active: see it in the shop")
    expect(shop_link).to_have_attribute("href", f"/p/becher-{token}")


def test_staff_raise_the_prices_of_a_selection_in_german(
    new_context: CreateContextCallback, live_app: Flask, live_server: str, js: bool
) -> None:
    """Search, tick two products, preview "10 % up" with old and new prices, apply."""
    token = uuid.uuid4().hex[:8]
    with live_app.app_context():
        for number, cents in ((1, 1000), (2, 1500)):
            make_product(
                name=f"Tasse {token} {number}",
                slug=f"tasse-{token}-{number}",
                sku=f"CUP-{token}-{number}",
                price_cents=cents,
            )
        db.session.remove()
    context = new_context(java_script_enabled=js)
    page = context.new_page()
    _staff_sign_in(page, live_app)
    context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "de", "url": live_server}])

    page.goto("/staff/products")
    _heading(page, "Produkte")
    page.get_by_label("Name oder Artikelnummer").fill(token)
    if not js:  # with htmx the list follows the typing
        page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator(".results__count")).to_have_text(re.compile(r"^\s*2 Produkte"))
    for number in (1, 2):
        page.get_by_label(f"Tasse {token} {number} auswählen").check()
    page.get_by_label("Preise ändern um").select_option(label="Prozent")
    page.get_by_label("Richtung").select_option(label="erhöhen")
    page.get_by_label("Prozent oder Betrag").fill("10")
    page.get_by_role("button", name="Preisänderung ansehen").click()

    _heading(page, "Preise ändern")
    table = page.get_by_role("table")
    expect(table.get_by_role("row", name=re.compile(f"Tasse {token} 1"))).to_contain_text(
        re.compile(r"10,00\s€\s*11,00\s€")
    )
    expect(table.get_by_role("row", name=re.compile(f"Tasse {token} 2"))).to_contain_text(
        re.compile(r"15,00\s€\s*16,50\s€")
    )
    page.get_by_role("button", name="Anwenden: 2 Preise ändern").click()
    expect(page.locator(".flash")).to_contain_text("2 Preise geändert.")
    _heading(page, "Produkte")
    expect(page.get_by_label("Name oder Artikelnummer")).to_have_value(token)
    expect(page.get_by_role("row", name=re.compile(f"Tasse {token} 2"))).to_contain_text(
        re.compile(r"16,50\s€")
    )
