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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from kiosk.mail.services import queue_mail
from kiosk.orders import documents, lifecycle, settlement
from kiosk.orders.lifecycle import Actor
from kiosk.orders.models import OrderStatus
from kiosk.orders.repository import OrderRepository
from kiosk.orm import utcnow
from kiosk.payments import providers
from kiosk.payments.providers import PaymentProblem
from kiosk.uow import read_session, unit_of_work

PREPAID = ("bank_transfer",)


@dataclass
class JobReport:
    reminded: int = 0
    cancelled: int = 0
    delivered: int = 0
    refunded: int = 0
    documents: int = 0


def _numbers(search: Callable[[OrderRepository], list[str]]) -> list[str]:
    """Order numbers a job looks for, read and then ended (each is handled in its own unit
    of work)."""
    numbers = search(OrderRepository(read_session()))
    read_session().rollback()
    return numbers


def run(now: datetime | None = None) -> JobReport:
    now = now or utcnow()
    config = current_app.config
    report = JobReport()
    cancel_before = now - timedelta(days=config["KIOSK_UNPAID_CANCEL_DAYS"])
    for number in _numbers(lambda orders: orders.unpaid(PREPAID, cancel_before)):
        try:
            settlement.cancel(number, Actor.SYSTEM, reason="not paid in time")
            report.cancelled += 1
        except lifecycle.TransitionRefused:
            continue  # paid meanwhile
    remind_before = now - timedelta(days=config["KIOSK_UNPAID_REMIND_DAYS"])
    for number in _numbers(lambda orders: orders.unpaid(PREPAID, remind_before)):
        with unit_of_work() as session:
            try:
                order = OrderRepository(session).locked(number)
            except LookupError:
                continue
            if order.status is not OrderStatus.AWAITING_PAYMENT:
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
        for number in _numbers(lambda orders: orders.shipped_before(shipped_before)):
            lifecycle.transition(number, OrderStatus.DELIVERED, Actor.SYSTEM, reason="assumed")
            report.delivered += 1
    online = [code for code in providers.registry() if not providers.is_offline(code)]
    for number in _numbers(lambda orders: orders.cancelled_with_money_left(online)):
        try:
            if settlement.refund_cancelled(number) is not None:
                report.refunded += 1
        except PaymentProblem:
            continue  # still unreachable: the next run tries again
    report.documents = documents.complete_pending()  # left pending by a crash
    return report
