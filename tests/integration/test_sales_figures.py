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
    staff = staff_member(app)
    numbers = [_buy(app, mug) for _ in range(3)]
    for number in numbers:
        _paid(staff, number)  # issues the invoice
    moments = [
        datetime(2026, 3, 28, 22, 30, tzinfo=UTC),  # 23:30 CET on the 28th
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 CET on the 29th
        datetime(2026, 3, 29, 22, 30, tzinfo=UTC),  # 00:30 CEST on the 30th
    ]
    with app.app_context():
        for number, moment in zip(numbers, moments, strict=True):
            order_id = db.session.execute(
                update(Order).where(Order.number == number).values(placed_at=moment)
                .returning(Order.id)
            ).scalar_one()  # fmt: skip
            db.session.execute(
                update(Invoice).where(Invoice.order_id == order_id).values(issued_at=moment)
            )
        db.session.commit()
        days = Period(date(2026, 3, 28), date(2026, 3, 30), "Europe/Berlin")
        assert orders.orders_per_bucket(days, hourly=False) == {
            "2026-03-28": 1, "2026-03-29": 1, "2026-03-30": 1,
        }  # fmt: skip
        revenue = invoicing.revenue_per_bucket(days, hourly=False)
        assert sorted(label for label, *_rest in revenue) == ["2026-03-28", "2026-03-29",
                                                               "2026-03-30"]  # fmt: skip
        one_day = Period(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin")
        assert orders.orders_per_bucket(one_day, hourly=True) == {"2026-03-29 00": 1}
        gross = sum(row[2] for row in revenue)
        assert invoicing.revenue(days.start, days.end)[0][:2] == ("EUR", gross)
