"""Staff ship two orders at once and record a return, in a real browser.

Runs with JavaScript on (in English) and off (in German). The orders are placed
through the shop's own checkout with Flask's test client on the live app, which is
quicker than a browser and not what this test is about.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask
from playwright.sync_api import expect
from pytest_playwright.pytest_playwright import CreateContextCallback
from sqlalchemy import select

from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.orders import settlement
from kiosk.orders.models import Order
from tests.browser import test_checkout
from tests.browser.test_checkout import Item
from tests.browser.test_staff_orders import _staff_sign_in
from tests.factories import make_user
from tests.shopping import add_to_cart, choose_payment, choose_shipping, give_address, place

mug = test_checkout.mug  # the fixture: a product of the test's own, deactivated afterwards

WORDS = {
    "en": {"ship": "Ship chosen orders", "apply": "Mark all 2 orders as shipped",
           "shipped": "2 orders marked as shipped.",
           "quantity": "how many came back", "reason": "Reason", "record": "Record return",
           "done": "The return is recorded; credit note"},
    "de": {"ship": "Ausgewählte Bestellungen versenden",
           "apply": "Alle 2 Bestellungen als versandt markieren",
           "shipped": "2 Bestellungen als versandt markiert.",
           "quantity": "wie viele kamen zurück", "reason": "Grund", "record": "Rücksendung buchen",
           "done": "Die Rücksendung ist gebucht; Gutschrift"},
}  # fmt: skip


def _paid_order(live_app: Flask, mug: Item, email: str) -> str:
    """A guest order of two mugs, its transfer recorded as received."""
    with live_app.app_context():
        product = db.session.scalars(select(Product).where(Product.slug == mug.slug)).one()
        staff = make_user(email=f"cashier-{uuid.uuid4().hex[:8]}@example.org")
        shopper = live_app.test_client()
        add_to_cart(shopper, product.id, 2)
        give_address(shopper, email=email)
        choose_shipping(shopper)
        choose_payment(shopper)
        place(shopper)
        number = db.session.scalars(select(Order.number).where(Order.email == email)).one()
        settlement.mark_received(number, staff.id)
        db.session.remove()
    return number


def test_staff_ship_two_orders_at_once_and_record_a_return(
    new_context: CreateContextCallback, live_app: Flask, js: bool, mug: Item
) -> None:
    lang = "en" if js else "de"
    words = WORDS[lang]
    email = f"bulk-{uuid.uuid4().hex[:8]}@example.org"
    numbers = [_paid_order(live_app, mug, email.replace("@", f"{i}@")) for i in (1, 2)]

    staff = new_context(java_script_enabled=js).new_page()
    _staff_sign_in(staff, live_app)
    if lang == "de":
        staff.get_by_role("button", name=re.compile(r"^DE\b")).click()
        expect(staff.locator("html")).to_have_attribute("lang", "de")
    staff.goto(f"/staff/orders?q={email.split('@')[0]}")
    for number in numbers:
        staff.locator(f"input[name=order][value='{number}']").check()
    staff.get_by_role("button", name=words["ship"]).click()
    rows = staff.locator("tbody tr")
    expect(rows).to_have_count(2)
    for i, number in enumerate(numbers):
        row = rows.filter(has_text=number)
        expect(row.locator("select")).to_have_value("dhl")  # the shipping method's carrier
        row.locator("input[type=text], input:not([type])").fill(
            f"00340434{i}{uuid.uuid4().int % 10**8:08d}"
        )
    staff.get_by_role("button", name=words["apply"]).click()
    expect(staff.locator(".flash").first).to_contain_text(words["shipped"])

    staff.goto(f"/staff/orders/{numbers[0]}")
    staff.get_by_label(re.compile(words["quantity"])).fill("1")
    operations = staff.locator("form", has=staff.get_by_role("button", name=words["record"]))
    operations.get_by_label(words["reason"]).fill("Kaputt angekommen")
    operations.get_by_role("button", name=words["record"]).click()
    expect(staff.locator(".flash").first).to_contain_text(words["done"])
    with live_app.app_context():
        product = db.session.scalars(select(Product).where(Product.slug == mug.slug)).one()
        order = db.session.scalars(select(Order).where(Order.number == numbers[0])).one()
        assert order.status.value == "shipped"
        assert [e.kind for e in order.events][-1] == "goods_returned"
        assert product.stock_on_hand >= 1
        db.session.remove()
