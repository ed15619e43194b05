"""The life of an order: one table says which state may follow which, and who may move it.

Nothing else decides. `change(...)` checks the table, changes the state in the
caller's transaction, records the step in the order's history and runs the
step's side effects there too (stock, mails through the outbox). A refused
step raises `TransitionRefused` and changes nothing. `mermaid()` draws the
table for docs/order-lifecycle.md, which a test keeps in step with it.

What the payment method allows (goods out before the money, money handled by
staff) the lifecycle asks the payment methods' registry (`payments.providers`).
A cancellation of a paid order makes a refund due: that is money, so the use
case that cancels and then refunds is `settlement.cancel`.
"""

from __future__ import annotations

import enum
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from kiosk.accounts import services as accounts
from kiosk.accounts.models import User
from kiosk.accounts.services import mail_staff
from kiosk.analytics.models import EventKind
from kiosk.analytics.recorder import record_on_commit
from kiosk.audit import services as audit
from kiosk.inventory import services as inventory
from kiosk.invoicing import services as invoicing
from kiosk.mail.services import queue_mail
from kiosk.orders import documents
from kiosk.orders.labels import order_status_name
from kiosk.orders.models import Order, OrderEvent, OrderStatus
from kiosk.orders.repository import OrderRepository
from kiosk.orm import utcnow
from kiosk.payments import providers
from kiosk.payments.models import PaymentStatus
from kiosk.uow import unit_of_work
from kiosk.urls import external_url


