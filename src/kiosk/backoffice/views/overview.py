"""The landing page of the back office: what needs doing, each figure a link to its list."""

from __future__ import annotations

from flask import current_app, render_template, url_for

from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.overview import overview as figures
from kiosk.backoffice.views import bp


@bp.get("/")
@require(Permission.VIEW_OVERVIEW)
def overview() -> str:
    """Orders to ship, overdue payments, returns, low stock, failed mail: counted and linked.

    The stock list is another area's page; the low-stock figure links there once it exists.
    """
    stock = "staff.stock"
    return render_template(
        "staff/overview.html",
        figures=figures(),
        stock_url=url_for(stock) if stock in current_app.view_functions else None,
    )
