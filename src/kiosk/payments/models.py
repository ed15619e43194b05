"""Payments: each attempt to collect an order's money is a row; each notification is kept once.

An order can have several attempts (a card payment abandoned, then a bank
transfer). `PaymentEvent` holds every provider notification under a unique
(provider, event id), inserted in the same transaction as its effect, so a
notification delivered twice, or twice at once, acts once. Both refer to their
order by id only: the order (`orders.models.Order.payments`) knows its payments,
not the other way round.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.money import Money
from kiosk.orm import Base, UTCDateTime, utcnow


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # started, money not (yet) confirmed
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    FLAGGED = "flagged"  # the provider reports something that does not match the order


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refund_in_range"
        ),
        UniqueConstraint("provider", "external_id"),
        Index("ix_payment_order", "order_id", "id"),
        Index("ix_payment_open", "provider", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(255))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(
        Enum(
            PaymentStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=PaymentStatus.PENDING,
    )
    refunded_cents: Mapped[int] = mapped_column(default=0)
    # The provider's id of the money movement itself (Stripe: the PaymentIntent), for refunds.
    intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    redirect_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def amount(self) -> Money:
        return Money(self.amount_cents, self.currency)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_cents, self.currency)


class PaymentEvent(Base):
    """A provider's notification, stored once: the unique key makes duplicates fail."""

    __tablename__ = "payment_event"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_order.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
