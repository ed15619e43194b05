"""Card payments by Stripe Checkout, applied to the order (Stripe's API: `payments.stripe`).

1. Placing the order hands its stock holds to the order (`order:<id>`) for as
   long as the Checkout page is payable, and adds a pending payment row.
2. `begin(number)` creates the Checkout Session from the order in the
   database, with an idempotency key derived from the payment, outside any
   transaction, and stores its id and URL; the shopper goes there.
3. Stripe tells the shop by webhook; `handle_event` skips an event id it has
   stored before (without asking Stripe anything), re-reads the session from
   Stripe, and stores the event id under a unique constraint in the same
   transaction as its effect, only ever moving forward (pending -> paid,
   failed or expired). So duplicates act once, order does not matter, and
   `reconcile()` can apply whatever a lost webhook missed. An event Stripe
   itself does not know the session of will never apply: it is stored and
   ignored. When Stripe cannot be reached (or answers 5xx or 429) nothing is
   stored and `RetryLater` is raised, so Stripe's next delivery applies it.
4. The amount and currency Stripe charged must match the order; otherwise the
   order is flagged for staff and not marked paid.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import stripe as stripe_sdk
from sqlalchemy.orm import Session

from kiosk.inventory import services as inventory
from kiosk.invoicing import services as invoicing
from kiosk.money import Money
from kiosk.orders import documents, lifecycle, settlement
from kiosk.orders.lifecycle import Actor
from kiosk.orders.models import Order, OrderStatus
from kiosk.orders.repository import OrderRepository
from kiosk.orm import utcnow
from kiosk.payments import services as payments
from kiosk.payments import stripe
from kiosk.payments.models import Payment, PaymentEvent, PaymentStatus
from kiosk.payments.providers import PaymentProblem
from kiosk.payments.stripe import PROVIDER, PaymentNotStarted, RetryLater
from kiosk.uow import read_session, unit_of_work
from kiosk.urls import external_url

log = logging.getLogger(__name__)

IGNORED = "ignored"  # the prefix of outcomes of events that will never apply


def _session_params(order: Order, payment: Payment) -> dict[str, Any]:
    currency = order.currency.lower()

    def item(name: str, cents: int, quantity: int = 1) -> dict[str, Any]:
        return {
            "quantity": quantity,
            "price_data": {
                "currency": currency,
                "unit_amount": cents,
                "product_data": {"name": name},
            },
        }

    if order.discount_cents:  # Stripe knows no negative lines: the items after the coupon
        items = [
            item(f"{order.number} ({order.coupon_code})", order.items_cents - order.discount_cents)
        ]
    else:
        items = [item(line.name, line.unit_price_cents, line.quantity) for line in order.lines]
    if order.fee_cents:
        items.append(item(order.payment_method, order.fee_cents))
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": items,
        "customer_email": order.email,
        "locale": order.locale if order.locale in ("de", "en") else "auto",
        "client_reference_id": order.number,
        "metadata": {"order_id": str(order.id), "order_number": order.number},
        "expires_at": int((utcnow() + timedelta(minutes=stripe.page_minutes())).timestamp()),
        "success_url": external_url("orders.payment_return", number=order.number),
        "cancel_url": external_url("orders.payment_return", number=order.number),
    }
    if order.shipping_cents:
        params["shipping_options"] = [
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "display_name": order.shipping_method_name,
                    "fixed_amount": {"amount": order.shipping_cents, "currency": currency},
                }
            }
        ]
    return params


def begin(number: str) -> str:
    """The URL of the order's Stripe Checkout page, created once per payment attempt."""
    session = read_session()
    order = OrderRepository(session).by_number(number)
    if order is None:
        raise LookupError(number)
    payment = next((p for p in order.payments if p.provider == PROVIDER), None)
    if payment is None or payment.status is not PaymentStatus.PENDING:
        raise PaymentNotStarted("no pending card payment")
    if payment.redirect_url:
        return payment.redirect_url
    params = _session_params(order, payment)
    session.rollback()  # no transaction stays open while Stripe answers
    try:
        checkout_id, url = stripe.create_checkout(params, f"kiosk-payment-{payment.id}")
    except PaymentNotStarted as problem:
        log.warning("Stripe Checkout for %s not created: %s", number, problem)
        raise
    with unit_of_work() as write:
        payments.keep_page(write, payment, checkout_id, url)
    return url


