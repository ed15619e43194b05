"""Orders: their numbers and access keys, and reading them for the people allowed to."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from kiosk.orders.models import Order, OrderFilter
from kiosk.orders.repository import OrderRepository, SalesRepository
from kiosk.orm import utcnow
from kiosk.payments import providers
from kiosk.periods import Period, local_bucket
from kiosk.uow import read_session

# Paid on an invoice: due KIOSK_PREPAYMENT_DAYS after the invoice (what the invoice says).
INVOICE_METHODS = ("invoice",)

# No 0/O, 1/I/L: an order number is read out on the phone and typed into bank transfers.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def hash_access_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def previous_order_at(session: Session, user_id: int | None, email: str) -> datetime | None:
    """When the buyer of an order being placed ordered last (None: never)."""
    return SalesRepository(session).previous_order_at(user_id, email)


def new_number(session: Session) -> str:
    """A fresh order number such as K7XQ4-MPD2 (random: it tells nobody how many orders exist)."""
    orders = OrderRepository(session)
    while True:
        raw = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
        number = f"K{raw[:4]}-{raw[4:]}"
        if not orders.number_taken(number):
            return number


def add(session: Session, order: Order) -> Order:
    """A new order with its lines, in the placing transaction (its id is known after)."""
    OrderRepository(session).add(order)
    session.flush()
    return order


def by_number(number: str) -> Order | None:
    return OrderRepository(read_session()).by_number(number, with_lines=True)


def by_idempotency_key(key: str, session: Session | None = None) -> Order | None:
    """The order a review form placed (in the caller's transaction, if it names one)."""
    return OrderRepository(session or read_session()).by_idempotency_key(key)


def by_access_key(number: str, key: str) -> Order | None:
    """The order a guest's secret link points at, or None for a wrong or tampered link."""
    order = by_number(number)
    if order is None or not hmac.compare_digest(order.access_key_hash, hash_access_key(key)):
        return None
    return order


def by_number_and_email(number: str, email: str) -> Order | None:
    """An order named by both its number and its buyer's email (the withdrawal's first step)."""
    order = by_number(number.strip().upper())
    if order is None or order.email.lower() != email.strip().lower():
        return None
    return order


def of_customer(user_id: int) -> list[Order]:
    """A customer's orders, newest first (their account's order list)."""
    return OrderRepository(read_session()).of_customer(user_id)


def count_by_customer(user_ids: Sequence[int]) -> dict[int, int]:
    """How many orders each customer placed, for staff's customer list (absent: none)."""
    return OrderRepository(read_session()).count_by_customer(user_ids) if user_ids else {}


def has_paid_order(user_id: int) -> bool:
    """Whether the customer has paid for an order before (the invoice method asks)."""
    return OrderRepository(read_session()).has_paid_order(user_id)


def product_is_ordered(session: Session, product_id: int) -> bool:
    """Whether an order names the product (then it must stay: staff archive it instead)."""
    return OrderRepository(session).names_product(product_id)


def with_queue_rules(filters: OrderFilter) -> OrderFilter:
    """The filters with what a work queue needs: the payment methods by kind, and the
    moment before which a payment's due days ended."""
    if not filters.queue:
        return filters
    methods = providers.registry()
    days = current_app.config["KIOSK_PREPAYMENT_DAYS"]
    return replace(
        filters,
        due_before=utcnow() - timedelta(days=days),
        prepaid_methods=tuple(
            code
            for code in methods
            if methods[code].offline and not methods[code].pays_after_delivery
        ),
        pay_later_methods=tuple(code for code in methods if methods[code].pays_after_delivery),
        invoice_methods=INVOICE_METHODS,
    )


def search(filters: OrderFilter, page: int, per_page: int) -> tuple[list[Order], int]:
    """One page of the filtered orders, newest first, and how many there are in all."""
    return OrderRepository(read_session()).search(with_queue_rules(filters), page, per_page)


def count(filters: OrderFilter) -> int:
    """How many orders the filters (or a work queue) find."""
    return OrderRepository(read_session()).count(with_queue_rules(filters))


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
    for order in OrderRepository(read_session()).filtered(with_queue_rules(filters)):
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


# What the dashboard reads of the orders of a period [start, end) ---------------------


def sales_totals(start: datetime, end: datetime) -> list[tuple[str, int, int]]:
    """(currency, orders placed, their totals in cents), per currency."""
    return SalesRepository(read_session()).totals(start, end)


def orders_per_bucket(period: Period, hourly: bool) -> dict[str, int]:
    """Orders placed per local day (or hour) of the period, where any were, by the labels
    of `kiosk.periods.local_bucket`."""
    bucket = local_bucket(Order.placed_at, period, hourly)
    return dict(SalesRepository(read_session()).per_bucket(period.start, period.end, bucket))


def new_and_returning_buyers(start: datetime, end: datetime) -> tuple[int, int]:
    """How many buyers of the period ordered for the first time, and how many again."""
    return SalesRepository(read_session()).customers(start, end)


def best_sellers(
    start: datetime, end: datetime, by_units: bool, limit: int | None = 10
) -> list[tuple[int | None, str, str, int, int]]:
    """(product id, name, currency, units, revenue cents) of the period's order lines, the
    best first by revenue or by units; every product sold with `limit` None."""
    return SalesRepository(read_session()).top_lines(start, end, by_units, limit)


def first_order_at() -> datetime | None:
    """When the oldest order still kept was placed."""
    return SalesRepository(read_session()).first_placed_at()


def withdrawals_received(start: datetime, end: datetime) -> int:
    """Orders whose withdrawal arrived in the period."""
    return SalesRepository(read_session()).withdrawals(start, end)
