"""The audit log for the owner: every recorded event, newest first, filtered by actor,
event, subject and day; htmx swaps only the results while the owner types."""

from __future__ import annotations

from datetime import date

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kiosk.backoffice import audit_log
from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.audit_log import AuditFilter
from kiosk.backoffice.views import bp
from kiosk.hypermedia import page_count, page_number, render_page
from kiosk.validation import search_text

ENTRIES_PER_PAGE = 50
# Days outside these years are typing mistakes (and would overflow the day after).
FIRST_YEAR, LAST_YEAR = 2000, 2999


def _day(key: str, problems: list[str]) -> date | None:
    """A day from the query string; a bad one is named in `problems` and left out."""
    raw = search_text(request.args.get(key, ""), 40)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        problems.append(_("%(value)s is not a date like 2026-11-23.", value=raw))
        return None
    return day


@bp.get("/audit")
@require(Permission.VIEW_AUDIT_LOG)
def audit_log_page() -> ResponseReturnValue:
    """The log, 50 entries a page, with the accounts' addresses beside their ids."""
    problems: list[str] = []
    filters = AuditFilter(
        actor=search_text(request.args.get("actor", ""), 100),
        subject=search_text(request.args.get("subject", ""), 100),
        event=search_text(request.args.get("event", ""), 60),
        since=_day("from", problems),
        until=_day("to", problems),
    )
    page = page_number()
    rows, total = audit_log.log_page(filters, page, ENTRIES_PER_PAGE)
    return render_page(
        "staff/audit.html",
        "staff/_audit.html",
        rows=rows,
        total=total,
        filters=filters,
        problems=problems,
        events=audit_log.events(),
        page_number=page,
        pages=page_count(total, ENTRIES_PER_PAGE),
    )
