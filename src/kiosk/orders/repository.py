"""Orders: by id, number, one-time key or customer; the one loader that locks an order;
staff's filtered list; and the orders the jobs and repairs look for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from kiosk.invoicing.models import DocumentKind, Invoice
from kiosk.orders.models import Order, OrderEvent, OrderFilter, OrderLine, OrderStatus
from kiosk.payments.models import Payment, PaymentStatus


def _day_start(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.min, zone)


# States in which an order's business is over: nothing is due, nothing goes out.
CLOSED = (OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.RETURNED)


def _overdue(filters: OrderFilter) -> ColumnElement[bool]:
    """Money still pending after its due days: a transfer counted from the order, an
    invoice from the day it was issued."""
    cutoff = filters.due_before
    pending = select(Payment.order_id).where(Payment.status == PaymentStatus.PENDING)
    invoiced = select(Invoice.order_id).where(
        Invoice.kind == DocumentKind.INVOICE, Invoice.issued_at <= cutoff
    )
    return and_(
        Order.id.in_(pending),
        Order.status.not_in(CLOSED),
        or_(
            and_(
                Order.payment_method.in_(filters.prepaid_methods),
                Order.status == OrderStatus.AWAITING_PAYMENT,
                Order.placed_at <= cutoff,
            ),
            and_(Order.payment_method.in_(filters.invoice_methods), Order.id.in_(invoiced)),
        ),
    )


def _queue(filters: OrderFilter) -> ColumnElement[bool] | None:
    """The condition of one of the overview's work queues."""
    if filters.queue == "to_ship":
        waiting = (OrderStatus.PAID, OrderStatus.PROCESSING)
        return or_(
            Order.status.in_(waiting),
            and_(
                Order.payment_method.in_(filters.pay_later_methods),
                Order.status == OrderStatus.AWAITING_PAYMENT,
            ),
        )
    if filters.queue == "overdue" and filters.due_before is not None:
        return _overdue(filters)
    if filters.queue == "returns":
        withdrawn = select(OrderEvent.order_id).where(OrderEvent.kind == "withdrawal_received")
        handled = select(OrderEvent.order_id).where(OrderEvent.kind == "goods_returned")
        return and_(Order.id.in_(withdrawn), Order.id.not_in(handled), Order.status.not_in(CLOSED))
    return None


