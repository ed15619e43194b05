"""Inventory: each change of stock is a movement in a ledger; reservations hold stock.

The product row keeps two counters, `stock_on_hand` and `stock_reserved`,
changed only by the inventory service, always together with a movement.
Database CHECKs keep on hand >= 0 and 0 <= reserved <= on hand, so
available (on hand - reserved) can never go below zero, whatever the code does.
A `StockAlert` is a shopper's wish to be told when a sold-out product is back.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kiosk.catalog.models import Product
from kiosk.orm import Base, UTCDateTime, utcnow


class MovementKind(enum.StrEnum):
    # change stock on hand
    SALE = "sale"
    RESTOCK = "restock"
    RETURN = "return"
    ADJUSTMENT = "adjustment"
    COUNT = "count"  # staff counted the shelf and set the number
    DAMAGE = "damage"  # broken, spoiled or lost goods written off
    # change stock reserved
    RESERVATION = "reservation"
    RELEASE = "release"

    @property
    def changes_on_hand(self) -> bool:
        return self in (
            MovementKind.SALE,
            MovementKind.RESTOCK,
            MovementKind.RETURN,
            MovementKind.ADJUSTMENT,
            MovementKind.COUNT,
            MovementKind.DAMAGE,
        )


class InventoryMovement(Base):
    __tablename__ = "inventory_movement"
    __table_args__ = (Index("ix_inventory_movement_product", "product_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    kind: Mapped[MovementKind] = mapped_column(
        Enum(
            MovementKind,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # Signed change of the counter the kind names: -2 for a sale of two, +2 for their reservation.
    quantity: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_reservation.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReservationStatus(enum.StrEnum):
    ACTIVE = "active"
    SOLD = "sold"  # turned into a sale when the order was placed
    RELEASED = "released"  # expired, cancelled or the payment failed


class StockReservation(Base):
    """Stock held for one checkout (the holder) until `expires_at`."""

    __tablename__ = "stock_reservation"
    __table_args__ = (Index("ix_stock_reservation_due", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    status: Mapped[ReservationStatus] = mapped_column(
        Enum(
            ReservationStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ReservationStatus.ACTIVE,
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockAlert(Base):
    """One address waiting for one product.

    A guest's request counts only once ``confirmed_at`` is set (double
    opt-in); ``notified_at`` is set in the same transaction that queues the
    mail, so each request is mailed at most once.
    """

    __tablename__ = "stock_alert"
    __table_args__ = (UniqueConstraint("product_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    # Stored normalised (trimmed, lower-cased) like User.email, so the pair stays unique.
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped[Product] = relationship()
