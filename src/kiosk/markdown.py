"""Product descriptions: Markdown rendered by markdown-it-py, sanitized by nh3.

Raw HTML in the source is not rendered, and the output is cleaned against an
allow-list as a second line of defence, so a description can never carry
script, style or event handlers into the page. `plain_text` gives the words
alone, for places that take no markup (the meta description).
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


@lru_cache(maxsize=2048)
def plain_text(source: str) -> str:
    """The text a reader sees, without markup, code blocks or pictures, on one line."""
    words: list[str] = []
    for token in _renderer.parse(source or ""):
        for child in token.children or ():
            if child.type in {"text", "code_inline"}:
                words.append(child.content)
            elif child.type in {"softbreak", "hardbreak"}:
                words.append(" ")
        words.append(" ")
    return " ".join("".join(words).split())
