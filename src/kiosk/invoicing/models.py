"""Invoices and credit notes: numbered without gaps per year, stored once, never regenerated;
and what a document prints of the order it is for (`InvoicedOrder`)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, Enum, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.money import Money
from kiosk.orm import Base, UTCDateTime, utcnow
from kiosk.payments.models import Payment


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"  # Rechnungskorrektur / Storno


class DocumentCounter(Base):
    """The last number used per kind and year; taken by a conditional UPDATE in the
    transaction that issues the document, so a rolled-back issue leaves no gap."""

    __tablename__ = "document_counter"
    __table_args__ = (UniqueConstraint("kind", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int]
    last: Mapped[int] = mapped_column(default=0)


class SellerProfileVersion(Base):
    """The seller's details as invoices print them, one row per saved version.

    Rows are only ever added: a document keeps the version it was issued with
    (`Invoice.seller_version_id`), so a later change of address or bank account
    cannot change what an issued invoice says (§14 Abs. 4 UStG, GoBD).
    """

    __tablename__ = "seller_profile_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))  # one line per line break
    vat_id: Mapped[str] = mapped_column(String(40))
    tax_number: Mapped[str] = mapped_column(String(40))
    account_holder: Mapped[str] = mapped_column(String(200))
    iban: Mapped[str] = mapped_column(String(64))  # compact, upper case (34 at most)
    bic: Mapped[str] = mapped_column(String(40))
    bank_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    invoice_footer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who saved it; None for the first version, taken from the environment.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("kind", "year", "sequence"),
        # The dashboard sums the documents issued in a period from this index alone (the
        # rows hold the PDF).
        Index(
            "ix_invoice_issued_at",
            "issued_at",
            "currency",
            "kind",
            "amount_cents",
            "net_cents",
            "order_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("customer_order.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[DocumentKind] = mapped_column(
        Enum(
            DocumentKind,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    year: Mapped[int]
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(String(32), unique=True)
    refers_to_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    # The seller's details this document prints (None: issued before they were versioned).
    seller_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("seller_profile_version.id", ondelete="RESTRICT")
    )
    amount_cents: Mapped[int]  # gross; a credit note's amount is what it takes back
    # The sum of the breakdown's net amounts: the dashboard adds up revenue in SQL.
    net_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivery_date: Mapped[date]
    reason: Mapped[str] = mapped_column(String(500), default="")
    # Per VAT rate, as in Order.vat_breakdown (a credit note's own share of the refund).
    vat_breakdown: Mapped[list[dict[str, int]]] = mapped_column(JSON)
    # Rendered once right after issuing (empty until then), never again.
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)


class InvoicedLine(Protocol):
    """An order line as a document prints it."""

    @property
    def name(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def vat_rate_bp(self) -> int: ...
    @property
    def unit_price_cents(self) -> int: ...
    @property
    def total_cents(self) -> int: ...


class InvoicedOrder(Protocol):
    """What invoicing reads of an order (`orders.models.Order` is one): invoicing documents
    orders, while the orders domain issues documents as its lifecycle moves, so invoicing
    names what it needs instead of importing the order."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def lines(self) -> Sequence[InvoicedLine]: ...
    @property
    def shipping_cents(self) -> int: ...
    @property
    def fee_cents(self) -> int: ...
    @property
    def discount_cents(self) -> int: ...
    @property
    def total(self) -> Money: ...
    @property
    def vat_breakdown(self) -> list[dict[str, int]]: ...
    @property
    def shipping_address(self) -> dict[str, Any]: ...
    @property
    def billing_address(self) -> dict[str, Any] | None: ...
    @property
    def payment_method(self) -> str: ...
    @property
    def payment_reference(self) -> str: ...
    @property
    def payments(self) -> Sequence[Payment]: ...
    @property
    def invoices(self) -> list[Invoice]: ...
