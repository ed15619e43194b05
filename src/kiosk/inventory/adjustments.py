"""Staff adjust stock by hand, and see a product's ledger and what runs low.

An adjustment names its reason (goods received, a stock count, damage, a return), goes
into the ledger as one movement of its own kind, and is audited. The form carries the
on-hand figure the staff member saw: if stock moved since (a second click, a colleague, a
sale), nothing changes and the page shows the new figure, so no one adjusts blind.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kiosk.audit import services as audit
from kiosk.inventory import alerts
from kiosk.inventory.models import InventoryMovement, MovementKind
from kiosk.inventory.repository import StockRepository
from kiosk.uow import read_session, unit_of_work

ON_HAND_KINDS = [kind for kind in MovementKind if kind.changes_on_hand]


class AdjustReason(enum.StrEnum):
    RECEIVED = "received"
    COUNT = "count"
    DAMAGE = "damage"
    RETURN = "return"

    @property
    def kind(self) -> MovementKind:
        return {
            AdjustReason.RECEIVED: MovementKind.RESTOCK,
            AdjustReason.COUNT: MovementKind.COUNT,
            AdjustReason.DAMAGE: MovementKind.DAMAGE,
            AdjustReason.RETURN: MovementKind.RETURN,
        }[self]

    def new_on_hand(self, on_hand: int, quantity: int) -> int:
        """A count sets the number; the others add or take away `quantity`."""
        if self is AdjustReason.COUNT:
            return quantity
        return on_hand - quantity if self is AdjustReason.DAMAGE else on_hand + quantity


class AdjustmentRefused(Exception):
    """Why stock was not changed: `code` is "below_reserved", "below_zero" or "changed"
    (stock moved since the form was shown); the figures are the current ones."""

    def __init__(self, code: str, on_hand: int, reserved: int) -> None:
        super().__init__(code)
        self.code, self.on_hand, self.reserved = code, on_hand, reserved


@dataclass(frozen=True)
class Adjustment:
    before: int
    after: int


def adjust(
    staff_id: int,
    product_id: int,
    reason: AdjustReason,
    quantity: int,
    note: str,
    seen_on_hand: int | None = None,
) -> Adjustment:
    """Change stock on hand for `reason` (`quantity` is the counted number for a count, else
    a positive amount). Refused below zero, below what checkouts hold, or when on hand is
    no longer `seen_on_hand`. Raises LookupError for an unknown product."""
    if quantity < 0 or (quantity == 0 and reason is not AdjustReason.COUNT):
        raise ValueError("the quantity of an adjustment is positive")
    with unit_of_work() as session:
        stock = StockRepository(session)
        counters = stock.lock_counters(product_id)
        if counters is None:
            raise LookupError(f"no product {product_id}")
        on_hand, reserved = counters
        if seen_on_hand is not None and seen_on_hand != on_hand:
            raise AdjustmentRefused("changed", on_hand, reserved)
        after = reason.new_on_hand(on_hand, quantity)
        if after < 0:
            raise AdjustmentRefused("below_zero", on_hand, reserved)
        if after < reserved or not stock.set_on_hand(product_id, after, on_hand):
            raise AdjustmentRefused("below_reserved", on_hand, reserved)
        if after != on_hand:
            stock.add_movement(
                InventoryMovement(
                    product_id=product_id,
                    kind=reason.kind,
                    quantity=after - on_hand,
                    reason=note,
                    actor_id=staff_id,
                )
            )
            alerts.stock_changed(session, product_id, after - on_hand)
        audit.record(
            session,
            "stock.adjusted",
            actor=audit.Account(staff_id),
            product=product_id,
            reason=reason.value,  # the note (free text) stays in the stock ledger
            before={"on_hand": on_hand},
            after={"on_hand": after},
        )
    return Adjustment(on_hand, after)


@dataclass(frozen=True)
class StockCard:
    id: int
    name: str
    sku: str
    is_active: bool
    on_hand: int
    reserved: int
    reorder_level: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class LedgerLine:
    created_at: datetime
    kind: MovementKind
    quantity: int
    on_hand_after: int
    staff_name: str | None
    staff_email: str | None
    note: str


@dataclass(frozen=True)
class StockHistory:
    card: StockCard
    lines: Sequence[LedgerLine]
    page: int
    pages: int


def stock_card(product_id: int) -> StockCard | None:
    row = StockRepository(read_session()).stock_card(product_id)
    return None if row is None else StockCard(*row)


def history(product_id: int, page: int, per_page: int) -> StockHistory | None:
    """The product's counters and one page of its on-hand movements, newest first, each with
    the on-hand figure it left (worked back from today's, so stock set before the ledger
    began does not matter). Reservations are left out: they show in the reserved figure."""
    card = stock_card(product_id)
    if card is None:
        return None
    stock = StockRepository(read_session())
    pages = max(1, math.ceil(stock.count_movements(product_id, ON_HAND_KINDS) / per_page))
    page = min(max(page, 1), pages)
    rows = stock.movements(product_id, ON_HAND_KINDS, per_page, (page - 1) * per_page)
    lines = []
    if rows:
        level = card.on_hand - stock.change_since(product_id, ON_HAND_KINDS, rows[0].id)
        for row in rows:
            lines.append(
                LedgerLine(
                    row.created_at,
                    MovementKind(row.kind),
                    row.quantity,
                    level,
                    row.name,
                    row.email,
                    row.reason,
                )
            )
            level -= row.quantity
    return StockHistory(card, lines, page, pages)


@dataclass(frozen=True)
class RunningLow:
    rows: Sequence[StockCard]
    total: int
    page: int
    pages: int


def running_low(page: int, per_page: int) -> RunningLow:
    """Active products at or below their reorder level, sold-out ones first."""
    stock = StockRepository(read_session())
    total = stock.count_running_low()
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    rows = [
        StockCard(row.id, row.name, row.sku, True, *row[3:])
        for row in stock.running_low(per_page, (page - 1) * per_page)
    ]
    return RunningLow(rows, total, page, pages)
