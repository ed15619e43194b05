"""Signed-in sessions, one row per device, so signing out ends a session on the server.

The browser holds a random secret (in Flask's signed session cookie and in the
remember-me cookie); the row holds only its SHA-256, so a copy of the database
opens no session. Deleting the row ends both cookies at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base, UTCDateTime, utcnow


class UserSession(Base):
    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "Stay signed in": the remember-me cookie may start new cookie sessions until
    # KIOSK_REMEMBER_DAYS after sign-in, so the idle limit does not apply to the row.
    remember: Mapped[bool] = mapped_column(default=False)
    # What the User-Agent said, for the list of sessions ("Firefox", "Linux"); no IP address.
    browser: Mapped[str] = mapped_column(String(40), default="")
    system: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def is_live(
        self, now: datetime, idle: timedelta, longest: timedelta, remember_for: timedelta
    ) -> bool:
        """Within the idle and absolute limits (remembered sessions: within remember_for)."""
        if self.remember:
            return now < self.created_at + remember_for
        return now < self.created_at + longest and now < self.last_seen_at + idle

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"
