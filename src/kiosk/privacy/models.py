"""The privacy centre's own tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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
