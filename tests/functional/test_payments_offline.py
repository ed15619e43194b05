"""Offline payment methods: what checkout offers, the cash-on-delivery fee, and staff actions."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk.audit.models import AuditEvent
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.inventory.models import InventoryMovement, MovementKind
from kiosk.orders.models import Order, OrderStatus
from kiosk.payments.models import PaymentStatus
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.mailbox import outbox
from tests.shopping import (
    add_to_cart,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    sign_in,
    staff_member,
)


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", price_cents=1290, stock_on_hand=20).id


def _order(app: Flask) -> Order:
    with app.app_context():
        query = select(Order).options(
            selectinload(Order.payments), selectinload(Order.events), selectinload(Order.lines)
        )
        return db.session.scalars(query.order_by(Order.id.desc())).first()  # type: ignore[return-value]


def _buy(client: FlaskClient, product_id: int, method: str, email: str | None = "e@example.org"):  # type: ignore[no-untyped-def]
    add_to_cart(client, product_id)
    give_address(client, email=email)
    choose_shipping(client)
    choose_payment(client, method)
    return place(client)


def test_guests_are_offered_transfer_and_cash_on_delivery_with_its_fee(
    client: FlaskClient, mug: int
) -> None:
    add_to_cart(client, mug)
    give_address(client)
    choose_shipping(client)
    page = client.get("/checkout/payment").text
    assert "Bank transfer (prepayment)" in page
    assert "Cash on delivery (plus €4.00 fee)" in page
    assert "Invoice" not in page  # only for customers who have paid before
    assert choose_payment(client, "invoice").status_code == 422


def test_invoice_for_returning_customers_or_everyone(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    with app.app_context():
        make_user()
    sign_in(client, "jana@example.org", PASSWORD)
    _buy(client, mug, "bank_transfer", email=None)
    assert "Invoice" not in client.get("/checkout/payment").text
    with app.app_context(), unit_of_work() as session:  # the transfer arrived
        order = session.scalars(select(Order)).one()
        order.status, order.payments[0].status = OrderStatus.PAID, PaymentStatus.PAID
    add_to_cart(client, mug)
    give_address(client, email=None)
    choose_shipping(client)
    assert "Invoice" in client.get("/checkout/payment").text
    app.config["KIOSK_INVOICE_FOR"] = "all"
    guest = new_client(app)
    add_to_cart(guest, mug)
    give_address(guest)
    choose_shipping(guest)
    assert "Invoice" in guest.get("/checkout/payment").text


def test_cash_on_delivery_adds_its_fee_as_a_line_with_vat(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    add_to_cart(client, mug)
    give_address(client)
    choose_shipping(client)
    choose_payment(client, "cash_on_delivery")
    review = client.get("/checkout/review").text
    assert "Fee for Cash on delivery" in review and "€4.00" in review and "€21.80" in review
    place(client)
    order = _order(app)
    assert (order.fee_cents, order.total_cents) == (400, 1290 + 490 + 400)
    assert sum(row["gross_cents"] for row in order.vat_breakdown) == order.total_cents
    (payment,) = order.payments
    assert (payment.provider, payment.amount_cents, payment.status) == (
        "cash_on_delivery",
        2180,
        PaymentStatus.PENDING,
    )


@pytest.fixture
def staff_client(app: Flask) -> FlaskClient:
    return staff_member(app)


def _staff_post(client: FlaskClient, number: str, action: str, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/staff/orders/{number}")
    return client.post(f"/staff/orders/{number}/{action}", data={"csrf_token": token, **data})


def test_staff_mark_a_transfer_received_once(
    app: Flask, client: FlaskClient, staff_client: FlaskClient, mug: int
) -> None:
    _buy(client, mug, "bank_transfer")
    number = _order(app).number
    page = staff_client.get(f"/staff/orders/{number}").text
    assert "Mark payment received" in page and "Bank transfer (prepayment)" in page
    response = _staff_post(staff_client, number, "mark-paid", note="Sparkasse, 23.11.")
    assert response.status_code == 303
    order = _order(app)
    assert order.status == OrderStatus.PAID and order.payments[0].status == PaymentStatus.PAID
    assert [(e.kind, e.reason, e.actor_kind) for e in order.events] == [
        ("status", "", "system"),  # follows from the payment staff recorded
        ("payment_received", "Sparkasse, 23.11.", "staff"),
    ]
    again = _staff_post(staff_client, number, "mark-paid")
    assert (
        "There is no offline payment waiting for this order."
        in staff_client.get(again.headers["Location"]).text
    )
    with app.app_context():
        events = db.session.scalars(select(AuditEvent.event)).all()
        assert events.count("payment.marked_paid") == 1


def test_staff_record_partial_and_full_refunds(
    app: Flask, client: FlaskClient, staff_client: FlaskClient, mug: int
) -> None:
    _buy(client, mug, "bank_transfer")
    number = _order(app).number
    _staff_post(staff_client, number, "mark-paid")
    for data, message in (
        ({"amount": "5", "reason": ""}, "Please give a reason"),
        ({"amount": "abc", "reason": "x"}, "Please enter the amount"),
        ({"amount": "99", "reason": "Kratzer"}, "That is more than is left to refund."),
    ):
        response = _staff_post(staff_client, number, "refund", **data)
        # The page comes back with the problem named at the field and what was typed kept.
        assert response.status_code == 422 and message in response.text
        assert 'class="error-summary"' in response.text
        for name, typed in data.items():
            field = re.search(rf'<input [^>]*id="refund-{name}"[^>]*>', response.text)
            assert field is not None and f'value="{typed}"' in field.group()
    _staff_post(staff_client, number, "refund", amount="5,00", reason="Becher angeschlagen")
    order = _order(app)
    assert order.status == OrderStatus.PAID and order.payments[0].refunded_cents == 500
    _staff_post(staff_client, number, "refund", amount="12.80", reason="Rest erstattet")
    order = _order(app)
    assert order.status == OrderStatus.REFUNDED and order.payments[0].refunded_cents == 1780
    assert [e.data["amount_cents"] for e in order.events if e.kind == "refund"] == [500, 1280]


def test_customers_cannot_use_staff_order_pages(app: Flask, client: FlaskClient, mug: int) -> None:
    _buy(client, mug, "bank_transfer")
    number = _order(app).number
    with app.app_context():
        make_user()
    customer = new_client(app)
    sign_in(customer, "jana@example.org", PASSWORD)
    assert customer.get(f"/staff/orders/{number}").status_code == 403
    token = csrf_token(customer, "/")
    response = customer.post(f"/staff/orders/{number}/mark-paid", data={"csrf_token": token})
    assert response.status_code == 403 and _order(app).status == OrderStatus.AWAITING_PAYMENT


def test_a_refund_for_returned_goods_puts_them_back_in_stock_once(
    app: Flask, client: FlaskClient, staff_client: FlaskClient, mug: int
) -> None:
    _buy(client, mug, "bank_transfer")
    number = _order(app).number
    _staff_post(staff_client, number, "mark-paid")
    _staff_post(
        staff_client, number, "status", to="shipped", carrier="dhl", tracking="003404341234"
    )
    with app.app_context():
        assert db.session.get(Product, mug).stock_on_hand == 19  # type: ignore[union-attr]
    refund = {"amount": "5", "reason": "Zurückgeschickt", "goods_returned": "y"}
    _staff_post(staff_client, number, "refund", **refund)
    _staff_post(staff_client, number, "refund", **refund)  # a second refund: no second return
    with app.app_context():
        assert db.session.get(Product, mug).stock_on_hand == 20  # type: ignore[union-attr]
        kinds = db.session.scalars(select(InventoryMovement.kind)).all()
        assert kinds.count(MovementKind.RETURN) == 1
    order = _order(app)
    assert order.status == OrderStatus.RETURNED
    assert [e.data.get("state") for e in order.events if e.kind == "status"] == [
        "paid",
        "shipped",
        "returned",
    ]


def test_the_buyer_hears_when_the_payment_is_received(
    app: Flask, client: FlaskClient, staff_client: FlaskClient, mug: int
) -> None:
    _buy(client, mug, "bank_transfer", email="paid@example.org")
    _staff_post(staff_client, _order(app).number, "mark-paid")
    with app.app_context():
        subjects = [m.subject for m in outbox("paid@example.org")]
    assert subjects[-1] == f"Payment received for your order {_order(app).number}"


@pytest.mark.parametrize("method", ["bank_transfer", "invoice", "cash_on_delivery"])
def test_each_offline_method_from_order_to_paid(
    app: Flask, client: FlaskClient, staff_client: FlaskClient, mug: int, method: str
) -> None:
    app.config["KIOSK_INVOICE_FOR"] = "all"
    _buy(client, mug, method)
    order = _order(app)
    assert order.payment_method == method and order.status == OrderStatus.AWAITING_PAYMENT
    _staff_post(staff_client, order.number, "mark-paid")
    order = _order(app)
    assert order.status == OrderStatus.PAID and order.payments[0].status == PaymentStatus.PAID


def test_the_staff_payments_table_speaks_of_payment_methods_in_german(
    app: Flask, client: FlaskClient, staff_client: FlaskClient, mug: int
) -> None:
    """Its column once read "Versandart" (shipping method): the msgid "Method" was shared."""
    _buy(client, mug, "bank_transfer")
    number = _order(app).number
    page = staff_client.get(f"/staff/orders/{number}", headers={"Accept-Language": "de"}).text
    table = page[page.index('aria-labelledby="staff-payments"') :]
    table = table[: table.index("</table>")]
    assert '<th scope="col">Zahlungsart</th>' in table and "Versand" not in table
