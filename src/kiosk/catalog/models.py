"""Catalog: categories (a tree), products and their ordered images."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from kiosk.money import Money, div_round_half_up
from kiosk.orm import Base, UTCDateTime, utcnow


class UnitMeasure(enum.StrEnum):
    """The measure of a product's content, for the German unit price (Grundpreis).

    Content is stored as a whole number of the small unit; §4 PAngV asks for the
    price per 1 kg, 1 l, 1 m or 1 m², which is the reference amount here.
    """

    GRAM = "g"
    MILLILITRE = "ml"
    CENTIMETRE = "cm"
    SQUARE_CENTIMETRE = "cm2"

    @property
    def reference_amount(self) -> int:
        return {"g": 1000, "ml": 1000, "cm": 100, "cm2": 10_000}[self.value]

    @property
    def reference_label(self) -> str:
        return {"g": "kg", "ml": "l", "cm": "m", "cm2": "m²"}[self.value]


@dataclass(frozen=True)
class PictureRef:
    """What a page needs to show a stored picture: the original's name, the key of
    its variants and its size (key and size stay empty until the variants exist)."""

    filename: str
    key: str | None = None
    width: int | None = None
    height: int | None = None


class Category(Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="RESTRICT"), index=True
    )
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(default=0)
    # A deactivated category and everything below it leave the shop's navigation and
    # their pages; their products stay on sale under "All products" and in search.
    is_active: Mapped[bool] = mapped_column(default=True, server_default="1")

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="(Category.sort_order, Category.name)"
    )

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint(
            "compare_at_cents IS NULL OR compare_at_cents > price_cents",
            name="compare_at_above_price",
        ),
        CheckConstraint("stock_on_hand >= 0", name="stock_on_hand_not_negative"),
        CheckConstraint(
            "stock_reserved >= 0 AND stock_reserved <= stock_on_hand",
            name="stock_reserved_in_range",
        ),
        CheckConstraint("reorder_level >= 0", name="reorder_level_not_negative"),
        CheckConstraint("weight_grams >= 0", name="weight_not_negative"),
        CheckConstraint(
            "(unit_content IS NULL AND unit_measure IS NULL)"
            " OR (unit_content > 0 AND unit_measure IS NOT NULL)",
            name="unit_content_with_measure",
        ),
        Index("ix_product_listing_price", "is_active", "price_cents"),
        Index("ix_product_listing_name", "is_active", "name"),
        Index("ix_product_listing_newest", "is_active", "created_at"),
        Index("ix_product_category_active", "category_id", "is_active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    price_cents: Mapped[int]
    compare_at_cents: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    vat_class: Mapped[str] = mapped_column(String(20), default="standard")
    unit_content: Mapped[int | None]
    unit_measure: Mapped[UnitMeasure | None] = mapped_column(
        Enum(
            UnitMeasure, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e]
        )
    )
    delivery_time: Mapped[str] = mapped_column(String(120), default="")
    weight_grams: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_featured: Mapped[bool] = mapped_column(default=False)
    # Changed only by services.inventory, each change with a ledger movement.
    stock_on_hand: Mapped[int] = mapped_column(default=0)
    stock_reserved: Mapped[int] = mapped_column(default=0, server_default="0")
    # Staff hear when available stock falls below this (0: never).
    reorder_level: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when staff archive a product that orders refer to (it cannot be deleted): it
    # stays inactive and leaves the staff list unless asked for.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Case-folded name, SKU and description: one LIKE that behaves the same,
    # umlauts included, on SQLite and PostgreSQL.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # The first picture, loaded by listing queries in the same statement
    # (`with_expression`), so cards need no query for pictures.
    card_image: Mapped[str | None] = query_expression()
    card_image_key: Mapped[str | None] = query_expression()
    card_image_width: Mapped[int | None] = query_expression()
    card_image_height: Mapped[int | None] = query_expression()

    category: Mapped[Category | None] = relationship()
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product",
        order_by="ProductImage.position",
        cascade="all, delete-orphan",
    )

    @property
    def price(self) -> Money:
        return Money(self.price_cents, self.currency)

    @property
    def compare_at(self) -> Money | None:
        if self.compare_at_cents is None:
            return None
        return Money(self.compare_at_cents, self.currency)

    @property
    def card_picture(self) -> PictureRef | None:
        if not self.card_image:
            return None
        return PictureRef(
            self.card_image, self.card_image_key, self.card_image_width, self.card_image_height
        )

    @property
    def stock_available(self) -> int:
        return self.stock_on_hand - self.stock_reserved

    @property
    def unit_price(self) -> tuple[Money, str] | None:
        """The Grundpreis: price per reference amount (1 kg, 1 l, 1 m, 1 m²)."""
        if not self.unit_content or self.unit_measure is None:
            return None
        measure = UnitMeasure(self.unit_measure)
        cents = div_round_half_up(self.price_cents * measure.reference_amount, self.unit_content)
        return Money(cents, self.currency), measure.reference_label

    def refresh_search_text(self) -> None:
        parts = (self.name, self.sku, self.description)
        self.search_text = " ".join(p for p in parts if p).casefold()

    def __repr__(self) -> str:
        return f"<Product {self.sku}>"


class ProductImage(Base):
    __tablename__ = "product_image"
    __table_args__ = (UniqueConstraint("product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    position: Mapped[int]
    filename: Mapped[str] = mapped_column(String(200))
    alt: Mapped[str] = mapped_column(String(300), default="")
    # The original's size as shown (after EXIF orientation), and the key that names
    # its variants (services/pictures.py); empty until the variants exist.
    width: Mapped[int | None]
    height: Mapped[int | None]
    picture_key: Mapped[str | None] = mapped_column(String(64))

    product: Mapped[Product] = relationship(back_populates="images")

    @property
    def picture(self) -> PictureRef:
        return PictureRef(self.filename, self.picture_key, self.width, self.height)
