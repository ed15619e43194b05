"""Erasure pages (Art. 17 GDPR): asking, from the account or as a guest, and the mailed
confirmation link. The link's page asks once more with a button, so a mail scanner that
opens links erases nothing."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from kiosk.extensions import limiter
from kiosk.hypermedia import render_page
from kiosk.limits import rate
from kiosk.privacy import erasure
from kiosk.privacy.erasure_forms import GuestErasureForm
from kiosk.privacy.models import ErasureState
from kiosk.privacy.views import bp
from kiosk.validation import EmptyForm


@bp.route("/privacy/erase", methods=["GET", "POST"])
@limiter.limit(rate("erasure_request"), methods=["POST"])
def erase_as_guest() -> ResponseReturnValue:
    """A guest asks for erasure with an email address. The answer is the same whether or
    not the shop knows it, so the page tells no one who bought here."""
    form = GuestErasureForm()
    if form.validate_on_submit():
        erasure.request_for_guest(form.email.data or "", str(get_locale() or "de"))
        return redirect(url_for("privacy.erasure_sent"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_page("privacy/erase.html", "privacy/erase.html", status, form=form)


@bp.post("/account/privacy/erase")
@login_required
@limiter.limit(rate("erasure_request"), methods=["POST"])
def erase_account() -> ResponseReturnValue:
    """The signed-in customer asks for erasure; the link goes to the account's address."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        erasure.request_for_account(current_user.id)
    except erasure.StaffAccount:
        flash(_("A staff account is erased once an owner has taken it off the team."), "error")
        return redirect(url_for("account.overview"), code=303)
    return redirect(url_for("privacy.erasure_sent"), code=303)


@bp.get("/privacy/erase/sent")
def erasure_sent() -> str:
    """Where both ways of asking end: look in your mailbox."""
    return render_template("privacy/erasure_sent.html")


@bp.route("/privacy/erase/confirm/<token>", methods=["GET", "POST"])
def confirm_erasure(token: str) -> ResponseReturnValue:
    """The mailed link: a page with the last button (GET), which erases (POST)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        try:
            erasure.open_request(token)
        except erasure.LinkProblem:
            return render_template("privacy/erasure_link_dead.html"), 410
        return render_template("privacy/erasure_confirm.html", form=form, token=token)
    try:
        request = erasure.open_request(token)
        person = request.user_id
        outcome = erasure.confirm(token)
    except erasure.LinkProblem:
        return render_template("privacy/erasure_link_dead.html"), 410
    if outcome.state is ErasureState.DONE:
        if current_user.is_authenticated and current_user.id == person:
            logout_user()
        flash(_("Your data has been erased."), "success")
    return render_template("privacy/erasure_result.html", outcome=outcome)
