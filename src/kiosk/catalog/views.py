"""Browsing the catalog: listings with filters, sort, search and pages; product pages."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from kiosk.hypermedia import render_page
from kiosk.services import catalog

bp = Blueprint("catalog", __name__)


def _listing(category_slug: str | None) -> Response:
    tree = catalog.category_tree()
    category = None
    if category_slug is not None:
        category = tree.by_slug(category_slug)
        if category is None:
            abort(404)
    query = catalog.ListingQuery.from_args(request.args)
    listing = catalog.list_products(
        query, current_app.config["KIOSK_PAGE_SIZE"], category=category, tree=tree
    )
    return render_page(
        "catalog/listing.html",
        "catalog/_results.html",
        listing=listing,
        category=category,
        tree=tree,
        trail=tree.ancestors(category.id if category else None),
        sort_labels=catalog.SORT_LABELS,
    )


@bp.get("/products")
def products() -> Response:
    """All products, or the search results for `q`."""
    return _listing(None)


@bp.get("/c/<slug>")
def category(slug: str) -> Response:
    """A category and everything below it in the tree."""
    return _listing(slug)


@bp.get("/p/<slug>")
def product(slug: str) -> str:
    """One product with gallery, price details, delivery time and stock."""
    item = catalog.get_product(slug)
    if item is None:
        abort(404)
    tree = catalog.category_tree()
    try:
        image_index = int(request.args.get("image", "0"))
    except ValueError:
        image_index = 0
    if not 0 <= image_index < len(item.images):
        image_index = 0
    return render_template(
        "catalog/product.html",
        product=item,
        tree=tree,
        trail=tree.ancestors(item.category_id),
        image_index=image_index,
        low_stock=current_app.config["KIOSK_LOW_STOCK_HINT"],
    )
