"""Coupons: which code applies to which cart, and its use counted when an order is placed.

`check` says why a code is refused in words for the shopper. `redeem` runs in
the order's transaction: the use is counted by one conditional UPDATE
(`times_used < max_uses`), which also takes the coupon's row lock on
PostgreSQL, so the per-customer count read after it cannot race a second
order of the same customer (on SQLite the whole transaction holds the lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kiosk.coupons.models import Coupon, CouponKind, CouponRedemption
from kiosk.coupons.repository import CouponRepository
from kiosk.money import Money, div_round_half_up
from kiosk.orm import utcnow
from kiosk.uow import read_session, unit_of_work


class CouponRefused(ValueError):
    """The code does not apply; the message says why, for the shopper."""


def normalise(code: str) -> str:
    return "".join(code.split()).upper()


@dataclass(frozen=True)
class Customer:
    email: str
    user_id: int | None = None


def discount(coupon: Coupon, items: Money) -> Money:
    """The amount off the items; never more than the items cost."""
    if coupon.kind is CouponKind.PERCENT:
        cents = div_round_half_up(items.cents * coupon.value, 10_000)
    else:
        cents = coupon.value
    return Money(min(cents, items.cents), items.currency)


def _uses_by(session: Session, coupon: Coupon, customer: Customer) -> int:
    return CouponRepository(session).uses_by(coupon, customer.email, customer.user_id)


def check(
    session: Session,
    code: str,
    items: Money,
    customer: Customer | None,
    now: datetime | None = None,
) -> Coupon:
    """The coupon for `code` if it applies to these items now, else CouponRefused."""
    now = now or utcnow()
    coupon = CouponRepository(session).by_code(normalise(code))
    if coupon is None or not coupon.is_active:
        raise CouponRefused(_("The code %(code)s is not valid.", code=normalise(code)))
    if coupon.valid_from is not None and now < coupon.valid_from:
        raise CouponRefused(
            _("This code is valid from %(date)s.", date=format_datetime(coupon.valid_from, "short"))
        )
    if coupon.valid_until is not None and now >= coupon.valid_until:
        raise CouponRefused(
            _("This code expired on %(date)s.", date=format_datetime(coupon.valid_until, "short"))
        )
    if coupon.kind is CouponKind.FIXED and coupon.currency != items.currency:
        raise CouponRefused(_("The code %(code)s is not valid.", code=coupon.code))
    if items.cents < coupon.min_order_cents:
        raise CouponRefused(
            _(
                "This code needs items worth at least %(amount)s.",
                amount=Money(coupon.min_order_cents, items.currency).format(
                    str(get_locale() or "de")
                ),
            )
        )
    if coupon.max_uses is not None and coupon.times_used >= coupon.max_uses:
        raise CouponRefused(_("This code has been used up."))
    if (
        customer is not None
        and coupon.max_uses_per_customer is not None
        and _uses_by(session, coupon, customer) >= coupon.max_uses_per_customer
    ):
        raise CouponRefused(_("You have already used this code as often as it allows."))
    return coupon


def redeem(session: Session, coupon: Coupon, order_id: int, customer: Customer) -> None:
    """Count one use for an order, in the order's transaction (CouponRefused if none is left)."""
    if not CouponRepository(session).count_use(coupon):
        raise CouponRefused(_("This code has been used up."))
    if (
        coupon.max_uses_per_customer is not None
        and _uses_by(session, coupon, customer) >= coupon.max_uses_per_customer
    ):
        raise CouponRefused(_("You have already used this code as often as it allows."))
    CouponRepository(session).add_redemption(
        CouponRedemption(
            coupon_id=coupon.id,
            order_id=order_id,
            user_id=customer.user_id,
            email=customer.email.lower(),
        )
    )


@dataclass(frozen=True)
class NewCoupon:
    code: str
    kind: CouponKind
    value: int
    min_order_cents: int = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: int | None = None
    max_uses_per_customer: int | None = None
    currency: str = "EUR"


class CodeTaken(ValueError):
    """Another coupon has this code already."""


