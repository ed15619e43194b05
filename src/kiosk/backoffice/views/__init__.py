"""The back office: one blueprint, one module of pages per area of work.

Every route is guarded by `kiosk.backoffice.access.require` with the permission its work
needs; the table of permissions lives in `kiosk.backoffice.access`.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from kiosk.backoffice.access import Permission, allows

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.context_processor
def _permissions() -> dict[str, object]:
    """`staff_may('manage_staff')` in staff templates: show only what the viewer may use."""

    def staff_may(permission: str) -> bool:
        return bool(current_user.is_authenticated) and allows(
            current_user.role, Permission(permission)
        )

    return {"staff_may": staff_may}


# The areas register their routes on `bp` when imported.
from kiosk.backoffice.views import (  # noqa: E402
    audit,
    categories,
    consent,
    coupons,
    customers,
    dashboard,
    imports,
    legal,
    mail,
    order_operations,
    orders,
    overview,
    pictures,
    privacy,
    products,
    settings,
    staff,
    stock,
)

__all__ = [
    "audit",
    "bp",
    "categories",
    "consent",
    "coupons",
    "customers",
    "dashboard",
    "imports",
    "legal",
    "mail",
    "order_operations",
    "orders",
    "overview",
    "pictures",
    "privacy",
    "products",
    "settings",
    "staff",
    "stock",
]
