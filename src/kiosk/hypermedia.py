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
from kiosk.validation import InputProblem, has_control, parse_int

MAX_NEXT = 2000  # a redirect target kept in the session must not outgrow the cookie
MAX_PAGE = 100_000  # no list here has more pages; a larger number is someone's typing


def page_number() -> int:
    """The `page` of a list's query string; anything that is not a page number means the
    first page, since a list answers a hand-edited URL rather than refusing it."""
    try:
        return parse_int(request.args.get("page", "1"), minimum=1, maximum=MAX_PAGE)
    except InputProblem:
        return 1


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows fill, at least one (an empty list is one empty page)."""
    return max(1, -(-total // per_page))


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
