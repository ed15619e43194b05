"""Payment methods behind one small interface, and what staff do with payments.

A provider starts a payment for an order (instructions to show, or a page to
send the shopper to), and refunds all or part of it. The offline providers
need no configuration: bank transfer (prepayment), invoice and cash on
delivery; staff confirm their money by hand. Which ones checkout offers is
the setting `KIOSK_PAYMENT_METHODS`; the card provider joins when its keys are
set (the payments issue's next step).

Every change here runs in one unit of work with its order history entry
(`OrderEvent`) and its audit record, and moves the order only forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiosk.accounts.models import User
from kiosk.audit import services as audit
from kiosk.mail.services import queue_mail
from kiosk.models import Order, OrderEvent, OrderStatus, Payment, PaymentStatus
from kiosk.money import Money
from kiosk.orm import utcnow
from kiosk.services import invoices, lifecycle
from kiosk.services.lifecycle import Actor
from kiosk.uow import read_session, unit_of_work


class PaymentProblem(ValueError):
    """A payment action that cannot be done; `code` says why (views word it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Provider(Protocol):
    code: str
    offline: bool
    pays_after_delivery: bool  # the goods may go out before the money comes

    def fee(self, currency: str) -> Money: ...

    def available_for(self, user_id: int | None) -> bool: ...

    def start(self, session: Session, order: Order) -> Payment: ...

    def hold_until(self) -> datetime:
        """How long an order keeps its stock while the shopper pays (online methods)."""
        ...

    def send_refund(self, payment: Payment, amount: Money, idempotency_key: str) -> None:
        """Give `amount` back through the provider (online methods); the key makes a retry
        refund once."""
        ...


# Where an order paid after delivery may be when its money comes.
SENT = (OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def order_holder(order_id: int) -> str:
    """The holder name of the stock an order keeps until it is paid."""
    return f"order:{order_id}"


class ProviderBase:
    """What most providers share: no fee, offered to everyone, a pending payment row.

    Offline ones (the default here) wait for staff to confirm the money.
    """

    code = ""
    offline = True
    pays_after_delivery = False

    def fee(self, currency: str) -> Money:
        return Money.zero(currency)

    def available_for(self, user_id: int | None) -> bool:
        return True

    def hold_until(self) -> datetime:
        raise NotImplementedError("offline payments take the stock when the order is placed")

    def send_refund(self, payment: Payment, amount: Money, idempotency_key: str) -> None:
        """Offline money goes back by hand (a transfer staff make); the shop only records it."""

    def start(self, session: Session, order: Order) -> Payment:
        payment = Payment(
            order_id=order.id,
            provider=self.code,
            amount_cents=order.total_cents,
            currency=order.currency,
        )
        session.add(payment)
        return payment


class BankTransfer(ProviderBase):
    code = "bank_transfer"


class Invoice(ProviderBase):
    """Pay after delivery; the owner may keep it for customers who have paid before."""

    code = "invoice"
    pays_after_delivery = True

    def available_for(self, user_id: int | None) -> bool:
        rule = current_app.config["KIOSK_INVOICE_FOR"]
        if rule == "all":
            return True
        if user_id is None:
            return False
        paid_before = read_session().scalar(
            select(func.count())
            .select_from(Payment)
            .join(Order, Order.id == Payment.order_id)
            .where(Order.user_id == user_id, Payment.status == PaymentStatus.PAID)
        )
        return bool(paid_before)


class CashOnDelivery(ProviderBase):
    code = "cash_on_delivery"
    pays_after_delivery = True

    def fee(self, currency: str) -> Money:
        return Money(int(current_app.config["KIOSK_COD_FEE_CENTS"]), currency)


PROVIDERS: dict[str, Provider] = {p.code: p for p in (BankTransfer(), Invoice(), CashOnDelivery())}


def register(provider: Provider) -> None:
    PROVIDERS[provider.code] = provider


def _enabled_codes() -> list[str]:
    codes = list(current_app.config["KIOSK_PAYMENT_METHODS"])
    if current_app.config["STRIPE_SECRET_KEY"] and current_app.config["STRIPE_WEBHOOK_SECRET"]:
        codes.insert(0, "stripe")  # card first: what most shoppers expect
    return codes


def enabled() -> list[Provider]:
    return [PROVIDERS[code] for code in _enabled_codes()]


def offered(user_id: int | None) -> list[Provider]:
    """The methods checkout offers this shopper."""
    return [provider for provider in enabled() if provider.available_for(user_id)]


def provider(code: str) -> Provider | None:
    return PROVIDERS.get(code) if code in _enabled_codes() else None


def is_offline(code: str) -> bool:
    """Whether staff confirm and give back money paid by this method; an unknown code
    (a method since switched off in code) counts as offline: staff handle it by hand."""
    provider = PROVIDERS.get(code)
    return provider is None or provider.offline


def sold_for(order: Order) -> bool:
    """Whether the order's goods have left stock: at placing for offline methods, at payment
    for online ones."""
    provider = PROVIDERS.get(order.payment_method)
    return bool(provider and provider.offline) or any(
        p.status is PaymentStatus.PAID for p in order.payments
    )


def _order_for_update(session: Session, number: str) -> Order:
    order = session.scalar(select(Order).where(Order.number == number).with_for_update())
    if order is None:
        raise LookupError(number)
    return order


def _pending_offline(order: Order) -> Payment | None:
    payment = next((p for p in reversed(order.payments) if p.status is PaymentStatus.PENDING), None)
    if payment is None or not is_offline(payment.provider):
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
        order = _order_for_update(session, number)
        actor = session.get(User, actor_id)
        payment = _pending_offline(order)
        if payment is None:
            raise PaymentProblem("nothing_pending")
        if not _expects_money(order):
            raise PaymentProblem("not_awaiting_payment")
        payment.status, payment.paid_at = PaymentStatus.PAID, utcnow()
        if order.status is OrderStatus.AWAITING_PAYMENT:  # follows from the payment
            lifecycle.change(session, order, OrderStatus.PAID, Actor.SYSTEM)
        else:
            queue_mail(session, order.email, "payment_received", order.locale, order=order)
        lifecycle.record(session, order, "payment_received", actor, note,
                         provider=payment.provider, amount_cents=payment.amount_cents)  # fmt: skip
        audit.record(session, "payment.marked_paid", actor=actor, order=order.number)
    invoices.complete_pending(order.id)
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
    provider = PROVIDERS.get(payment.provider, BankTransfer())
    if not provider.offline:
        read_session().rollback()  # nothing stays open while the provider answers
        provider.send_refund(payment, amount, f"kiosk-refund-{payment.id}-{before}-{amount.cents}")
    with unit_of_work() as session:
        order = _order_for_update(session, number)
        actor = session.get(User, actor_id) if actor_id is not None else None
        who = Actor.STAFF if actor else Actor.SYSTEM
        payment = _paid_payment(order)
        result = session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.refunded_cents == before)
            .values(refunded_cents=before + amount.cents)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            if provider.offline:
                raise PaymentProblem("too_much")  # another refund came first: look again
            return order  # the provider's webhook recorded this refund first
        session.refresh(payment)
        lifecycle.record(session, order, "refund", actor, reason.strip(), who,
                         amount_cents=amount.cents, provider=payment.provider)  # fmt: skip
        invoices.issue_credit_note(session, order, amount, reason.strip())
        if goods_returned and order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            lifecycle.change(session, order, OrderStatus.RETURNED, who, actor, reason)
        if payment.refunded_cents == payment.amount_cents:  # the refund moves the order
            lifecycle.change(session, order, OrderStatus.REFUNDED, Actor.SYSTEM, actor, reason)
        audit.record(session, "payment.refunded", actor=actor, order=order.number,
                     amount_cents=amount.cents)  # fmt: skip
    invoices.complete_pending(order.id)
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
    offline = is_offline(payment.provider)
    read_session().rollback()
    if left.cents <= 0 or offline:
        return None
    with force_locale(locale):
        reason = _("Order cancelled")
    return refund(number, left, reason, actor_id=None)


def _order_for_read(number: str) -> Order:
    order = read_session().scalar(select(Order).where(Order.number == number))
    if order is None:
        raise LookupError(number)
    return order


@dataclass(frozen=True)
class Repair:
    recorded: list[str]  # orders whose offline payment is now recorded as paid
    flagged: list[str]  # card orders set to paid without the provider's word: staff check
    unrefunded: list[str]  # set to "refunded" by the status button without a refund: staff check


def _set_paid_without_payment() -> list[str]:
    """Orders that became "paid" while their payment stayed pending: the status button
    did that before recording the payment was the only way."""
    went_paid = select(OrderEvent.order_id).where(
        OrderEvent.kind == "status",
        OrderEvent.data["state"].as_string() == OrderStatus.PAID.value,
    )
    settled = select(Payment.order_id).where(Payment.status == PaymentStatus.PAID)
    pending = select(Payment.order_id).where(Payment.status == PaymentStatus.PENDING)
    flagged = select(OrderEvent.order_id).where(OrderEvent.kind == "payment_unconfirmed")
    session = read_session()
    numbers = session.scalars(
        select(Order.number)
        .where(
            Order.id.in_(went_paid),
            Order.id.in_(pending),
            Order.id.not_in(settled),
            Order.id.not_in(flagged),
        )
        .order_by(Order.id)
    ).all()
    session.rollback()
    return list(numbers)


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
    for number in _set_paid_without_payment():
        with unit_of_work() as session:
            order = _order_for_update(session, number)
            payment = next((p for p in order.payments if p.status is PaymentStatus.PENDING), None)
            if payment is None or any(p.status is PaymentStatus.PAID for p in order.payments):
                continue  # recorded meanwhile
            if not is_offline(payment.provider):
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
    for number in _set_refunded_without_refund():
        with unit_of_work() as session:
            order = _order_for_update(session, number)
            order.needs_review = True
            lifecycle.record(session, order, "refund_unrecorded")
            repair.unrefunded.append(number)
    return repair


def _set_refunded_without_refund() -> list[str]:
    """Orders that staff set to "refunded" with the status button while less money went
    back than was paid. Which refund happened is not known, so none is assumed: the
    order is flagged for staff to record it (or to say why there was none)."""
    by_staff = select(OrderEvent.order_id).where(
        OrderEvent.kind == "status",
        OrderEvent.actor_kind == Actor.STAFF,
        OrderEvent.data["state"].as_string() == OrderStatus.REFUNDED.value,
    )
    fully_refunded = select(Payment.order_id).where(
        Payment.status == PaymentStatus.PAID, Payment.refunded_cents >= Payment.amount_cents
    )
    flagged = select(OrderEvent.order_id).where(OrderEvent.kind == "refund_unrecorded")
    session = read_session()
    numbers = session.scalars(
        select(Order.number)
        .where(
            Order.status == OrderStatus.REFUNDED,
            Order.id.in_(by_staff),
            Order.id.not_in(fully_refunded),
            Order.id.not_in(flagged),
        )
        .order_by(Order.id)
    ).all()
    session.rollback()
    return list(numbers)
