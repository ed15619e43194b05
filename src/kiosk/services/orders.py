"""Orders: their numbers and access keys, and reading them for the people allowed to."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from kiosk.models import Order, PaymentEvent
from kiosk.uow import read_session

# No 0/O, 1/I/L: an order number is read out on the phone and typed into bank transfers.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def hash_access_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_number(session: Session) -> str:
    """A fresh order number such as K7XQ4-MPD2 (random: it tells nobody how many orders exist)."""
    while True:
        raw = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
        number = f"K{raw[:4]}-{raw[4:]}"
        if session.scalar(select(Order.id).where(Order.number == number)) is None:
            return number


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


def of_customer(user_id: int) -> list[Order]:
    """A customer's orders, newest first (their account's order list)."""
    query = select(Order).where(Order.user_id == user_id).order_by(Order.placed_at.desc())
    return list(read_session().scalars(query))


@dataclass(frozen=True)
class OrderFilter:
    """What staff narrow the order list to; every part optional."""

    status: str = ""
    payment_method: str = ""
    placed_from: date | None = None
    placed_to: date | None = None  # inclusive
    text: str = ""  # order number, name or email

    def _day_start(self, day: date) -> datetime:
        zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        return datetime.combine(day, time.min, zone)

    def query(self) -> Select[Order]:
        query = select(Order)
        if self.status:
            query = query.where(Order.status == self.status)
        if self.payment_method:
            query = query.where(Order.payment_method == self.payment_method)
        if self.placed_from:
            query = query.where(Order.placed_at >= self._day_start(self.placed_from))
        if self.placed_to:
            end = self._day_start(self.placed_to + timedelta(days=1))
            query = query.where(Order.placed_at < end)
        if self.text:
            needle = f"%{self.text.strip().lower()}%"
            query = query.where(
                or_(
                    func.lower(Order.number).like(needle),
                    func.lower(Order.email).like(needle),
                    func.lower(cast(Order.shipping_address, String)).like(needle),
                )
            )
        return query


def search(filters: OrderFilter, page: int, per_page: int) -> tuple[list[Order], int]:
    """One page of the filtered orders, newest first, and how many there are in all."""
    session = read_session()
    query = filters.query()
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(
        query.order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), total


def spreadsheet_text(value: str) -> str:
    """A buyer's text as a CSV cell that a spreadsheet shows and never runs.

    A cell starting with =, +, -, @ or a control character is a formula to
    Excel and LibreOffice ("CSV injection"); a leading apostrophe keeps it text.
    """
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_rows(filters: OrderFilter) -> Iterator[list[str]]:
    """The filtered orders as CSV rows (header first), for staff's spreadsheet."""
    yield ["number", "placed_at", "status", "payment_method", "email", "name", "country",
           "items", "discount", "shipping", "fee", "total", "currency"]  # fmt: skip
    query = filters.query().order_by(Order.placed_at.desc(), Order.id.desc())
    for order in read_session().scalars(query):
        address = order.shipping_address
        amounts = (
            order.items_cents,
            order.discount_cents,
            order.shipping_cents,
            order.fee_cents,
            order.total_cents,
        )
        yield [
            order.number,
            order.placed_at.isoformat(),
            order.status.value,
            order.payment_method,
            spreadsheet_text(order.email),
            spreadsheet_text(str(address.get("name", ""))),
            str(address.get("country", "")),
            *(order.money(cents).plain() for cents in amounts),
            order.currency,
        ]