def _filtered(filters: OrderFilter) -> Select[Order]:
    query = select(Order)
    if (queue := _queue(filters)) is not None:
        query = query.where(queue)
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.payment_method:
        query = query.where(Order.payment_method == filters.payment_method)
    if filters.placed_from:
        query = query.where(Order.placed_at >= _day_start(filters.placed_from))
    if filters.placed_to:
        query = query.where(Order.placed_at < _day_start(filters.placed_to + timedelta(days=1)))
    if filters.text:
        needle = f"%{filters.text.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Order.number).like(needle),
                func.lower(Order.email).like(needle),
                func.lower(cast(Order.shipping_address, String)).like(needle),
            )
        )
    return query


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, order: Order) -> Order:
        self.session.add(order)
        return order

    def add_event(self, event: OrderEvent) -> OrderEvent:
        self.session.add(event)
        return event

    def return_lines(self, order_id: int) -> list[dict[str, int]]:
        """The lines (line id: quantity) of each return staff recorded for an order; read
        from the database, so a return added in this transaction counts too."""
        query = select(OrderEvent.data).where(
            OrderEvent.order_id == order_id, OrderEvent.kind == "goods_returned"
        )
        return [dict(data.get("lines", {})) for data in self.session.scalars(query)]

    def get(self, order_id: int) -> Order | None:
        return self.session.get(Order, order_id)

    def by_number(self, number: str, with_lines: bool = False) -> Order | None:
        query = select(Order).where(Order.number == number)
        if with_lines:
            query = query.options(selectinload(Order.lines))
        return self.session.scalar(query)

    def number_taken(self, number: str) -> bool:
        return self.session.scalar(select(Order.id).where(Order.number == number)) is not None

    def by_idempotency_key(self, key: str) -> Order | None:
        return self.session.scalar(select(Order).where(Order.idempotency_key == key))

    def _locked(self, condition: Any, key: object) -> Order:
        order = self.session.scalar(select(Order).where(condition).with_for_update())
        if order is None:
            raise LookupError(key)
        return order

    def locked(self, number: str) -> Order:
        """The order with this number, its row locked until the transaction ends (LookupError
        if there is none): every change of an order starts here."""
        return self._locked(Order.number == number, number)

    def locked_by_id(self, order_id: int) -> Order:
        """As `locked`, for a payment's order, which knows its order by id."""
        return self._locked(Order.id == order_id, order_id)

    def of_customer(self, user_id: int) -> list[Order]:
        """A customer's orders, newest first."""
        query = select(Order).where(Order.user_id == user_id).order_by(Order.placed_at.desc())
        return list(self.session.scalars(query))

    def count_by_customer(self, user_ids: Sequence[int]) -> dict[int, int]:
        """How many orders each of these customers placed (absent: none)."""
        rows = self.session.execute(
            select(Order.user_id, func.count())
            .where(Order.user_id.in_(user_ids))
            .group_by(Order.user_id)
        )
        return {user_id: count for user_id, count in rows if user_id is not None}

    def has_paid_order(self, user_id: int) -> bool:
        """Whether the customer has paid for an order before."""
        paid = self.session.scalar(
            select(func.count())
            .select_from(Payment)
            .join(Order, Order.id == Payment.order_id)
            .where(Order.user_id == user_id, Payment.status == PaymentStatus.PAID)
        )
        return bool(paid)

    def names_product(self, product_id: int) -> bool:
        """Whether any order line refers to the product."""
        query = select(OrderLine.id).where(OrderLine.product_id == product_id).limit(1)
        return self.session.scalar(query) is not None

    def search(self, filters: OrderFilter, page: int, per_page: int) -> tuple[list[Order], int]:
        """One page of the filtered orders, newest first, and how many there are in all."""
        query = _filtered(filters)
        total = int(self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = self.session.scalars(
            query.order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        return list(rows), total

    def count(self, filters: OrderFilter) -> int:
        """How many orders the filters find (the overview's figures)."""
        query = _filtered(filters).with_only_columns(func.count(Order.id))
        return int(self.session.scalar(query) or 0)

    def filtered(self, filters: OrderFilter) -> Iterable[Order]:
        """Every filtered order, newest first."""
        return self.session.scalars(
            _filtered(filters).order_by(Order.placed_at.desc(), Order.id.desc())
        )

    def number_by_payment_page(self, external_id: str) -> str | None:
        """The number of the order a provider's payment page belongs to."""
        return self.session.scalar(
            select(Order.number).join(Payment).where(Payment.external_id == external_id)
        )

    # What the jobs and the repairs look for (numbers, oldest first) ---------------

    def _numbers(self, *where: Any) -> list[str]:
        return list(self.session.scalars(select(Order.number).where(*where)))

    def unpaid(self, methods: Sequence[str], placed_before: datetime) -> list[str]:
        """Orders of these methods still awaiting payment, placed before a moment."""
        return self._numbers(
            Order.status == OrderStatus.AWAITING_PAYMENT,
            Order.payment_method.in_(methods),
            Order.placed_at <= placed_before,
        )

    def shipped_before(self, moment: datetime) -> list[str]:
        """Orders still shipped whose step to shipped came before a moment."""
        shipped = (
            select(OrderEvent.order_id)
            .where(OrderEvent.kind == "status", OrderEvent.created_at <= moment)
            .where(OrderEvent.data["state"].as_string() == OrderStatus.SHIPPED.value)
        )
        return self._numbers(Order.status == OrderStatus.SHIPPED, Order.id.in_(shipped))

    def cancelled_with_money_left(self, providers: Sequence[str]) -> list[str]:
        """Cancelled orders paid through these providers and not refunded in full."""
        unrefunded = (
            select(Payment.order_id)
            .where(Payment.status == PaymentStatus.PAID, Payment.provider.in_(providers))
            .where(Payment.refunded_cents < Payment.amount_cents)
        )
        return self._numbers(Order.status == OrderStatus.CANCELLED, Order.id.in_(unrefunded))

    def set_paid_without_payment(self) -> list[str]:
        """Orders that became "paid" while their payment stayed pending: the status button
        did that before recording the payment was the only way."""
        went_paid = select(OrderEvent.order_id).where(
            OrderEvent.kind == "status",
            OrderEvent.data["state"].as_string() == OrderStatus.PAID.value,
        )
        settled = select(Payment.order_id).where(Payment.status == PaymentStatus.PAID)
        pending = select(Payment.order_id).where(Payment.status == PaymentStatus.PENDING)
        flagged = select(OrderEvent.order_id).where(OrderEvent.kind == "payment_unconfirmed")
        return list(
            self.session.scalars(
                select(Order.number)
                .where(
                    Order.id.in_(went_paid),
                    Order.id.in_(pending),
                    Order.id.not_in(settled),
                    Order.id.not_in(flagged),
                )
                .order_by(Order.id)
            )
        )

    def set_refunded_without_refund(self, by_staff: str) -> list[str]:
        """Orders that staff (`by_staff`: the actor kind) set to "refunded" with the status
        button while less money went back than was paid."""
        set_refunded = select(OrderEvent.order_id).where(
            OrderEvent.kind == "status",
            OrderEvent.actor_kind == by_staff,
            OrderEvent.data["state"].as_string() == OrderStatus.REFUNDED.value,
        )
        fully_refunded = select(Payment.order_id).where(
            Payment.status == PaymentStatus.PAID, Payment.refunded_cents >= Payment.amount_cents
        )
        flagged = select(OrderEvent.order_id).where(OrderEvent.kind == "refund_unrecorded")
        return list(
            self.session.scalars(
                select(Order.number)
                .where(
                    Order.status == OrderStatus.REFUNDED,
                    Order.id.in_(set_refunded),
                    Order.id.not_in(fully_refunded),
                    Order.id.not_in(flagged),
                )
                .order_by(Order.id)
            )
        )


class SalesRepository:
    """What the dashboard counts of orders placed in a period [start, end): aggregates in
    SQL only, so any history length answers in one pass over an index range."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def totals(self, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """(currency, orders, sum of their totals in cents), per currency."""
        rows = self.session.execute(
            select(
                Order.currency, func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0)
            )
            .where(Order.placed_at >= start, Order.placed_at < end)
            .group_by(Order.currency)
            .order_by(Order.currency)
        )
        return [(currency, int(count), int(total)) for currency, count, total in rows]

    def per_bucket(
        self, start: datetime, end: datetime, bucket: ColumnElement[str]
    ) -> list[tuple[str, int]]:
        """(local day or hour, orders placed in it), for the buckets that have any."""
        rows = self.session.execute(
            select(bucket.label("bucket"), func.count(Order.id))
            .where(Order.placed_at >= start, Order.placed_at < end)
            .group_by("bucket")
        )
        return [(str(label), int(count)) for label, count in rows]

    def customers(self, start: datetime, end: datetime) -> tuple[int, int]:
        """(new, returning) buyers of the period. A buyer is their account, or a guest's
        email address; they are returning when they ordered before `start`. Each buyer's
        first order of the period is the one whose `previous_order_at` lies before `start`
        (returning) or is None (new), so one pass over the period's index range counts
        both, without DISTINCT and without the history before the period."""
        previous = Order.previous_order_at
        new, returning = self.session.execute(
            select(
                func.count(case((previous.is_(None), 1))),
                func.count(case((previous < start, 1))),
            ).where(Order.placed_at >= start, Order.placed_at < end)
        ).one()
        return int(new), int(returning)

    def first_placed_at(self) -> datetime | None:
        return self.session.scalar(select(func.min(Order.placed_at)))

    def previous_order_at(self, user_id: int | None, email: str) -> datetime | None:
        """When this buyer (an account, or a guest's address among guest orders) last
        ordered: the `previous_order_at` of the order they are placing now."""
        query = select(func.max(Order.placed_at))
        if user_id is not None:
            query = query.where(Order.user_id == user_id)
        else:
            query = query.where(Order.user_id.is_(None), Order.email == email)
        return self.session.scalar(query)

    def top_lines(
        self, start: datetime, end: datetime, by_units: bool, limit: int | None
    ) -> list[tuple[int | None, str, str, int, int]]:
        """The best-selling products of the period by revenue or units: (product id, name,
        currency, units, line totals in cents); every product sold with `limit` None. A
        deleted product keeps its lines' name."""
        units = func.sum(OrderLine.quantity)
        revenue = func.sum(OrderLine.total_cents)
        rows = self.session.execute(
            select(OrderLine.product_id, func.max(OrderLine.name), Order.currency, units, revenue)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.placed_at >= start, Order.placed_at < end)
            .group_by(OrderLine.product_id, Order.currency)
            .order_by((units if by_units else revenue).desc(), func.max(OrderLine.name))
            .limit(limit)
        )
        return [(pid, name, cur, int(u), int(r)) for pid, name, cur, u, r in rows]

    def withdrawals(self, start: datetime, end: datetime) -> int:
        """Orders whose withdrawal was received in the period."""
        query = select(func.count(func.distinct(OrderEvent.order_id))).where(
            OrderEvent.kind == "withdrawal_received",
            OrderEvent.created_at >= start,
            OrderEvent.created_at < end,
        )
        return int(self.session.scalar(query) or 0)
