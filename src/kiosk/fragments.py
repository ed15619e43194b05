"""Cached HTML fragments: a product card is rendered once per version and language.

A listing shows 24 cards, and rendering them is most of a listing's cost. A
card depends only on the product's own data, so its HTML is kept in a small
in-process LRU cache under a key that changes whenever what it shows changes:
the product's `updated_at`, its available stock, its first picture (and the key of
its variants), and the language. Listing queries load that picture with the
product (`Product.card_picture`).
Nothing has to be invalidated; old entries simply fall out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup

from kiosk.models import Product

MAX_ENTRIES = 5000


class FragmentCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[Any, ...], Markup] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key: tuple[Any, ...]) -> Markup | None:
        with self._lock:
            html = self._entries.get(key)
            if html is not None:
                self._entries.move_to_end(key)
            return html

    def put(self, key: tuple[Any, ...], html: Markup) -> None:
        with self._lock:
            self._entries[key] = html
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def _cache() -> FragmentCache:
    cache: FragmentCache = current_app.extensions.setdefault("kiosk_fragments", FragmentCache())
    return cache


def cached_fragment(template: str) -> Markup:
    """A template that depends on nothing but the language (the footer)."""
    key = ("fragment", template, str(get_locale()))
    html = _cache().get(key)
    if html is None:
        html = Markup(render_template(template))  # noqa: S704
        _cache().put(key, html)
    return html


def product_card(product: Product) -> Markup:
    """The card of `product` for listings, from the cache when it is current."""
    cache = _cache()
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
