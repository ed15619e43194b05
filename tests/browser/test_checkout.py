"""The checkout in a real browser, as a guest and as a customer, with JavaScript on and off.

Each test makes its own product and shopper, because the live server (and its
database) lasts the whole session. Orders are read back through the live app.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Locator, Page, expect
from sqlalchemy import select, update

from kiosk.accounts.addresses import AddressData, save_address
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.orders.models import Order
from kiosk.uow import unit_of_work
from tests.factories import PASSWORD, make_product, make_user
from tests.mailbox import CapturingSMTP

# 2 × €12.90 + €4.90 for DHL (free only from €50), 19 % VAT contained.
PRICE_CENTS = 1290
QUANTITY = 2
TOTAL = "€30.70"


@dataclass(frozen=True)
class Item:
    slug: str
    name: str


@dataclass(frozen=True)
class PlacedOrder:
    number: str
    payment_reference: str
    user_id: int | None
    shipping_address: dict[str, Any]


@pytest.fixture
def mug(live_app: Flask) -> Iterator[Item]:
    """A product of its own for this test, in stock and cheap enough to pay for shipping.

    Afterwards it leaves the catalog, whose counts other browser tests check.
    """
    token = uuid.uuid4().hex[:8]
    with live_app.app_context():
        product = make_product(
            name=f"Becher {token}",
            slug=f"becher-{token}",
            sku=f"MUG-{token}",
            price_cents=PRICE_CENTS,
            stock_on_hand=10,
        )
        product_id, item = product.id, Item(product.slug, product.name)
        db.session.remove()
    yield item
    with live_app.app_context():
        with unit_of_work() as session:
            session.execute(update(Product).where(Product.id == product_id).values(is_active=False))
        db.session.remove()


def _email(kind: str = "guest") -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}@example.org"


def _orders_of(live_app: Flask, email: str) -> list[PlacedOrder]:
    with live_app.app_context():
        found = [
            PlacedOrder(o.number, o.payment_reference, o.user_id, dict(o.shipping_address))
            for o in db.session.scalars(select(Order).where(Order.email == email))
        ]
        db.session.remove()
    return found


def _order_mail(smtp: CapturingSMTP, to: str, timeout: float = 10.0) -> Message:
    """The order mail to `to`, once the live server has delivered it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.messages:
            if message["To"] == to and "order" in str(message["Subject"]).lower():
                return message
        time.sleep(0.1)
    raise AssertionError(f"no order mail to {to}")


