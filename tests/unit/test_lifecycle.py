"""The order lifecycle table: every step it allows, every step it refuses, and its diagram."""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pytest

from kiosk.orders.lifecycle import (
    PAY_LATER_TRANSITIONS,
    TRANSITIONS,
    Actor,
    allowed,
    mermaid,
    next_states,
)
from kiosk.orders.models import OrderStatus

S = OrderStatus
EXPECTED = {
    (S.AWAITING_PAYMENT, S.PAID): {"system"},  # only by recording the payment
    (S.AWAITING_PAYMENT, S.CANCELLED): {"customer", "staff", "system"},
    (S.PAID, S.PROCESSING): {"staff"},
    (S.PAID, S.SHIPPED): {"staff"},
    (S.PAID, S.CANCELLED): {"customer", "staff"},
    (S.PAID, S.REFUNDED): {"system"},
    (S.PROCESSING, S.SHIPPED): {"staff"},
    (S.PROCESSING, S.CANCELLED): {"customer", "staff"},
    (S.PROCESSING, S.REFUNDED): {"system"},
    (S.SHIPPED, S.DELIVERED): {"staff", "system"},
    (S.SHIPPED, S.RETURNED): {"staff"},
    (S.SHIPPED, S.REFUNDED): {"system"},
    (S.DELIVERED, S.RETURNED): {"staff"},
    (S.DELIVERED, S.REFUNDED): {"system"},
    (S.RETURNED, S.REFUNDED): {"system"},
    (S.CANCELLED, S.REFUNDED): {"system"},
}
PAID_AFTER_DELIVERY = {
    (S.AWAITING_PAYMENT, S.PROCESSING): {"staff"},
    (S.AWAITING_PAYMENT, S.SHIPPED): {"staff"},
    # unpaid, the parcel refused or the invoice cancelled: goods back, invoice credited
    (S.SHIPPED, S.CANCELLED): {"staff"},
    (S.DELIVERED, S.CANCELLED): {"staff"},
}
EVERY_STEP = [
    (source, target, actor)
    for source, target, actor in product(OrderStatus, OrderStatus, Actor)
    if source is not target
]


@pytest.mark.parametrize(("source", "target", "actor"), EVERY_STEP)
def test_each_step_is_allowed_exactly_as_the_table_says(
    source: OrderStatus, target: OrderStatus, actor: Actor
) -> None:
    assert allowed(source, target, actor) == (actor.value in EXPECTED.get((source, target), set()))


@pytest.mark.parametrize(("source", "target", "actor"), EVERY_STEP)
def test_an_order_paid_after_delivery_may_also_go_out_unpaid(
    source: OrderStatus, target: OrderStatus, actor: Actor
) -> None:
    expected = EXPECTED | PAID_AFTER_DELIVERY
    assert allowed(source, target, actor, pays_later=True) == (
        actor.value in expected.get((source, target), set())
    )


def test_the_table_is_the_expected_one() -> None:
    assert {key: {a.value for a in who} for key, who in TRANSITIONS.items()} == EXPECTED
    assert {
        key: {a.value for a in who} for key, who in PAY_LATER_TRANSITIONS.items()
    } == PAID_AFTER_DELIVERY


def test_customers_can_cancel_only_before_shipping() -> None:
    can_cancel = [s for s in OrderStatus if S.CANCELLED in next_states(s, Actor.CUSTOMER)]
    assert can_cancel == [S.AWAITING_PAYMENT, S.PAID, S.PROCESSING]


def test_the_documented_diagram_is_generated_from_the_table() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "order-lifecycle.md").read_text()
    block = re.search(r"```mermaid\n(.*?)```", doc, re.S)
    assert block is not None and block.group(1) == mermaid(), (
        "docs/order-lifecycle.md is out of date: run flask --app kiosk kiosk lifecycle-diagram"
    )
