"""The legal texts: the newest version of each, every version an order was placed under,
and the owner's saves.

Each save stores a new version (all languages under one number); nothing is changed
afterwards. An order records the version numbers of the texts it was placed under
(`Order.legal_versions`, such as {"terms": "terms:v3"}), so its buyer and the staff can
read the terms as they were, and the order confirmation attaches exactly those (§312f BGB).
Orders placed before texts were stored recorded the digest of the template instead
("terms:3f2a…"); those still resolve (`text_of`).

Until the owner saves a text, the shop shows what it shipped with (`initial`); the first
order placed or the owner's first save stores that as version 1, so it is kept as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.audit import services as audit
from kiosk.legal import initial
from kiosk.legal.models import LANGUAGES, LegalTextVersion, TextKind
from kiosk.legal.repository import LegalTextRepository
from kiosk.mail.services import Attachment
from kiosk.markdown import render_markdown
from kiosk.uow import read_session, unit_of_work

# The texts an order records: what the buyer accepted or was told at the order.
ORDER_TEXTS = (TextKind.TERMS, TextKind.WITHDRAWAL, TextKind.PRIVACY)
KINDS = frozenset(kind.value for kind in TextKind)
MAX_LENGTH = 100_000  # characters of Markdown per language


@dataclass(frozen=True)
class LegalText:
    """One text in one language, saved (`number`) or as the shop shipped it (None)."""

    kind: str
    language: str
    number: int | None
    markdown: str
    created_at: datetime | None = None

    @property
    def html(self) -> Markup:
        return render_markdown(self.markdown)


@dataclass(frozen=True)
class SavedVersion:
    """A line of a text's history."""

    number: int
    created_at: datetime
    by_owner: bool  # False: the shipped text, stored when first used


def _pick(kind: str, rows: Mapping[str, LegalTextVersion], language: str) -> LegalText:
    row = rows.get(language) or rows[sorted(rows)[0]]
    return LegalText(kind, row.language, row.number, row.markdown, row.created_at)


def current(kind: str, language: str) -> LegalText:
    """The text the shop shows now: the newest version, else the shipped one; never writes."""
    session = read_session()
    repository = LegalTextRepository(session)
    number = repository.latest_number(kind)
    if number is None:
        return LegalText(kind, language, None, initial.shipped_text(session, kind, language))
    return _pick(kind, repository.version(kind, number), language)


def _stored_number(session: Session, kind: str) -> int:
    """The newest version's number, storing the shipped text as version 1 if there is none."""
    repository = LegalTextRepository(session)
    number = repository.latest_number(kind)
    if number is not None:
        return number
    digest = initial.template_digest(kind) if kind != TextKind.PRIVACY else None
    rows = [
        LegalTextVersion(
            kind=kind,
            language=language,
            number=1,
            markdown=initial.shipped_text(session, kind, language),
            source_digest=digest,
        )
        for language in LANGUAGES
    ]
    try:
        with session.begin_nested():  # a savepoint: losing the race keeps the order's work
            repository.add(rows)
    except IntegrityError:
        # Two first orders at once (PostgreSQL): the other stored version 1 a moment ago.
        pass
    return repository.latest_number(kind) or 1


def versions(session: Session) -> dict[str, str]:
    """The versions a new order is placed under, in the order's transaction."""
    return {kind.value: f"{kind.value}:v{_stored_number(session, kind)}" for kind in ORDER_TEXTS}


def reference(order_versions: Mapping[str, str], kind: str) -> str | None:
    """What `text_of` needs to find the version an order recorded: "3" or a legacy digest."""
    value = order_versions.get(kind) or ""
    _kind, _colon, ref = value.partition(":")
    if ref.startswith("v") and ref[1:].isdigit():
        return ref[1:]
    return ref or None


def text_of(kind: str, ref: str, language: str) -> LegalText | None:
    """A version by number, or by the template digest an older order recorded; None when
    the shop does not know it."""
    return _text_of(read_session(), kind, ref, language)


def _text_of(session: Session, kind: str, ref: str, language: str) -> LegalText | None:
    if kind not in KINDS or not 0 < len(ref) <= 40:
        return None
    repository = LegalTextRepository(session)
    number: int | None
    if ref.isdigit():
        number = int(ref) if len(ref) <= 9 else None
    else:
        number = repository.number_from_digest(kind, ref)
        if number is None:
            if ref == initial.template_digest(kind):
                return LegalText(kind, language, None, initial.legacy_text(kind, language))
            return None
    rows = repository.version(kind, number) if number else {}
    return _pick(kind, rows, language) if rows else None


def history(kind: str) -> list[SavedVersion]:
    """Every stored version of a text, newest first."""
    rows = LegalTextRepository(read_session()).history(kind)
    return [SavedVersion(row.number, row.created_at, row.created_by_id is not None) for row in rows]


def privacy_draft(language: str) -> str:
    """A privacy policy generated from the settings, the data map and the processors."""
    return initial.privacy_draft(read_session(), language)


def save(staff_id: int, kind: str, texts: Mapping[str, str]) -> int | None:
    """Store the texts (one per language) as a new version; its number, or None when they
    equal the newest version (nothing stored, so a double submit adds no version)."""
    with unit_of_work() as session:
        repository = LegalTextRepository(session)
        number = _stored_number(session, kind)
        newest = repository.version(kind, number)
        if all(language in newest and newest[language].markdown == texts[language]
               for language in LANGUAGES):  # fmt: skip
            return None
        rows = repository.add(
            [
                LegalTextVersion(
                    kind=kind,
                    language=language,
                    number=number + 1,
                    markdown=texts[language],
                    created_by_id=staff_id,
                )
                for language in LANGUAGES
            ]
        )
        audit.record(
            session,
            "legal.text_saved",
            actor=audit.Account(staff_id),
            text=kind,
            before={"number": number, "ids": sorted(row.id for row in newest.values())},
            after={"number": number + 1, "ids": [row.id for row in rows]},
        )
        return number + 1


def contract_documents(
    session: Session, locale: str, order_versions: Mapping[str, str]
) -> list[Attachment]:
    """The terms and the withdrawal policy the order was placed under, as files for the
    order confirmation (§312f(2) BGB: on a durable medium)."""
    documents = []
    with force_locale(locale):
        for kind, filename, title in (
            (TextKind.TERMS, "terms.html", _("Terms and conditions")),
            (TextKind.WITHDRAWAL, "withdrawal.html", _("Right of withdrawal")),
        ):
            ref = reference(order_versions, kind)
            text = _text_of(session, kind, ref, locale) if ref else None
            if text is None:  # an order the shop has no text for: what applies now
                text = current(kind, locale)
            page = render_template("legal/document.html", text=text, title=title)
            documents.append(Attachment(filename, "text/html", page.encode()))
    return documents
