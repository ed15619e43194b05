"""The cart without JavaScript and with htmx: add, change, remove, mistakes, merge at sign-in."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.cart.models import CartLine
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user

HTMX = {"HX-Request": "true"}


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", slug="becher", price_cents=1290, stock_on_hand=5).id


def _add(client: FlaskClient, product_id: int, quantity: str = "1", **headers: str):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf_token(client, "/p/becher"),
        "product_id": str(product_id),
        "quantity": quantity,
        "next": "/p/becher",
    }
    return client.post("/cart/add", data=data, headers=headers)


def _lines(app: Flask) -> list[tuple[int, int]]:
    with app.app_context():
        return [(line.product_id, line.quantity) for line in db.session.scalars(select(CartLine))]


def test_add_to_cart_without_javascript(app: Flask, client: FlaskClient, mug: int) -> None:
    response = _add(client, mug, "2")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    page = client.get("/cart").text
    assert "Added to your cart." in page
    assert "Becher" in page and "€25.80" in page
    assert re.search(r'class="cart-badge__count">2<', page)


def test_add_with_htmx_updates_badge_and_message_in_place(client: FlaskClient, mug: int) -> None:
    response = _add(client, mug, "1", **HTMX)
    assert response.status_code == 200
    assert 'id="cart-badge"' in response.text and 'data-hx-swap-oob="true"' in response.text
    assert "Added to your cart." in response.text


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "The quantity must be at least 1."),
        ("-3", "The quantity must be at least 1."),
        ("zwei", "Please enter the quantity as a whole number."),
        ("1000", "At most 99 of one item per order, please."),
        ("6", "Only 5 of Becher available."),
    ],
)
def test_bad_quantities_are_explained_and_change_nothing(
    app: Flask, client: FlaskClient, mug: int, quantity: str, message: str
) -> None:
    _add(client, mug, "1")
    response = _add(client, mug, quantity)
    assert response.status_code == 303 and response.headers["Location"] == "/p/becher"
    assert message in client.get("/p/becher").text
    assert _lines(app) == [(mug, 1)]


def test_change_and_remove_lines(app: Flask, client: FlaskClient, mug: int) -> None:
    _add(client, mug, "1")
    with app.app_context():
        line_id = db.session.scalar(select(CartLine.id))
    token = csrf_token(client, "/cart")
    assert (
        client.post(
            f"/cart/lines/{line_id}", data={"csrf_token": token, "quantity": "3"}
        ).status_code
        == 303
    )
    assert _lines(app) == [(mug, 3)]
    fragment = client.post(
        f"/cart/lines/{line_id}", data={"csrf_token": token, "quantity": "9"}, headers=HTMX
    )
    assert fragment.status_code == 422 and "Only 5 of Becher available." in fragment.text
    assert "<html" not in fragment.text and 'id="cart-badge"' in fragment.text
    assert _lines(app) == [(mug, 3)]
    removed = client.post(f"/cart/lines/{line_id}/remove", data={"csrf_token": token}, headers=HTMX)
    assert "Your cart is empty." in removed.text
    assert _lines(app) == []


def test_another_shoppers_line_is_not_found(app: Flask, client: FlaskClient, mug: int) -> None:
    _add(client, mug, "1")
    with app.app_context():
        line_id = db.session.scalar(select(CartLine.id))
    stranger = new_client(app)
    token = csrf_token(stranger, "/cart")
    assert (
        stranger.post(
            f"/cart/lines/{line_id}", data={"csrf_token": token, "quantity": "2"}
        ).status_code
        == 404
    )
    assert (
        stranger.post(f"/cart/lines/{line_id}/remove", data={"csrf_token": token}).status_code
        == 404
    )
    assert _lines(app) == [(mug, 1)]


def test_a_price_change_is_pointed_out(app: Flask, client: FlaskClient, mug: int) -> None:
    _add(client, mug, "1")
    with app.app_context(), unit_of_work() as session:
        session.get(Product, mug).price_cents = 1490
    page = client.get("/cart").text
    assert "Becher now costs €14.90 (was €12.90)." in page


def test_the_guest_cart_joins_the_account_cart_at_sign_in(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    with app.app_context():
        cup = make_product(name="Tasse", slug="tasse", stock_on_hand=1).id
        make_user()
    account = new_client(app)  # earlier, on another device, the customer put a mug in their cart
    account.post(
        "/signin",
        data={
            "csrf_token": csrf_token(account, "/signin"),
            "email": "jana@example.org",
            "password": PASSWORD,
        },
    )
    _add(account, mug, "4")
    _add(client, mug, "3")  # now, as a guest
    _add(client, cup, "1")
    with app.app_context(), unit_of_work() as session:
        session.get(Product, cup).is_active = False  # gone before sign-in
    client.post(
        "/signin",
        data={
            "csrf_token": csrf_token(client, "/signin"),
            "email": "jana@example.org",
            "password": PASSWORD,
        },
    )
    page = client.get("/cart").text
    assert "Becher: only 5 available, your cart holds that many now." in page
    assert "Tasse is no longer available." in page
    assert sorted(_lines(app)) == [(mug, 5)]
