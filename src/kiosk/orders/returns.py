"""Goods coming back, recorded by staff: some or all of an order's lines, with a reason.

A return puts the goods back on hand through the inventory ledger (RETURN movements)
and issues a credit note for their value, in one unit of work with the order's history
and the audit record. The money is not sent here: a paid order's page then offers the
refund (`settlement.refund`), which issues no second credit note for what is credited.
When everything shipped has come back, the order becomes "returned".

Cancelling an invoice is the other correction staff make: an unpaid order paid on
invoice is cancelled through the lifecycle, which gives the stock back and cancels the
invoice with a credit note (Stornorechnung).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.accounts import services as accounts
from kiosk.audit import services as audit
from kiosk.inventory import services as inventory
from kiosk.invoicing import services as invoicing
from kiosk.money import Money
from kiosk.orders import documents, lifecycle
from kiosk.orders.labels import Refused, order_status_name
from kiosk.orders.lifecycle import Actor
from kiosk.orders.models import Order, OrderStatus
from kiosk.orders.repository import OrderRepository
from kiosk.payments.models import PaymentStatus
from kiosk.uow import unit_of_work

RETURNABLE = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


@dataclass(frozen=True)
class ReturnRecorded:
    amount: Money  # what the credit note takes back
    credit_note: str  # its number ("" when the order has no invoice)


def returned_so_far(order: Order) -> dict[int, int]:
    """Line id: quantity back already, from the loaded history (for the page)."""
    returned: dict[int, int] = {}
    for event in order.events:
        if event.kind == "goods_returned":
            for line_id, quantity in event.data.get("lines", {}).items():
                returned[int(line_id)] = returned.get(int(line_id), 0) + int(quantity)
    return returned


def returnable(order: Order) -> dict[int, int]:
    """Line id: how many can still come back (shipped less returned); empty if none can."""
    if order.status not in RETURNABLE:
        return {}
    returned = returned_so_far(order)
    return {line.id: line.quantity - returned.get(line.id, 0) for line in order.lines}


def unrefunded_credit(order: Order) -> Money:
    """What credit notes took back of a paid order and no refund has paid out yet: the
    refund the page offers after a return."""
    paid = sum(p.amount_cents for p in order.payments if p.status is PaymentStatus.PAID)
    refunded = sum(p.refunded_cents for p in order.payments)
    left = min(invoicing.credited_cents(order) - refunded, paid - refunded)
    return order.money(max(0, left))


def _value(order: Order, chosen: Mapping[int, int]) -> int:
    """The returned lines' gross value, less their share of the order's discount."""
    lines = {line.id: line for line in order.lines}
    value = sum(lines[line_id].unit_price_cents * quantity for line_id, quantity in chosen.items())
    if order.discount_cents and order.items_cents:
        value -= order.discount_cents * value // order.items_cents
    return value


def _check(order: Order, chosen: Mapping[int, int], returned: Mapping[int, int]) -> None:
    if order.status not in RETURNABLE:
        raise Refused("not_shipped", state=order_status_name(order.status))
    if not chosen:
        raise Refused("nothing_chosen")
    lines = {line.id: line for line in order.lines}
    for line_id, quantity in chosen.items():
        line = lines.get(line_id)
        if line is None:
            raise Refused("unknown_line")
        left = line.quantity - returned.get(line_id, 0)
        if quantity > left:
            raise Refused("too_many", item=line.name, left=left)


def recorded_with(order: Order, key: str) -> ReturnRecorded | None:
    """The return a form with this key recorded already (a second submit), if any."""
    for event in order.events:
        if key and event.kind == "goods_returned" and event.data.get("key") == key:
            data = event.data
            return ReturnRecorded(order.money(data["amount_cents"]), data["credit_note"])
    return None


def record_return(
    number: str, quantities: Mapping[int, int], reason: str, actor_id: int, key: str
) -> ReturnRecorded:
    """Goods of some lines came back: restock them, credit them, write the history.

    `key` comes with the form: a second submit of the same form finds its return and
    records nothing more. More than was shipped less returned before is refused.
    """
    with unit_of_work() as session:
        order = OrderRepository(session).locked(number)
        actor = accounts.find_user(session, actor_id)
        if (done := recorded_with(order, key)) is not None:
            return done
        chosen = {line_id: quantity for line_id, quantity in quantities.items() if quantity > 0}
        returned = lifecycle.returned_quantities(session, order)
        _check(order, chosen, returned)
        lines = {line.id: line for line in order.lines}
        goods: dict[int, int] = {}
        for line_id, quantity in chosen.items():
            product_id = lines[line_id].product_id
            if product_id is not None:  # a product deleted since has no stock to take
                goods[product_id] = goods.get(product_id, 0) + quantity
        inventory.take_back(session, goods, f"order {number} returned", actor_id)
        amount = order.money(_value(order, chosen))
        credit = (
            invoicing.issue_credit_note(session, order, amount, reason) if amount.cents else None
        )
        credit_note = credit.number if credit else ""
        before = order.status
        lifecycle.record(session, order, "goods_returned", actor, reason,
                         lines={str(k): v for k, v in chosen.items()}, amount_cents=amount.cents,
                         credit_note=credit_note, key=key)  # fmt: skip
        after = {k: returned.get(k, 0) + chosen.get(k, 0) for k in lines}
        if all(after[line.id] >= line.quantity for line in order.lines):
            lifecycle.change(session, order, OrderStatus.RETURNED, Actor.STAFF, actor, reason)
        audit.record(session, "order.returned", actor=actor, order=number,
                     before={"status": before.value, "returned": _keyed(returned)},
                     after={"status": order.status.value, "returned": _keyed(after)},
                     amount_cents=amount.cents, credit_note=credit_note)  # fmt: skip
        result = ReturnRecorded(amount, credit_note)
    documents.complete_pending(order.id)
    return result


def _keyed(quantities: Mapping[int, int]) -> dict[str, Any]:
    return {str(k): v for k, v in quantities.items() if v}


def can_cancel_invoice(order: Order) -> bool:
    """Whether the order page offers "Cancel invoice": paid on invoice, invoiced, unpaid,
    and in a state the lifecycle lets staff cancel."""
    return (
        order.payment_method in ("invoice",)
        and invoicing.invoice_of(order) is not None
        and not lifecycle.paid_anything(order)
        and lifecycle.allowed(order.status, OrderStatus.CANCELLED, Actor.STAFF, True)
    )


def cancel_invoice(number: str, reason: str, actor_id: int) -> str:
    """Cancel an unpaid invoice order: the lifecycle cancels it (stock back on hand) and
    cancels its invoice with a credit note; returns the credit note's number. A second
    submit finds the order cancelled and returns the same number."""
    with unit_of_work() as session:
        order = OrderRepository(session).locked(number)
        actor = accounts.find_user(session, actor_id)
        if order.status is OrderStatus.CANCELLED:
            return _last_credit_note(order)
        if order.payment_method != "invoice":
            raise Refused("not_invoice")
        if lifecycle.paid_anything(order):
            raise Refused("paid")
        if invoicing.invoice_of(order) is None:
            raise Refused("no_invoice")
        before = order.status
        lifecycle.change(session, order, OrderStatus.CANCELLED, Actor.STAFF, actor, reason)
        session.flush()
        credit_note = _last_credit_note(order)
        audit.record(session, "order.invoice_cancelled", actor=actor, order=number,
                     before={"status": before.value}, after={"status": order.status.value},
                     credit_note=credit_note)  # fmt: skip
        order_id = order.id
    documents.complete_pending(order_id)
    return credit_note


def _last_credit_note(order: Order) -> str:
    notes = [d.number for d in order.invoices if d.kind.value == "credit_note"]
    return notes[-1] if notes else ""