def handle_event(event: stripe_sdk.Event) -> str:
    """Apply one verified webhook event; returns what happened (for the log and tests).

    Raises RetryLater when Stripe cannot be asked now; the event is then not stored.
    """
    if payments.seen_before(PROVIDER, event.id):
        return "duplicate"
    obj = event.data.object
    if event.type.startswith("checkout.session."):
        fresh = stripe.read_checkout(obj["id"])
        failed = event.type == "checkout.session.async_payment_failed"
        with unit_of_work() as session:
            stored = payments.store_event(session, PROVIDER, event.id, event.type)
            if stored is None:
                return "duplicate"
            if fresh is None:
                return f"{IGNORED}: Stripe does not know session {obj['id']}"
            outcome = _apply_session(session, fresh, failed=failed, stored=stored)
        _after_commit(outcome, obj["id"])
        return outcome
    if event.type == "charge.refunded":
        with unit_of_work() as session:
            stored = payments.store_event(session, PROVIDER, event.id, event.type)
            if stored is None:
                return "duplicate"
            outcome = _apply_refund(
                session, obj["payment_intent"], int(obj["amount_refunded"]), stored
            )
        _after_commit(outcome)
        return outcome
    return f"{IGNORED}: the shop does not use {event.type}"


def _after_commit(outcome: str, checkout_id: str | None = None) -> None:
    """What follows a stored event: the invoice PDF, and the refund of money that came for
    a cancelled order. Stripe must not send the event again for these (it would be a
    duplicate), so a failure is logged and `flask kiosk order-jobs` finishes the work."""
    documents.complete_pending()
    if outcome == "paid after cancellation" and checkout_id is not None:
        try:
            _refund_if_cancelled(checkout_id)
        except PaymentProblem as problem:
            log.warning(
                "Refund of the payment for cancelled session %s not made yet (%s); "
                "order-jobs will retry",
                checkout_id,
                problem.code,
            )


def _payment_for(session: Session, checkout_id: str) -> tuple[Payment, Order] | None:
    payment = payments.by_page(session, PROVIDER, checkout_id)
    if payment is None:
        return None
    order = OrderRepository(session).locked_by_id(payment.order_id)
    session.refresh(payment)
    return payment, order


def _apply_session(
    session: Session, checkout: Any, failed: bool = False, stored: PaymentEvent | None = None
) -> str:
    found = _payment_for(session, checkout["id"])
    if found is None:
        return f"{IGNORED}: no payment of the shop has session {checkout['id']}"
    payment, order = found
    if stored is not None:
        stored.order_id = order.id
    if payment.status is not PaymentStatus.PENDING:
        return "already settled"
    status, paid_state = checkout["status"], checkout["payment_status"]
    if status == "complete" and paid_state in ("paid", "no_payment_required"):
        amount = Money(int(checkout["amount_total"] or 0), str(checkout["currency"]).upper())
        if amount != payment.amount:
            payment.status = PaymentStatus.FLAGGED
            order.needs_review = True
            lifecycle.record(session, order, "payment_mismatch", charged_cents=amount.cents,
                             currency=amount.currency)  # fmt: skip
            return "flagged"
        return _paid(session, payment, order, checkout.get("payment_intent"))
    if failed or status == "expired":
        payment.status = PaymentStatus.FAILED if failed else PaymentStatus.EXPIRED
        lifecycle.record(session, order, f"payment_{payment.status.value}")
        if order.status is OrderStatus.AWAITING_PAYMENT:
            lifecycle.change(session, order, OrderStatus.CANCELLED, Actor.SYSTEM,
                             reason=f"payment {payment.status.value}")  # fmt: skip
        return payment.status.value
    return "pending"


