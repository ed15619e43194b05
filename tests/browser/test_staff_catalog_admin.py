"""Staff keep categories and stock in a real browser, with JavaScript on and off.

The category flow runs in English, the stock flow in German. Each test makes its own
categories and products, because the live server lasts the whole session.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask
from playwright.sync_api import expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from kiosk.extensions import db
from tests.browser.support import document_was_kept, mark_document
from tests.browser.test_staff_orders import _staff_sign_in
from tests.factories import make_category, make_product


def test_staff_create_a_subcategory_move_it_and_reorder(
    new_context: CreateContextCallback, live_app: Flask, js: bool
) -> None:
    token = uuid.uuid4().hex[:6]
    with live_app.app_context():
        first = make_category(f"Regal {token}", slug=f"regal-{token}", sort_order=900).id
        second = make_category(f"Kiste {token}", slug=f"kiste-{token}", sort_order=901).id
        db.session.remove()
    staff = new_context(java_script_enabled=js).new_page()
    _staff_sign_in(staff, live_app)
    staff.goto("/staff/categories")
    expect(staff.get_by_role("heading", level=1)).to_have_text("Categories")

    new = staff.get_by_role("region", name="New category")
    new.get_by_label("Name").fill(f"Fach {token}")
    new.get_by_label("Parent category").select_option(label=f"Regal {token}")
    new.get_by_role("button", name="Create category").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Fach {token}")
    expect(staff.locator(".flash")).to_contain_text(f"The category Fach {token} is created.")
    expect(staff.get_by_role("link", name=f"Regal {token}")).to_be_visible()  # its parent

    staff.get_by_label("New parent category").select_option(label=f"Kiste {token}")
    staff.get_by_role("button", name="Move category").click()
    expect(staff.locator(".flash")).to_contain_text("The category is moved.")
    expect(staff.get_by_role("link", name=f"Kiste {token}", exact=True)).to_be_visible()

    staff.get_by_role("link", name="All categories").click()
    tree = staff.locator("#category-tree")
    expect(tree.locator(f"#category-{second}")).to_contain_text(f"Fach {token}")
    mark_document(staff)
    staff.get_by_role("button", name=re.compile(rf"^Up\W+Kiste {token}$")).click()
    expect(tree.locator(f"#category-{second} + #category-{first}")).to_be_visible()
    assert document_was_kept(staff) == js  # htmx swapped the tree; without it, a new page


def test_staff_adjust_stock_with_a_reason_in_german(
    new_context: CreateContextCallback, live_app: Flask, js: bool
) -> None:
    token = uuid.uuid4().hex[:6]
    with live_app.app_context():
        product_id = make_product(name=f"Teedose {token}", stock_on_hand=10, is_active=False).id
        db.session.remove()
    staff = new_context(java_script_enabled=js).new_page()
    _staff_sign_in(staff, live_app)
    staff.goto(f"/staff/products/{product_id}/stock")
    staff.get_by_role("button", name=re.compile("^DE")).click()
    expect(staff.locator("html")).to_have_attribute("lang", "de")
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Teedose {token}")

    staff.get_by_label("Grund").select_option(label="Schaden oder Verlust (abziehen)")
    staff.get_by_label("Menge").fill("12")
    staff.get_by_label("Notiz (optional)").fill("Regal umgekippt")
    staff.get_by_role("button", name="Änderung speichern").click()
    expect(staff.locator("#stock-quantity-error")).to_contain_text("nicht unter null sinken")
    expect(staff.get_by_label("Menge")).to_have_value("12")
    expect(staff.get_by_label("Notiz (optional)")).to_have_value("Regal umgekippt")

    staff.get_by_label("Grund").select_option(label="Wareneingang (hinzufügen)")
    staff.get_by_label("Menge").fill("5")
    staff.get_by_label("Notiz (optional)").fill("Lieferschein 17")
    staff.get_by_role("button", name="Änderung speichern").click()
    expect(staff.locator(".flash")).to_contain_text("Der Lagerbestand ist jetzt 15 (vorher 10).")
    newest = staff.locator("#stock-ledger tbody tr").first
    expect(newest).to_contain_text("Wareneingang")
    expect(newest).to_contain_text("+5")
    expect(newest).to_contain_text("15")
    expect(newest).to_contain_text("Lieferschein 17")
