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
from typing import Protocol

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiosk.models import (
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentStatus,
    User,
)
from kiosk.models.base import utcnow
from kiosk.money import Money
from kiosk.services import audit
from kiosk.services.uow import read_session, unit_of_work


class PaymentProblem(ValueError):
    """A payment action that cannot be done; `code` says why (views word it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Buyer:
    user_id: int | None


class Provider(Protocol):
    code: str
    offline: bool

    def fee(self, currency: str) -> Money: ...

    def available_for(self, buyer: Buyer) -> bool: ...

    def start(self, session: Session, order: Order) -> Payment: ...


class _Offline:
    """Money that staff confirm by hand: the payment waits until they do."""

    code = ""
    offline = True

    def fee(self, currency: str) -> Money:
        return Money.zero(currency)

    def available_for(self, buyer: Buyer) -> bool:
        return True

    def start(self, session: Session, order: Order) -> Payment:
        payment = Payment(
            order_id=order.id,
            provider=self.code,
            amount_cents=order.total_cents,
            currency=order.currency,
        )
        session.add(payment)
        return payment


class BankTransfer(_Offline):
    code = "bank_transfer"


class Invoice(_Offline):
    """Pay after delivery; the owner may keep it for customers who have paid before."""

    code = "invoice"

    def available_for(self, buyer: Buyer) -> bool:
        rule = current_app.config["KIOSK_INVOICE_FOR"]
        if rule == "all":
            return True
        if buyer.user_id is None:
            return False
        paid_before = read_session().scalar(
            select(func.count())
            .select_from(Order)
            .where(
                Order.user_id == buyer.user_id,
                Order.status.in_(
                    [OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.SHIPPED,
                     OrderStatus.DELIVERED]
                ),
            )
        )  # fmt: skip
        return bool(paid_before)


class CashOnDelivery(_Offline):
    code = "cash_on_delivery"

    def fee(self, currency: str) -> Money:
        return Money(int(current_app.config["KIOSK_COD_FEE_CENTS"]), currency)


PROVIDERS: dict[str, Provider] = {p.code: p for p in (BankTransfer(), Invoice(), CashOnDelivery())}


def enabled() -> list[Provider]:
    return [PROVIDERS[code] for code in current_app.config["KIOSK_PAYMENT_METHODS"]]


def offered(user_id: int | None) -> list[Provider]:
    """The methods checkout offers this shopper."""
    buyer = Buyer(user_id)
    return [provider for provider in enabled() if provider.available_for(buyer)]


def provider(code: str) -> Provider | None:
    return PROVIDERS.get(code) if code in current_app.config["KIOSK_PAYMENT_METHODS"] else None


def record(
    session: Session,
    order: Order,
    kind: str,
    actor: User | None = None,
    reason: str = "",
    **data: object,
) -> None:
    """Add an entry to the order's history."""
    session.add(
        OrderEvent(
            order_id=order.id,
            kind=kind,
            actor_id=actor.id if actor else None,
            actor_kind="staff" if actor else "system",
            reason=reason,
            data=data,
        )
    )


def _order_for_update(session: Session, number: str) -> Order:
    order = session.scalar(select(Order).where(Order.number == number).with_for_update())
    if order is None:
        raise LookupError(number)
    return order


def mark_received(number: str, actor_id: int, note: str = "") -> Order:
    """Staff confirm an offline payment arrived: the payment and the order are paid."""
    with unit_of_work() as session:
        order = _order_for_update(session, number)
        actor = session.get(User, actor_id)
        payment = next(
            (p for p in reversed(order.payments) if p.status is PaymentStatus.PENDING), None
        )
        if payment is None or not PROVIDERS.get(payment.provider, _Offline()).offline:
            raise PaymentProblem("nothing_pending")
        if order.status is not OrderStatus.AWAITING_PAYMENT:
            raise PaymentProblem("not_awaiting_payment")
        now = utcnow()
        payment.status, payment.paid_at = PaymentStatus.PAID, now
        order.status = OrderStatus.PAID
        record(session, order, "payment_received", actor, note, provider=payment.provider,
               amount_cents=payment.amount_cents)  # fmt: skip
        audit.record(session, "payment.marked_paid", actor=actor, order=order.number)
        return order


def refund(number: str, amount: Money, reason: str, actor_id: int) -> Order:
    """Record a refund of an offline payment (the money goes back by bank transfer).

    A refund of everything paid marks the order refunded; a partial one keeps
    its state and adds the amount to the payment's refunded total.
    """
    if amount.cents <= 0:
        raise PaymentProblem("amount")
    if not reason.strip():
        raise PaymentProblem("reason")
    with unit_of_work() as session:
        order = _order_for_update(session, number)
        actor = session.get(User, actor_id)
        payment = next(
            (p for p in reversed(order.payments) if p.status is PaymentStatus.PAID), None
        )
        if payment is None:
            raise PaymentProblem("nothing_paid")
        if amount.currency != payment.currency:
            raise PaymentProblem("amount")
        result = session.execute(
            update(Payment)
            .where(
                Payment.id == payment.id,
                Payment.refunded_cents + amount.cents <= Payment.amount_cents,
            )
            .values(refunded_cents=Payment.refunded_cents + amount.cents)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise PaymentProblem("too_much")
        session.refresh(payment)
        if payment.refunded_cents == payment.amount_cents:
            order.status = OrderStatus.REFUNDED
        record(session, order, "refund", actor, reason.strip(), amount_cents=amount.cents,
               provider=payment.provider)  # fmt: skip
        audit.record(session, "payment.refunded", actor=actor, order=order.number,
                     amount_cents=amount.cents)  # fmt: skip
        return order
