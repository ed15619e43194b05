"""The hypermedia conventions of STYLE.md in one place.

A URL answers with the whole page, or with only its fragment when htmx asks
for a region (HX-Request, not boosted, not a history restore). Either way the
response varies on HX-Request, so no cache mixes the two.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, make_response, render_template, request

from kiosk.extensions import htmx


def wants_fragment() -> bool:
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    """Render `page`, or only `fragment` (which the page includes) for htmx."""
    if wants_fragment():
        body = render_template(fragment, **context) + render_template(
            "partials/flashes.html", oob=True
        )
    else:
        body = render_template(page, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def safe_next(target: str | None, fallback: str = "/") -> str:
    """A redirect target that stays on this site: a path, never another host."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target:
        return fallback
    return target


def current_path() -> str:
    return request.full_path.rstrip("?")
