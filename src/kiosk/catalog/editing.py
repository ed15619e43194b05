"""Products as staff write them: create, edit, copy, delete or archive, and change many at once.

The writes are steps in the caller's transaction: the back office's use cases open it,
ask the orders whether a product may go, and audit what changed, so the catalog itself
stays free of orders and accounts. The reads (the staff list, its CSV) open their own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from flask import current_app
from sqlalchemy.orm import Session

from kiosk.catalog import product_csv
from kiosk.catalog.models import Product, UnitMeasure
from kiosk.catalog.repository import STAFF_SORTS, CategoryRepository, ProductRepository, StaffFilter
from kiosk.catalog.services import CategoryNode, category_tree
from kiosk.money import Money, div_round_half_up
from kiosk.orm import utcnow
from kiosk.uow import read_session
from kiosk.validation import INT_MAX

__all__ = ["StaffFilter"]  # the staff list's filter, for the back office's pages

STOCK_STATES = ("in_stock", "low", "out")
STAFF_SORT_KEYS = tuple(STAFF_SORTS)
STATUSES = ("active", "inactive", "archived")
MIN_PRICE_CENTS = 1  # a price change never sets a price below 0.01


@dataclass(frozen=True)
class ProductValues:
    """Every field of a product that staff set (stock has its own ledger and page)."""

    name: str
    slug: str
    sku: str
    description: str
    price_cents: int
    compare_at_cents: int | None
    vat_class: str
    unit_content: int | None
    unit_measure: UnitMeasure | None
    delivery_time: str
    weight_grams: int
    category_id: int | None
    is_active: bool
    is_featured: bool
    reorder_level: int

    @classmethod
    def of(cls, product: Product) -> ProductValues:
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{name: getattr(product, name) for name in names})

    def record(self) -> dict[str, Any]:
        """The values as the audit log keeps them (plain JSON)."""
        values = dataclasses.asdict(self)
        values["unit_measure"] = self.unit_measure.value if self.unit_measure else None
        return values


def changes(before: ProductValues, after: ProductValues) -> dict[str, dict[str, Any]]:
    """The fields that differ, each with its value before and after (for the audit log)."""
    old, new = before.record(), after.record()
    return {
        name: {"before": old[name], "after": new[name]} for name in old if old[name] != new[name]
    }


class Clash(Exception):
    """A slug or SKU that another product has already."""

    def __init__(self, column: str, value: str, owner_sku: str) -> None:
        super().__init__(f"{column} {value!r} belongs to {owner_sku}")
        self.column, self.value, self.owner_sku = column, value, owner_sku


class PriceRefused(Exception):
    """A bulk price change that would take a price below 0.01 or to its RRP or above."""


def _check_unique(
    products: ProductRepository, values: ProductValues, product_id: int | None
) -> None:
    for column in ("slug", "sku"):
        value = getattr(values, column)
        owner = products.owner_of(column, value)
        if owner is not None and owner.id != product_id:
            raise Clash(column, value, owner.sku)


def _apply(product: Product, values: ProductValues) -> None:
    for name, value in dataclasses.asdict(values).items():
        setattr(product, name, value)
    product.unit_measure = values.unit_measure
    if values.is_active:  # an active product is in the shop, so no longer in the archive
        product.archived_at = None


def find_clash(values: ProductValues, product_id: int | None) -> Clash | None:
    """The slug or SKU of `values` that another product holds now, if any."""
    try:
        _check_unique(ProductRepository(read_session()), values, product_id)
    except Clash as clash:
        return clash
    return None


def create(session: Session, values: ProductValues) -> Product:
    """A new product (no stock yet: stock comes through the ledger). Raises Clash."""
    products = ProductRepository(session)
    _check_unique(products, values, None)
    product = Product(currency=current_app.config["KIOSK_CURRENCY"])
    _apply(product, values)
    products.save(product)
    session.flush()
    return product


def update(
    session: Session, product_id: int, values: ProductValues
) -> tuple[Product, dict[str, dict[str, Any]]]:
    """Change a product; returns it with what changed. LookupError if it is gone, or Clash."""
    products = ProductRepository(session)
    (product,) = products.locked([product_id]) or (None,)
    if product is None:
        raise LookupError(product_id)
    _check_unique(products, values, product_id)
    changed = changes(ProductValues.of(product), values)
    _apply(product, values)
    products.save(product)
    session.flush()
    return product, changed


def _free(products: ProductRepository, column: str, base: str) -> str:
    taken = products.taken(column, base)
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def duplicate(session: Session, product_id: int) -> tuple[Product, Product]:
    """An inactive copy with "-copy" added to slug and SKU (no pictures, no stock):
    returns the original and the copy. LookupError if the original is gone."""
    products = ProductRepository(session)
    original = products.get(product_id)
    if original is None:
        raise LookupError(product_id)
    values = dataclasses.replace(
        ProductValues.of(original),
        slug=_free(products, "slug", f"{original.slug[:140]}-copy"),
        sku=_free(products, "sku", f"{original.sku[:52]}-COPY"),
        is_active=False,
        is_featured=False,
    )
    return original, create(session, values)


def may_delete(product: Product) -> bool:
    """A product that a checkout holds right now stays (its order may follow)."""
    return product.stock_reserved == 0


def locked(session: Session, product_id: int) -> Product | None:
    (product,) = ProductRepository(session).locked([product_id]) or (None,)
    return product


def delete(session: Session, product: Product) -> None:
    """Delete the product with its pictures, ledger, alerts and cart lines (the database
    cascades them); the caller has made sure no order refers to it."""
    ProductRepository(session).delete(product)
    session.flush()


def archive(session: Session, product: Product) -> bool:
    """Take the product out of the shop and out of the staff list; False if it was already."""
    if product.archived_at is not None:
        return False
    product.is_active = False
    product.archived_at = utcnow()
    return True


def restore(session: Session, product: Product) -> bool:
    """Bring an archived product back into the staff list (still inactive)."""
    if product.archived_at is None:
        return False
    product.archived_at = None
    return True


def set_active(session: Session, product_ids: Iterable[int], active: bool) -> list[Product]:
    """Activate or deactivate the products; returns those that changed."""
    changed = []
    for product in ProductRepository(session).locked(product_ids):
        if product.is_active != active or (active and product.archived_at is not None):
            product.is_active = active
            if active:
                product.archived_at = None
            changed.append(product)
    return changed


def move(
    session: Session, product_ids: Iterable[int], category_id: int | None
) -> list[tuple[Product, int | None]]:
    """Put the products into the category (None: into none); returns those that moved,
    each with the category it came from. LookupError if the category is gone."""
    if category_id is not None and CategoryRepository(session).get(category_id) is None:
        raise LookupError(category_id)
    moved = []
    for product in ProductRepository(session).locked(product_ids):
        if product.category_id != category_id:
            moved.append((product, product.category_id))
            product.category_id = category_id
    return moved


@dataclass(frozen=True)
class PriceChange:
    """Up or down by a percentage (in hundredths of a percent) or by an amount (in cents)."""

    by_percent: bool
    up: bool
    amount: int

    def new_price(self, cents: int) -> int:
        step = div_round_half_up(cents * self.amount, 10_000) if self.by_percent else self.amount
        return cents + step if self.up else cents - step


@dataclass(frozen=True)
class PriceLine:
    product: Product
    old_cents: int
    new_cents: int

    @property
    def new_price(self) -> Money:
        return Money(self.new_cents, self.product.currency)

    @property
    def lowest_price(self) -> Money:
        return Money(MIN_PRICE_CENTS, self.product.currency)

    @property
    def problem(self) -> str:
        """ "" if the new price may be set, else "minimum", "maximum" or "rrp"."""
        if self.new_cents < MIN_PRICE_CENTS:
            return "minimum"
        if self.new_cents > INT_MAX:
            return "maximum"
        rrp = self.product.compare_at_cents
        if rrp is not None and self.new_cents >= rrp:
            return "rrp"
        return ""


def _price_lines(products: Sequence[Product], change: PriceChange) -> list[PriceLine]:
    return [PriceLine(p, p.price_cents, change.new_price(p.price_cents)) for p in products]


def plan_prices(product_ids: Iterable[int], change: PriceChange) -> list[PriceLine]:
    """What the change would make of each price, for staff to check before applying."""
    return _price_lines(ProductRepository(read_session()).by_ids(product_ids), change)


def apply_prices(
    session: Session, change: PriceChange, expected: Mapping[int, int]
) -> tuple[list[PriceLine], int]:
    """Apply the change to the products whose price is still the one staff saw
    (`expected`: id to cents); returns the changed lines and how many had another price
    by now. A second submit of the same plan so changes nothing. PriceRefused if a new
    price may not be set."""
    products = ProductRepository(session).locked(expected)
    current = [p for p in products if p.price_cents == expected[p.id]]
    lines = _price_lines(current, change)
    if any(line.problem for line in lines):
        raise PriceRefused
    for line in lines:
        line.product.price_cents = line.new_cents
    return lines, len(products) - len(current)


# Reads ---------------------------------------------------------------------------------


def product_for_staff(product_id: int) -> Product | None:
    """A product, active, inactive or archived, for its edit page."""
    return ProductRepository(read_session()).get(product_id)


def staff_list(f: StaffFilter, page: int, per_page: int) -> tuple[Sequence[Product], int]:
    """One page of the staff list and the number of products that match."""
    return ProductRepository(read_session()).staff_search(f, per_page, (page - 1) * per_page)


def export_csv(target: IO[str], f: StaffFilter) -> int:
    """The filtered products as the CSV file `flask kiosk import-products` reads."""
    return product_csv.write_products_csv(target, ProductRepository(read_session()).staff_export(f))


def category_choices() -> list[tuple[int, str]]:
    """Every category as (id, name), each below its parent and indented by its depth."""
    tree = category_tree()
    choices: list[tuple[int, str]] = []

    def walk(nodes: Sequence[CategoryNode], depth: int) -> None:
        for node in nodes:
            choices.append((node.id, "— " * depth + node.name))
            walk(tree.children_of(node), depth + 1)

    walk(tree.roots, 0)
    return choices
