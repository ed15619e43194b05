"""Stock: the product counters changed by conditional UPDATEs (each says in its WHERE what
must hold, and its row count says whether it did), reservations, the movement ledger, and
back-in-stock requests. Nothing here reads a counter and writes it back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiosk.catalog.models import Product
from kiosk.inventory.models import (
    InventoryMovement,
    MovementKind,
    ReservationStatus,
    StockAlert,
    StockReservation,
)


def _changed_one(result: object) -> bool:
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


class StockRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # The counters on the product row ------------------------------------------------

    def hold(self, product_id: int, quantity: int) -> bool:
        """Reserve `quantity` of an active product if that much is available."""
        return _changed_one(
            self.session.execute(
                update(Product)
                .where(
                    Product.id == product_id,
                    Product.is_active.is_(True),
                    Product.stock_on_hand - Product.stock_reserved >= quantity,
                )
                .values(stock_reserved=Product.stock_reserved + quantity)
                .execution_options(synchronize_session=False)
            )
        )

    def end_hold(self, product_id: int, quantity: int, sold: bool) -> None:
        """A hold ends: reserved goes down, and on hand too when the goods were sold."""
        changes: dict[str, Any] = {"stock_reserved": Product.stock_reserved - quantity}
        if sold:
            changes["stock_on_hand"] = Product.stock_on_hand - quantity
        self.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(changes)
            .execution_options(synchronize_session=False)
        )

    def add_on_hand(self, product_id: int, quantity: int) -> None:
        self.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock_on_hand=Product.stock_on_hand + quantity)
            .execution_options(synchronize_session=False)
        )

    def on_hand(self, product_id: int) -> int | None:
        return self.session.scalar(select(Product.stock_on_hand).where(Product.id == product_id))

    def set_on_hand(self, product_id: int, level: int, was: int) -> bool:
        """Set on hand to `level` if it still is `was` and `level` covers what is reserved."""
        return _changed_one(
            self.session.execute(
                update(Product)
                .where(
                    Product.id == product_id,
                    Product.stock_reserved <= level,
                    Product.stock_on_hand == was,
                )
                .values(stock_on_hand=level)
                .execution_options(synchronize_session=False)
            )
        )

    def set_new_on_hand(self, levels: Mapping[int, int]) -> None:
        """Set on hand of products created in this transaction, in one statement."""
        if levels:
            self.session.execute(
                update(Product),
                [{"id": product, "stock_on_hand": level} for product, level in levels.items()],
            )

    def level(self, product_id: int) -> tuple[str, str, str, int, int] | None:
        """Name, SKU, slug, available and reorder level, read as columns: the UPDATEs above
        bypass the identity map, so a Product already loaded may hold old counters."""
        row = self.session.execute(
            select(
                Product.name,
                Product.sku,
                Product.slug,
                Product.stock_on_hand - Product.stock_reserved,
                Product.reorder_level,
            ).where(Product.id == product_id)
        ).one_or_none()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    # Reservations -------------------------------------------------------------------

    def add_reservation(self, reservation: StockReservation) -> StockReservation:
        self.session.add(reservation)
        self.session.flush()
        return reservation

    def _change_active(self, reservation_id: int, **values: Any) -> bool:
        """Change a reservation that is still ACTIVE; False if someone else ended it first."""
        return _changed_one(
            self.session.execute(
                update(StockReservation)
                .where(
                    StockReservation.id == reservation_id,
                    StockReservation.status == ReservationStatus.ACTIVE,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        )

    def settle(self, reservation_id: int, status: ReservationStatus) -> bool:
        """Move a reservation out of ACTIVE; False if someone else already did."""
        return self._change_active(reservation_id, status=status)

    def hand_over(self, reservation_id: int, holder: str, expires_at: datetime) -> bool:
        """Give an ACTIVE reservation to another holder, lasting until `expires_at`."""
        return self._change_active(reservation_id, holder=holder, expires_at=expires_at)

    def active(self, holder: str) -> list[StockReservation]:
        """A holder's active reservations, in product-id order."""
        query = select(StockReservation).where(
            StockReservation.holder == holder, StockReservation.status == ReservationStatus.ACTIVE
        )
        return sorted(self.session.scalars(query), key=lambda r: r.product_id)

    def expired(
        self, now: datetime, product_ids: Sequence[int] | None = None
    ) -> list[StockReservation]:
        """Active reservations whose time is up (of these products), in product-id order."""
        query = select(StockReservation).where(
            StockReservation.status == ReservationStatus.ACTIVE, StockReservation.expires_at <= now
        )
        if product_ids is not None:
            query = query.where(StockReservation.product_id.in_(list(product_ids)))
        return sorted(self.session.scalars(query), key=lambda r: r.product_id)

    # The ledger ---------------------------------------------------------------------

    def add_movement(self, movement: InventoryMovement) -> None:
        self.session.add(movement)

    def ledger_totals(self, product_id: int) -> list[tuple[MovementKind, int]]:
        """The sum of the movements per kind."""
        rows = self.session.execute(
            select(InventoryMovement.kind, func.sum(InventoryMovement.quantity))
            .where(InventoryMovement.product_id == product_id)
            .group_by(InventoryMovement.kind)
        ).all()
        return [(MovementKind(kind), int(total)) for kind, total in rows]


class StockAlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, alert_id: int) -> StockAlert | None:
        return self.session.get(StockAlert, alert_id)

    def of(self, product_id: int, email: str) -> StockAlert | None:
        """The one request of this address for this product."""
        query = select(StockAlert).where(
            StockAlert.product_id == product_id, StockAlert.email == email
        )
        return self.session.scalars(query).one_or_none()

    def add(self, alert: StockAlert) -> StockAlert:
        self.session.add(alert)
        return alert

    def due(self, product_id: int) -> list[StockAlert]:
        """Confirmed requests for this product not mailed yet, oldest first."""
        return list(
            self.session.scalars(
                select(StockAlert)
                .where(
                    StockAlert.product_id == product_id,
                    StockAlert.confirmed_at.is_not(None),
                    StockAlert.notified_at.is_(None),
                )
                .order_by(StockAlert.id)
            )
        )

    def claim(self, alert_id: int, now: datetime) -> bool:
        """Mark a request mailed, unless another transaction did (so it is mailed once)."""
        return _changed_one(
            self.session.execute(
                update(StockAlert)
                .where(StockAlert.id == alert_id, StockAlert.notified_at.is_(None))
                .values(notified_at=now)
                .execution_options(synchronize_session=False)
            )
        )
