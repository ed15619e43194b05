"""Back-in-stock requests: a shopper asks to be mailed once when a sold-out product returns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kiosk.models.catalog import Product
from kiosk.orm import Base, UTCDateTime, utcnow


class StockAlert(Base):
    """One address waiting for one product.

    A guest's request counts only once ``confirmed_at`` is set (double
    opt-in); ``notified_at`` is set in the same transaction that queues the
    mail, so each request is mailed at most once.
    """

    __tablename__ = "stock_alert"
    __table_args__ = (UniqueConstraint("product_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    # Stored normalised (trimmed, lower-cased) like User.email, so the pair stays unique.
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped[Product] = relationship()
