"""Coupons by code, their uses per customer, and counting a use without going over."""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from kiosk.coupons.models import Coupon, CouponRedemption


class CouponRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> Coupon | None:
        return self.session.scalar(select(Coupon).where(Coupon.code == code))

    def get(self, coupon_id: int) -> Coupon | None:
        return self.session.get(Coupon, coupon_id)

    def newest_first(self) -> list[Coupon]:
        return list(self.session.scalars(select(Coupon).order_by(Coupon.id.desc())))

    def add(self, coupon: Coupon) -> Coupon:
        self.session.add(coupon)
        return coupon

    def uses_by(self, coupon: Coupon, email: str, user_id: int | None) -> int:
        """How often this address (or this account) has used the coupon."""
        who = [func.lower(CouponRedemption.email) == email.lower()]
        if user_id is not None:
            who.append(CouponRedemption.user_id == user_id)
        query = (
            select(func.count())
            .select_from(CouponRedemption)
            .where(CouponRedemption.coupon_id == coupon.id, or_(*who))
        )
        return int(self.session.scalar(query) or 0)

    def count_use(self, coupon: Coupon) -> bool:
        """One more use, if the coupon is active and not used up (one conditional UPDATE)."""
        result = self.session.execute(
            update(Coupon)
            .where(
                Coupon.id == coupon.id,
                Coupon.is_active.is_(True),
                (Coupon.max_uses.is_(None)) | (Coupon.times_used < Coupon.max_uses),
            )
            .values(times_used=Coupon.times_used + 1)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]

    def add_redemption(self, redemption: CouponRedemption) -> None:
        self.session.add(redemption)
