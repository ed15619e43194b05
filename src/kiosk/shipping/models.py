"""Shipping methods as the owner edits them in the back office.

The table stays empty until the first save: until then the shipping file
(`KIOSK_SHIPPING_FILE`) is the shop's list, and the first save copies the whole
file into the table in its transaction. Rows are never deleted, only switched
off, so an order's stored method code always finds its method again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base, UTCDateTime, utcnow


class ShippingMethodRow(Base):
    __tablename__ = "shipping_method"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("kind IN ('flat', 'weight')", name="known_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)  # per language
    delivery: Mapped[dict[str, str]] = mapped_column(JSON)  # delivery time per language
    countries: Mapped[list[str]] = mapped_column(JSON)  # ISO codes, sorted
    kind: Mapped[str] = mapped_column(String(16))
    price_cents: Mapped[int] = mapped_column(default=0)
    tiers: Mapped[list[list[int]]] = mapped_column(JSON)  # [up to grams, cents], ascending
    free_above_cents: Mapped[int | None]
    carrier: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CarrierRow(Base):
    """A parcel service staff choose when they ship; like the methods, the table stays
    empty until the first save, which copies the shipping file's carriers into it. Rows
    are switched off, never deleted: shipped orders keep the code and still link to the
    carrier's tracking page."""

    __tablename__ = "carrier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    name: Mapped[str] = mapped_column(String(100))
    tracking_url: Mapped[str] = mapped_column(String(500))  # https://…{tracking}…
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
