"""What staff do to products, each in one transaction with its audit entry.

The catalog makes the change (`catalog.editing`); here it gets its actor and its record,
and a delete first asks the orders whether any of them names the product.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from kiosk.accounts import services as accounts
from kiosk.audit import services as audit
from kiosk.catalog import editing
from kiosk.catalog.editing import Clash, PriceChange, PriceLine, ProductValues
from kiosk.orders import services as orders
from kiosk.uow import read_session, unit_of_work


def _clash_of(values: ProductValues, product_id: int | None) -> Clash:
    """Which unique value a concurrent writer took between our check and our write."""
    return editing.find_clash(values, product_id) or Clash("sku", values.sku, values.sku)


def create_product(staff_id: int, values: ProductValues) -> int:
    """A new product; its id. Raises Clash for a slug or SKU in use."""
    try:
        with unit_of_work() as session:
            product = editing.create(session, values)
            audit.record(
                session,
                "product.created",
                actor=accounts.find_user(session, staff_id),
                product=product.id,
                values=values.record(),
            )
            return product.id
    except IntegrityError:
        raise _clash_of(values, None) from None


def update_product(staff_id: int, product_id: int, values: ProductValues) -> bool:
    """Save the product's fields; False if nothing changed. LookupError, Clash."""
    try:
        with unit_of_work() as session:
            product, changed = editing.update(session, product_id, values)
            if changed:
                audit.record(
                    session,
                    "product.updated",
                    actor=accounts.find_user(session, staff_id),
                    product=product.id,
                    sku=product.sku,
                    changes=changed,
                )
            return bool(changed)
    except IntegrityError:
        raise _clash_of(values, product_id) from None


def duplicate_product(staff_id: int, product_id: int) -> int:
    """An inactive copy of the product; the copy's id. LookupError if it is gone."""
    with unit_of_work() as session:
        original, copy = editing.duplicate(session, product_id)
        audit.record(
            session,
            "product.duplicated",
            actor=accounts.find_user(session, staff_id),
            product=copy.id,
            copied_from=original.id,
            values=ProductValues.of(copy).record(),
        )
        return copy.id


def may_delete(product_id: int) -> bool:
    """Whether deleting would delete (no order names the product) rather than archive."""
    product = editing.product_for_staff(product_id)
    return (
        product is not None
        and editing.may_delete(product)
        and not orders.product_is_ordered(read_session(), product_id)
    )


class Removal(enum.StrEnum):
    DELETED = "deleted"
    ARCHIVED = "archived"
    ALREADY_ARCHIVED = "already_archived"


def remove_product(staff_id: int, product_id: int) -> Removal:
    """Delete the product if no order names it and no checkout holds it; otherwise
    archive it (inactive, out of the list). LookupError if it is gone already."""
    with unit_of_work() as session:
        product = editing.locked(session, product_id)
        if product is None:
            raise LookupError(product_id)
        actor = accounts.find_user(session, staff_id)
        snapshot: dict[str, Any] = {"product": product.id, "sku": product.sku, "name": product.name}
        if editing.may_delete(product) and not orders.product_is_ordered(session, product.id):
            values = ProductValues.of(product).record()
            editing.delete(session, product)
            audit.record(session, "product.deleted", actor=actor, values=values, **snapshot)
            return Removal.DELETED
        if not editing.archive(session, product):
            return Removal.ALREADY_ARCHIVED
        audit.record(session, "product.archived", actor=actor, **snapshot)
        return Removal.ARCHIVED


def restore_product(staff_id: int, product_id: int) -> bool:
    """Bring an archived product back into the list (inactive); False if it was not archived."""
    with unit_of_work() as session:
        product = editing.locked(session, product_id)
        if product is None:
            raise LookupError(product_id)
        if not editing.restore(session, product):
            return False
        audit.record(
            session,
            "product.restored",
            actor=accounts.find_user(session, staff_id),
            product=product.id,
            sku=product.sku,
        )
        return True


def set_active(staff_id: int, product_ids: Sequence[int], active: bool) -> int:
    """Activate or deactivate the selection; how many changed (0 on a repeat)."""
    with unit_of_work() as session:
        changed = editing.set_active(session, product_ids, active)
        if changed:
            audit.record(
                session,
                "product.bulk_activated" if active else "product.bulk_deactivated",
                actor=accounts.find_user(session, staff_id),
                products=[p.id for p in changed],
                changes={"is_active": {"before": not active, "after": active}},
            )
        return len(changed)


def move_to_category(staff_id: int, product_ids: Sequence[int], category_id: int | None) -> int:
    """Put the selection into a category; how many moved. LookupError if it is gone."""
    with unit_of_work() as session:
        moved = editing.move(session, product_ids, category_id)
        if moved:
            audit.record(
                session,
                "product.bulk_moved",
                actor=accounts.find_user(session, staff_id),
                products=[p.id for p, _ in moved],
                changes={
                    str(p.id): {"category_id": {"before": before, "after": category_id}}
                    for p, before in moved
                },
            )
        return len(moved)


def change_prices(
    staff_id: int, change: PriceChange, expected: Mapping[int, int]
) -> tuple[list[PriceLine], int]:
    """Apply a previewed price change (see `editing.apply_prices`); PriceRefused."""
    with unit_of_work() as session:
        lines, stale = editing.apply_prices(session, change, expected)
        if lines:
            details: dict[str, Any] = {
                str(line.product.id): {
                    "price_cents": {"before": line.old_cents, "after": line.new_cents}
                }
                for line in lines
            }
            audit.record(
                session,
                "product.bulk_repriced",
                actor=accounts.find_user(session, staff_id),
                products=[line.product.id for line in lines],
                rule={"by_percent": change.by_percent, "up": change.up, "amount": change.amount},
                changes=details,
            )
        return lines, stale
