"""An order becomes paid one way only: its payment is recorded (staff for offline money,
the card webhook for Stripe). The status button once set "paid" without the money,
which left the payment open and no refund possible; `flask kiosk repair-payments`
mends orders left that way."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from kiosk.orders import lifecycle
from kiosk.orders.lifecycle import Actor
from kiosk.orders.models import Order, OrderStatus
from kiosk.payments.models import PaymentStatus
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token
from tests.factories import make_product
from tests.shopping import (
    add_to_cart,
    buy,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    staff_member,
)


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", price_cents=1290, stock_on_hand=20).id


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return staff_member(app)


def _order(app: Flask, number: str) -> Order:
    with app.app_context():
        query = select(Order).options(
            selectinload(Order.payments), selectinload(Order.events), selectinload(Order.invoices)
        )
        return db.session.scalars(query.where(Order.number == number)).one()


def _placed(app: Flask, client: FlaskClient, mug: int) -> str:
    response = buy(client, mug)
    assert response.status_code == 303
    with app.app_context():
        return db.session.scalars(select(Order.number).order_by(Order.id.desc())).first()  # type: ignore[return-value]


def _staff_post(staff: FlaskClient, number: str, action: str, **data: str) -> str:
    token = csrf_token(staff, f"/staff/orders/{number}")
    response = staff.post(f"/staff/orders/{number}/{action}", data={"csrf_token": token, **data})
    assert response.status_code in (303, 422), response.status_code
    return staff.get(f"/staff/orders/{number}").text


def test_the_status_buttons_offer_no_paid_and_refuse_it(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    number = _placed(app, client, mug)
    page = staff.get(f"/staff/orders/{number}").text
    assert "Mark as paid" not in page and "Mark payment received" in page
    after = _staff_post(staff, number, "status", to="paid")
    assert "Only the shop can make this change." in after
    order = _order(app, number)
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.invoices == []
    assert "Mark payment received" in after  # recording the payment is the way


def _set_paid_the_old_way(app: Flask, number: str) -> None:
    """What the status button did: the step to paid (invoice and all), the payment untouched."""
    with app.app_context(), unit_of_work() as session:
        order = session.scalars(select(Order).where(Order.number == number)).one()
        order.status = OrderStatus.PAID
        lifecycle.record(session, order, "status", actor_kind=Actor.STAFF,
                         previous="awaiting_payment", state="paid")  # fmt: skip


def test_repair_records_the_payment_of_orders_set_to_paid_without_it(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    broken, fine = _placed(app, client, mug), _placed(app, client, mug)
    _set_paid_the_old_way(app, broken)
    _staff_post(staff, fine, "mark-paid")
    assert "Record refund" not in staff.get(f"/staff/orders/{broken}").text  # the defect

    result = app.test_cli_runner().invoke(args=["kiosk", "repair-payments"])
    assert result.exit_code == 0, result.output
    assert f"Recorded the payment of 1 order(s): {broken}" in result.output
    order = _order(app, broken)
    (payment,) = order.payments
    assert payment.status == PaymentStatus.PAID and payment.paid_at is not None
    assert order.status == OrderStatus.PAID
    (repair,) = [e for e in order.events if e.kind == "payment_repaired"]
    assert repair.data["amount_cents"] == payment.amount_cents == order.total_cents
    assert repair.actor_kind == "system"
    page = staff.get(f"/staff/orders/{broken}").text
    assert "Payment recorded afterwards" in page
    refunded = _staff_post(staff, broken, "refund", amount="5.00", reason="Kratzer")
    assert re.search(r"Refund \(€5\.00\) – Kratzer", refunded)
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.event)).all().count("payment.repaired") == 1

    again = app.test_cli_runner().invoke(args=["kiosk", "repair-payments"])
    assert "Nothing to repair." in again.output
    assert [e.kind for e in _order(app, broken).events].count("payment_repaired") == 1


def test_repair_does_not_assume_a_card_payment_and_flags_the_order(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    app.config.update(STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x")
    add_to_cart(client, mug)
    give_address(client)
    choose_shipping(client)
    choose_payment(client, "stripe")
    assert place(client).status_code == 303  # to Stripe, where the buyer never paid
    with app.app_context():
        number = db.session.scalars(select(Order.number)).one()
    _set_paid_the_old_way(app, number)

    result = app.test_cli_runner().invoke(args=["kiosk", "repair-payments"])
    assert f"flagged for checking in Stripe: {number}" in result.output
    order = _order(app, number)
    assert order.payments[0].status == PaymentStatus.PENDING and order.needs_review
    again = app.test_cli_runner().invoke(args=["kiosk", "repair-payments"])
    assert "Nothing to repair." in again.output


def test_the_status_buttons_offer_no_refunded_and_refuse_it(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    number = _placed(app, client, mug)
    _staff_post(staff, number, "mark-paid")
    page = staff.get(f"/staff/orders/{number}").text
    assert "Mark as refunded" not in page and "Record refund" in page
    after = _staff_post(staff, number, "status", to="refunded")
    assert "Only the shop can make this change." in after
    assert _order(app, number).status == OrderStatus.PAID
    total = _order(app, number).total_cents
    refunded = _staff_post(staff, number, "refund", amount=f"{total / 100:.2f}", reason="Storno")
    order = _order(app, number)
    assert order.status == OrderStatus.REFUNDED, refunded  # the refund itself moves it
    assert order.payments[0].refunded_cents == order.total_cents


def test_repair_flags_orders_set_to_refunded_without_a_refund(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    number = _placed(app, client, mug)
    _staff_post(staff, number, "mark-paid")
    with app.app_context(), unit_of_work() as session:  # what the status button did
        order = session.scalars(select(Order).where(Order.number == number)).one()
        order.status = OrderStatus.REFUNDED
        lifecycle.record(session, order, "status", actor_kind=Actor.STAFF,
                         previous="paid", state="refunded")  # fmt: skip

    result = app.test_cli_runner().invoke(args=["kiosk", "repair-payments"])
    assert f"flagged for staff to record it: {number}" in result.output
    order = _order(app, number)
    assert order.needs_review and order.payments[0].refunded_cents == 0
    assert [e.kind for e in order.events].count("refund_unrecorded") == 1
    again = app.test_cli_runner().invoke(args=["kiosk", "repair-payments"])
    assert "Nothing to repair." in again.output