def _paid(session: Session, payment: Payment, order: Order, intent: str | None) -> str:
    payments.mark_paid(payment, intent)
    if order.status is OrderStatus.CANCELLED:
        # Paid after the order was given up, its stock already back on the shelf:
        # the money goes back (`_refund_if_cancelled`, once this unit of work is done).
        lifecycle.record(session, order, "payment_received", provider=PROVIDER,
                         amount_cents=payment.amount_cents)  # fmt: skip
        return "paid after cancellation"
    holder = lifecycle.order_holder(order.id)
    wanted = {line.product_id: line.quantity for line in order.lines if line.product_id}
    if inventory.sell(session, holder, f"order {order.number} paid") != wanted:
        try:  # the hold lapsed before the money came: take the stock if it is still there
            inventory.release(session, holder, "hold lapsed")
            inventory.reserve(session, holder, wanted, 1)
            inventory.sell(session, holder, f"order {order.number} paid")
        except inventory.OutOfStock:
            order.needs_review = True
            lifecycle.record(session, order, "paid_without_stock")
    if order.status is OrderStatus.AWAITING_PAYMENT:
        lifecycle.change(session, order, OrderStatus.PAID, Actor.SYSTEM)
    lifecycle.record(session, order, "payment_received", provider=PROVIDER,
                    amount_cents=payment.amount_cents)  # fmt: skip
    return "paid"


def _refund_if_cancelled(checkout_id: str) -> None:
    """Give back a payment that arrived for a cancelled order (outside any transaction)."""
    number = OrderRepository(read_session()).number_by_payment_page(checkout_id)
    read_session().rollback()
    if number is not None:
        settlement.refund_cancelled(number)


def _apply_refund(session: Session, intent: str, refunded_cents: int, stored: PaymentEvent) -> str:
    payment = payments.by_intent(session, PROVIDER, intent)
    if payment is None:
        return f"{IGNORED}: no payment of the shop has payment intent {intent}"
    order = OrderRepository(session).locked_by_id(payment.order_id)
    stored.order_id = order.id
    session.refresh(payment)
    if refunded_cents <= payment.refunded_cents:
        return "already recorded"
    added = refunded_cents - payment.refunded_cents
    payment.refunded_cents = min(refunded_cents, payment.amount_cents)
    lifecycle.record(session, order, "refund", amount_cents=added, provider=PROVIDER)
    invoicing.issue_credit_note(session, order, Money(added, payment.currency), "refund")
    if payment.refunded_cents == payment.amount_cents:
        lifecycle.change(session, order, OrderStatus.REFUNDED, Actor.SYSTEM)
    return "refunded"


def reconcile() -> dict[str, int]:
    """Re-read every pending card payment from Stripe and apply what it says (for a timer)."""
    outcomes: dict[str, int] = {}
    for checkout_id in payments.open_pages(PROVIDER):
        outcome = _reconcile_one(checkout_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    documents.complete_pending()
    return outcomes


def _reconcile_one(checkout_id: str) -> str:
    """One pending payment; a session Stripe cannot give us now is counted and skipped."""
    try:
        fresh = stripe.read_checkout(checkout_id)
    except RetryLater as later:
        log.warning("Stripe session %s not read now: %s", checkout_id, later)
        return "not readable now"
    if fresh is None:
        log.warning("Stripe does not know session %s of a pending payment", checkout_id)
        return "unknown to Stripe"
    with unit_of_work() as session:
        outcome = _apply_session(session, fresh)
    if outcome == "paid after cancellation":
        _after_commit(outcome, checkout_id)
    return outcome
