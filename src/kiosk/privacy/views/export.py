"""Export pages: the account's privacy page, and a guest's request by emailed link.

Downloads are POSTs with a CSRF token, both for the account and for the link's page:
a GET that hands out the ZIP would put a bearer URL into browser history, proxy logs
and Referer headers, and mail scanners that open every link would use up a single-use
link before the person clicks it. The link's GET shows a button instead.
"""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.accounts.guards import require_verified_account
from kiosk.accounts.links import token_message
from kiosk.accounts.tokens import TokenError
from kiosk.extensions import limiter
from kiosk.hypermedia import render_page
from kiosk.limits import rate
from kiosk.privacy import export as exports
from kiosk.privacy.forms import ExportRequestForm
from kiosk.privacy.views import bp
from kiosk.validation import EmptyForm


def _email_key() -> str:
    """Rate-limit key 'per address': the one the form names, known or not."""
    return "privacy-export:" + request.form.get("email", "").strip().lower()[:254]


def _download(export: exports.Export) -> ResponseReturnValue:
    response = send_file(
        io.BytesIO(export.data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=export.filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_problem(error: TokenError) -> ResponseReturnValue:
    """The page for an export link that is expired, used or broken."""
    return render_template("privacy/link_problem.html", message=token_message(error.problem)), 400


@bp.get("/account/privacy")
@require_verified_account
def account() -> ResponseReturnValue:
    """The account's privacy page: download your data (and, once built, erase it)."""
    return render_template("privacy/account.html", form=EmptyForm())


@bp.post("/account/privacy/export")
@require_verified_account
@limiter.limit(rate("privacy_export"))
def account_export() -> ResponseReturnValue:
    """The signed-in customer's ZIP, straight as the answer to the button."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _download(exports.export_account(current_user.id, current_user.email))


@bp.route("/privacy/export", methods=["GET", "POST"])
@limiter.limit(rate("privacy_export_request"), methods=["POST"])
@limiter.limit(rate("privacy_export_request_account"), methods=["POST"], key_func=_email_key)
def guest_export() -> ResponseReturnValue:
    """A guest asks for their data; the answer is the same whether the address is known."""
    form = ExportRequestForm()
    if form.validate_on_submit():
        exports.request_guest_export(form.email.data or "", str(get_locale() or ""))
        flash(
            _(
                "If we hold data under this address, we have sent it a link to download it."
                " The link works once, within 24 hours."
            ),
            "success",
        )
        return redirect(url_for("privacy.guest_export"), code=303)
    status = 422 if form.errors else 200
    return render_page("privacy/export.html", "privacy/export.html", status, form=form)


@bp.route("/privacy/export/<token>", methods=["GET", "POST"])
@limiter.limit(rate("privacy_export"), methods=["POST"])
def guest_download(token: str) -> ResponseReturnValue:
    """The mailed link: a page with the download button, which uses the link up."""
    form = EmptyForm()
    try:
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400)
            return _download(exports.export_by_link(token))
        exports.check_guest_link(token)
    except TokenError as error:
        return _link_problem(error)
    return render_template("privacy/download.html", form=form, token=token)
