"""The legal texts as the owner saved them, one row per text, language and version."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base, UTCDateTime, utcnow


class TextKind(enum.StrEnum):
    """The legal texts a German shop publishes, each with the statute that asks for it."""

    IMPRINT = "imprint"  # §5 DDG
    TERMS = "terms"  # AGB, §305 BGB; sent with the order (§312f BGB)
    WITHDRAWAL = "withdrawal"  # §312g BGB, Art. 246a §1(2) EGBGB
    PRIVACY = "privacy"  # Art. 13 GDPR
    ACCESSIBILITY = "accessibility"  # §14 BFSG with Anlage 3


LANGUAGES = ("de", "en")


class LegalTextVersion(Base):
    """One saved version of a legal text in one language.

    Rows are only ever added: an order keeps the numbers of the versions it was placed
    under (`Order.legal_versions`), so a later edit cannot change the terms a buyer
    accepted. A save stores every language under the same number. `source_digest` is the
    digest of the template a version was imported from, so orders placed before texts were
    stored (which recorded that digest) still find their text.
    """

    __tablename__ = "legal_text_version"
    __table_args__ = (
        UniqueConstraint("kind", "language", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    number: Mapped[int]
    markdown: Mapped[str] = mapped_column(Text)
    source_digest: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who saved it; None for the initial version imported from the shipped template.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
