"""The mail outbox: what waits or failed, and sending a failed message again."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.backoffice import services as staff
from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.views import bp
from kiosk.mail import services as mail
from kiosk.validation import EmptyForm


@bp.get("/mail")
@require(Permission.MANAGE_MAIL)
def outbox() -> str:
    """Mail that is waiting or failed, with the reason of the last attempt."""
    return render_template("staff/outbox.html", messages=mail.outbox_overview(), form=EmptyForm())


@bp.post("/mail/<int:message_id>/retry")
@require(Permission.MANAGE_MAIL)
def retry_mail(message_id: int) -> ResponseReturnValue:
    """Give a failed message a fresh set of attempts."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if staff.retry_mail(current_user.id, message_id):
        flash(_("The message will be sent again."), "success")
    else:
        flash(_("Only failed messages can be retried."), "error")
    return redirect(url_for("staff.outbox"), code=303)
