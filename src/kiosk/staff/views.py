"""Staff pages that later issues grow into the back office. Staff role required."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.auth.forms import EmptyForm
from kiosk.auth.guards import require_role
from kiosk.models import Role
from kiosk.services import mail, staff

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/mail")
@require_role(Role.STAFF)
def outbox() -> str:
    """Mail that is waiting or failed, with the reason of the last attempt."""
    return render_template("staff/outbox.html", messages=mail.outbox_overview(), form=EmptyForm())


@bp.post("/mail/<int:message_id>/retry")
@require_role(Role.STAFF)
def retry_mail(message_id: int) -> ResponseReturnValue:
    """Give a failed message a fresh set of attempts."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if staff.retry_mail(current_user.id, message_id):
        flash(_("The message will be sent again."), "success")
    else:
        flash(_("Only failed messages can be retried."), "error")
    return redirect(url_for("staff.outbox"), code=303)
