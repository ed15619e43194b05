"""Cached HTML fragments: a small in-process LRU cache of rendered HTML, under keys that
change whenever what the HTML shows changes, so nothing has to be invalidated; old
entries simply fall out. The product cards of listings use it (`catalog.cards`), and
templates that depend on nothing but the language (the footer) through `cached_fragment`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup

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


def fragment_cache() -> FragmentCache:
    cache: FragmentCache = current_app.extensions.setdefault("kiosk_fragments", FragmentCache())
    return cache


def cached_fragment(template: str) -> Markup:
    """A template that depends on nothing but the language (the footer)."""
    key = ("fragment", template, str(get_locale()))
    html = fragment_cache().get(key)
    if html is None:
        html = Markup(render_template(template))  # noqa: S704
        fragment_cache().put(key, html)
    return html
