"""Catalog use cases on the read side: home page, listings, search, product page.

A listing is described by a `ListingQuery` parsed from the URL's query string,
so every filter, sort and page is a plain GET that can be bookmarked and shared.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from kiosk.catalog.models import Category, Product
from kiosk.catalog.repository import SORTS, CategoryRepository, ProductFilter, ProductRepository
from kiosk.uow import read_session
from kiosk.validation import InputProblem, OutOfRange, parse_amount, parse_int, search_text

SORT_LABELS = {
    "name": _l("Name"),
    "price_asc": _l("Price, low to high"),
    "price_desc": _l("Price, high to low"),
    "newest": _l("Newest"),
}
MAX_SEARCH_LENGTH = 100
MAX_PAGE = 100_000


@dataclass(frozen=True)
class ListingQuery:
    """What the shopper asked to see; parsed leniently, errors kept per field."""

    q: str = ""
    min_price: str = ""
    max_price: str = ""
    in_stock: bool = False
    sort: str = "name"
    page: int = 1
    errors: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ListingQuery:
        """Read the query string through the shared edge rules (`kiosk.validation`)."""
        errors: dict[str, str] = {}
        q = search_text(args.get("q", ""), MAX_SEARCH_LENGTH)
        sort = args.get("sort", "name")
        if sort not in SORTS:
            sort = "name"
        try:
            page = parse_int(args.get("page", "1"), minimum=1, maximum=MAX_PAGE)
        except OutOfRange as exc:
            page = 1 if exc.too_low else MAX_PAGE
        except InputProblem:
            page = 1
        min_price = search_text(args.get("min_price", ""), 20)
        max_price = search_text(args.get("max_price", ""), 20)
        for name, value in (("min_price", min_price), ("max_price", max_price)):
            try:
                parse_amount(value or "0")
            except InputProblem as problem:
                errors[name] = str(problem)
        lo, hi = _parse_price(min_price), _parse_price(max_price)
        if lo is not None and hi is not None and lo > hi:
            errors["max_price"] = str(_l("The maximum must not be below the minimum."))
        return cls(
            q=q,
            min_price=min_price,
            max_price=max_price,
            in_stock=args.get("in_stock") in {"1", "on", "true"},
            sort=sort,
            page=page,
            errors=errors,
        )

    def product_filter(self, category_ids: Sequence[int] | None) -> ProductFilter:
        lo = None if "min_price" in self.errors else _parse_price(self.min_price)
        hi = None if "max_price" in self.errors else _parse_price(self.max_price)
        return ProductFilter(
            category_ids=category_ids,
            search=self.q,
            min_cents=lo,
            max_cents=hi,
            in_stock=self.in_stock,
        )

    def params(self, **changes: Any) -> str:
        """The query string for this listing with some parameters changed."""
        query = replace(self, **changes)
        pairs: dict[str, str | int] = {}
        if query.q:
            pairs["q"] = query.q
        if query.min_price:
            pairs["min_price"] = query.min_price
        if query.max_price:
            pairs["max_price"] = query.max_price
        if query.in_stock:
            pairs["in_stock"] = "1"
        if query.sort != "name":
            pairs["sort"] = query.sort
        if query.page != 1:
            pairs["page"] = query.page
        return "?" + urlencode(pairs) if pairs else "?"

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.min_price or self.max_price or self.in_stock)


def _parse_price(text: str) -> int | None:
    if not text:
        return None
    try:
        return parse_amount(text).cents
    except InputProblem:
        return None


@dataclass(frozen=True)
class Listing:
    query: ListingQuery
    products: Sequence[Product]
    total: int
    page: int
    pages: int
    page_size: int

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.page_size, self.total)

    def page_numbers(self) -> list[int | None]:
        """Page links to show: first, last and a window around the current page."""
        shown = {1, self.pages, *range(self.page - 2, self.page + 3)}
        numbers: list[int | None] = []
        for n in sorted(p for p in shown if 1 <= p <= self.pages):
            if numbers and numbers[-1] is not None and n - numbers[-1] > 1:
                numbers.append(None)
            numbers.append(n)
        return numbers


@dataclass(frozen=True)
class CategoryNode:
    """A category as pages show it: plain data, safe to keep between requests."""

    id: int
    parent_id: int | None
    slug: str
    name: str
    description: str

    @classmethod
    def of(cls, category: Category) -> CategoryNode:
        return cls(
            category.id, category.parent_id, category.slug, category.name, category.description
        )


@dataclass(frozen=True)
class CategoryTree:
    categories: Sequence[CategoryNode]

    @property
    def roots(self) -> list[CategoryNode]:
        return [c for c in self.categories if c.parent_id is None]

    def children_of(self, category: CategoryNode) -> list[CategoryNode]:
        return [c for c in self.categories if c.parent_id == category.id]

    def descendant_ids(self, category: CategoryNode) -> list[int]:
        ids, frontier = [category.id], [category.id]
        while frontier:
            frontier = [c.id for c in self.categories if c.parent_id in frontier]
            ids.extend(frontier)
        return ids

    def ancestors(self, category_id: int | None) -> list[CategoryNode]:
        """The category and those above it, top first (for the breadcrumb)."""
        by_id = {c.id: c for c in self.categories}
        chain: list[CategoryNode] = []
        node = by_id.get(category_id) if category_id is not None else None
        while node is not None:
            chain.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        return chain[::-1]

    def by_slug(self, slug: str) -> CategoryNode | None:
        return next((c for c in self.categories if c.slug == slug), None)


TREE_KEY = "kiosk_category_tree"
TREE_SECONDS = 60.0


def category_tree() -> CategoryTree:
    """The category tree, kept for a minute: every page shows it, and it rarely changes.

    A change made through this process shows at once (the repository forgets
    the tree when it writes a category); other workers see it within a minute.
    """
    cached = current_app.extensions.get(TREE_KEY)
    if cached is not None and time.monotonic() - cached[0] < TREE_SECONDS:
        tree: CategoryTree = cached[1]
        return tree
    shown = shop_categories(CategoryRepository(read_session()).all())
    tree = CategoryTree([CategoryNode.of(c) for c in shown])
    current_app.extensions[TREE_KEY] = (time.monotonic(), tree)
    return tree


def shop_categories(categories: Sequence[Category]) -> list[Category]:
    """The categories shoppers see: a deactivated one hides itself and all below it."""
    by_id = {c.id: c for c in categories}

    def shown(category: Category | None) -> bool:
        seen: set[int] = set()
        while category is not None and category.id not in seen:
            if not category.is_active:
                return False
            seen.add(category.id)
            category = by_id.get(category.parent_id) if category.parent_id else None
        return True

    return [c for c in categories if shown(c)]


def list_products(
    query: ListingQuery,
    page_size: int,
    category: CategoryNode | None = None,
    tree: CategoryTree | None = None,
) -> Listing:
    products = ProductRepository(read_session())
    category_ids = None
    if category is not None:
        category_ids = (tree or category_tree()).descendant_ids(category)
    product_filter = query.product_filter(category_ids)
    total = products.count_active(product_filter)
    pages = max(1, math.ceil(total / page_size))
    page = min(query.page, pages)
    rows = products.list_active(product_filter, query.sort, page_size, (page - 1) * page_size)
    return Listing(query, rows, total, page, pages, page_size)


@dataclass(frozen=True)
class HomePage:
    featured: Sequence[Product]
    newest: Sequence[Product]


def home_page(count: int = 8) -> HomePage:
    products = ProductRepository(read_session())
    featured = products.list_active(ProductFilter(featured=True), "name", count)
    newest = products.list_active(ProductFilter(), "newest", count)
    return HomePage(featured, newest)


def get_product(slug: str) -> Product | None:
    return ProductRepository(read_session()).get_active_by_slug(slug)


def find_product(session: Session, product_id: int) -> Product | None:
    """A product by id, active or not, in the caller's transaction (the cart checks which)."""
    return ProductRepository(session).get(product_id)


def product_names(session: Session, product_ids: Iterable[int]) -> list[str]:
    """The names of these products (for a message about them)."""
    return ProductRepository(session).names(product_ids)


def names_by_id(product_ids: Iterable[int]) -> dict[int, str]:
    """The names of these products by id, active or not (absent: deleted)."""
    return ProductRepository(read_session()).names_by_id(product_ids)


def has_products() -> bool:
    """Whether the catalog holds any product at all (the demo loads only into an empty shop)."""
    return ProductRepository(read_session()).count() > 0


@dataclass(frozen=True)
class ProductLink:
    """A product named and linked, as the "Recently viewed" list shows it."""

    name: str
    slug: str


def product_links(product_ids: Sequence[int], leave_out: int | None = None) -> list[ProductLink]:
    """The active products of these ids in the given order (ones gone from the shop are
    skipped)."""
    wanted = [i for i in product_ids if i != leave_out]
    if not wanted:
        return []
    found = {
        product.id: product
        for product in ProductRepository(read_session()).by_ids(wanted)
        if product.is_active
    }
    return [ProductLink(found[i].name, found[i].slug) for i in wanted if i in found]
