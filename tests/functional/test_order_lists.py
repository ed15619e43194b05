"""Order lists: the customer's own, and staff's with filters, pages and a CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.cart.models import CartLine
from kiosk.extensions import db
from kiosk.orders.models import Order, OrderStatus
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.shopping import buy, sign_in, staff_member


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", price_cents=1290, stock_on_hand=50).id


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return staff_member(app)


def _numbers(app: Flask) -> dict[str, str]:
    with app.app_context():
        return {o.email: o.number for o in db.session.scalars(select(Order))}


def test_a_customer_sees_only_their_own_orders(app: Flask, mug: int) -> None:
    with app.app_context():
        make_user()
    customer = new_client(app)
    sign_in(customer, "jana@example.org", PASSWORD)
    buy(customer, mug, email=None)
    buy(new_client(app), mug, email="guest@example.org")
    page = customer.get("/account/orders").text
    numbers = _numbers(app)
    assert numbers["jana@example.org"] in page and numbers["guest@example.org"] not in page


def test_reorder_puts_the_items_back_in_the_cart(app: Flask, client: FlaskClient, mug: int) -> None:
    buy(client, mug, 3)
    number = next(iter(_numbers(app).values()))
    token = csrf_token(client, f"/orders/{number}")
    response = client.post(f"/orders/{number}/reorder", data={"csrf_token": token})
    assert response.headers["Location"] == "/cart"
    assert "The items are in your cart again" in client.get("/cart").text
    with app.app_context():
        assert [line.quantity for line in db.session.scalars(select(CartLine))] == [3]


def test_staff_filter_the_list_and_export_it(app: Flask, staff: FlaskClient, mug: int) -> None:
    buy(new_client(app), mug, name="Jürgen Weiß", email="juergen@example.org")
    buy(new_client(app), mug, name="Anna Berg", email="anna@example.org")
    with app.app_context(), unit_of_work() as session:
        anna = session.scalars(select(Order).where(Order.email == "anna@example.org")).one()
        anna.status = OrderStatus.PAID
    numbers = _numbers(app)
    everything = staff.get("/staff/orders").text
    assert "2 orders" in everything
    by_name = staff.get("/staff/orders", query_string={"q": "weiß"}).text
    assert numbers["juergen@example.org"] in by_name and numbers["anna@example.org"] not in by_name
    by_state = staff.get("/staff/orders", query_string={"status": "paid"}).text
    assert numbers["anna@example.org"] in by_state and "1 order" in by_state
    by_number = staff.get("/staff/orders", query_string={"q": numbers["anna@example.org"]}).text
    assert "1 order" in by_number
    fragment = staff.get(
        "/staff/orders", query_string={"q": "anna"}, headers={"HX-Request": "true"}
    )
    assert "<h1>" not in fragment.text and numbers["anna@example.org"] in fragment.text
    bad_date = staff.get("/staff/orders", query_string={"from": "gestern"}).text
    assert "gestern is not a date like 2026-11-23." in bad_date and "2 orders" in bad_date
    exported = staff.get("/staff/orders.csv", query_string={"payment": "bank_transfer"})
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:3] == ["number", "placed_at", "status"]
    assert sorted(row[5] for row in rows[1:]) == ["Anna Berg", "Jürgen Weiß"]
    assert {row[11] for row in rows[1:]} == {"17.80"}


def test_a_name_that_looks_like_a_formula_is_exported_as_text(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    """A buyer named "=HYPERLINK(…)" must not become a live formula in staff's spreadsheet."""
    buy(new_client(app), mug, name='=HYPERLINK("https://evil.example","Click")')
    rows = list(csv.reader(io.StringIO(staff.get("/staff/orders.csv").text)))
    assert rows[1][5] == '\'=HYPERLINK("https://evil.example","Click")'
    assert rows[1][4] == "erika@example.org"
