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
from kiosk.validation import has_control

MAX_NEXT = 2000  # a redirect target kept in the session must not outgrow the cookie


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
    """A redirect target that stays on this site: a path, never another host.

    Control characters (a header cannot carry a line break) and overlong targets
    are refused before `urlsplit`, which raises on some of them ("//[").
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or has_control(target) or len(target) > MAX_NEXT:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def current_path() -> str:
    return request.full_path.rstrip("?")
