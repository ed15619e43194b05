"""Rate-limit counters kept in the shop's database, shared by every worker and instance.

One row per limit and key (`kiosk.rate_limit_storage`): the moving window's
recent hits, or the fixed window's count. The key is stored as a SHA-256,
because it holds email and IP addresses and nothing needs to read it back.
"""

from __future__ import annotations

from sqlalchemy import JSON, Double, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base


class RateLimitWindow(Base):
    __tablename__ = "rate_limit_window"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Moving window: the times (Unix seconds) of the hits still inside it, newest first.
    hits: Mapped[list[float]] = mapped_column(JSON, default=list)
    # Fixed window: the hits counted since the window began.
    count: Mapped[int] = mapped_column(default=0)
    # When the row means nothing any more (Unix seconds); older rows are deleted.
    expires_at: Mapped[float] = mapped_column(Double, index=True)
