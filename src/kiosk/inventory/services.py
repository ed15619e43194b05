"""Inventory use cases: reserve, release, sell, restock, set stock.

Stock is never read and then written. Each change is one conditional UPDATE
whose WHERE clause states what must hold ("available >= 2"), with its row
count checked, taken in product-id order so two checkouts never wait on each
other in a cycle. On SQLite the unit of work has already taken the write lock
(BEGIN IMMEDIATE); on PostgreSQL the UPDATE locks the row. Every change of a
counter comes with its movement in the ledger, in the same transaction, and
reservations change state only from ACTIVE, conditionally, so a sale and an
expiry can never both act on the same reservation. A sale writes two
movements (the hold ends, the stock leaves), so each counter is the sum of its
own movements: `ledger_totals` shows what staff see.

These functions take the caller's session: they are steps of larger use cases
(placing an order) and commit with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kiosk.inventory import alerts
from kiosk.inventory.models import (
    InventoryMovement,
    MovementKind,
    ReservationStatus,
    StockReservation,
)
from kiosk.inventory.repository import StockRepository
from kiosk.orm import utcnow
from kiosk.uow import read_session, unit_of_work


class OutOfStock(Exception):
    """Not enough available stock for these products; nothing was reserved."""

    def __init__(self, product_ids: Sequence[int]) -> None:
        super().__init__(f"not enough stock for products {list(product_ids)}")
        self.product_ids = list(product_ids)


def _move(
    session: Session,
    product_id: int,
    kind: MovementKind,
    quantity: int,
    reason: str = "",
    actor_id: int | None = None,
    reservation_id: int | None = None,
) -> None:
    StockRepository(session).add_movement(
        InventoryMovement(
            product_id=product_id,
            kind=kind,
            quantity=quantity,
            reason=reason,
            actor_id=actor_id,
            reservation_id=reservation_id,
        )
    )


def reserve(
    session: Session,
    holder: str,
    quantities: Mapping[int, int],
    minutes: int,
    now: datetime | None = None,
) -> list[StockReservation]:
    """Hold stock for a checkout: every line or none (raises OutOfStock naming the short ones).

    Expired holds on these products are released first, so their stock counts again.
    """
    now = now or utcnow()
    if any(q <= 0 for q in quantities.values()):
        raise ValueError("quantities must be positive")
    _release_due(session, now, product_ids=list(quantities))
    stock = StockRepository(session)
    short = []
    for product_id in sorted(quantities):  # a fixed order: no lock cycles between checkouts
        if not stock.hold(product_id, quantities[product_id]):
            short.append(product_id)
    if short:
        raise OutOfStock(short)  # the caller's unit of work rolls back the lines already held
    reservations = []
    for product_id in sorted(quantities):
        reservation = StockReservation(
            holder=holder,
            product_id=product_id,
            quantity=quantities[product_id],
            expires_at=now + timedelta(minutes=minutes),
        )
        stock.add_reservation(reservation)
        _move(
            session,
            product_id,
            MovementKind.RESERVATION,
            quantities[product_id],
            reservation_id=reservation.id,
        )
        reservations.append(reservation)
    return reservations


def held(session: Session, holder: str, now: datetime | None = None) -> dict[int, int]:
    """What a checkout holds and still may: {product id: quantity} of its unexpired holds."""
    now = now or utcnow()
    active = StockRepository(session).active(holder)
    return {r.product_id: r.quantity for r in active if r.expires_at > now}


def hand_over(
    session: Session, holder: str, new_holder: str, expires_at: datetime
) -> dict[int, int]:
    """Move a checkout's active holds to another holder (an order awaiting card payment)
    and let them last until `expires_at`. Returns what was handed over."""
    stock = StockRepository(session)
    moved = {}
    for reservation in stock.active(holder):
        if stock.hand_over(reservation.id, new_holder, expires_at):
            moved[reservation.product_id] = reservation.quantity
    return moved


def _end_hold(
    session: Session, reservation: StockReservation, outcome: ReservationStatus, reason: str
) -> bool:
    """End an ACTIVE hold: released (stock stays) or sold (stock leaves). False if already ended."""
    stock = StockRepository(session)
    if not stock.settle(reservation.id, outcome):
        return False
    sold = outcome is ReservationStatus.SOLD
    stock.end_hold(reservation.product_id, reservation.quantity, sold)
    # One movement for each counter that changed.
    _move(
        session,
        reservation.product_id,
        MovementKind.RELEASE,
        -reservation.quantity,
        reason,
        reservation_id=reservation.id,
    )
    if sold:
        _move(
            session,
            reservation.product_id,
            MovementKind.SALE,
            -reservation.quantity,
            reason,
            reservation_id=reservation.id,
        )
        alerts.stock_changed(session, reservation.product_id, -reservation.quantity)
    return True


def release(session: Session, holder: str, reason: str) -> int:
    """Give back everything a checkout holds (cancelled, payment failed). Returns the lines."""
    reservations = StockRepository(session).active(holder)
    for reservation in reservations:
        _end_hold(session, reservation, ReservationStatus.RELEASED, reason)
    return len(reservations)


def sell(session: Session, holder: str, reason: str) -> dict[int, int]:
    """Turn a checkout's holds into a sale: stock leaves on hand and reserved together."""
    return {
        reservation.product_id: reservation.quantity
        for reservation in StockRepository(session).active(holder)
        if _end_hold(session, reservation, ReservationStatus.SOLD, reason)
    }


