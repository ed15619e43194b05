"""Paying by card in a real browser, JavaScript on and off, against the fake Stripe.

The fake serves a hosted Checkout page whose "Pay" button sends the signed
`checkout.session.completed` webhook to the live shop and then redirects back,
as Stripe does. The shop learns of the payment only from that webhook; the page
the shopper returns to waits for it (htmx polling, or a meta refresh).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import Message

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.orders.models import Order, OrderStatus
from tests.browser import test_checkout
from tests.browser.test_checkout import (
    QUANTITY,
    Item,
    _add_to_cart_and_check_out,
    _email,
    _fill_guest_address,
    _order_button,
)
from tests.fake_stripe import FakeStripe, fake_stripe_fixture  # noqa: F401
from tests.mailbox import CapturingSMTP

mug = test_checkout.mug  # the fixture: a product of the test's own, deactivated afterwards
STOCK = 10  # what `mug` puts on the shelf
STRIPE_KEYS = (
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_CHECKOUT_ORIGIN",
)
SETTLING = 15_000  # ms: a few polls (2 s) or meta refreshes (4 s)


@pytest.fixture
def card_shop(live_app: Flask, live_server: str, fake_stripe: FakeStripe) -> Iterator[FakeStripe]:
    """The live shop takes cards through the fake, for this test only.

    The live app serves every browser test, and the others must not see card payments.
    """
    before = {key: live_app.config[key] for key in STRIPE_KEYS}
    live_app.config.update(
        STRIPE_SECRET_KEY=fake_stripe.secret_key,
        STRIPE_WEBHOOK_SECRET=fake_stripe.webhook_secret,
        STRIPE_API_BASE=fake_stripe.url,
        STRIPE_CHECKOUT_ORIGIN=fake_stripe.url,
    )
    fake_stripe.webhook_url = f"{live_server}/webhooks/stripe"
    yield fake_stripe
    live_app.config.update(before)


def _order_and_go_to_stripe(page: Page, item: Item, email: str, fake: FakeStripe) -> str:
    """Checkout as a guest paying by card, up to Stripe's page; returns the session id."""
    _add_to_cart_and_check_out(page, item)
    _fill_guest_address(page, email)
    page.get_by_role("button", name="Continue to shipping").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Shipping method")
    page.get_by_role("radio", name=re.compile(r"^DHL parcel\b")).check()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("radio", name="Card or wallet (Stripe)").check()
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Review your order")
    _order_button(page).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(fake.url)}/pay/cs_test_\w+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 30.70 EUR")
    return page.url.rsplit("/", 1)[-1]


def _order_of(live_app: Flask, email: str) -> tuple[str, OrderStatus]:
    with live_app.app_context():
        order = db.session.scalars(select(Order).where(Order.email == email)).one()
        found = order.number, order.status
        db.session.remove()
    return found


def _stock_of(live_app: Flask, item: Item) -> tuple[int, int]:
    """On hand and reserved."""
    with live_app.app_context():
        product = db.session.scalars(select(Product).where(Product.slug == item.slug)).one()
        stock = product.stock_on_hand, product.stock_reserved
        db.session.remove()
    return stock


def _mail(smtp: CapturingSMTP, to: str, subject: str, timeout: float = 10.0) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in smtp.messages if m["To"] == to and m["Subject"] == subject]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no mail {subject!r} to {to}")


def _expect_thank_you(page: Page, number: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you for your order!", timeout=SETTLING
    )
    expect(page).to_have_url(re.compile(rf"/orders/{number}\?placed=1$"))


def test_a_guest_pays_by_card_on_the_hosted_page(
    page: Page, live_app: Flask, smtp: CapturingSMTP, card_shop: FakeStripe, mug: Item
) -> None:
    """Order, pay on Stripe's page, come back to the thank-you page: paid, sold, mailed."""
    email = _email()
    session_id = _order_and_go_to_stripe(page, mug, email, card_shop)
    number, status = _order_of(live_app, email)
    assert status == OrderStatus.AWAITING_PAYMENT
    assert _stock_of(live_app, mug) == (STOCK, QUANTITY)  # held, not sold before the money

    page.get_by_role("button", name="Pay").click()
    _expect_thank_you(page, number)
    assert [e["type"] for e in card_shop.events] == ["checkout.session.completed"]
    assert card_shop.sessions[session_id]["payment_status"] == "paid"
    assert _order_of(live_app, email) == (number, OrderStatus.PAID)
    assert _stock_of(live_app, mug) == (STOCK - QUANTITY, 0)
    _mail(smtp, email, f"Payment received for your order {number}")


def test_a_shopper_who_leaves_stripe_unpaid_gets_the_order_cancelled(
    page: Page, context: BrowserContext, live_app: Flask, card_shop: FakeStripe, mug: Item
) -> None:
    """The tab closed on Stripe's page; the session expires: cancelled, stock released."""
    email = _email()
    session_id = _order_and_go_to_stripe(page, mug, email, card_shop)
    page.close()
    card_shop.expire(session_id)
    number, status = _order_of(live_app, email)
    assert status == OrderStatus.CANCELLED
    assert _stock_of(live_app, mug) == (STOCK, 0)

    later = context.new_page()
    later.goto(f"/orders/{number}/payment")
    expect(later.locator("#payment-status")).to_contain_text("The payment did not go through")
    expect(later.locator('meta[http-equiv="refresh"]')).to_have_count(0)


def test_the_return_page_moves_on_by_itself_once_the_webhook_arrives(
    page: Page, live_app: Flask, card_shop: FakeStripe, js: bool, mug: Item
) -> None:
    """Back from Stripe before its webhook: the page waits, then shows the thanks unasked.

    With JavaScript, htmx's poll is told where to go (HX-Redirect); without, the
    shopper follows "Check again", which then redirects.
    """
    email = _email()
    session_id = _order_and_go_to_stripe(page, mug, email, card_shop)
    number, _ = _order_of(live_app, email)
    completed = card_shop.pay(session_id, deliver=False)

    page.goto(f"/orders/{number}/payment")
    expect(page.locator("#payment-status")).to_contain_text("We are confirming your payment")
    assert _order_of(live_app, email) == (number, OrderStatus.AWAITING_PAYMENT)
    polls: list[str | None] = []
    page.on("response", lambda r: polls.append(r.headers.get("hx-redirect")))
    assert card_shop.deliver(completed) == 200
    if not js:
        page.get_by_role("link", name="Check again").click()
    _expect_thank_you(page, number)
    assert (f"/orders/{number}?placed=1" in polls) is js
    assert _order_of(live_app, email) == (number, OrderStatus.PAID)
