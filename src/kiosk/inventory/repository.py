"""Stock: the product counters changed by conditional UPDATEs (each says in its WHERE what
must hold, and its row count says whether it did), reservations, the movement ledger, and
back-in-stock requests. Nothing here reads a counter and writes it back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from kiosk.accounts.models import User
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

    def lock_counters(self, product_id: int) -> tuple[int, int] | None:
        """On hand and reserved, with the row locked until the transaction ends (on SQLite
        the unit of work holds the write lock already)."""
        row = self.session.execute(
            select(Product.stock_on_hand, Product.stock_reserved)
            .where(Product.id == product_id)
            .with_for_update()
        ).one_or_none()
        return None if row is None else (int(row[0]), int(row[1]))

    def stock_card(self, product_id: int) -> Any:
        """What the staff stock page shows of a product, read as columns."""
        return self.session.execute(
            select(
                Product.id,
                Product.name,
                Product.sku,
                Product.is_active,
                Product.stock_on_hand,
                Product.stock_reserved,
                Product.reorder_level,
            ).where(Product.id == product_id)
        ).one_or_none()

    def _running_low(self) -> Any:
        available = Product.stock_on_hand - Product.stock_reserved
        return Product.is_active.is_(True), available <= Product.reorder_level

    def count_running_low(self) -> int:
        query = select(func.count(Product.id)).where(*self._running_low())
        return int(self.session.scalar(query) or 0)

    def running_low(self, limit: int, offset: int) -> Sequence[Any]:
        """Active products whose available stock is at or below their reorder level
        (sold out included), the emptiest first."""
        available = Product.stock_on_hand - Product.stock_reserved
        return self.session.execute(
            select(
                Product.id,
                Product.name,
                Product.sku,
                Product.stock_on_hand,
                Product.stock_reserved,
                Product.reorder_level,
            )
            .where(*self._running_low())
            .order_by(available, Product.name, Product.id)
            .limit(limit)
            .offset(offset)
        ).all()

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

    def count_movements(self, product_id: int, kinds: Sequence[MovementKind]) -> int:
        query = select(func.count(InventoryMovement.id)).where(
            InventoryMovement.product_id == product_id, InventoryMovement.kind.in_(kinds)
        )
        return int(self.session.scalar(query) or 0)

    def movements(
        self, product_id: int, kinds: Sequence[MovementKind], limit: int, offset: int
    ) -> Sequence[Any]:
        """Movements of these kinds, newest first, with the staff member who made each."""
        return self.session.execute(
            select(
                InventoryMovement.id,
                InventoryMovement.created_at,
                InventoryMovement.kind,
                InventoryMovement.quantity,
                InventoryMovement.reason,
                User.name,
                User.email,
            )
            .outerjoin(User, User.id == InventoryMovement.actor_id)
            .where(InventoryMovement.product_id == product_id, InventoryMovement.kind.in_(kinds))
            .order_by(InventoryMovement.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()

    def change_since(self, product_id: int, kinds: Sequence[MovementKind], after_id: int) -> int:
        """The sum of the movements of these kinds newer than movement `after_id`."""
        query = select(func.coalesce(func.sum(InventoryMovement.quantity), 0)).where(
            InventoryMovement.product_id == product_id,
            InventoryMovement.kind.in_(kinds),
            InventoryMovement.id > after_id,
        )
        return int(self.session.scalar(query) or 0)


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

    def of_user(self, user_id: int) -> list[StockAlert]:
        """An account's requests with their products, the newest first."""
        return list(
            self.session.scalars(
                select(StockAlert)
                .where(StockAlert.user_id == user_id)
                .options(selectinload(StockAlert.product))
                .order_by(StockAlert.created_at.desc(), StockAlert.id.desc())
            )
        )

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
