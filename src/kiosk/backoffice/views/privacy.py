"""Erasure requests (Art. 17 GDPR) and where each one stands, for staff to answer
questions about them; the requests run by themselves (mailed link, daily job)."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.views import bp
from kiosk.hypermedia import render_page
from kiosk.privacy import erasure
from kiosk.privacy.labels import erasure_state_names
from kiosk.privacy.models import ErasureState


@bp.get("/privacy")
@require(Permission.HANDLE_PRIVACY_REQUESTS)
def privacy_requests() -> ResponseReturnValue:
    """The newest erasure requests, optionally of one state."""
    chosen = request.args.get("state", "")
    state = ErasureState(chosen) if chosen in set(ErasureState) else None
    return render_page(
        "staff/privacy.html",
        "staff/_privacy_requests.html",
        requests=erasure.requests_for_staff(state),
        states=list(ErasureState),
        chosen=state.value if state else "",
        state_names=erasure_state_names(),
    )
