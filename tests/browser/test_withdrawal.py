"""Withdrawing from the contract (§356a BGB) and cancelling, in a browser, JavaScript on and off.

The withdrawal button takes two steps: name the order (number and email address),
then confirm, with a reason if the buyer likes. Guests reach it from the footer on
any device, customers from their order page; both sides get a mail at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from kiosk.accounts.models import Role, User
from kiosk.extensions import db
from kiosk.uow import unit_of_work
from tests.browser import test_checkout
from tests.browser.test_card_payment import STOCK, _mail, _stock_of
from tests.browser.test_checkout import (
    QUANTITY,
    Item,
    _add_to_cart_and_check_out,
    _choose_shipping_and_payment,
    _email,
    _guest_to_review,
    _order_button,
    _orders_of,
    _shipping_fields,
    _sign_in,
    _text_of,
)
from tests.factories import make_user
from tests.mailbox import CapturingSMTP

mug = test_checkout.mug  # the fixture: a product of the test's own, deactivated afterwards

RECEIVED = (
    "We have received your withdrawal. A confirmation with the time of receipt is on its way."
)
NOT_FOUND = "We found no order with this number and email address."


@pytest.fixture
def staff_email(live_app: Flask) -> Iterator[str]:
    """A staff member of this test's own, who hears of withdrawals; inactive afterwards."""
    email = _email("staff")
    with live_app.app_context():
        user_id = make_user(email=email, role=Role.STAFF).id
        db.session.remove()
    yield email
    with live_app.app_context():
        with unit_of_work() as session:
            session.get_one(User, user_id).is_active = False
        db.session.remove()


