"""Product descriptions: Markdown rendered by markdown-it-py, sanitized by nh3.

Raw HTML in the source is not rendered, and the output is cleaned against an
allow-list as a second line of defence, so a description can never carry
script, style or event handlers into the page.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h2",
    "h3",
    "h4",
    "a",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


@lru_cache(maxsize=2048)
def render_markdown(source: str) -> Markup:
    html = _renderer.render(source or "")
    # The sanitizer's output is safe to mark as such: it is the only Markup() here.
    return Markup(  # noqa: S704
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="nofollow noopener noreferrer",
        )
    )
