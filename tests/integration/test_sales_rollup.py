"""The dashboard's sales rollup: closed days and months are summed once, and every figure
reads the same before and after the roll-up, and after a second one."""

from __future__ import annotations

from dataclasses import astuple
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from kiosk.backoffice import dashboard, sales
from kiosk.backoffice.models import SalesBucket, SalesRollup
from kiosk.extensions import db
from kiosk.invoicing.models import Invoice
from kiosk.money import Money
from kiosk.orders import lifecycle, settlement
from kiosk.orders.models import Order
from kiosk.periods import Period
from tests.factories import make_product
from tests.functional.test_staff_order_operations import _buy, _paid
from tests.shopping import staff_member


def _figures(period: Period) -> tuple[object, ...]:
    sold = sales.Sold(period)
    return (
        sold.totals(),
        sold.per_day("EUR", hourly=False),
        sorted(astuple(p) for p in sold.products()),
    )


def _back(app: Flask, number: str, days: int) -> None:
    """Move an order, its documents and its history `days` days into the past."""
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.number == number)).one()
        order.placed_at -= timedelta(days)
        for document in db.session.scalars(select(Invoice).where(Invoice.order_id == order.id)):
            document.issued_at -= timedelta(days)
        for event in order.events:
            event.created_at -= timedelta(days)
        db.session.commit()


def test_figures_are_the_same_before_and_after_the_rollup(app: Flask) -> None:
    owner = staff_member(app)
    with app.app_context():
        mug = make_product(name="Becher", price_cents=1299, stock_on_hand=50).id
        pot = make_product(name="Kanne", price_cents=3450, stock_on_hand=50).id
    bought = [_buy(app, mug, 2), _buy(app, pot), _buy(app, mug), _buy(app, pot, 3)]
    for number in bought:
        _paid(owner, number)
    with app.app_context():
        settlement.refund(bought[0], Money(500, "EUR"), "dented", None)
        lifecycle.withdraw(bought[1], "changed my mind")
    for number, days in zip(bought, (70, 41, 3), strict=False):  # the last one is today's
        _back(app, number, days)

    with app.app_context():
        today = dashboard.today()
        zone = dashboard._zone()
        ranges = [
            Period(today - timedelta(days=89), today, zone),  # whole months and parts
            Period(today - timedelta(days=45), today - timedelta(days=2), zone),
            Period(today, today, zone),
        ]
        before = [_figures(p) for p in ranges]
        assert before[0][0].orders == 4 and before[0][0].withdrawals == 1
        assert before[0][0].credited_orders == 1

        report = sales.roll_up()
        months = db.session.scalars(
            select(SalesRollup.day).where(SalesRollup.bucket == SalesBucket.MONTH).distinct()
        ).all()
        assert report.days >= 70 and report.months == len(months) >= 2
        assert [_figures(p) for p in ranges] == before

        rows = db.session.scalar(select(func.count(SalesRollup.id)))
        again = sales.roll_up()
        assert (again.days, again.months, again.rows) == (0, 0, 0)
        assert db.session.scalar(select(func.count(SalesRollup.id))) == rows


def test_a_dry_run_writes_nothing(app: Flask) -> None:
    with app.app_context():
        mug = make_product(name="Becher", stock_on_hand=5).id
    _back(app, _buy(app, mug), 40)
    with app.app_context():
        report = sales.roll_up(dry_run=True)
        assert report.days >= 40 and report.months >= 1
        assert db.session.scalar(select(func.count(SalesRollup.id))) == 0
