"""Customers for staff: the list with search, one customer's file, notes, resending the
verification mail, and disabling or enabling sign-in."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.accounts import customers as accounts
from kiosk.accounts.services import AccountError
from kiosk.backoffice import customers
from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.forms import CustomerNoteForm
from kiosk.backoffice.views import bp
from kiosk.hypermedia import page_count, page_number, render_page
from kiosk.privacy import erasure, export
from kiosk.privacy.labels import erasure_state_names
from kiosk.validation import EmptyForm, search_text

CUSTOMERS_PER_PAGE = 50


@bp.get("/customers")
@require(Permission.MANAGE_CUSTOMERS)
def customers_list() -> ResponseReturnValue:
    """Accounts by email or name, newest first, 50 a page; htmx swaps only the results."""
    text = search_text(request.args.get("q", ""), 100)
    page = page_number()
    rows, total = customers.customer_list(text, page, CUSTOMERS_PER_PAGE)
    return render_page(
        "staff/customers.html",
        "staff/_customers.html",
        rows=rows,
        total=total,
        text=text,
        page_number=page,
        pages=page_count(total, CUSTOMERS_PER_PAGE),
    )


def _customer_page(
    user_id: int, status: int = 200, note_form: CustomerNoteForm | None = None
) -> ResponseReturnValue:
    file = customers.customer_file(user_id)
    if file is None:
        abort(404)
    page = render_template(
        "staff/customer.html",
        file=file,
        customer=file.user,
        note_form=note_form or CustomerNoteForm(formdata=None),
        form=EmptyForm(),
        may_disable=accounts.may_disable(current_user.id, file.user),
        erasure_request=erasure.open_for_account(user_id),
        state_names=erasure_state_names(),
    )
    return page, status


@bp.get("/customers/<int:user_id>")
@require(Permission.MANAGE_CUSTOMERS)
def customer(user_id: int) -> ResponseReturnValue:
    """One customer: orders, addresses, newsletter and stock alerts, sessions, notes."""
    return _customer_page(user_id)


def _back_to(user_id: int) -> ResponseReturnValue:
    return redirect(url_for("staff.customer", user_id=user_id), code=303)


@bp.post("/customers/<int:user_id>/notes")
@require(Permission.MANAGE_CUSTOMERS)
def add_customer_note(user_id: int) -> ResponseReturnValue:
    """Write a note for staff about the customer."""
    form = CustomerNoteForm()
    if not form.validate():
        return _customer_page(user_id, 422, note_form=form)
    try:
        accounts.add_note(current_user.id, user_id, form.note.data or "")
    except LookupError:
        abort(404)
    flash(_("The note is saved."), "success")
    return _back_to(user_id)


@bp.post("/customers/<int:user_id>/resend-verification")
@require(Permission.MANAGE_CUSTOMERS)
def resend_customer_verification(user_id: int) -> ResponseReturnValue:
    """Mail the customer a fresh link to confirm their address."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        sent = accounts.resend_verification(current_user.id, user_id)
    except LookupError:
        abort(404)
    if sent:
        flash(_("A new confirmation link is on its way to the customer."), "success")
    else:
        flash(_("This address is confirmed already."), "info")
    return _back_to(user_id)


@bp.post("/customers/<int:user_id>/disable")
@require(Permission.MANAGE_CUSTOMERS)
def disable_customer(user_id: int) -> ResponseReturnValue:
    """Stop the account from signing in; every session it has ends at once."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        if accounts.disable(current_user.id, user_id):
            flash(_("Sign-in is disabled and all sessions of this account have ended."), "success")
        else:
            flash(_("Sign-in was disabled already."), "info")
    except LookupError:
        abort(404)
    except AccountError:
        flash(_("Owners and your own account cannot be disabled here."), "error")
    return _back_to(user_id)


@bp.post("/customers/<int:user_id>/enable")
@require(Permission.MANAGE_CUSTOMERS)
def enable_customer(user_id: int) -> ResponseReturnValue:
    """Let the account sign in again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        if accounts.enable(current_user.id, user_id):
            flash(_("Sign-in is enabled again."), "success")
        else:
            flash(_("Sign-in was enabled already."), "info")
    except LookupError:
        abort(404)
    return _back_to(user_id)


@bp.post("/customers/<int:user_id>/privacy-export")
@require(Permission.HANDLE_PRIVACY_REQUESTS)
def start_customer_export(user_id: int) -> ResponseReturnValue:
    """A customer asked staff for their data: the download link goes to their address."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        export.request_for_customer(current_user.id, user_id)
    except LookupError:
        abort(404)
    flash(_("A link to download their data is on its way to the customer."), "success")
    return _back_to(user_id)


@bp.post("/customers/<int:user_id>/erasure")
@require(Permission.HANDLE_PRIVACY_REQUESTS)
def start_customer_erasure(user_id: int) -> ResponseReturnValue:
    """A customer asked staff to erase their data: they confirm by the mailed link."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        erasure.request_for_account(user_id, staff_id=current_user.id)
    except LookupError:
        abort(404)
    except erasure.StaffAccount:
        flash(_("Staff accounts are taken off the team before they can be erased."), "error")
        return _back_to(user_id)
    flash(_("The customer has been sent a link to confirm the erasure."), "success")
    return _back_to(user_id)
