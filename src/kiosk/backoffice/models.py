"""What the back office keeps of its own: CSV import jobs, the owner's shop settings, and
the dashboard's sales figures per day and month.

An import job holds the uploaded file (in the database: files are a few megabytes, and a
row needs no disk shared between web workers) and how far its check or
its write has come. The file is written one batch per transaction, and `rows_done` moves
in the same transaction, so after a crash the job goes on from the first batch that was
not committed.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base, UTCDateTime, utcnow


class ImportKind(enum.StrEnum):
    PRODUCTS = "products"
    CATEGORIES = "categories"


class ImportStatus(enum.StrEnum):
    UPLOADED = "uploaded"  # waits for its check
    CHECKING = "checking"
    CHECKED = "checked"  # the dry run is done: problems to show, or ready to apply
    APPLYING = "applying"
    DONE = "done"
    FAILED = "failed"  # the shop refused a batch while applying (it changed since the check)

    @property
    def running(self) -> bool:
        return self in {ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.APPLYING}


def _enum(kind: type[enum.Enum], length: int) -> Enum:
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class ImportJob(Base):
    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(_enum(ImportKind, 20))
    status: Mapped[ImportStatus] = mapped_column(
        _enum(ImportStatus, 20), default=ImportStatus.UPLOADED, index=True
    )
    filename: Mapped[str] = mapped_column(String(255), default="")
    encoding: Mapped[str] = mapped_column(String(20), default="UTF-8")
    # The file as uploaded: a cell may hold a NUL, refused at its row, which no text column
    # of PostgreSQL could store.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # Progress of the running step (check or apply): data rows done of all data rows.
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    # The dry run's summary; "refused" counts rows with at least one problem.
    created_count: Mapped[int] = mapped_column(default=0)
    changed_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    refused_count: Mapped[int] = mapped_column(default=0)
    # Every problem is counted; the first MAX_STORED_PROBLEMS are kept as [row, column, reason].
    problem_count: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    applied_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A runner holds the job until then, and renews it with every batch; a job whose
    # lease ran out while running lost its runner (a killed process) and may be resumed.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShopSetting(Base):
    """A setting of the owner's that overrides the environment's default (shop name, mail
    sender, refund limit): one row per setting that was ever saved."""

    __tablename__ = "shop_setting"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class SalesBucket(enum.StrEnum):
    DAY = "day"  # a local day of the shop's time zone
    MONTH = "month"  # a local calendar month, written once its last day is


# The key of a day's marker row: no currency, no product.
NO_CURRENCY = ""
TOTAL = 0  # product_id of a currency's totals row
UNKNOWN_PRODUCT = -1  # product_id of order lines whose product is gone


class SalesRollup(Base):
    """What the shop sold in a closed local day or month, as the orders and documents of
    that time said when it was rolled up (`kiosk.backoffice.sales`): the dashboard reads
    these instead of summing a long history on every request.

    Per period: one marker row (currency '', product 0) holding the withdrawals received,
    written even for a day without sales; per currency one totals row (product 0) and one
    row per product sold (units and line totals; `name` as the lines had it)."""

    __tablename__ = "sales_rollup"
    __table_args__ = (
        # Also the way to every row of a run of days (the product lists).
        UniqueConstraint("bucket", "day", "currency", "product_id", name="uq_sales_rollup_key"),
        # The totals of a run of days, without the product rows in between.
        Index("ix_sales_rollup_totals", "bucket", "product_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(8))  # a SalesBucket
    day: Mapped[date] = mapped_column(Date)  # the day, or the month's first day
    currency: Mapped[str] = mapped_column(String(3))
    product_id: Mapped[int] = mapped_column()  # TOTAL, UNKNOWN_PRODUCT or a product's id
    name: Mapped[str] = mapped_column(String(200), default="")
    orders: Mapped[int] = mapped_column(default=0)  # placed
    order_total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # invoices − credit notes
    net_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_orders: Mapped[int] = mapped_column(default=0)  # with a credit note issued
    withdrawals: Mapped[int] = mapped_column(default=0)  # received (marker row)
    units: Mapped[int] = mapped_column(default=0)  # product rows
    revenue_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # product rows' lines
    rolled_up_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