def _text_of(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def _add_to_cart_and_check_out(page: Page, item: Item) -> None:
    """From the product page through the cart to the first checkout step."""
    page.goto(f"/p/{item.slug}")
    page.get_by_label("Quantity").fill(str(QUANTITY))
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".flash")).to_contain_text("Added to your cart.")
    page.get_by_role("link", name=re.compile("^Cart")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")
    page.get_by_role("link", name="Go to checkout").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Your address")


def _shipping_fields(page: Page) -> Locator:
    return page.get_by_role("group", name="Shipping address")


def _fill_guest_address(page: Page, email: str, postcode: str = "51147") -> None:
    """Email and shipping address (Germany, the preselected country)."""
    page.get_by_label("Email address").fill(email)
    shipping = _shipping_fields(page)
    shipping.get_by_label("Full name").fill("Erika Mustermann")
    shipping.get_by_label("Street and number").fill("Heidestraße 17")
    shipping.get_by_label("Postcode").fill(postcode)
    expect(shipping.get_by_label("Country")).to_have_value("DE")
    shipping.get_by_label("Town or city").fill("Köln")


def _choose_shipping_and_payment(page: Page) -> None:
    expect(page.get_by_role("heading", level=2)).to_have_text("Shipping method")
    dhl = page.get_by_role("radio", name=re.compile(r"^DHL parcel\b"))
    expect(dhl).to_have_accessible_name(re.compile(r"€4\.90"))
    dhl.check()
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Payment method")
    page.get_by_role("radio", name="Bank transfer (prepayment)").check()
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Review your order")


def _guest_to_review(page: Page, item: Item, email: str) -> None:
    _add_to_cart_and_check_out(page, item)
    _fill_guest_address(page, email)
    _shipping_fields(page).get_by_label("Town or city").press("Enter")  # as many shoppers send it
    _choose_shipping_and_payment(page)


def _order_button(page: Page) -> Locator:
    # §312j(3) BGB: the button must say that ordering obliges the buyer to pay.
    return page.get_by_role("button", name="Order and pay", exact=True)


def _sign_in(page: Page, email: str) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")


def _light_screenshot(page: Page, path: Path) -> None:
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000


def test_a_guest_buys_by_bank_transfer(
    page: Page,
    context: BrowserContext,
    live_app: Flask,
    live_server: str,
    smtp: CapturingSMTP,
    screenshot_dir: Path,
    js: bool,
    mug: Item,
) -> None:
    """Product to thank-you page: the review shows what binds the buyer, the mail arrives."""
    context.add_cookies([{"name": "kiosk_theme", "value": "light", "url": live_server}])
    email = _email()
    _guest_to_review(page, mug, email)

    summary = page.get_by_role("table", name="Your order")
    item_row = summary.get_by_role("row").filter(has_text=mug.name)
    expect(item_row).to_contain_text("€12.90")
    expect(item_row).to_contain_text("€25.80")
    expect(item_row).to_contain_text("19 %")
    expect(
        summary.get_by_role("row", name=re.compile(r"^Shipping \(DHL parcel\)"))
    ).to_contain_text("€4.90")
    expect(summary.get_by_role("row", name=re.compile(r"^Total"))).to_contain_text(TOTAL)
    expect(summary.get_by_role("row", name=re.compile(r"^includes 19 % VAT"))).to_contain_text(
        "€4.90"
    )
    place = page.get_by_role("region", name="Place your order")
    expect(place.get_by_role("link", name="terms and conditions")).to_have_attribute(
        "href", "/terms"
    )
    expect(place.get_by_role("link", name="right of withdrawal")).to_have_attribute(
        "href", "/withdrawal"
    )
    expect(place.get_by_role("link", name="privacy policy")).to_have_attribute("href", "/privacy")
    expect(place.get_by_role("button")).to_have_accessible_name("Order and pay")
    expect(_order_button(page)).to_be_visible()
    mode = "js" if js else "nojs"
    _light_screenshot(page, screenshot_dir / f"checkout-review-light-{mode}.png")

    _order_button(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order!")
    (order,) = _orders_of(live_app, email)
    expect(page).to_have_url(re.compile(rf"/orders/{order.number}\?placed=1$"))
    expect(page.locator(".lead")).to_contain_text(f"Your order number is {order.number}.")
    bank = page.get_by_role("region", name="Please transfer the amount")
    expect(bank).to_contain_text(live_app.config["KIOSK_BANK_IBAN"])
    expect(bank).to_contain_text(order.payment_reference)
    expect(bank).to_contain_text(TOTAL)
    _light_screenshot(page, screenshot_dir / f"checkout-placed-light-{mode}.png")

    mail = _order_mail(smtp, email)
    assert mail["Subject"] == f"Your order {order.number}"
    text = _text_of(mail)
    assert "thank you for your order" in text
    assert order.payment_reference in text and "IBAN" in text and TOTAL in text


def test_a_customer_buys_with_a_saved_address(page: Page, live_app: Flask, mug: Item) -> None:
    """A signed-in customer picks the address book's default and sees it on the order."""
    email = _email("customer")
    with live_app.app_context():
        user_id = make_user(email=email).id
        save_address(
            user_id,
            AddressData(
                name="Jana Müller",
                company="",
                street="Lindenallee 5",
                extra="",
                postal_code="10115",
                city="Berlin",
                country="DE",
                phone="",
                is_default_shipping=True,
                is_default_billing=True,
            ),
        )
        db.session.remove()
    _sign_in(page, email)
    _add_to_cart_and_check_out(page, mug)

    expect(page.get_by_text(f"Order confirmation goes to {email}.")).to_be_visible()
    expect(page.get_by_label("Email address")).to_have_count(0)
    saved = page.get_by_role("radio", name=re.compile("Lindenallee 5"))
    expect(saved).to_be_checked()
    expect(_shipping_fields(page).get_by_label("Full name")).to_be_hidden()
    page.get_by_role("button", name="Continue to shipping").click()
    _choose_shipping_and_payment(page)
    expect(page.get_by_role("region", name="Shipping address")).to_contain_text("Lindenallee 5")
    _order_button(page).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order!")
    (order,) = _orders_of(live_app, email)
    assert order.user_id == user_id
    assert order.shipping_address["street"] == "Lindenallee 5"
    page.goto(f"/orders/{order.number}")  # later, from the account
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")
    shipped_to = page.get_by_role("region", name="Shipping address")
    expect(shipped_to).to_contain_text("Jana Müller")
    expect(shipped_to).to_contain_text("Lindenallee 5")
    expect(shipped_to).to_contain_text("10115 Berlin")


def test_a_wrong_postcode_is_explained_and_the_rest_kept(page: Page, mug: Item) -> None:
    """422 with a summary that leads to the field, the field marked, every other entry kept."""
    email = _email()
    _add_to_cart_and_check_out(page, mug)
    _fill_guest_address(page, email, postcode="1011")
    page.get_by_label("Send the invoice to a different address").check()
    billing = page.get_by_role("group", name="Billing address (only if different)")
    billing.get_by_label("Full name").fill("Erika Mustermann GmbH")
    billing.get_by_label("Street and number").fill("Rheinufer 2")
    billing.get_by_label("Postcode").fill("50668")
    billing.get_by_label("Town or city").fill("Köln")
    with page.expect_response(
        lambda r: r.url.endswith("/checkout/address") and r.request.method == "POST"
    ) as answer:
        page.get_by_role("button", name="Continue to shipping").click()
    assert answer.value.status == 422

    message = "A German postcode has five digits."
    summary = page.locator(".error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_focused()  # autofocus: read out first, with or without JavaScript
    to_field = summary.get_by_role("link", name=f"Postcode: {message}")
    expect(to_field).to_have_attribute("href", "#shipping-postal_code")
    expect(summary.get_by_role("link")).to_have_count(1)  # the billing postcode is fine
    shipping = _shipping_fields(page)
    postcode = shipping.get_by_label("Postcode")
    expect(postcode).to_have_attribute("aria-invalid", "true")
    expect(postcode).to_have_accessible_description(message)
    expect(postcode).to_have_value("1011")
    to_field.click()
    expect(postcode).to_be_focused()

    expect(page.get_by_label("Email address")).to_have_value(email)
    expect(shipping.get_by_label("Full name")).to_have_value("Erika Mustermann")
    expect(shipping.get_by_label("Street and number")).to_have_value("Heidestraße 17")
    expect(shipping.get_by_label("Town or city")).to_have_value("Köln")
    expect(page.get_by_label("Send the invoice to a different address")).to_be_checked()
    expect(billing.get_by_label("Full name")).to_have_value("Erika Mustermann GmbH")
    expect(billing.get_by_label("Street and number")).to_have_value("Rheinufer 2")
    expect(billing.get_by_label("Postcode")).to_have_value("50668")

    postcode.fill("51147")
    postcode.press("Enter")
    expect(page.get_by_role("heading", level=2)).to_have_text("Shipping method")


def test_the_order_button_in_german(page: Page, mug: Item) -> None:
    """§312j(3) BGB: in German the button reads exactly "Zahlungspflichtig bestellen"."""
    _guest_to_review(page, mug, _email())
    page.get_by_role("button", name=re.compile("^DE")).click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page).to_have_url(re.compile(r"/checkout/review$"))
    expect(
        page.get_by_role("button", name="Zahlungspflichtig bestellen", exact=True)
    ).to_be_visible()
    expect(_order_button(page)).to_have_count(0)


def test_a_double_click_places_one_order(page: Page, live_app: Flask, mug: Item) -> None:
    """A double click on the order button places one order and shows it."""
    email = _email()
    _guest_to_review(page, mug, email)
    _order_button(page).dblclick()
    expect(page).to_have_url(re.compile(r"/orders/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order!")
    (order,) = _orders_of(live_app, email)
    expect(page.get_by_role("main")).to_contain_text(order.number)


def test_back_and_order_again_places_no_second_order(
    page: Page, live_app: Flask, mug: Item
) -> None:
    """Back from the thank-you page, and the order button again if it is still there.

    A browser that keeps the old review page (bfcache, htmx's history) sends its
    form a second time, and is shown the first order. Headless Chromium asks the
    server again instead, and the finished checkout leads to the empty cart.
    """
    email = _email()
    _guest_to_review(page, mug, email)
    _order_button(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order!")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/checkout/review$|/cart$"))
    if page.url.endswith("/cart"):
        expect(page.get_by_role("main")).to_contain_text("Your cart is empty.")
        assert len(_orders_of(live_app, email)) == 1
    else:
        _order_button(page).click()
        expect(page.locator(".flash")).to_contain_text("This order was placed already.")
        (order,) = _orders_of(live_app, email)
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")


def test_a_second_tab_finds_the_order_the_first_placed(
    page: Page, context: BrowserContext, live_app: Flask, mug: Item
) -> None:
    """The review page open in two tabs: ordering in both places one order, shown in both."""
    email = _email()
    _guest_to_review(page, mug, email)
    other = context.new_page()
    other.goto("/checkout/review")
    _order_button(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order!")
    _order_button(other).click()
    expect(other.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Order \S+$"))
    (order,) = _orders_of(live_app, email)
    expect(other.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")
    expect(other.locator(".flash")).to_contain_text("This order was placed already.")
    expect(other.get_by_role("main")).to_contain_text(order.payment_reference)
