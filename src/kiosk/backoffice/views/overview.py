"""The landing page of the back office: what needs doing, each figure a link to its list."""

from __future__ import annotations

from flask import render_template

from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.overview import overview as figures
from kiosk.backoffice.views import bp


@bp.get("/")
@require(Permission.VIEW_OVERVIEW)
def overview() -> str:
    """Orders to ship, overdue payments, returns, low stock, failed mail: counted and linked."""
    return render_template("staff/overview.html", figures=figures())
