"""Words for the kinds of stock movement, in the page's language (the staff ledger)."""

from __future__ import annotations

from flask_babel import gettext as _

from kiosk.inventory.models import MovementKind


def movement_kind_name(kind: MovementKind | str) -> str:
    names = {
        MovementKind.SALE: _("Sale"),
        MovementKind.RESTOCK: _("Goods received"),
        MovementKind.RETURN: _("Return"),
        MovementKind.ADJUSTMENT: _("Adjustment"),
        MovementKind.COUNT: _("Stock count"),
        MovementKind.DAMAGE: _("Damage"),
        MovementKind.RESERVATION: _("Reserved"),
        MovementKind.RELEASE: _("Reservation ended"),
    }
    return str(names.get(MovementKind(kind), kind))
