"""Checkout without JavaScript: the steps, their guards, placing once, and what a buyer sees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kiosk.accounts.models import Address
from kiosk.cart.models import CartLine
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.inventory import services as inventory
from kiosk.orders.models import Order
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.mailbox import link_in, outbox
from tests.shopping import (
    ADDRESS,
    add_to_cart,
    buy,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    review_form,
    sign_in,
)


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(
            name="Becher",
            slug="becher",
            sku="BECHER",
            price_cents=1290,
            stock_on_hand=5,
            delivery_time="2–3 days",
        ).id


def _orders(app: Flask) -> list[Order]:
    with app.app_context():
        query = select(Order).options(selectinload(Order.lines)).order_by(Order.id)
        return list(db.session.scalars(query))


def _stock(app: Flask, product_id: int) -> tuple[int, int]:
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product is not None
        return product.stock_on_hand, product.stock_reserved


def _ready_to_place(client: FlaskClient, product_id: int, quantity: int = 1) -> None:
    add_to_cart(client, product_id, quantity)
    give_address(client)
    choose_shipping(client)
    choose_payment(client)


def test_a_guest_buys_by_bank_transfer(app: Flask, client: FlaskClient, mug: int) -> None:
    response = buy(client, mug, 2)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert "Thank you for your order!" in page
    (order,) = _orders(app)
    assert order.number in page and f"<strong>{order.payment_reference}</strong>" in page
    assert "IBAN" in page and "€30.70" in page  # 2 × 12.90 + 4.90 shipping
    assert (order.items_cents, order.shipping_cents, order.total_cents) == (2580, 490, 3070)
    assert order.email == "erika@example.org" and order.status == "awaiting_payment"
    assert _stock(app, mug) == (3, 0)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CartLine)) == 0
        (mail,) = outbox("erika@example.org")
        assert order.number in mail.subject and "IBAN" in mail.text_body


def test_the_order_keeps_what_was_bought_and_the_terms_it_was_bought_under(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    with app.app_context():
        book = make_product(name="Buch", sku="BUCH", price_cents=2140, vat_class="reduced").id
    add_to_cart(client, book)
    buy(client, mug)
    (order,) = _orders(app)
    lines = [
        (ln.sku, ln.name, ln.unit_price_cents, ln.vat_rate_bp, ln.quantity) for ln in order.lines
    ]
    assert sorted(lines) == [("BECHER", "Becher", 1290, 1900, 1), ("BUCH", "Buch", 2140, 700, 1)]
    assert set(order.legal_versions) == {"terms", "withdrawal", "privacy"}
    with app.app_context(), unit_of_work() as session:
        session.get(Product, mug).price_cents = 9999  # type: ignore[union-attr]
    assert sorted(ln.unit_price_cents for ln in _orders(app)[0].lines) == [1290, 2140]
    # VAT per rate; shipping split in proportion: 4.90 × 12.90/34.30 → 1.84 at 19 %, 3.06 at 7 %.
    assert order.vat_breakdown == [
        {"rate_bp": 1900, "gross_cents": 1474, "net_cents": 1239, "vat_cents": 235},
        {"rate_bp": 700, "gross_cents": 2446, "net_cents": 2286, "vat_cents": 160},
    ]


def test_steps_cannot_be_skipped(client: FlaskClient, mug: int) -> None:
    add_to_cart(client, mug)
    response = client.get("/checkout/review")
    assert response.status_code == 302 and response.headers["Location"] == "/checkout/address"
    give_address(client)
    assert client.get("/checkout/payment").headers["Location"] == "/checkout/shipping"
    assert client.get("/checkout").headers["Location"] == "/checkout/shipping"


def test_an_empty_cart_has_no_checkout(client: FlaskClient) -> None:
    response = client.get("/checkout/address")
    assert response.headers["Location"] == "/cart"
    assert "Your cart is empty." in client.get("/cart").text


def test_a_bad_address_is_explained_and_nothing_typed_is_lost(
    client: FlaskClient, mug: int
) -> None:
    add_to_cart(client, mug)
    response = give_address(client, email="not-an-email", postal_code="123")
    assert response.status_code == 422
    page = response.text
    assert 'class="error-summary"' in page and 'href="#shipping-postal_code"' in page
    assert "A German postcode has five digits." in page
    assert 'value="not-an-email"' in page and 'value="Heidestraße 17"' in page
    assert 'aria-invalid="true"' in page


def test_a_bad_billing_address_is_named_as_such_in_the_summary(
    client: FlaskClient, mug: int
) -> None:
    add_to_cart(client, mug)
    token = csrf_token(client, "/checkout/address")
    data = {"csrf_token": token, "email": "erika@example.org", "separate_billing": "y"}
    data.update({f"shipping-{key}": value for key, value in ADDRESS.items()})
    data.update({f"billing-{key}": value for key, value in ADDRESS.items()})
    data["billing-postal_code"] = "1"
    response = client.post("/checkout/address", data=data)
    assert response.status_code == 422
    assert (
        'href="#billing-postal_code">Billing address: Postcode: A German postcode has five digits.'
        in response.text
    )


def test_the_shipping_step_offers_the_methods_of_the_country(client: FlaskClient, mug: int) -> None:
    add_to_cart(client, mug)
    give_address(client, country="AT", postal_code="1010", city="Wien")
    page = client.get("/checkout/shipping").text
    assert "DHL parcel EU" in page and "€12.90" in page and "DHL Express" not in page
    response = choose_shipping(client, "dhl-de")  # a German method for Austria: refused
    assert response.status_code == 422 and "Please choose a shipping method." in response.text


def test_an_unknown_payment_method_is_refused(client: FlaskClient, mug: int) -> None:
    add_to_cart(client, mug)
    give_address(client)
    choose_shipping(client)
    response = choose_payment(client, "free-lunch")
    assert response.status_code == 422 and "Please choose a payment method." in response.text


def test_checkout_holds_the_stock_and_lets_it_go_when_the_time_is_up(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    add_to_cart(client, mug, 2)
    client.get("/checkout/address")
    assert _stock(app, mug) == (5, 2)
    with app.app_context():
        assert inventory.release_expired(utcnow() + timedelta(minutes=16)) == 1
    assert _stock(app, mug) == (5, 0)
    choose_shipping_response = give_address(client)  # the next step holds the stock again
    assert choose_shipping_response.status_code == 303
    assert _stock(app, mug) == (5, 2)


def test_a_changed_cart_changes_what_is_held(app: Flask, client: FlaskClient, mug: int) -> None:
    add_to_cart(client, mug, 1)
    client.get("/checkout/address")
    add_to_cart(client, mug, 2)
    client.get("/checkout/address")
    assert _stock(app, mug) == (5, 3)


def test_a_double_submit_places_one_order(app: Flask, client: FlaskClient, mug: int) -> None:
    _ready_to_place(client, mug)
    form = review_form(client)
    first, second = place(client, form), place(client, form)
    (order,) = _orders(app)
    assert first.headers["Location"].startswith(f"/orders/{order.number}")
    assert second.headers["Location"].startswith(f"/orders/{order.number}")
    assert "This order was placed already." in client.get(second.headers["Location"]).text
    assert _stock(app, mug) == (4, 0)


def test_two_tabs_place_one_order(app: Flask, client: FlaskClient, mug: int) -> None:
    _ready_to_place(client, mug)
    first_tab, second_tab = review_form(client), review_form(client)
    place(client, first_tab)
    response = place(client, second_tab)
    (order,) = _orders(app)
    assert response.headers["Location"].startswith(f"/orders/{order.number}")


def test_a_tampered_total_or_price_changes_nothing(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    _ready_to_place(client, mug)
    form = review_form(client)
    response = place(client, {**form, "expected_total": "1"})
    assert response.headers["Location"] == "/checkout/review" and _orders(app) == []
    # Prices, product ids and quantities in the form are not read at all.
    place(client, form, price_cents="1", product_id="999", quantity="50")
    (order,) = _orders(app)
    assert order.total_cents == 1290 + 490 and [ln.quantity for ln in order.lines] == [1]


def test_a_price_change_before_placing_asks_for_another_look(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    _ready_to_place(client, mug)
    form = review_form(client)
    with app.app_context(), unit_of_work() as session:
        session.get(Product, mug).price_cents = 1490  # type: ignore[union-attr]
    response = place(client, form)
    assert response.headers["Location"] == "/checkout/review" and _orders(app) == []
    page = client.get("/checkout/review").text
    assert "Prices or shipping changed" in page and "€14.90" in page
    place(client)
    assert [o.total_cents for o in _orders(app)] == [1490 + 490]


def test_sold_out_while_the_hold_had_lapsed(app: Flask, client: FlaskClient, mug: int) -> None:
    _ready_to_place(client, mug, 2)
    form = review_form(client)
    with app.app_context():
        inventory.release_expired(utcnow() + timedelta(minutes=16))
    rival = new_client(app)
    buy(rival, mug, 4)
    response = place(client, form)
    assert response.headers["Location"] == "/cart"
    assert "Sorry, not enough left of: Becher." in client.get("/cart").text
    assert len(_orders(app)) == 1 and _stock(app, mug) == (1, 0)


def test_the_terms_box_when_the_owner_asks_for_it(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    app.config["KIOSK_TERMS_CHECKBOX"] = True
    _ready_to_place(client, mug)
    form = review_form(client)
    response = place(client, form)
    assert response.status_code == 422 and _orders(app) == []
    assert "Please accept the terms and conditions to order." in response.text
    place(client, form, accept_terms="y")
    (order,) = _orders(app)
    assert order.terms_checkbox_ticked


def test_the_review_page_shows_what_the_law_asks_before_an_order(
    client: FlaskClient, mug: int
) -> None:
    _ready_to_place(client, mug)
    page = client.get("/checkout/review").text
    for expected in ("Becher", "€12.90", "€4.90", "€17.80", "includes 19 % VAT", "2–3 days"):
        assert expected in page, expected
    for link in ('href="/terms"', 'href="/withdrawal"', 'href="/privacy"'):
        assert link in page
    assert ">Order and pay</button>" in page


def test_the_order_button_says_zahlungspflichtig_bestellen_in_german(
    client: FlaskClient, mug: int
) -> None:
    _ready_to_place(client, mug)
    page = client.get("/checkout/review", headers={"Accept-Language": "de"}).text
    assert ">Zahlungspflichtig bestellen</button>" in page


def test_a_customer_checks_out_with_a_saved_address(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    with app.app_context():
        user_id = make_user().id
        with unit_of_work() as session:
            session.add(
                Address(
                    user_id=user_id, name="Jana Nowak", street="Ring 1", postal_code="10115",
                    city="Berlin", country="DE", is_default_shipping=True,
                )
            )  # fmt: skip
        address_id = db.session.scalar(select(Address.id))
    sign_in(client, "jana@example.org", PASSWORD)
    add_to_cart(client, mug)
    page = client.get("/checkout/address").text
    assert "Order confirmation goes to jana@example.org." in page and "Ring 1" in page
    token = csrf_token(client, "/checkout/address")
    response = client.post(
        "/checkout/address", data={"csrf_token": token, "address_choice": str(address_id)}
    )
    assert response.headers["Location"] == "/checkout/shipping"
    choose_shipping(client)
    choose_payment(client)
    place(client)
    (order,) = _orders(app)
    assert order.user_id == user_id and order.email == "jana@example.org"
    assert order.shipping_address["street"] == "Ring 1"


def test_a_customer_cannot_ship_to_another_customers_address(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    with app.app_context():
        other = make_user("other@example.org")
        with unit_of_work() as session:
            session.add(
                Address(user_id=other.id, name="O", street="S 1", postal_code="10115", city="B")
            )
        theirs = db.session.scalar(select(Address.id))
        make_user()
    sign_in(client, "jana@example.org", PASSWORD)
    add_to_cart(client, mug)
    token = csrf_token(client, "/checkout/address")
    response = client.post(
        "/checkout/address", data={"csrf_token": token, "address_choice": str(theirs)}
    )
    assert response.status_code == 404


def test_only_the_buyer_sees_the_order(app: Flask, client: FlaskClient, mug: int) -> None:
    location = buy(client, mug).headers["Location"]
    (order,) = _orders(app)
    stranger = new_client(app)
    assert stranger.get(f"/orders/{order.number}").status_code == 404
    assert stranger.get(f"/orders/{order.number}/access/wrong-key").status_code == 404
    with app.app_context():
        link = link_in(outbox("erika@example.org")[0], f"/orders/{order.number}/")
    guest_elsewhere = new_client(app)  # the guest opens the mail on another device
    assert guest_elsewhere.get(link).headers["Location"] == f"/orders/{order.number}"
    assert order.number in guest_elsewhere.get(f"/orders/{order.number}").text
    assert client.get(location).status_code == 200


def test_a_customers_order_stays_theirs(app: Flask, client: FlaskClient, mug: int) -> None:
    with app.app_context():
        make_user()
        make_user("other@example.org")
    sign_in(client, "jana@example.org", PASSWORD)
    add_to_cart(client, mug)
    choose_shipping(client) if give_address(client, email=None).status_code == 303 else None
    choose_payment(client)
    place(client)
    (order,) = _orders(app)
    other = new_client(app)
    sign_in(other, "other@example.org", PASSWORD)
    assert other.get(f"/orders/{order.number}").status_code == 404
    again = new_client(app)
    sign_in(again, "jana@example.org", PASSWORD)  # a new session of the buyer
    assert again.get(f"/orders/{order.number}").status_code == 200


def test_legal_pages_and_shipping_costs(client: FlaskClient) -> None:
    shipping = client.get("/shipping").text
    assert "DHL parcel" in shipping and "€4.90" in shipping and "free from €50.00" in shipping
    assert "up to 2 kg: €12.90" in shipping
    assert client.get("/terms").status_code == 200
    assert "Model withdrawal form" in client.get("/withdrawal").text
