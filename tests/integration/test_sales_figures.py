"""The dashboard's sums sort orders and documents into the owner's local days, on both
databases, whatever the daylight saving time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy import update

from kiosk.extensions import db
from kiosk.invoicing import services as invoicing
from kiosk.invoicing.models import Invoice
from kiosk.orders import services as orders
from kiosk.orders.models import Order
from kiosk.periods import Period
from tests.factories import make_product
from tests.functional.test_staff_order_operations import _buy, _paid
from tests.shopping import staff_member


def test_orders_and_revenue_fall_on_the_local_day_and_hour(app: Flask) -> None:
    with app.app_context():
        mug = make_product(name="Becher", price_cents=1000).id
    number = _buy(app, mug)
    _paid(staff_member(app), number)  # issues the invoice
    days = Period(date(2026, 3, 28), date(2026, 3, 30), "Europe/Berlin")
    for moment, day in (
        (datetime(2026, 3, 28, 22, 30, tzinfo=UTC), "2026-03-28"),  # 23:30 CET
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "2026-03-29"),  # 00:30 CET
        (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), "2026-03-30"),  # 00:30 CEST
    ):
        with app.app_context():
            order_id = db.session.execute(
                update(Order).where(Order.number == number).values(placed_at=moment)
                .returning(Order.id)
            ).scalar_one()  # fmt: skip
            db.session.execute(
                update(Invoice).where(Invoice.order_id == order_id).values(issued_at=moment)
            )
            db.session.commit()
            assert orders.orders_per_bucket(days, hourly=False) == {day: 1}
            ((label, currency, gross, _net),) = invoicing.revenue_per_bucket(days, hourly=False)
            assert (label, currency) == (day, "EUR")
            assert invoicing.revenue(days.start, days.end)[0][:2] == ("EUR", gross)
    with app.app_context():
        one_day = Period(date(2026, 3, 30), date(2026, 3, 30), "Europe/Berlin")
        assert orders.orders_per_bucket(one_day, hourly=True) == {"2026-03-30 00": 1}