class Actor(enum.StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"


S, C, T, Y = OrderStatus, Actor.CUSTOMER, Actor.STAFF, Actor.SYSTEM

TRANSITIONS: dict[tuple[OrderStatus, OrderStatus], frozenset[Actor]] = {
    # Only a recorded payment makes an order paid (staff confirming offline money in
    # `payments.mark_received`, the card webhook): the system takes this step, never
    # the status button, so the payment row and the order cannot disagree. The same
    # holds for "refunded": only a recorded refund (`payments.refund`, the provider's
    # webhook) takes that step, with its credit note.
    (S.AWAITING_PAYMENT, S.PAID): frozenset({Y}),
    (S.AWAITING_PAYMENT, S.CANCELLED): frozenset({C, T, Y}),
    (S.PAID, S.PROCESSING): frozenset({T}),
    (S.PAID, S.SHIPPED): frozenset({T}),
    (S.PAID, S.CANCELLED): frozenset({C, T}),
    (S.PAID, S.REFUNDED): frozenset({Y}),
    (S.PROCESSING, S.SHIPPED): frozenset({T}),
    (S.PROCESSING, S.CANCELLED): frozenset({C, T}),
    (S.PROCESSING, S.REFUNDED): frozenset({Y}),
    (S.SHIPPED, S.DELIVERED): frozenset({T, Y}),
    (S.SHIPPED, S.RETURNED): frozenset({T}),
    (S.SHIPPED, S.REFUNDED): frozenset({Y}),
    (S.DELIVERED, S.RETURNED): frozenset({T}),
    (S.DELIVERED, S.REFUNDED): frozenset({Y}),
    (S.RETURNED, S.REFUNDED): frozenset({Y}),
    (S.CANCELLED, S.REFUNDED): frozenset({Y}),
}

# Orders paid after delivery (on invoice, cash on delivery) go out before their money
# comes: for them only, staff may also take these steps while payment is awaited.
# An unpaid one whose goods came back (a parcel refused, an invoice cancelled) may be
# cancelled after shipping: its invoice gets a credit note and its goods go back on hand.
PAY_LATER_TRANSITIONS: dict[tuple[OrderStatus, OrderStatus], frozenset[Actor]] = {
    (S.AWAITING_PAYMENT, S.PROCESSING): frozenset({T}),
    (S.AWAITING_PAYMENT, S.SHIPPED): frozenset({T}),
    (S.SHIPPED, S.CANCELLED): frozenset({T}),
    (S.DELIVERED, S.CANCELLED): frozenset({T}),
}

REFUSALS = {
    "not_allowed": _l("An order that is %(state)s cannot become %(target)s."),
    "not_yours": _l("Only the shop can make this change."),
}


class TransitionRefused(ValueError):
    def __init__(self, code: str, order: Order, to: OrderStatus) -> None:
        super().__init__(f"{code}: {order.status} -> {to}")
        self.code, self.current, self.target = code, order.status, to


def refusal_message(refused: TransitionRefused) -> str:
    """Why the lifecycle refused a step, in the page's language."""
    return str(
        REFUSALS[refused.code]
        % {
            "state": order_status_name(refused.current),
            "target": order_status_name(refused.target),
        }
    )


def _table(pays_later: bool) -> dict[tuple[OrderStatus, OrderStatus], frozenset[Actor]]:
    return TRANSITIONS | PAY_LATER_TRANSITIONS if pays_later else TRANSITIONS


def allowed(current: OrderStatus, to: OrderStatus, actor: Actor, pays_later: bool = False) -> bool:
    return actor in _table(pays_later).get((current, to), frozenset())


def next_states(current: OrderStatus, actor: Actor, pays_later: bool = False) -> list[OrderStatus]:
    return [
        to for (source, to), who in _table(pays_later).items() if source is current and actor in who
    ]


def pays_after_delivery(order: Order) -> bool:
    """Whether the order's payment method lets the goods go out before the money."""
    return providers.pays_after_delivery(order.payment_method)


def order_holder(order_id: int) -> str:
    """The holder name of the stock an order keeps until it is paid."""
    return f"order:{order_id}"


def sold_for(order: Order) -> bool:
    """Whether the order's goods have left stock: at placing for offline methods, at payment
    for online ones."""
    method = providers.registry().get(order.payment_method)
    return bool(method and method.offline) or any(
        p.status is PaymentStatus.PAID for p in order.payments
    )


# History entries the shop's figures count. Every way money arrives (staff confirming a
# transfer, Stripe's webhook), goes back (staff, the webhook of a refund made at Stripe)
# or a buyer withdraws writes one of these, once: so the analytics count them here.
COUNTED = {
    "payment_received": EventKind.PAYMENT_RECEIVED,
    "refund": EventKind.REFUND,
    "withdrawal_received": EventKind.WITHDRAWAL,
}


def record(
    session: Session,
    order: Order,
    kind: str,
    actor: User | None = None,
    reason: str = "",
    actor_kind: Actor | None = None,
    **data: Any,
) -> None:
    """Add an entry to the order's history."""
    OrderRepository(session).add_event(
        OrderEvent(
            order_id=order.id,
            kind=kind,
            actor_id=actor.id if actor else None,
            actor_kind=actor_kind or (Actor.STAFF if actor else Actor.SYSTEM),
            reason=reason,
            data=data,
        )
    )
    if kind in COUNTED:
        record_on_commit(session, COUNTED[kind])


def change(
    session: Session,
    order: Order,
    to: OrderStatus,
    actor: Actor,
    user: User | None = None,
    reason: str = "",
    **data: Any,
) -> None:
    """Move the order to `to` if the table lets `actor` do it, with the step's side effects."""
    current = OrderStatus(order.status)
    if current is to:
        return  # already there: a repeated request changes nothing
    table = _table(pays_after_delivery(order))
    if actor not in table.get((current, to), frozenset()):
        raise TransitionRefused("not_yours" if (current, to) in table else "not_allowed", order, to)
    order.status = to
    record(session, order, "status", user, reason, actor, previous=current.value,
           state=to.value, **data)  # fmt: skip
    _side_effects(session, order, current, to, reason, data)


def returned_quantities(session: Session, order: Order) -> dict[int, int]:
    """How many of each line (by line id) came back in returns staff recorded."""
    returned: dict[int, int] = {}
    for lines in OrderRepository(session).return_lines(order.id):
        for line_id, quantity in lines.items():
            returned[int(line_id)] = returned.get(int(line_id), 0) + int(quantity)
    return returned


def _goods(session: Session, order: Order) -> dict[int, int]:
    """The order's goods still with the buyer: what was bought less what came back."""
    returned = returned_quantities(session, order)
    goods: dict[int, int] = {}
    for line in order.lines:
        left = line.quantity - returned.get(line.id, 0)
        if line.product_id and left > 0:
            goods[line.product_id] = goods.get(line.product_id, 0) + left
    return goods


def paid_anything(order: Order) -> bool:
    return any(p.status is PaymentStatus.PAID for p in order.payments)


def _side_effects(
    session: Session,
    order: Order,
    current: OrderStatus,
    to: OrderStatus,
    reason: str,
    data: dict[str, Any],
) -> None:
    invoice_on = current_app.config["KIOSK_INVOICE_ON"]
    if to is OrderStatus.PAID:
        if invoice_on == "paid":  # mailed with the invoice once its PDF is made
            invoicing.issue_invoice(session, order)
        else:
            queue_mail(session, order.email, "payment_received", order.locale, order=order)
    elif to is OrderStatus.CANCELLED:
        # Stock held for a card payment goes back; stock already sold comes back on hand.
        inventory.release(session, order_holder(order.id), f"order {order.number} cancelled")
        if sold_for(order):
            inventory.take_back(session, _goods(session, order), f"order {order.number} cancelled")
        if not paid_anything(order):
            # An invoice issued for money never paid is cancelled by a credit note
            # (Stornorechnung, §14 UStG: an issued invoice is corrected, never deleted).
            invoicing.cancel_invoice(session, order, reason or "order cancelled")
        elif current is not OrderStatus.AWAITING_PAYMENT:
            # The refund starts here: a card payment goes back once this unit of work
            # is done (`transition`); money paid offline must be sent back by staff.
            record(session, order, "refund_due", reason="cancelled after payment")
            if providers.is_offline(order.payment_method):
                mail_staff(session, "refund_due_staff", order=order,
                           order_url=external_url("staff.order", number=order.number))  # fmt: skip
        queue_mail(session, order.email, "order_cancelled", order.locale, order=order)
    elif to is OrderStatus.RETURNED:
        inventory.take_back(session, _goods(session, order), f"order {order.number} returned")
    elif to is OrderStatus.SHIPPED:
        if invoice_on == "shipped" or pays_after_delivery(order):
            invoicing.issue_invoice(session, order)  # for a later payment: what to pay
        queue_mail(session, order.email, "order_shipped", order.locale, order=order,
                   carrier=data.get("carrier", ""), tracking=data.get("tracking", ""))  # fmt: skip


# What starts a step the system takes for a reason the arrow alone would not say.
STEP_NOTES = {(S.AWAITING_PAYMENT, S.PAID): " (when the payment is recorded)"} | {
    (source, S.REFUNDED): " (when the refunds add up to what was paid)"
    for source, target in TRANSITIONS
    if target is S.REFUNDED
}


def mermaid() -> str:
    """The table as a Mermaid state diagram, each arrow labelled with who may take it."""
    lines = ["stateDiagram-v2", "    [*] --> awaiting_payment"]
    for table, note in ((TRANSITIONS, ""), (PAY_LATER_TRANSITIONS, " (paid after delivery)")):
        for (source, target), who in table.items():
            actors = ", ".join(sorted(actor.value for actor in who))
            why = STEP_NOTES.get((source, target), note)
            lines.append(f"    {source.value} --> {target.value}: {actors}{why}")
    return "\n".join(lines) + "\n"


def transition(
    number: str,
    to: OrderStatus,
    actor: Actor,
    user_id: int | None = None,
    reason: str = "",
    **data: Any,
) -> Order:
    """The use case: one state change of one order, in its own unit of work, then the PDF
    of any document the step issued."""
    with unit_of_work() as session:
        order = OrderRepository(session).locked(number)
        user = accounts.find_user(session, user_id) if user_id is not None else None
        change(session, order, to, actor, user if actor is not Actor.CUSTOMER else None, reason,
               **data)  # fmt: skip
        if actor is Actor.STAFF:
            audit.record(session, "order.status_changed", actor=user, order=number,
                         state=to.value)  # fmt: skip
    documents.complete_pending(order.id)
    return order


def withdraw(number: str, reason: str) -> Order:
    """The buyer withdraws from the contract (§356a BGB): recorded at once, both sides told."""
    with unit_of_work() as session:
        order = OrderRepository(session).locked(number)
        received = utcnow()
        if any(event.kind == "withdrawal_received" for event in order.events):
            return order  # a second click: the first declaration counts
        record(session, order, "withdrawal_received", reason=reason.strip()[:500],
               actor_kind=Actor.CUSTOMER, received_at=received.isoformat())  # fmt: skip
        queue_mail(session, order.email, "withdrawal_received", order.locale, order=order,
                   received=received, reason=reason.strip())  # fmt: skip
        mail_staff(session, "withdrawal_staff", order=order, received=received,
                   reason=reason.strip())  # fmt: skip
        return order


def add_note(number: str, staff_id: int, text: str) -> None:
    """A staff note in the order's history (phone calls, agreements …)."""
    with unit_of_work() as session:
        order = OrderRepository(session).locked(number)
        record(session, order, "note", accounts.find_user(session, staff_id), text.strip()[:500])
