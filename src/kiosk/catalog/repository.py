"""Categories and products: the queries the catalog needs and the writes it makes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, ScalarSelect, Select, func, select, update
from sqlalchemy.orm import Session, defer, joinedload, selectinload, with_expression

from kiosk.catalog.models import Category, Product, ProductImage

SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "name": (Product.name.asc(), Product.id.asc()),
    "price_asc": (Product.price_cents.asc(), Product.id.asc()),
    "price_desc": (Product.price_cents.desc(), Product.id.desc()),
    "newest": (Product.created_at.desc(), Product.id.desc()),
}


def _first_image(column: Any) -> ScalarSelect[Any]:
    return (
        select(column)
        .where(ProductImage.product_id == Product.id)
        .order_by(ProductImage.position)
        .limit(1)
        .correlate(Product)
        .scalar_subquery()
    )


# What a card shows of its first picture: the file, its variants' key and its size.
CARD_IMAGE = {
    Product.card_image: _first_image(ProductImage.filename),
    Product.card_image_key: _first_image(ProductImage.picture_key),
    Product.card_image_width: _first_image(ProductImage.width),
    Product.card_image_height: _first_image(ProductImage.height),
}
AnySelect = TypeVar("AnySelect", bound=Select[Any])


@dataclass(frozen=True)
class ProductFilter:
    category_ids: Sequence[int] | None = None
    search: str = ""
    min_cents: int | None = None
    max_cents: int | None = None
    in_stock: bool = False
    featured: bool = False


AVAILABLE = Product.stock_on_hand - Product.stock_reserved
STAFF_SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "name": (Product.name.asc(), Product.id.asc()),
    "price": (Product.price_cents.asc(), Product.id.asc()),
    "stock": (AVAILABLE.asc(), Product.id.asc()),
    "newest": (Product.created_at.desc(), Product.id.desc()),
}


@dataclass(frozen=True)
class StaffFilter:
    """What staff look for in the product list; empty values mean "any".

    `status` is "active", "inactive" or "archived"; without it archived products are left
    out. `stock` is "in_stock" (above the reorder level), "low" (at or below it) or "out".
    """

    search: str = ""
    category_id: int | None = None
    status: str = ""
    stock: str = ""
    sort: str = "name"


def _staff_filtered(stmt: AnySelect, f: StaffFilter) -> AnySelect:
    for word in f.search.casefold().split():
        # The search text holds name and SKU (and the description), case-folded.
        stmt = stmt.where(Product.search_text.like(f"%{_escape_like(word)}%", escape="\\"))
    if f.category_id is not None:
        stmt = stmt.where(Product.category_id == f.category_id)
    if f.status == "archived":
        stmt = stmt.where(Product.archived_at.is_not(None))
    else:
        stmt = stmt.where(Product.archived_at.is_(None))
        if f.status in ("active", "inactive"):
            stmt = stmt.where(Product.is_active.is_(f.status == "active"))
    if f.stock == "out":
        stmt = stmt.where(AVAILABLE <= 0)
    elif f.stock == "low":
        stmt = stmt.where(AVAILABLE > 0, Product.reorder_level >= AVAILABLE)
    elif f.stock == "in_stock":
        stmt = stmt.where(AVAILABLE > 0, Product.reorder_level < AVAILABLE)
    return stmt


def forget_category_tree() -> None:
    """Drop this process's cached category tree (see services.catalog.category_tree)."""
    from flask import current_app

    current_app.extensions.pop("kiosk_category_tree", None)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CategoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> Sequence[Category]:
        return self.session.scalars(
            select(Category).order_by(Category.sort_order, Category.name)
        ).all()

    def get_by_slug(self, slug: str) -> Category | None:
        return self.session.scalar(select(Category).where(Category.slug == slug))

    def add(self, category: Category) -> Category:
        self.session.add(category)
        forget_category_tree()
        return category

    def count(self) -> int:
        return self.session.scalar(select(func.count(Category.id))) or 0

    def get(self, category_id: int) -> Category | None:
        return self.session.get(Category, category_id)

    def product_counts(self) -> dict[int, int]:
        """How many products (active or not) sit directly in each category."""
        rows = self.session.execute(
            select(Product.category_id, func.count(Product.id))
            .where(Product.category_id.is_not(None))
            .group_by(Product.category_id)
        )
        return {int(category_id or 0): int(count) for category_id, count in rows}

    def move_products(self, from_id: int, to_id: int) -> int:
        """Put every product of one category into another; returns how many moved."""
        result = self.session.execute(
            update(Product)
            .where(Product.category_id == from_id)
            .values(category_id=to_id)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def delete(self, category: Category) -> None:
        self.session.delete(category)
        forget_category_tree()


class ProductRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _filtered(self, stmt: AnySelect, f: ProductFilter) -> AnySelect:
        stmt = stmt.where(Product.is_active.is_(True))
        if f.category_ids is not None:
            stmt = stmt.where(Product.category_id.in_(f.category_ids))
        for word in f.search.casefold().split():
            stmt = stmt.where(Product.search_text.like(f"%{_escape_like(word)}%", escape="\\"))
        if f.min_cents is not None:
            stmt = stmt.where(Product.price_cents >= f.min_cents)
        if f.max_cents is not None:
            stmt = stmt.where(Product.price_cents <= f.max_cents)
        if f.in_stock:
            stmt = stmt.where(Product.stock_on_hand - Product.stock_reserved > 0)
        if f.featured:
            stmt = stmt.where(Product.is_featured.is_(True))
        return stmt

    def count_active(self, f: ProductFilter) -> int:
        return self.session.scalar(self._filtered(select(func.count(Product.id)), f)) or 0

    def list_active(
        self, f: ProductFilter, sort: str, limit: int, offset: int = 0
    ) -> Sequence[Product]:
        stmt = (
            self._filtered(select(Product), f)
            # What a card shows: the first picture comes in the same statement, and
            # the description and search text stay in the database.
            .options(
                *(with_expression(attribute, value) for attribute, value in CARD_IMAGE.items()),
                defer(Product.description),
                defer(Product.search_text),
            )
            .order_by(*SORTS[sort])
            .limit(limit)
            .offset(offset)
        )
        return self.session.scalars(stmt).all()

    def get_active_by_slug(self, slug: str) -> Product | None:
        stmt = (
            select(Product)
            .where(Product.slug == slug, Product.is_active.is_(True))
            .options(joinedload(Product.images))
        )
        return self.session.scalars(stmt).unique().one_or_none()

    def get(self, product_id: int) -> Product | None:
        return self.session.get(Product, product_id)

    def names(self, product_ids: Iterable[int]) -> list[str]:
        query = select(Product.name).where(Product.id.in_(list(product_ids)))
        return list(self.session.scalars(query))

    def names_by_id(self, product_ids: Iterable[int]) -> dict[int, str]:
        query = select(Product.id, Product.name).where(Product.id.in_(list(product_ids)))
        return {product_id: name for product_id, name in self.session.execute(query)}

    def get_by_sku(self, sku: str) -> Product | None:
        return self.session.scalar(select(Product).where(Product.sku == sku))

    def by_skus(self, skus: Iterable[str]) -> dict[str, Product]:
        rows = self.session.scalars(
            select(Product).where(Product.sku.in_(list(skus))).options(selectinload(Product.images))
        )
        return {p.sku: p for p in rows}

    def all_for_export(self) -> Sequence[Product]:
        stmt = select(Product).options(selectinload(Product.images), selectinload(Product.category))
        return self.session.scalars(stmt.order_by(Product.sku)).all()

    def staff_search(
        self, f: StaffFilter, limit: int, offset: int
    ) -> tuple[Sequence[Product], int]:
        """One page of the staff list and how many products match in all."""
        total = self.session.scalar(_staff_filtered(select(func.count(Product.id)), f)) or 0
        stmt = (
            _staff_filtered(select(Product), f)
            .options(selectinload(Product.category), defer(Product.description))
            .order_by(*STAFF_SORTS[f.sort])
            .limit(limit)
            .offset(offset)
        )
        return self.session.scalars(stmt).all(), total

    def staff_export(self, f: StaffFilter) -> Sequence[Product]:
        """Every product of the staff list's filter, with what the CSV file names."""
        stmt = _staff_filtered(select(Product), f).options(
            selectinload(Product.images), selectinload(Product.category)
        )
        return self.session.scalars(stmt.order_by(Product.sku)).all()

    def locked(self, product_ids: Iterable[int]) -> Sequence[Product]:
        """These products, locked for the caller's change, in id order (no deadlocks)."""
        stmt = (
            select(Product)
            .where(Product.id.in_(list(product_ids)))
            .order_by(Product.id)
            .with_for_update()
        )
        return self.session.scalars(stmt).all()

    def by_ids(self, product_ids: Iterable[int]) -> Sequence[Product]:
        stmt = select(Product).where(Product.id.in_(list(product_ids))).order_by(Product.name)
        return self.session.scalars(stmt.options(selectinload(Product.category))).all()

    def owner_of(self, column: str, value: str) -> Product | None:
        """The product whose `column` ("slug" or "sku") is `value`."""
        attribute = {"slug": Product.slug, "sku": Product.sku}[column]
        return self.session.scalar(select(Product).where(attribute == value))

    def taken(self, column: str, prefix: str) -> set[str]:
        """Every slug or SKU that starts with `prefix` (to find a free one for a copy)."""
        attribute = {"slug": Product.slug, "sku": Product.sku}[column]
        pattern = f"{_escape_like(prefix)}%"
        return set(
            self.session.scalars(select(attribute).where(attribute.like(pattern, escape="\\")))
        )

    def delete(self, product: Product) -> None:
        self.session.delete(product)

    def slug_owners(self) -> dict[str, str]:
        """Every product slug with the SKU that owns it."""
        return {slug: sku for slug, sku in self.session.execute(select(Product.slug, Product.sku))}

    def count(self) -> int:
        return self.session.scalar(select(func.count(Product.id))) or 0

    def save(self, product: Product) -> Product:
        """Stage a new or changed product; keeps its derived search text current."""
        product.refresh_search_text()
        self.session.add(product)
        return product

    def image_filenames(self) -> set[str]:
        """The file name of every product picture."""
        return set(self.session.scalars(select(ProductImage.filename)))

    def describe_images(self, pictures: Mapping[str, Any]) -> int:
        """Set key, width and height of each picture row from `pictures` (by file name,
        values with `key`, `width`, `height`); returns how many rows changed."""
        changed = 0
        for image in self.session.scalars(
            select(ProductImage).where(ProductImage.filename.in_(list(pictures)))
        ):
            known = pictures[image.filename]
            values = (known.key, known.width, known.height)
            if (image.picture_key, image.width, image.height) != values:
                image.picture_key, image.width, image.height = values
                changed += 1
        return changed

    def replace_images(self, product: Product, images: Sequence[tuple[str, str]]) -> None:
        """Set the product's images to these (filename, alt) pairs, in order."""
        product.images.clear()
        self.session.flush()
        product.images.extend(
            ProductImage(position=i, filename=name, alt=alt) for i, (name, alt) in enumerate(images)
        )

    def product_with_images(self, product_id: int, lock: bool = False) -> Product | None:
        """The product with its pictures in order; `lock` holds its row for this
        transaction, so two changes to its pictures' order take turns."""
        stmt = select(Product).where(Product.id == product_id).options(selectinload(Product.images))
        if lock:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def image_of(self, product_id: int, image_id: int) -> ProductImage | None:
        stmt = select(ProductImage).where(
            ProductImage.id == image_id, ProductImage.product_id == product_id
        )
        return self.session.scalars(stmt).one_or_none()

    def pictures_with_file(self, filename: str) -> int:
        stmt = select(func.count(ProductImage.id)).where(ProductImage.filename == filename)
        return self.session.scalar(stmt) or 0

    def pictures_with_key(self, key: str) -> int:
        stmt = select(func.count(ProductImage.id)).where(ProductImage.picture_key == key)
        return self.session.scalar(stmt) or 0

    def swap_positions(self, first: ProductImage, second: ProductImage) -> None:
        """Exchange two pictures' places; through a free place, since a product's places
        are unique at every statement (PostgreSQL checks each one)."""
        one, other = first.position, second.position
        first.position = -1
        self.session.flush()
        second.position = one
        self.session.flush()
        first.position = other
        self.session.flush()

    def delete_image(self, image: ProductImage) -> None:
        self.session.delete(image)
        self.session.flush()
