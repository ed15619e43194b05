"""Payment reminders staff send for overdue orders: a transfer still unpaid after its
days, an invoice unpaid after the days it gives (KIOSK_PREPAYMENT_DAYS both).

Each reminder is a mail through the outbox, an entry in the order's history and an
audit record, in one unit of work; no second one goes out within
KIOSK_REMINDER_INTERVAL_DAYS, so a double click sends one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import format_date

from kiosk.accounts import services as accounts
from kiosk.audit import services as audit
from kiosk.invoicing import services as invoicing
from kiosk.mail.services import queue_mail
from kiosk.orders import lifecycle
from kiosk.orders.labels import Refused
from kiosk.orders.models import Order, OrderStatus
from kiosk.orders.repository import CLOSED, OrderRepository
from kiosk.orders.services import INVOICE_METHODS
from kiosk.orm import utcnow
from kiosk.payments import providers
from kiosk.payments.models import PaymentStatus
from kiosk.uow import unit_of_work


def due_at(order: Order) -> datetime | None:
    """When the order's money is due, or None if nothing is awaited by a due date."""
    days = timedelta(days=current_app.config["KIOSK_PREPAYMENT_DAYS"])
    if order.status in CLOSED or not any(p.status is PaymentStatus.PENDING for p in order.payments):
        return None
    if order.payment_method in INVOICE_METHODS:
        invoice = invoicing.invoice_of(order)
        return invoice.issued_at + days if invoice is not None else None
    prepaid = providers.is_offline(order.payment_method) and not providers.pays_after_delivery(
        order.payment_method
    )
    if prepaid and order.status is OrderStatus.AWAITING_PAYMENT:
        return order.placed_at + days
    return None


def is_overdue(order: Order, now: datetime | None = None) -> bool:
    due = due_at(order)
    return due is not None and due <= (now or utcnow())


def _last_reminder(order: Order) -> datetime | None:
    sent = [e.created_at for e in order.events if e.kind == "payment_reminder"]
    return max(sent) if sent else None


@dataclass(frozen=True)
class Reminded:
    number: str
    email: str


def remind(number: str, actor_id: int, now: datetime | None = None) -> Reminded:
    """Send the buyer a payment reminder for an overdue order (Refused says why not)."""
    now = now or utcnow()
    interval = timedelta(days=current_app.config["KIOSK_REMINDER_INTERVAL_DAYS"])
    with unit_of_work() as session:
        order = OrderRepository(session).locked(number)
        actor = accounts.find_user(session, actor_id)
        due = due_at(order)
        if due is None or due > now:
            raise Refused("not_overdue")
        last = _last_reminder(order)
        if last is not None and last + interval > now:
            raise Refused("too_soon", sent=format_date(last, "medium"),
                          next=format_date(last + interval, "medium"))  # fmt: skip
        count = sum(1 for e in order.events if e.kind == "payment_reminder")
        lifecycle.record(session, order, "payment_reminder", actor, due=due.isoformat())
        if order.payment_method in INVOICE_METHODS:
            invoice = invoicing.invoice_of(order)
            queue_mail(session, order.email, "invoice_reminder", order.locale, order=order,
                       invoice=invoice, due=due)  # fmt: skip
        else:
            deadline = order.placed_at + timedelta(
                days=current_app.config["KIOSK_UNPAID_CANCEL_DAYS"]
            )
            queue_mail(session, order.email, "payment_reminder", order.locale, order=order,
                       deadline=max(deadline, now + timedelta(days=1)))  # fmt: skip
        audit.record(session, "order.reminder_sent", actor=actor, order=number,
                     before={"reminders": count, "last": last.isoformat() if last else None},
                     after={"reminders": count + 1, "last": now.isoformat()})  # fmt: skip
        return Reminded(order.number, order.email)
