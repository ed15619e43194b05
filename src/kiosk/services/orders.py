"""Reading orders for the people allowed to see them."""

from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk.models import Order, PaymentEvent
from kiosk.services.checkout import hash_access_key
from kiosk.services.uow import read_session


def by_number(number: str) -> Order | None:
    return read_session().scalar(
        select(Order).options(selectinload(Order.lines)).where(Order.number == number)
    )


def by_idempotency_key(key: str) -> Order | None:
    return read_session().scalar(select(Order).where(Order.idempotency_key == key))


def by_access_key(number: str, key: str) -> Order | None:
    """The order a guest's secret link points at, or None for a wrong or tampered link."""
    order = by_number(number)
    if order is None or not hmac.compare_digest(order.access_key_hash, hash_access_key(key)):
        return None
    return order


def payment_events(order_id: int) -> list[PaymentEvent]:
    """The provider notifications that concerned an order, oldest first (staff page)."""
    query = select(PaymentEvent).where(PaymentEvent.order_id == order_id).order_by(PaymentEvent.id)
    return list(read_session().scalars(query))


def by_number_and_email(number: str, email: str) -> Order | None:
    """An order named by both its number and its buyer's email (the withdrawal's first step)."""
    order = by_number(number.strip().upper())
    if order is None or order.email.lower() != email.strip().lower():
        return None
    return order
