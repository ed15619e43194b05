"""The texts a shop starts with, before the owner saves their own.

The imprint, terms and withdrawal policy start as the templates the shop has always
shipped (`legal/_imprint.html`, `_terms.html`, `_withdrawal.html`), rendered in each
language and turned into Markdown, so a fresh shop shows the same words as before texts
were stored. The privacy policy starts as a draft generated from the shop's settings, the
personal-data map and the processors in use; the accessibility statement from a template.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from kiosk.invoicing import seller as sellers
from kiosk.legal.models import TextKind
from kiosk.privacy import data_map

# The templates whose digest orders placed before texts were stored hold
# (`Order.legal_versions` such as "terms:3f2a…"). The privacy page of that time moved to
# `legal/legacy_privacy.html` unchanged, so its digest is still the same.
LEGACY_TEMPLATES = {
    TextKind.TERMS: "legal/_terms.html",
    TextKind.WITHDRAWAL: "legal/_withdrawal.html",
    TextKind.PRIVACY: "legal/legacy_privacy.html",
}
_CONVERTED = {
    TextKind.IMPRINT: "legal/_imprint.html",
    TextKind.TERMS: "legal/_terms.html",
    TextKind.WITHDRAWAL: "legal/_withdrawal.html",
}
_BLOCKS = {"p", "address", "ul", "ol", "h2", "h3", "h4", "li"}


@cache
def _digest_of(template_folder: str, name: str) -> str:
    env = current_app.jinja_env
    source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def template_digest(kind: str) -> str | None:
    """The digest of the template `kind` was shipped as, as orders recorded it."""
    name = LEGACY_TEMPLATES.get(TextKind(kind))
    return _digest_of(str(current_app.template_folder), name) if name else None


class _Markdown(HTMLParser):
    """The few elements the shipped legal templates use, as CommonMark. The page gives
    the heading, so the template's h1 is left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.line = ""
        self.skip = 0
        self.prefix = ""
        self.href: str | None = None
        self.link_text = ""
        self.article = 0  # only the text inside <article> counts, not a page's frame

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.article += 1
        elif tag == "h1":
            self.skip += 1
        elif tag in _BLOCKS:
            self._end_block()
            self.prefix = {"h2": "## ", "h3": "### ", "h4": "#### ", "li": "- "}.get(tag, "")
        elif tag == "br":
            self.line += "  \n"
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""
            self.link_text = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._end_block()
            self.article -= 1
        elif tag == "h1":
            self.skip -= 1
        elif tag == "a" and self.href is not None:
            self.line += f"[{self.link_text.strip()}]({self.href})"
            self.href = None
        elif tag in _BLOCKS:
            self._end_block()

    def handle_data(self, data: str) -> None:
        if self.skip or not self.article:
            return
        text = " ".join(data.split())
        if data[:1].isspace() and text:
            text = " " + text
        if data[-1:].isspace() and text:
            text += " "
        if self.href is not None:
            self.link_text += text
        else:
            self.line += text

    def _end_block(self) -> None:
        lines = [line.strip() for line in self.line.split("  \n")]
        text = "  \n".join(line for line in lines if line)
        if text:
            self.blocks.append(self.prefix + text)
        self.line = ""
        self.prefix = ""

    def markdown(self) -> str:
        self._end_block()
        joined: list[str] = []
        for block in self.blocks:
            tight = block.startswith("- ") and joined and joined[-1].startswith("- ")
            joined.append(("\n" if tight else "\n\n") + block if joined else block)
        return "".join(joined) + "\n"


def markdown_of_html(html: str) -> str:
    parser = _Markdown()
    parser.feed(html)
    parser.close()
    return parser.markdown()


def shipped_text(session: Session, kind: str, language: str) -> str:
    """What the shop says before the owner saved a text, as Markdown."""
    if kind == TextKind.PRIVACY:
        return privacy_draft(session, language)
    with force_locale(language):
        if kind in _CONVERTED:
            return markdown_of_html(render_template(_CONVERTED[TextKind(kind)]))
        return render_template(
            "legal/initial/accessibility.md",
            language=language,
            controller=sellers.current(session),
        )


def legacy_text(kind: str, language: str) -> str:
    """The text of a template whose digest old orders hold, as Markdown."""
    with force_locale(language):
        return markdown_of_html(render_template(LEGACY_TEMPLATES[TextKind(kind)]))


# The words for the map's categories, for the privacy policy.
CATEGORY_NAMES = {
    data_map.Category.IDENTITY: _l("Name"),
    data_map.Category.CONTACT: _l("Contact details (email, phone)"),
    data_map.Category.ADDRESS: _l("Postal addresses"),
    data_map.Category.PAYMENT_REFERENCE: _l("Payment references (never card data)"),
    data_map.Category.ORDER_HISTORY: _l("Orders and what you wrote about them"),
    data_map.Category.TECHNICAL: _l("Technical data (IP address, browser, cookie tokens)"),
    data_map.Category.SECURITY: _l("Sign-in security (password hash, second factor)"),
    data_map.Category.CONSENT: _l("Your consents and when you gave them"),
    data_map.Category.STAFF_NOTE: _l("Notes our staff made about your orders"),
}


@dataclass
class Purpose:
    """One purpose of the map with everything the map says about the data it needs."""

    purpose: str
    categories: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    retentions: list[str] = field(default_factory=list)


def _add(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def purposes(columns: Iterable[tuple[data_map.Table, data_map.Personal]]) -> list[Purpose]:
    """The map's personal columns grouped by purpose, in the map's order (Art. 13(1)(c), (2)(a))."""
    grouped: dict[str, Purpose] = {}
    for _table, column in columns:
        purpose = str(column.purpose)
        entry = grouped.setdefault(purpose, Purpose(purpose))
        category = column.category
        _add(entry.categories, str(CATEGORY_NAMES.get(category, category.value)))
        _add(entry.bases, column.basis.value)
        retention = str(column.retention.description)
        if column.retention.statute:
            retention += f" ({column.retention.statute})"
        _add(entry.retentions, retention)
    return list(grouped.values())


@dataclass(frozen=True)
class Processor:
    """A recipient that processes data for the shop (Art. 13(1)(e), Art. 28 GDPR)."""

    role: str
    name: str


def processors() -> list[Processor]:
    """The processors in use, as the configuration says."""
    config = current_app.config
    found = [
        Processor(
            "hosting",
            config["KIOSK_HOSTING_PROVIDER"] or "[Placeholder] name and address of the host",
        )
    ]
    if config["KIOSK_MAIL_BACKEND"] == "smtp":
        found.append(Processor("mail", config["SMTP_HOST"]))
    if config["STRIPE_SECRET_KEY"]:
        found.append(
            Processor(
                "payment",
                "Stripe Payments Europe, Ltd., 1 Grand Canal Street Lower, Dublin 2, Ireland",
            )
        )
    return found


def privacy_draft(session: Session, language: str) -> str:
    """A privacy policy to start from (Art. 13 GDPR): the controller from the seller's
    details, what the map says of each purpose, and the processors in use."""
    with force_locale(language):
        return render_template(
            "legal/initial/privacy.md",
            language=language,
            controller=sellers.current(session),
            purposes=purposes(data_map.personal_columns()),
            processors=processors(),
        )
