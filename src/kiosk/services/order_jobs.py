"""Jobs a timer runs (`flask kiosk order-jobs`): safe to run as often as you like.

- Prepayment orders still unpaid after KIOSK_UNPAID_REMIND_DAYS get one
  reminder; after KIOSK_UNPAID_CANCEL_DAYS they are cancelled (the lifecycle
  puts their stock back and mails the buyer).
- With KIOSK_AUTO_DELIVER_DAYS above 0, orders shipped that long ago are
  marked delivered (off by default: only the carrier knows).
- Cancelled orders whose online payment is not yet refunded (the provider could
  not be reached at the time, or the money came after the cancellation) are
  refunded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from kiosk.mail.services import queue_mail
from kiosk.models import Order, OrderEvent, OrderStatus, Payment, PaymentStatus
from kiosk.orm import utcnow
from kiosk.services import invoices, lifecycle, payments
from kiosk.services.lifecycle import Actor
from kiosk.uow import read_session, unit_of_work

PREPAID = ("bank_transfer",)


@dataclass
class JobReport:
    reminded: int = 0
    cancelled: int = 0
    delivered: int = 0
    refunded: int = 0
    documents: int = 0


def _numbers(*where: object) -> list[str]:
    numbers = list(read_session().scalars(select(Order.number).where(*where)))  # type: ignore[arg-type]
    read_session().rollback()
    return numbers


def run(now: datetime | None = None) -> JobReport:
    now = now or utcnow()
    config = current_app.config
    report = JobReport()
    unpaid = (Order.status == OrderStatus.AWAITING_PAYMENT, Order.payment_method.in_(PREPAID))
    cancel_before = now - timedelta(days=config["KIOSK_UNPAID_CANCEL_DAYS"])
    for number in _numbers(*unpaid, Order.placed_at <= cancel_before):
        try:
            lifecycle.transition(
                number, OrderStatus.CANCELLED, Actor.SYSTEM, reason="not paid in time"
            )
            report.cancelled += 1
        except lifecycle.TransitionRefused:
            continue  # paid meanwhile
    remind_before = now - timedelta(days=config["KIOSK_UNPAID_REMIND_DAYS"])
    for number in _numbers(*unpaid, Order.placed_at <= remind_before):
        with unit_of_work() as session:
            order = session.scalar(select(Order).where(Order.number == number).with_for_update())
            if order is None or order.status is not OrderStatus.AWAITING_PAYMENT:
                continue
            if any(event.kind == "payment_reminder" for event in order.events):
                continue
            lifecycle.record(session, order, "payment_reminder")
            deadline = order.placed_at + timedelta(days=config["KIOSK_UNPAID_CANCEL_DAYS"])
            queue_mail(session, order.email, "payment_reminder", order.locale, order=order,
                       deadline=deadline)  # fmt: skip
            report.reminded += 1
    days = config["KIOSK_AUTO_DELIVER_DAYS"]
    if days > 0:
        shipped_before = now - timedelta(days=days)
        shipped = (
            select(OrderEvent.order_id)
            .where(OrderEvent.kind == "status", OrderEvent.created_at <= shipped_before)
            .where(OrderEvent.data["state"].as_string() == OrderStatus.SHIPPED.value)
        )
        for number in _numbers(Order.status == OrderStatus.SHIPPED, Order.id.in_(shipped)):
            lifecycle.transition(number, OrderStatus.DELIVERED, Actor.SYSTEM, reason="assumed")
            report.delivered += 1
    online = [code for code in payments.PROVIDERS if not payments.is_offline(code)]
    unrefunded = (
        select(Payment.order_id)
        .where(Payment.status == PaymentStatus.PAID, Payment.provider.in_(online))
        .where(Payment.refunded_cents < Payment.amount_cents)
    )
    for number in _numbers(Order.status == OrderStatus.CANCELLED, Order.id.in_(unrefunded)):
        try:
            if payments.refund_cancelled(number) is not None:
                report.refunded += 1
        except payments.PaymentProblem:
            continue  # still unreachable: the next run tries again
    report.documents = invoices.complete_pending()  # left pending by a crash
    return report
