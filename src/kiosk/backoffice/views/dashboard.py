"""The owner's dashboard: figures of a range against the range before, charts with their
tables, and every table as CSV. A plain GET form chooses the range; htmx swaps the body."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, request
from flask.typing import ResponseReturnValue

from kiosk.backoffice import dashboard
from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.dashboard import RangeChoice
from kiosk.backoffice.views import bp
from kiosk.hypermedia import render_page
from kiosk.validation import search_text


def _choice() -> RangeChoice:
    key = search_text(request.args.get("range", ""), 10)
    return RangeChoice(
        key=key if key in dashboard.RANGES else dashboard.DEFAULT_RANGE,
        first=search_text(request.args.get("from", ""), 40),
        last=search_text(request.args.get("to", ""), 40),
    )


@bp.get("/dashboard")
@require(Permission.VIEW_DASHBOARD)
def dashboard_page() -> ResponseReturnValue:
    """How the shop did in the chosen range, each figure beside the range before."""
    board, problems = dashboard.dashboard(_choice())
    return render_page(
        "staff/dashboard.html",
        "staff/_dashboard.html",
        board=board,
        charts=dashboard.charts(board),
        problems=problems,
        ranges=dashboard.RANGES,
        reports=dashboard.REPORTS,
    )


@bp.get("/dashboard/<report>.csv")
@require(Permission.VIEW_DASHBOARD)
def dashboard_csv(report: str) -> ResponseReturnValue:
    """One of the page's tables as CSV, for the range the page shows."""
    if report not in dashboard.REPORTS:
        abort(404)
    board, _problems = dashboard.dashboard(_choice())
    buffer = io.StringIO()
    csv.writer(buffer).writerows(dashboard.csv_rows(report, board))
    name = f"{report}-{board.period.first.isoformat()}-{board.period.last.isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
