"""Staff create and edit a product, then change the prices of a selection, in a real browser.

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


def test_staff_create_and_edit_a_product_then_raise_prices_in_german(
    new_context: CreateContextCallback, live_app: Flask, live_server: str, js: bool
) -> None:
    """In English: a wrong price is named and the rest kept, the preview renders the
    Markdown, the product is saved and its price changed with a comma. In German: two
    products are searched, ticked, previewed "10 % up" with old and new prices, repriced.
    (One staff sign-in for both parts: it is the slow step.)"""
    token = uuid.uuid4().hex[:8]
    with live_app.app_context():
        make_product(
            name=f"Tasse {token} 2", slug=f"tasse-{token}-2", sku=f"CUP-{token}-2", price_cents=1500
        )
        db.session.remove()
    context = new_context(java_script_enabled=js)
    page = context.new_page()
    _staff_sign_in(page, live_app)
    page.goto("/staff/orders")
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Products").click()
    _heading(page, "Products")
    page.get_by_role("link", name="New product").click()
    _heading(page, "New product")

    page.get_by_label("Name", exact=True).fill(f"Tasse {token} 1")
    page.get_by_label("SKU (article number)").fill(f"CUP-{token}-1")
    page.get_by_label("Price (gross)").fill("zwölf")
    page.get_by_label("Description (Markdown)").fill("Eine **schöne** Tasse.")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Price (gross): Enter an amount such as 10 or 12.50.")
    expect(page.get_by_label("Name", exact=True)).to_have_value(f"Tasse {token} 1")
    expect(page.get_by_label("Price (gross)")).to_have_value("zwölf")

    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#markdown-preview strong")).to_have_text("schöne")
    page.get_by_label("Price (gross)").fill("9.90")
    page.get_by_label("Active: shown in the shop").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("The product is saved.")
    _heading(page, f"Tasse {token} 1")
    expect(page.get_by_label("Web address (slug)")).to_have_value(f"tasse-{token}-1")

    page.get_by_label("Price (gross)").fill("10,00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("The product is saved.")
    expect(page.get_by_label("Price (gross)")).to_have_value("10.00")
    shop_link = page.get_by_role("link", name="active: see it in the shop")
    expect(shop_link).to_have_attribute("href", f"/p/tasse-{token}-1")

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