def _checked(new: NewCoupon) -> str:
    """The normalised code, once the coupon's rules hold (ValueError otherwise)."""
    code = normalise(new.code)
    if not code or len(code) > 40 or not code.replace("-", "").isalnum():
        raise ValueError("a code is 1–40 letters, digits and hyphens")
    if new.kind is CouponKind.PERCENT and not 0 < new.value <= 10_000:
        raise ValueError("a percentage lies between 0.01 and 100")
    if new.kind is CouponKind.FIXED and new.value <= 0:
        raise ValueError("a fixed discount is more than nothing")
    if new.valid_from and new.valid_until and new.valid_until <= new.valid_from:
        raise ValueError("the end of validity must follow its start")
    return code


def add(session: Session, new: NewCoupon) -> Coupon:
    """Add a coupon in the caller's transaction (CodeTaken if the code exists)."""
    code = _checked(new)
    coupons = CouponRepository(session)
    if coupons.by_code(code) is not None:
        raise CodeTaken(f"the code {code} exists already")
    coupon = Coupon(
        code=code,
        kind=new.kind,
        value=new.value,
        currency=new.currency,
        min_order_cents=new.min_order_cents,
        valid_from=new.valid_from,
        valid_until=new.valid_until,
        max_uses=new.max_uses,
        max_uses_per_customer=new.max_uses_per_customer,
    )
    coupons.add(coupon)
    session.flush()
    return coupon


def create(new: NewCoupon) -> Coupon:
    """Add a coupon (the CLI and tests use this; the back office adds with an audit record)."""
    with unit_of_work() as session:
        return add(session, new)


def describe(coupon: Coupon) -> dict[str, Any]:
    """What a coupon's terms are, as the audit log keeps them before and after a change."""
    return {
        "code": coupon.code,
        "kind": coupon.kind.value,
        "value": coupon.value,
        "currency": coupon.currency,
        "min_order_cents": coupon.min_order_cents,
        "valid_from": coupon.valid_from.isoformat() if coupon.valid_from else None,
        "valid_until": coupon.valid_until.isoformat() if coupon.valid_until else None,
        "max_uses": coupon.max_uses,
        "max_uses_per_customer": coupon.max_uses_per_customer,
        "is_active": coupon.is_active,
    }


class TooFewUses(ValueError):
    """The new usage limit lies below the uses counted so far."""


def change(session: Session, coupon_id: int, new: NewCoupon) -> tuple[Coupon, dict[str, Any]]:
    """Change a coupon's terms; its uses so far stay counted. Returns the coupon and its
    terms before (LookupError: no such coupon; CodeTaken, TooFewUses, ValueError)."""
    coupons = CouponRepository(session)
    coupon = coupons.get(coupon_id)
    if coupon is None:
        raise LookupError(coupon_id)
    code = _checked(new)
    other = coupons.by_code(code)
    if other is not None and other.id != coupon.id:
        raise CodeTaken(f"the code {code} exists already")
    if new.max_uses is not None and new.max_uses < coupon.times_used:
        raise TooFewUses(f"used {coupon.times_used} times already")
    before = describe(coupon)
    coupon.code, coupon.kind, coupon.value = code, new.kind, new.value
    coupon.currency, coupon.min_order_cents = new.currency, new.min_order_cents
    coupon.valid_from, coupon.valid_until = new.valid_from, new.valid_until
    coupon.max_uses, coupon.max_uses_per_customer = new.max_uses, new.max_uses_per_customer
    session.flush()
    return coupon, before


def set_active(session: Session, coupon_id: int, active: bool) -> Coupon | None:
    """Switch a coupon on or off; None when it already was (a repeated click changes
    nothing). LookupError: no such coupon."""
    coupon = CouponRepository(session).get(coupon_id)
    if coupon is None:
        raise LookupError(coupon_id)
    if coupon.is_active == active:
        return None
    coupon.is_active = active
    session.flush()
    return coupon


def find(coupon_id: int) -> Coupon | None:
    return CouponRepository(read_session()).get(coupon_id)


def all_coupons() -> list[Coupon]:
    """Every coupon, newest first, each with its uses so far (`times_used`)."""
    return CouponRepository(read_session()).newest_first()
