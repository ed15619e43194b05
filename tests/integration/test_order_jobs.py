"""The timer's jobs: remind unpaid prepayment orders once, cancel them later, assume delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.orders import jobs as order_jobs
from kiosk.orders import lifecycle
from kiosk.orders.lifecycle import Actor
from kiosk.orders.models import Order, OrderEvent, OrderStatus
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work
from tests.factories import make_product
from tests.mailbox import outbox
from tests.shopping import buy


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", price_cents=1290, stock_on_hand=10).id


def _order(app: Flask) -> Order:
    with app.app_context():
        return db.session.scalars(select(Order)).one()


def _age(app: Flask, days: float) -> None:
    with app.app_context(), unit_of_work() as session:
        order = session.scalars(select(Order)).one()
        order.placed_at = utcnow() - timedelta(days=days)


def test_an_unpaid_order_is_reminded_once(app: Flask, client: FlaskClient, mug: int) -> None:
    buy(client, mug)
    with app.app_context():
        assert order_jobs.run().reminded == 0  # too early
    _age(app, 6)
    with app.app_context():
        assert order_jobs.run().reminded == 1
        assert order_jobs.run().reminded == 0  # safe to run again
        subjects = [m.subject for m in outbox("erika@example.org")]
    assert subjects[-1].startswith("Reminder: your order")
    assert _order(app).status == OrderStatus.AWAITING_PAYMENT


def test_an_order_unpaid_too_long_is_cancelled_and_its_stock_returns(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    buy(client, mug, 2)
    _age(app, 15)
    with app.app_context():
        report = order_jobs.run()
        assert (report.cancelled, report.reminded) == (1, 0)
        assert db.session.get(Product, mug).stock_on_hand == 10  # type: ignore[union-attr]
    assert _order(app).status == OrderStatus.CANCELLED


def test_paid_orders_are_left_alone(app: Flask, client: FlaskClient, mug: int) -> None:
    buy(client, mug)
    _age(app, 30)
    with app.app_context():
        lifecycle.transition(_order(app).number, OrderStatus.PAID, Actor.SYSTEM)
        assert order_jobs.run() == order_jobs.JobReport()


def test_shipped_orders_are_assumed_delivered_only_when_switched_on(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    buy(client, mug)
    with app.app_context(), unit_of_work() as session:
        order = session.scalars(select(Order)).one()
        lifecycle.change(session, order, OrderStatus.PAID, Actor.SYSTEM)
        lifecycle.change(session, order, OrderStatus.SHIPPED, Actor.STAFF)
    with app.app_context(), unit_of_work() as session:
        for event in session.scalars(select(OrderEvent)):
            event.created_at = utcnow() - timedelta(days=8)
    with app.app_context():
        assert order_jobs.run().delivered == 0  # off by default
        app.config["KIOSK_AUTO_DELIVER_DAYS"] = 7
        assert order_jobs.run().delivered == 1
        assert order_jobs.run().delivered == 0
    assert _order(app).status == OrderStatus.DELIVERED
