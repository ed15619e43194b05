"""What the privacy centre keeps: guests' export links, each consent choice, and the
categories the shop uses.

A consent record is written for every choice and never changed: giving, changing and
withdrawing consent each add a record, so the shop can show what a visitor agreed to at any
time (Art. 7(1) GDPR). The visitor is named by a random id kept in their consent cookie
(pseudonymous), and by their account id when they were signed in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base, UTCDateTime, utcnow


class ExportLink(Base):
    """A guest's emailed export link (Art. 15 GDPR), kept so that it works once.

    Only the SHA-256 of the signed token is stored, never the token or the address it
    was sent to: the address travels inside the signed token, so this table holds
    nothing that names a person, and a copy of the database cannot open any link.
    """

    __tablename__ = "privacy_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentRecord(Base):
    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[str] = mapped_column(String(32))  # random, from the consent cookie
    banner_version: Mapped[str] = mapped_column(String(16))  # digest of the banner's text
    granted: Mapped[str] = mapped_column(String(100))  # optional categories, comma-separated
    choice: Mapped[str] = mapped_column(String(16))  # accept_all, reject_all, custom
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_consent_record_consent_id", "consent_id", "id"),)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(filter(None, self.granted.split(",")))


class ConsentCategory(Base):
    """An optional category (preferences, statistics, marketing) the owner decided on; a
    category without a row is not in use, so a new shop asks for nothing and shows no
    banner."""

    __tablename__ = "consent_category"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    in_use: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