def _place_order(page: Page, live_app: Flask, email: str) -> str:
    """Order and pay (bank transfer) from the review page; returns the order number."""
    _order_button(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order!")
    (order,) = _orders_of(live_app, email)
    return order.number


def _guest_order(page: Page, live_app: Flask, item: Item) -> tuple[str, str]:
    """A guest's order placed in `page`'s session: its number and the buyer's email."""
    email = _email()
    _guest_to_review(page, item, email)
    return _place_order(page, live_app, email), email


def _customer_order(page: Page, live_app: Flask, item: Item, email: str) -> str:
    """A new customer `email` signs in in `page` and orders `item`; the order's number."""
    with live_app.app_context():
        make_user(email=email)
        db.session.remove()
    _sign_in(page, email)
    _add_to_cart_and_check_out(page, item)
    shipping = _shipping_fields(page)
    shipping.get_by_label("Full name").fill("Jana Müller")
    shipping.get_by_label("Street and number").fill("Lindenallee 5")
    shipping.get_by_label("Postcode").fill("10115")
    shipping.get_by_label("Town or city").fill("Berlin")
    page.get_by_role("button", name="Continue to shipping").click()
    _choose_shipping_and_payment(page)
    return _place_order(page, live_app, email)


def _timeline(page: Page) -> Locator:
    return page.get_by_role("region", name="What happened so far")


def _confirm(page: Page, number: str) -> None:
    """The second step: the confirmation page of `number`, confirmed; back on the order."""
    expect(page).to_have_url(re.compile(rf"/orders/{number}/withdraw$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw from contract")
    expect(page.get_by_role("main")).to_contain_text(f"Order {number} of ")
    # §356a BGB: the button says what it does.
    page.get_by_role("button", name="Confirm withdrawal", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/orders/{number}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {number}")
    expect(page.locator(".flash")).to_have_text(RECEIVED)
    expect(_timeline(page).get_by_role("listitem").last).to_contain_text("Withdrawal received")


def test_a_guest_withdraws_from_another_device(
    page: Page,
    new_context: CreateContextCallback,
    live_app: Flask,
    smtp: CapturingSMTP,
    js: bool,
    mug: Item,
    staff_email: str,
) -> None:
    """Footer link, a wrong email explained, the right one in other letters, confirmed, mailed."""
    number, email = _guest_order(page, live_app, mug)
    elsewhere = new_context(java_script_enabled=js).new_page()  # no session that knows the order
    elsewhere.goto("/")
    elsewhere.get_by_role("contentinfo").get_by_role("link", name="Withdraw from contract").click()
    expect(elsewhere.get_by_role("heading", level=1)).to_have_text("Withdraw from contract")

    order_number = elsewhere.get_by_label("Order number")
    wrong_email = _email()
    order_number.fill(number)
    elsewhere.get_by_label("Email address").fill(wrong_email)
    with elsewhere.expect_response(
        lambda r: r.url.endswith("/withdraw") and r.request.method == "POST"
    ) as answer:
        elsewhere.get_by_label("Email address").press("Enter")
    assert answer.value.status == 422
    summary = elsewhere.locator(".error-summary")
    expect(summary).to_be_focused()  # autofocus: read out first, with or without JavaScript
    expect(summary.get_by_role("link", name=f"Order number: {NOT_FOUND}")).to_have_attribute(
        "href", "#number"
    )
    expect(order_number).to_have_value(number)
    expect(elsewhere.get_by_label("Email address")).to_have_value(wrong_email)
    expect(order_number).to_have_attribute("aria-invalid", "true")
    expect(order_number).to_have_accessible_description(re.compile(re.escape(NOT_FOUND)))

    order_number.fill(number.lower())
    elsewhere.get_by_label("Email address").fill(email.upper())
    elsewhere.get_by_role("button", name="Continue", exact=True).press("Enter")
    expect(elsewhere.get_by_role("heading", level=1)).to_have_text("Withdraw from contract")
    elsewhere.get_by_label("Reason (optional)").fill("Zu groß für unseren Schrank")
    _confirm(elsewhere, number)

    to_buyer = _text_of(_mail(smtp, email, f"We have received your withdrawal from order {number}"))
    receipt = rf"received your withdrawal from the contract for order {number} on .*\d{{4}}"
    assert re.search(rf"{receipt}.* \d{{1,2}}:\d{{2}}:\d{{2}}", to_buyer)  # the time of receipt
    assert "Your reason: Zu groß für unseren Schrank" in to_buyer
    to_staff = _text_of(_mail(smtp, staff_email, f"Withdrawal received: order {number}"))
    assert email in to_staff and "Zu groß für unseren Schrank" in to_staff


def test_a_customer_withdraws_from_the_order_page(
    page: Page, live_app: Flask, smtp: CapturingSMTP, mug: Item
) -> None:
    """Signed in, bought, withdrawn from the order page without a reason; the mail arrives."""
    email = _email("customer")
    number = _customer_order(page, live_app, mug, email)

    page.goto(f"/orders/{number}")
    page.get_by_role("main").get_by_role("link", name="Withdraw from contract").click()
    expect(page.get_by_label("Reason (optional)")).to_have_value("")
    _confirm(page, number)

    mail = _mail(smtp, email, f"We have received your withdrawal from order {number}")
    assert "Your reason" not in _text_of(mail)


def test_a_guest_cancels_before_shipping_and_the_stock_comes_back(
    page: Page, live_app: Flask, smtp: CapturingSMTP, mug: Item
) -> None:
    """ "Cancel order" on the order page: cancelled, mailed, the goods back on the shelf."""
    number, email = _guest_order(page, live_app, mug)
    assert _stock_of(live_app, mug) == (STOCK - QUANTITY, 0)  # on hand and reserved

    page.get_by_role("button", name="Cancel order").click()
    expect(page.locator(".flash")).to_have_text(
        "Your order is cancelled. We have sent you a confirmation."
    )
    expect(page.get_by_role("main")).to_contain_text("Status: cancelled")
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    _mail(smtp, email, f"Your order {number} is cancelled")
    assert _stock_of(live_app, mug) == (STOCK, 0)


def test_a_stranger_cannot_open_the_withdrawal_of_an_order(
    page: Page, new_context: CreateContextCallback, live_app: Flask, js: bool, mug: Item
) -> None:
    """Without the buyer's session the confirmation page is a 404, so numbers reveal nothing."""
    number, _ = _guest_order(page, live_app, mug)
    stranger = new_context(java_script_enabled=js).new_page()
    response = stranger.goto(f"/orders/{number}/withdraw")
    assert response is not None and response.status == 404
    expect(stranger.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(stranger.get_by_role("button", name="Confirm withdrawal")).to_have_count(0)


def test_a_customer_finds_the_order_in_the_account_and_orders_it_again(
    page: Page, live_app: Flask, mug: Item
) -> None:
    """Account > Orders lists the order; "Order these items again" refills the cart."""
    email = _email("reorder")
    number = _customer_order(page, live_app, mug, email)

    page.goto("/account")
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your orders")
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="Order these items again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")
    expect(page.get_by_text("The items are in your cart again, at today's prices.")).to_be_visible()
    expect(page.get_by_role("link", name=mug.name)).to_be_visible()
