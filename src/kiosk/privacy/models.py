"""The privacy centre's tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base, UTCDateTime, utcnow


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
