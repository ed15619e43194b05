"""Settling an order's money: staff confirm a payment received, refunds (by staff, or by the
shop when a paid order is cancelled), and the repair of orders an older version let staff
set to paid or refunded by hand.

Every change here runs in one unit of work with its order history entry
(`OrderEvent`) and its audit record, and moves the order only forward, through
the lifecycle. The payment rows change through `payments.services`; an online
refund goes through the payment method (`payments.providers`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from kiosk.accounts import services as accounts
from kiosk.audit import services as audit
from kiosk.invoicing import services as invoicing
from kiosk.mail.services import queue_mail
from kiosk.money import Money
from kiosk.orders import documents, lifecycle
from kiosk.orders.lifecycle import Actor
from kiosk.orders.models import Order, OrderStatus
from kiosk.orders.repository import OrderRepository
from kiosk.orm import utcnow
from kiosk.payments import providers
from kiosk.payments import services as payments
from kiosk.payments.models import Payment, PaymentStatus
from kiosk.payments.providers import PaymentProblem
from kiosk.uow import read_session, unit_of_work

log = logging.getLogger(__name__)

# Where an order paid after delivery may be when its money comes.
SENT = (OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def _order_for_read(number: str) -> Order:
    order = OrderRepository(read_session()).by_number(number)
    if order is None:
        raise LookupError(number)
    return order


def _pending_offline(order: Order) -> Payment | None:
    payment = next((p for p in reversed(order.payments) if p.status is PaymentStatus.PENDING), None)
    if payment is None or not providers.is_offline(payment.provider):
        return None
    return payment


def _expects_money(order: Order) -> bool:
    """An order that waits for its money, or one paid after delivery and on its way."""
    return order.status is OrderStatus.AWAITING_PAYMENT or (
        lifecycle.pays_after_delivery(order) and order.status in SENT
    )


def can_mark_received(order: Order) -> bool:
    """Whether staff may confirm the money of this order (for the staff page)."""
    return _pending_offline(order) is not None and _expects_money(order)


def mark_received(number: str, actor_id: int, note: str = "") -> Order:
    """Staff confirm an offline payment arrived: the payment is paid, and an order that
    waited for it is paid too (the only way an offline order becomes paid; the history
    names staff on the payment, the system on the step that follows from it). An order
    paid after delivery (invoice, cash on delivery) may be on its way or delivered
    already: it keeps its state, and the buyer is told."""
    with unit_of_work() as session:
        order = OrderRepository(session).locked(number)
        actor = accounts.find_user(session, actor_id)
        payment = _pending_offline(order)
        if payment is None:
            raise PaymentProblem("nothing_pending")
        if not _expects_money(order):
            raise PaymentProblem("not_awaiting_payment")
        payments.mark_paid(payment)
        if order.status is OrderStatus.AWAITING_PAYMENT:  # follows from the payment
            lifecycle.change(session, order, OrderStatus.PAID, Actor.SYSTEM)
        else:
            queue_mail(session, order.email, "payment_received", order.locale, order=order)
        lifecycle.record(session, order, "payment_received", actor, note,
                         provider=payment.provider, amount_cents=payment.amount_cents)  # fmt: skip
        audit.record(session, "payment.marked_paid", actor=actor, order=order.number)
    documents.complete_pending(order.id)
    return order


def _paid_payment(order: Order) -> Payment:
    payment = next((p for p in reversed(order.payments) if p.status is PaymentStatus.PAID), None)
    if payment is None:
        raise PaymentProblem("nothing_paid")
    return payment


def refund(
    number: str,
    amount: Money,
    reason: str,
    actor_id: int | None,
    goods_returned: bool = False,
) -> Order:
    """Refund all or part of what was paid, with the reason, in the order's history.

    Offline money goes back by hand (this records it). An online payment is refunded
    through its provider first, with an idempotency key derived from what was refunded
    before, so a double submit refunds once; the provider's webhook may record the
    same refund too, and whichever comes second finds it done. Refunding everything
    marks the order refunded; a partial refund keeps its state. With `goods_returned`
    the order's items go back into stock (once per order). Without `actor_id` the shop
    itself refunds (a cancelled card order).
    """
    if amount.cents <= 0:
        raise PaymentProblem("amount")
    if not reason.strip():
        raise PaymentProblem("reason")
    payment = _paid_payment(_order_for_read(number))
    before = payment.refunded_cents
    if amount.currency != payment.currency or before + amount.cents > payment.amount_cents:
        raise PaymentProblem("too_much" if amount.currency == payment.currency else "amount")
    provider = providers.registry().get(payment.provider) or providers.BankTransfer()
    if not provider.offline:
        read_session().rollback()  # nothing stays open while the provider answers
        provider.send_refund(payment, amount, f"kiosk-refund-{payment.id}-{before}-{amount.cents}")
    with unit_of_work() as session:
        order = OrderRepository(session).locked(number)
        actor = accounts.find_user(session, actor_id) if actor_id is not None else None
        who = Actor.STAFF if actor else Actor.SYSTEM
        payment = _paid_payment(order)
        refunded_before = sum(p.refunded_cents for p in order.payments)
        if not payments.add_refund(session, payment, before, amount):
            if provider.offline:
                raise PaymentProblem("too_much")  # another refund came first: look again
            return order  # the provider's webhook recorded this refund first
        lifecycle.record(session, order, "refund", actor, reason.strip(), who,
                         amount_cents=amount.cents, provider=payment.provider)  # fmt: skip
        # A credit note covers what no credit note covers yet: goods returned were
        # credited when staff recorded the return, so refunding them issues no second one.
        uncredited = refunded_before + amount.cents - invoicing.credited_cents(order)
        if uncredited > 0:
            credit = Money(min(uncredited, amount.cents), amount.currency)
            invoicing.issue_credit_note(session, order, credit, reason.strip())
        if goods_returned and order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            lifecycle.change(session, order, OrderStatus.RETURNED, who, actor, reason)
        if payment.refunded_cents == payment.amount_cents:  # the refund moves the order
            lifecycle.change(session, order, OrderStatus.REFUNDED, Actor.SYSTEM, actor, reason)
        audit.record(session, "payment.refunded", actor=actor, order=order.number,
                     amount_cents=amount.cents)  # fmt: skip
    documents.complete_pending(order.id)
    return order


def refund_cancelled(number: str) -> Order | None:
    """Start the refund a cancellation makes due (the lifecycle's "refund due" entry).

    What was paid online goes back through the provider at once, in full. Money
    paid offline must be sent back by staff, who were mailed when the order was
    cancelled. Returns the order if a refund was made; safe to call again (the
    order-jobs timer retries one that failed because the provider was unreachable).
    """
    order = _order_for_read(number)
    paid = [p for p in order.payments if p.status is PaymentStatus.PAID]
    if order.status is not OrderStatus.CANCELLED or not paid:
        read_session().rollback()
        return None
    payment, locale = paid[-1], order.locale
    left = Money(payment.amount_cents - payment.refunded_cents, payment.currency)
    offline = providers.is_offline(payment.provider)
    read_session().rollback()
    if left.cents <= 0 or offline:
        return None
    with force_locale(locale):
        reason = _("Order cancelled")
    return refund(number, left, reason, actor_id=None)


def cancel(
    number: str, actor: Actor, user_id: int | None = None, reason: str = "", **data: Any
) -> Order:
    """Cancel an order (the lifecycle's step, in its own unit of work), then start the refund
    that makes due: what was paid online goes back at once (`refund_cancelled`).

    If the provider cannot be reached now, the order stays cancelled with its
    "refund due" entry, and `flask kiosk order-jobs` tries again.
    """
    order = lifecycle.transition(number, OrderStatus.CANCELLED, actor, user_id, reason, **data)
    try:
        refund_cancelled(number)
    except PaymentProblem as problem:
        log.warning("Refund of cancelled order %s not made yet: %s", number, problem.code)
    return order


@dataclass(frozen=True)
class Repair:
    recorded: list[str]  # orders whose offline payment is now recorded as paid
    flagged: list[str]  # card orders set to paid without the provider's word: staff check
    unrefunded: list[str]  # set to "refunded" by the status button without a refund: staff check


def _found(search: Callable[[OrderRepository], list[str]]) -> list[str]:
    """Order numbers a repair looks for, read and then ended."""
    session = read_session()
    numbers = search(OrderRepository(session))
    session.rollback()
    return numbers


def repair_paid_without_payment() -> Repair:
    """Record the payment of orders staff set to "paid" without recording it, so that
    refunds can be recorded for them again (`flask kiosk repair-payments`).

    Offline money: staff declared it received when they set the order paid, so the
    payment is recorded for the amount due, as of that moment, with a history entry
    saying it was repaired. A card payment the provider never confirmed is not assumed:
    the order is flagged for staff to check. Safe to run again: a repaired order is no
    longer found.
    """
    repair = Repair([], [], [])
    for number in _found(lambda orders: orders.set_paid_without_payment()):
        with unit_of_work() as session:
            order = OrderRepository(session).locked(number)
            payment = next((p for p in order.payments if p.status is PaymentStatus.PENDING), None)
            if payment is None or any(p.status is PaymentStatus.PAID for p in order.payments):
                continue  # recorded meanwhile
            if not providers.is_offline(payment.provider):
                order.needs_review = True
                lifecycle.record(session, order, "payment_unconfirmed", provider=payment.provider)
                repair.flagged.append(number)
                continue
            declared = max(
                (e.created_at for e in order.events
                 if e.kind == "status" and e.data.get("state") == OrderStatus.PAID.value),
                default=utcnow(),
            )  # fmt: skip
            payment.status, payment.paid_at = PaymentStatus.PAID, declared
            lifecycle.record(session, order, "payment_repaired", provider=payment.provider,
                             amount_cents=payment.amount_cents)  # fmt: skip
            audit.record(session, "payment.repaired", order=number,
                         amount_cents=payment.amount_cents)  # fmt: skip
            repair.recorded.append(number)
    for number in _found(lambda orders: orders.set_refunded_without_refund(Actor.STAFF)):
        with unit_of_work() as session:
            order = OrderRepository(session).locked(number)
            order.needs_review = True
            lifecycle.record(session, order, "refund_unrecorded")
            repair.unrefunded.append(number)
    return repair
