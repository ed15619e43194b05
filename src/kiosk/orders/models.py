"""Orders: what was bought, at which price and VAT, by whom, shipped where, and its history.

An order copies everything it needs at the moment it is placed (product name,
SKU, unit price, VAT rate, addresses, shipping method, the versions of the
legal texts the buyer accepted), so later changes to the catalog or the terms
never change an order already placed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kiosk.accounts.models import User
from kiosk.invoicing.models import Invoice
from kiosk.money import Money
from kiosk.orm import Base, UTCDateTime, utcnow
from kiosk.payments.models import Payment


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    RETURNED = "returned"


class Order(Base):
    __tablename__ = "customer_order"  # "order" is an SQL keyword
    __table_args__ = (
        CheckConstraint("items_cents >= 0", name="items_not_negative"),
        CheckConstraint(
            "discount_cents >= 0 AND discount_cents <= items_cents", name="discount_in_range"
        ),
        CheckConstraint("shipping_cents >= 0", name="shipping_not_negative"),
        CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
        CheckConstraint(
            "total_cents = items_cents - discount_cents + shipping_cents + fee_cents",
            name="total_adds_up",
        ),
        Index("ix_customer_order_user", "user_id", "placed_at"),
        # The dashboard sums the orders of a period and counts its new and returning buyers
        # from this index alone (the rows are wide: addresses, VAT, legal versions).
        Index(
            "ix_customer_order_placed_at",
            "placed_at",
            "currency",
            "total_cents",
            "previous_order_at",
        ),
        # A guest's earlier orders, by the email address (`previous_order_at` at placement).
        Index("ix_customer_order_email", "email", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    # One order per review form: a double click or a replayed POST finds this order.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the secret in the guest's link to the order (the secret itself is only mailed).
    access_key_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8), default="de")
    status: Mapped[OrderStatus] = mapped_column(
        Enum(
            OrderStatus,
            native_enum=False,
            length=24,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OrderStatus.AWAITING_PAYMENT,
    )
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    items_cents: Mapped[int]  # gross sum of the lines
    discount_cents: Mapped[int] = mapped_column(default=0)
    shipping_cents: Mapped[int] = mapped_column(default=0)
    # A payment method's own charge (cash on delivery), a line of its own on every document.
    fee_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    total_cents: Mapped[int]
    # Per VAT rate: [{"rate_bp": 1900, "gross_cents": ..., "net_cents": ..., "vat_cents": ...}]
    vat_breakdown: Mapped[list[dict[str, int]]] = mapped_column(JSON)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupon.id", ondelete="SET NULL"))
    coupon_code: Mapped[str] = mapped_column(String(40), default="")
    shipping_method: Mapped[str] = mapped_column(String(40))
    shipping_method_name: Mapped[str] = mapped_column(String(120))
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSON)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # None: as shipping
    payment_method: Mapped[str] = mapped_column(String(32))
    payment_reference: Mapped[str] = mapped_column(String(40))
    # Set when a payment does not match the order (amount, currency): staff look at it.
    needs_review: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Versions of the legal texts shown when the order was placed ("terms:1a2b3c…").
    legal_versions: Mapped[dict[str, str]] = mapped_column(JSON)
    terms_checkbox_ticked: Mapped[bool] = mapped_column(default=False)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the same buyer (the account; a guest: the email address, among guest orders)
    # placed the order before this one; None: their first. The dashboard counts a period's
    # buyers as its orders whose buyer had no order earlier in the period, without a scan
    # of the history.
    previous_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        cascade="all, delete-orphan", order_by="Payment.id"
    )
    invoices: Mapped[list[Invoice]] = relationship(order_by="Invoice.id")
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )

    def money(self, cents: int) -> Money:
        return Money(cents, self.currency)

    @property
    def total(self) -> Money:
        return self.money(self.total_cents)

    def __repr__(self) -> str:
        return f"<Order {self.number}>"


class OrderLine(Base):
    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("total_cents = unit_price_cents * quantity", name="total_adds_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("customer_order.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("product.id", ondelete="SET NULL"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_cents: Mapped[int]
    vat_rate_bp: Mapped[int]
    quantity: Mapped[int]
    total_cents: Mapped[int]
    delivery_time: Mapped[str] = mapped_column(String(120), default="")

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def unit_price(self) -> Money:
        return Money(self.unit_price_cents, self.order.currency)

    @property
    def total(self) -> Money:
        return Money(self.total_cents, self.order.currency)


class OrderEvent(Base):
    """One entry in an order's history."""

    __tablename__ = "order_event"
    # The dashboard counts the withdrawals received in a period.
    __table_args__ = (Index("ix_order_event_kind_created_at", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("customer_order.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_kind: Mapped[str] = mapped_column(String(16), default="system")  # customer/staff/system
    reason: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    # Who took the step, for the staff history (loaded with the events, in one query).
    actor: Mapped[User | None] = relationship(lazy="selectin")


@dataclass(frozen=True)
class OrderFilter:
    """What staff narrow the order list to; every part optional."""

    status: str = ""
    payment_method: str = ""
    placed_from: date | None = None
    placed_to: date | None = None  # inclusive
    text: str = ""  # order number, name or email
    # A work queue of the overview (QUEUES); the service fills in what it needs to know.
    queue: str = ""
    due_before: datetime | None = None  # "overdue": payment due days ended before this
    prepaid_methods: tuple[str, ...] = ()  # paid before shipping (bank transfer)
    pay_later_methods: tuple[str, ...] = ()  # shipped before the money (invoice, cash)
    invoice_methods: tuple[str, ...] = ()  # due some days after the invoice


# The overview's work queues, each a filter of the staff order list.
QUEUES = ("to_ship", "overdue", "returns")
