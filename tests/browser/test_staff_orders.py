"""Staff move an order on, shoppers try coupons and ask for sold-out products, in a real browser.

Every test runs with JavaScript on and off (the `js` fixture), and makes its own
products, coupons and people, because the live server lasts the whole session.
"""

from __future__ import annotations

import re
import time
import uuid

from flask import Flask
from playwright.sync_api import Locator, Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from kiosk.accounts.models import Role
from kiosk.coupons.models import CouponKind
from kiosk.coupons.services import NewCoupon, create
from kiosk.extensions import db
from tests.browser import test_checkout
from tests.browser.support import sign_in_with_code
from tests.browser.test_checkout import Item, _email, _guest_to_review, _order_button, _orders_of
from tests.factories import make_product
from tests.mailbox import CapturingSMTP

mug = test_checkout.mug  # the fixture: a product of the test's own, deactivated afterwards


def _staff_sign_in(page: Page, live_app: Flask, role: Role = Role.STAFF) -> str:
    """A new staff member (or owner) signs in with password and code, as in test_staff.py;
    returns the email address."""
    return sign_in_with_code(page, live_app, role)


def _status(page: Page) -> Locator:
    """The order's status on the staff order page ("… · Status: paid")."""
    return page.locator("main p", has_text="Placed on").locator("strong")


def test_staff_record_the_payment_and_ship_a_bank_transfer_order(
    page: Page, new_context: CreateContextCallback, live_app: Flask, js: bool, mug: Item
) -> None:
    """Guest order → staff find it, mark it paid, then shipped → the buyer sees the tracking."""
    email = _email()
    _guest_to_review(page, mug, email)
    _order_button(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order!")
    (order,) = _orders_of(live_app, email)

    staff = new_context(java_script_enabled=js).new_page()
    _staff_sign_in(staff, live_app)
    staff.get_by_role("banner").get_by_role("link", name="Staff").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Overview")
    staff.get_by_role("navigation", name="Staff").get_by_role("link", name="Orders").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Orders")
    staff.get_by_label("Number, name or email").fill(order.number)
    staff.get_by_role("button", name="Show").click()
    expect(staff.locator(".results__count")).to_have_text(re.compile(r"^\s*1 order\b"))
    staff.get_by_role("link", name=order.number, exact=True).click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")

    staff.get_by_role("button", name="Mark payment received").click()
    expect(staff.locator(".flash")).to_contain_text("The payment is recorded as received.")
    expect(_status(staff)).to_have_text("paid")

    tracking = f"00340434{uuid.uuid4().int % 10**10:010d}"
    move_on = staff.get_by_role("region", name="Move the order on")
    move_on.get_by_label("Carrier").select_option(label="DHL")
    move_on.get_by_label("Tracking number").fill(tracking)
    move_on.get_by_role("button", name="Mark as shipped").click()
    expect(_status(staff)).to_have_text("shipped")

    page.goto(f"/orders/{order.number}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")
    timeline = page.get_by_role("region", name="What happened so far")
    expect(timeline).to_contain_text(f"DHL tracking number {tracking}")
    expect(timeline).to_contain_text("Shipped")
    link = timeline.get_by_role("link", name=tracking)  # to DHL's page; never followed here
    expect(link).to_have_attribute("href", re.compile(rf"^https://www\.dhl\.de/.*={tracking}$"))
    expect(link).to_have_attribute("rel", "noopener noreferrer external")


def test_an_unknown_coupon_is_explained_and_a_real_one_applied(
    page: Page, live_app: Flask, mug: Item
) -> None:
    """The unknown code "NOPE" is explained and kept; a real code then lowers the total."""
    code = f"TEST10-{uuid.uuid4().hex[:6].upper()}"
    with live_app.app_context():
        create(NewCoupon(code, CouponKind.PERCENT, 1000))
        db.session.remove()
    _guest_to_review(page, mug, _email())

    coupon = page.get_by_label("Coupon code")
    coupon.fill("NOPE")
    page.get_by_role("button", name="Apply coupon").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("The code NOPE is not valid.")
    expect(page.get_by_label("Coupon code")).to_have_value("NOPE")

    page.get_by_label("Coupon code").fill(code)
    page.get_by_role("button", name="Apply coupon").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Review your order")
    expect(page.get_by_text(f"Coupon {code} applied.")).to_be_visible()
    table = page.get_by_role("table", name="Your order")
    expect(table.get_by_role("row", name=re.compile(rf"^Coupon {code}\b"))).to_contain_text(
        "−€2.58"
    )


def test_a_guest_asks_to_hear_when_a_sold_out_product_is_back(
    page: Page, live_app: Flask, smtp: CapturingSMTP
) -> None:
    """The sold-out page offers the alert; the guest gets a link to confirm it."""
    token = uuid.uuid4().hex[:8]
    with live_app.app_context():
        product = make_product(
            name=f"Teekanne {token}", slug=f"teekanne-{token}", sku=f"POT-{token}", stock_on_hand=0
        )
        slug = product.slug
        db.session.remove()
    email = _email()

    page.goto(f"/p/{slug}")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Tell me when it is back").click()
    expect(page.locator(".flash")).to_contain_text(
        "Thank you. If this address is not on the list yet, we have sent it a link to confirm."
    )

    deadline = time.monotonic() + 10
    while not any(message["To"] == email for message in smtp.messages):
        assert time.monotonic() < deadline, f"no confirmation mail to {email}"
        time.sleep(0.1)
