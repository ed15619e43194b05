"""What the privacy centre keeps: guests' export links, erasure requests, each consent
choice, and the categories the shop uses.

A consent record is written for every choice and never changed: giving, changing and
withdrawing consent each add a record, so the shop can show what a visitor agreed to at any
time (Art. 7(1) GDPR). The visitor is named by a random id kept in their consent cookie
(pseudonymous), and by their account id when they were signed in.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String
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


class ErasureState(enum.StrEnum):
    REQUESTED = "requested"  # asked for; waits for the mailed confirmation link
    CONFIRMED = "confirmed"  # confirmed; runs at once unless orders are open
    POSTPONED = "postponed"  # confirmed, but an order is open: the daily job retries
    DONE = "done"  # the person's data is erased; only retained documents remain


class ErasureRequest(Base):
    """A request to erase a person's data (Art. 17 GDPR), from its asking to its end.

    Whose data: the account (`user_id`), or for a guest the address they asked from. The
    address stays until the erasure ran (a postponed one needs it to find the guest's rows),
    then becomes `erased-request-{id}@invalid`. The confirmation link is kept as a hash.
    """

    __tablename__ = "erasure_request"
    __table_args__ = (Index("ix_erasure_request_state", "state", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8), default="de")
    state: Mapped[ErasureState] = mapped_column(
        Enum(
            ErasureState,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ErasureState.REQUESTED,
    )
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    postponed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
