"""Coupons: a percentage or a fixed amount off the items, within limits."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base, UTCDateTime, utcnow


class CouponKind(enum.StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class Coupon(Base):
    __tablename__ = "coupon"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'percent' AND value > 0 AND value <= 10000) OR (kind = 'fixed' AND value > 0)",
            name="value_in_range",
        ),
        CheckConstraint("min_order_cents >= 0", name="min_order_not_negative"),
        # The usage limit holds in the database, whatever the code does.
        CheckConstraint("max_uses IS NULL OR times_used <= max_uses", name="within_max_uses"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # stored upper case
    kind: Mapped[CouponKind] = mapped_column(
        Enum(
            CouponKind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        )
    )
    # Basis points for a percentage (1000 = 10 %), cents for a fixed amount.
    value: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    min_order_cents: Mapped[int] = mapped_column(default=0)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None]
    max_uses_per_customer: Mapped[int | None]
    times_used: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponRedemption(Base):
    """One use of a coupon by one order; per-customer limits count these."""

    __tablename__ = "coupon_redemption"
    __table_args__ = (Index("ix_coupon_redemption_email", "coupon_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupon.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(
        ForeignKey("customer_order.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))  # lower case
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
