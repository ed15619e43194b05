"""Who may do what in the back office: one table, read by every staff route and shown to staff.

Each staff route names one `Permission` with `@require(...)`; the table says which role
it needs at least. A test walks the URL map and proves every `/staff` route is guarded
this way, so a new page cannot forget its check.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l

from kiosk.accounts.guards import require_role
from kiosk.accounts.models import Role

View = TypeVar("View", bound=Callable[..., Any])


class Permission(enum.StrEnum):
    """A kind of work in the back office; its value is also the table's row key."""

    VIEW_OVERVIEW = "view_overview"
    MANAGE_ORDERS = "manage_orders"
    REFUND = "refund"
    REFUND_ABOVE_LIMIT = "refund_above_limit"
    MANAGE_MAIL = "manage_mail"
    MANAGE_CATALOG = "manage_catalog"
    MANAGE_STOCK = "manage_stock"
    MANAGE_CUSTOMERS = "manage_customers"
    MANAGE_COUPONS = "manage_coupons"
    MANAGE_STAFF = "manage_staff"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_LEGAL_TEXTS = "manage_legal_texts"
    HANDLE_PRIVACY_REQUESTS = "handle_privacy_requests"

    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_DASHBOARD = "view_dashboard"


# The lowest role that may do each kind of work. Owners may do everything staff may.
TABLE: dict[Permission, Role] = {
    Permission.VIEW_OVERVIEW: Role.STAFF,
    Permission.MANAGE_ORDERS: Role.STAFF,
    Permission.REFUND: Role.STAFF,
    Permission.REFUND_ABOVE_LIMIT: Role.OWNER,
    Permission.MANAGE_MAIL: Role.STAFF,
    Permission.MANAGE_CATALOG: Role.STAFF,
    Permission.MANAGE_STOCK: Role.STAFF,
    Permission.MANAGE_CUSTOMERS: Role.STAFF,
    Permission.MANAGE_COUPONS: Role.STAFF,
    Permission.MANAGE_STAFF: Role.OWNER,
    Permission.MANAGE_SETTINGS: Role.OWNER,
    Permission.MANAGE_LEGAL_TEXTS: Role.OWNER,
    Permission.HANDLE_PRIVACY_REQUESTS: Role.STAFF,
    # The log shows who did what, staff included: the owner checks it, staff cannot
    # browse what their colleagues (or the owner) did.
    Permission.VIEW_AUDIT_LOG: Role.OWNER,
    # Revenue, margins of the month and what sells are the owner's business figures; staff
    # see what needs doing (the overview), not how much the shop earns.
    Permission.VIEW_DASHBOARD: Role.OWNER,
}

# What each row means, for the staff page that shows the table.
DESCRIPTIONS: dict[Permission, Any] = {
    Permission.VIEW_OVERVIEW: _l("See the overview of what needs doing"),
    Permission.MANAGE_ORDERS: _l("Handle orders: payments received, shipping, returns, notes"),
    Permission.REFUND: _l("Refund orders up to the owner's limit"),
    Permission.REFUND_ABOVE_LIMIT: _l("Refund more than the owner's limit"),
    Permission.MANAGE_MAIL: _l("See the mail outbox and send failed mail again"),
    Permission.MANAGE_CATALOG: _l("Edit products, pictures and categories; import and export"),
    Permission.MANAGE_STOCK: _l("Adjust stock"),
    Permission.MANAGE_CUSTOMERS: _l("See customers, write notes, disable sign-in"),
    Permission.MANAGE_COUPONS: _l("Create and change coupons"),
    Permission.MANAGE_STAFF: _l("Invite staff, change roles, remove staff"),
    Permission.MANAGE_SETTINGS: _l("Change seller data, shipping, mail sender and shop name"),
    Permission.MANAGE_LEGAL_TEXTS: _l("Change the legal texts"),
    Permission.HANDLE_PRIVACY_REQUESTS: _l("See erasure requests and their state"),
    Permission.VIEW_AUDIT_LOG: _l("See the audit log: who did what, and when"),
    Permission.VIEW_DASHBOARD: _l(
        "See the dashboard: revenue, orders, best sellers, visitors and searches "
        "(owner only: revenue is the owner's business)"
    ),
}


def allows(role: Role, permission: Permission) -> bool:
    """Whether someone with `role` may do `permission`'s work."""
    return role.rank >= TABLE[permission].rank


def require(permission: Permission) -> Callable[[View], View]:
    """Guard a staff route by the table: sign-in, then the role the permission needs.

    The view keeps its permission as `view.permission`, which the URL-map test reads.
    """
    guard = require_role(TABLE[permission])

    def decorator(view: View) -> View:
        guarded = guard(view)
        guarded.permission = permission  # type: ignore[attr-defined]
        return guarded

    return decorator
