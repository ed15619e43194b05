"""Product cards: a listing shows 24, and rendering them is most of a listing's cost.

A card depends only on the product's own data, so its HTML is kept in the fragment
cache under a key that changes whenever what it shows changes: the product's
`updated_at`, its available stock, its first picture (and the key of its variants),
and the language. Listing queries load that picture with the product
(`Product.card_picture`).
"""

from __future__ import annotations

from flask import render_template
from flask_babel import get_locale
from markupsafe import Markup

from kiosk.catalog.models import Product
from kiosk.fragments import fragment_cache


def product_card(product: Product) -> Markup:
    """The card of `product` for listings, from the cache when it is current."""
    cache = fragment_cache()
    key = (
        "card",
        product.id,
        product.updated_at,
        product.stock_available,
        product.card_picture,
        str(get_locale()),
    )
    html = cache.get(key)
    if html is None:
        html = Markup(render_template("partials/product_card.html", product=product))  # noqa: S704
        cache.put(key, html)
    return html
