"""The tables of the analytics: raw events, the day's salt, and the rolled-up figures."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base, UTCDateTime, utcnow


class EventKind(StrEnum):
    """What happened. The values are stored: never rename one."""

    PRODUCT_VIEW = "product_view"
    CATEGORY_VIEW = "category_view"
    SEARCH = "search"
    ADD_TO_CART = "add_to_cart"
    CHECKOUT_STARTED = "checkout_started"
    CHECKOUT_STEP = "checkout_step"  # which one is in `step`
    ORDER_PLACED = "order_placed"
    PAYMENT_RECEIVED = "payment_received"
    REFUND = "refund"
    WITHDRAWAL = "withdrawal"


# The rolled-up row that counts every visitor of a period once, whatever they did.
ALL_KINDS = "all"


class Bucket(StrEnum):
    DAY = "day"  # a day of the shop's time zone (KIOSK_TIMEZONE), starting at its midnight
    HOUR = "hour"  # kept for today and yesterday only
    # A calendar month of the shop's time zone, summed from its day rows once all are final:
    # a long range reads a dozen month rows where it would read hundreds of day rows.
    MONTH = "month"


class AnalyticsEvent(Base):
    """One thing a visitor did. Nothing here points at a person: no account, order, IP
    address or user agent; `visitor` is a hash with a salt that is deleted after its day."""

    __tablename__ = "analytics_event"
    __table_args__ = (Index("ix_analytics_event_occurred_at_kind", "occurred_at", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    # 32 hex digits of SHA-256(salt of the day, IP, user agent); None: no visitor (a
    # payment confirmed by the provider's webhook).
    visitor: Mapped[str | None] = mapped_column(String(32))
    # Plain ids, not foreign keys: the figures outlive a deleted product or category.
    product_id: Mapped[int | None]
    category_id: Mapped[int | None]
    quantity: Mapped[int | None]
    step: Mapped[str | None] = mapped_column(String(24))
    query: Mapped[str | None] = mapped_column(String(100))  # normalised search words
    results: Mapped[int | None]  # how many products the search found


class AnalyticsSalt(Base):
    """The salt of one day. The recorder deletes every older one when a new day starts,
    so yesterday's visitor hashes can no longer be recomputed from an address."""

    __tablename__ = "analytics_salt"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))


# What a rollup row is counted by, besides its period and kind.
_KEYS = ("product_id", "category_id", "step", "query", "zero")


class AnalyticsRollup(Base):
    """Counts per period and key. Rows of one period are replaced as a whole, so rolling
    up again gives the same rows. Keys use 0 and '' rather than NULL so that the unique
    constraint holds on both databases. A kind's row with every key empty is its total for
    the period (its `visitors` counts each visitor once); `analytics.queries` says more."""

    __tablename__ = "analytics_rollup"
    __table_args__ = (
        UniqueConstraint("bucket", "start", "kind", *_KEYS, name="uq_analytics_rollup_key"),
        # The reports' two ways in: a kind's total rows (all keys empty) over a range of
        # periods, and every row of a kind over a range, with what the top lists sum up, so
        # neither has to visit the table.
        Index("ix_analytics_rollup_totals", "bucket", "kind", *_KEYS, "start"),
        Index(
            "ix_analytics_rollup_periods",
            "bucket",
            "kind",
            "start",
            "product_id",
            "query",
            "zero",
            "events",
            "visitors",
            "quantity",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(8))
    start: Mapped[datetime] = mapped_column(UTCDateTime)  # the period's first instant
    kind: Mapped[str] = mapped_column(String(24))  # an EventKind, or ALL_KINDS
    product_id: Mapped[int] = mapped_column(default=0)
    category_id: Mapped[int] = mapped_column(default=0)
    step: Mapped[str] = mapped_column(String(24), default="")
    query: Mapped[str] = mapped_column(String(100), default="")
    zero: Mapped[bool] = mapped_column(default=False)  # a search that found nothing
    events: Mapped[int]
    visitors: Mapped[int]  # distinct visitor hashes among those events
    quantity: Mapped[int] = mapped_column(default=0)
    # When the period was counted; a month's rows: the newest of its days' `rolled_up_at`.
    rolled_up_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
