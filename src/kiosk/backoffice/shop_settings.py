"""The owner's settings and the coupons as staff change them: each change in one transaction
with its audit record (actor, before and after), and nothing stored when nothing changed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy.orm import Session

from kiosk.accounts import services as accounts
from kiosk.audit import services as audit
from kiosk.backoffice.repository import ShopSettingRepository
from kiosk.coupons import services as coupons
from kiosk.invoicing import seller as sellers
from kiosk.shipping import services as shipping
from kiosk.uow import read_session, unit_of_work


@dataclass(frozen=True)
class SellerHistoryEntry:
    """One version of the seller's details for the history table."""

    id: int
    created_at: datetime
    author: str  # the account's email; empty for the version from the environment
    changes: dict[str, tuple[str, str]]


def seller_details() -> sellers.Seller:
    return sellers.current(read_session())


def seller_history() -> list[SellerHistoryEntry]:
    """Every version, newest first, with who saved it and what it changed."""
    session = read_session()
    emails: dict[int, str] = {}
    entries = []
    for version in sellers.history(session):
        author = ""
        if version.author_id is not None:
            if version.author_id not in emails:
                user = accounts.find_user(session, version.author_id)
                emails[version.author_id] = user.email if user else ""
            author = emails[version.author_id]
        entries.append(SellerHistoryEntry(version.id, version.created_at, author, version.changes))
    return entries


def change_seller(staff_id: int, details: sellers.Seller) -> bool:
    """Store the details as a new version; False if they equal the newest (nothing stored)."""
    with unit_of_work() as session:
        changes = sellers.save(session, details, staff_id)
        if not changes:
            return False
        audit.record(
            session,
            "settings.seller_changed",
            actor=accounts.find_user(session, staff_id),
            # The seller's name, address, email and bank account may be a person's (a sole
            # trader): the versions keep the values, the audit log which fields changed.
            changed=sorted(changes),
        )
        return True


def create_coupon(staff_id: int, new: coupons.NewCoupon) -> int:
    """Add a coupon; its id (CodeTaken, ValueError as the coupons domain says)."""
    with unit_of_work() as session:
        coupon = coupons.add(session, new)
        audit.record(
            session,
            "coupon.created",
            actor=accounts.find_user(session, staff_id),
            coupon=coupon.id,
            after=coupons.describe(coupon),
        )
        return coupon.id


def change_coupon(staff_id: int, coupon_id: int, new: coupons.NewCoupon) -> None:
    """Change a coupon's terms (LookupError, CodeTaken, TooFewUses, ValueError)."""
    with unit_of_work() as session:
        coupon, before = coupons.change(session, coupon_id, new)
        after = coupons.describe(coupon)
        if after == before:
            return
        audit.record(
            session,
            "coupon.updated",
            actor=accounts.find_user(session, staff_id),
            coupon=coupon.id,
            before=before,
            after=after,
        )


def switch_coupon(staff_id: int, coupon_id: int, active: bool) -> bool:
    """Activate or deactivate a coupon; False when it already was (LookupError: none)."""
    with unit_of_work() as session:
        coupon = coupons.set_active(session, coupon_id, active)
        if coupon is None:
            return False
        audit.record(
            session,
            "coupon.activated" if active else "coupon.deactivated",
            actor=accounts.find_user(session, staff_id),
            coupon=coupon.id,
            before={"is_active": not active},
            after={"is_active": active},
        )
        return True


def _audited(
    session: Session,
    staff_id: int,
    event: str,
    changed: tuple[dict[str, Any], dict[str, Any]] | None,
    **names: Any,
) -> bool:
    """Record a settings change with its before and after; False if nothing changed."""
    if changed is None:
        return False
    before, after = changed
    actor = accounts.find_user(session, staff_id)
    audit.record(session, event, actor=actor, before=before, after=after, **names)
    return True


def change_shipping_method(staff_id: int, code: str, terms: shipping.MethodTerms) -> bool:
    """Set a method's terms (the shipping file copied into the table on the first save);
    False if nothing changed (LookupError, ShippingConfigError)."""
    with unit_of_work() as session:
        changed = shipping.change_method(session, code, terms)
        return _audited(session, staff_id, "settings.shipping_changed", changed, method=code)


def create_carrier(staff_id: int, code: str, terms: shipping.CarrierTerms) -> None:
    """Add a carrier (the shipping file's carriers copied into the table on the first save)
    (CarrierCodeTaken, ShippingConfigError)."""
    with unit_of_work() as session:
        after = shipping.add_carrier(session, code, terms)
        audit.record(
            session,
            "settings.carrier_created",
            actor=accounts.find_user(session, staff_id),
            carrier=code,
            after=after,
        )


def change_carrier(staff_id: int, code: str, terms: shipping.CarrierTerms) -> bool:
    """Set a carrier's name, tracking page and whether staff ship with it; False if nothing
    changed (LookupError, ShippingConfigError)."""
    with unit_of_work() as session:
        changed = shipping.change_carrier(session, code, terms)
        return _audited(session, staff_id, "settings.carrier_changed", changed, carrier=code)


@dataclass(frozen=True)
class ShopValues:
    """What the owner sets of the shop; the environment gives the defaults."""

    shop_name: str
    mail_from: str
    refund_limit_cents: int | None  # None: staff may refund any amount paid


# Settings whose values the audit log leaves out (only that they changed): an address.
PERSONAL_SETTINGS = frozenset({"mail_from"})


def shop_values() -> ShopValues:
    """The shop's settings, read once per request (every page shows the shop's name); a job
    or the mail worker, which live long, read them each time."""
    cached: ShopValues | None = g.get("kiosk_shop_values") if has_request_context() else None
    if cached is not None:
        return cached
    stored = ShopSettingRepository(read_session()).values()
    config = current_app.config
    limit = stored.get("refund_limit_cents", "")
    values = ShopValues(
        shop_name=stored.get("shop_name") or config["KIOSK_SHOP_NAME"],
        mail_from=stored.get("mail_from") or config["KIOSK_MAIL_FROM"],
        refund_limit_cents=int(limit) if limit else None,
    )
    g.kiosk_shop_values = values
    return values


def shop_name() -> str:
    return shop_values().shop_name


def mail_sender() -> str:
    return shop_values().mail_from


def change_shop(staff_id: int, values: ShopValues) -> bool:
    """Store the owner's shop settings; False if nothing changed."""
    before = asdict(shop_values())
    after = asdict(values)
    changed = {key: value for key, value in after.items() if before[key] != value}
    if not changed:
        return False
    with unit_of_work() as session:
        settings = ShopSettingRepository(session)
        for key, value in changed.items():
            settings.put(key, "" if value is None else str(value), staff_id)
        audit.record(
            session,
            "settings.shop_changed",
            actor=accounts.find_user(session, staff_id),
            changed=sorted(changed),
            # The mail sender is an address: which one stays in the settings, not here.
            before={key: before[key] for key in changed if key not in PERSONAL_SETTINGS},
            after={key: value for key, value in changed.items() if key not in PERSONAL_SETTINGS},
        )
    g.pop("kiosk_shop_values", None)
    return True