def _release_due(session: Session, now: datetime, product_ids: Sequence[int] | None = None) -> int:
    due = StockRepository(session).expired(now, product_ids)
    for reservation in due:
        _end_hold(session, reservation, ReservationStatus.RELEASED, "reservation expired")
    return len(due)


def release_expired(now: datetime | None = None) -> int:
    """Release every hold whose time is up (also done lazily when stock is reserved)."""
    with unit_of_work() as session:
        return _release_due(session, now or utcnow())


def restock(product_id: int, quantity: int, reason: str, actor_id: int | None = None) -> None:
    if quantity <= 0:
        raise ValueError("a restock adds stock")
    with unit_of_work() as session:
        StockRepository(session).add_on_hand(product_id, quantity)
        _move(session, product_id, MovementKind.RESTOCK, quantity, reason, actor_id)
        alerts.stock_changed(session, product_id, quantity)


def take_back(
    session: Session, quantities: Mapping[int, int], reason: str, actor_id: int | None = None
) -> None:
    """Returned goods go back on hand (a RETURN movement each), in the caller's transaction."""
    stock = StockRepository(session)
    for product_id in sorted(quantities):
        stock.add_on_hand(product_id, quantities[product_id])
        _move(session, product_id, MovementKind.RETURN, quantities[product_id], reason, actor_id)
        alerts.stock_changed(session, product_id, quantities[product_id])


class StockBelowReserved(ValueError):
    """Stock on hand cannot be set below what checkouts hold."""


def set_stock(
    session: Session, product_id: int, level: int, reason: str, actor_id: int | None = None
) -> int:
    """Set stock on hand to a counted level (stocktaking, CSV import); returns the change."""
    stock = StockRepository(session)
    current = stock.on_hand(product_id)
    if current is None:
        raise ValueError(f"no product {product_id}")
    if not stock.set_on_hand(product_id, level, current):
        raise StockBelowReserved(f"product {product_id}: {level} is below the reserved stock")
    if level != current:
        _move(session, product_id, MovementKind.ADJUSTMENT, level - current, reason, actor_id)
        alerts.stock_changed(session, product_id, level - current)
    return level - current


def set_opening_stock(session: Session, levels: Mapping[int, int], reason: str) -> None:
    """The first stock of products created in the caller's transaction (a CSV import),
    by product id.

    Nobody can hold them or wait for them yet, so only the counters and the ledger move,
    all in one go: the checks and alerts of `set_stock` would be a handful of queries per
    product for nothing, and an import creates thousands.
    """
    stocked = {product_id: level for product_id, level in levels.items() if level}
    StockRepository(session).set_new_on_hand(stocked)
    for product_id, level in stocked.items():
        _move(session, product_id, MovementKind.ADJUSTMENT, level, reason)


def ledger_totals(product_id: int) -> tuple[int, int]:
    """Stock on hand and reserved as the ledger adds them up (what staff see)."""
    rows = StockRepository(read_session()).ledger_totals(product_id)
    on_hand = sum(total for kind, total in rows if kind.changes_on_hand)
    reserved = sum(total for kind, total in rows if not kind.changes_on_hand)
    return int(on_hand), int(reserved)


def low_stock_count() -> int:
    """How many active products are at or below their reorder level: the overview's
    figure, counted as the low-stock list counts them."""
    return StockRepository(read_session()).count_running_low()
