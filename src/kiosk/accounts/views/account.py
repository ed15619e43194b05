"""The customer's account: overview, profile, addresses, security, email preferences."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from kiosk.accounts import addresses as address_book
from kiosk.accounts import services as accounts
from kiosk.accounts import two_factor as totp
from kiosk.accounts import user_sessions
from kiosk.accounts.forms import (
    AddressForm,
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmPasswordForm,
    EnableTwoFactorForm,
    ProfileForm,
)
from kiosk.accounts.guards import require_verified_account
from kiosk.accounts.links import link_problem
from kiosk.accounts.login import refresh_session
from kiosk.accounts.tokens import TokenError
from kiosk.extensions import limiter
from kiosk.hypermedia import render_page, wants_fragment
from kiosk.limits import rate
from kiosk.orders import services as orders
from kiosk.shipping.services import EU_COUNTRIES
from kiosk.validation import EmptyForm

bp = Blueprint("account", __name__, url_prefix="/account")

TOTP_SETUP = "totp_setup_secret"


def _no_store(response: ResponseReturnValue) -> ResponseReturnValue:
    """Pages with secrets (2FA set-up, recovery codes) must not be cached."""
    from flask import make_response

    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@require_verified_account
def overview() -> str:
    """What the account holds, with links to each part."""
    return render_template(
        "account/overview.html", recovery_left=totp.unused_recovery_codes(current_user.user)
    )


@bp.route("/unverified", methods=["GET", "POST"])
@login_required
@limiter.limit(rate("resend_verification"), methods=["POST"])
def unverified() -> ResponseReturnValue:
    """Account pages wait for a confirmed address; the mail can be sent again."""
    if current_user.is_verified:
        return redirect(url_for("account.overview"))
    form = EmptyForm()
    if form.validate_on_submit():
        accounts.resend_verification(current_user.id)
        flash(_("We sent the link again. Please check your inbox."), "success")
        return redirect(url_for("account.unverified"), code=303)
    return render_template("account/unverified.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@require_verified_account
def profile() -> ResponseReturnValue:
    """Name, phone and the language of mails."""
    form = ProfileForm(obj=current_user.user)
    if form.validate_on_submit():
        accounts.update_profile(
            current_user.id, form.name.data.strip(), form.phone.data.strip(), form.locale.data
        )
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("account.profile"), code=303)
    return render_template("account/profile.html", form=form), 422 if form.errors else 200


# Addresses ---------------------------------------------------------------------------


def _address_data(form: AddressForm) -> address_book.AddressData:
    values: dict[str, Any] = {
        f.name: getattr(form, f.name).data for f in fields(address_book.AddressData)
    }
    cleaned: dict[str, Any] = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
    return address_book.AddressData(**cleaned)


@bp.get("/addresses")
@require_verified_account
def addresses() -> ResponseReturnValue:
    """The address book."""
    return render_page(
        "account/addresses.html",
        "account/_address_list.html",
        addresses=current_user.addresses,
        delete_form=EmptyForm(),
    )


@bp.route("/addresses/new", methods=["GET", "POST"])
@bp.route("/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@require_verified_account
def edit_address(address_id: int | None = None) -> ResponseReturnValue:
    """Add an address or change one; another customer's address is a 404."""
    address = None
    if address_id is not None:
        address = next((a for a in current_user.addresses if a.id == address_id), None)
        if address is None:
            abort(404)
    form = AddressForm(obj=address)
    if form.validate_on_submit():
        try:
            address_book.save_address(current_user.id, _address_data(form), address_id)
        except accounts.AccountError:
            abort(404)
        flash(_("The address is saved."), "success")
        return redirect(url_for("account.addresses"), code=303)
    return render_page(
        "account/address_form.html",
        "account/_address_form.html",
        status=422 if form.errors else 200,
        form=form,
        address=address,
        countries=EU_COUNTRIES,
    )


@bp.post("/addresses/<int:address_id>/delete")
@require_verified_account
def delete_address(address_id: int) -> ResponseReturnValue:
    """Remove an address (POST, then back to the list)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        address_book.delete_address(current_user.id, address_id)
    except accounts.AccountError:
        abort(404)
    flash(_("The address is deleted."), "success")
    return redirect(url_for("account.addresses"), code=303)


# Security ------------------------------------------------------------------------------


def _sessions_context() -> dict[str, Any]:
    return {
        "sessions": user_sessions.active_sessions(current_user.id),
        "current_session_id": current_user.session_id,
        "sessions_form": EmptyForm(),
    }


def _security_page(status: int = 200, **forms: object) -> ResponseReturnValue:
    user = current_user.user
    context = {
        "password_form": ChangePasswordForm(prefix="pw", personal=(user.email, user.name)),
        "email_form": ChangeEmailForm(prefix="em"),
        "confirm_form": ConfirmPasswordForm(prefix="tf"),
        "recovery_left": totp.unused_recovery_codes(user),
        **_sessions_context(),
    }
    context.update(forms)
    return render_template("account/security.html", **context), status


@bp.get("/security")
@login_required
def security() -> ResponseReturnValue:
    """Password, email address, two-factor sign-in, recovery codes, where you are signed in."""
    return _security_page()


def _after_ending_sessions() -> ResponseReturnValue:
    """htmx: the fresh list of sessions with the messages out of band; else 303 to the page."""
    if wants_fragment():
        return render_page("account/security.html", "account/_sessions.html", **_sessions_context())
    return redirect(url_for("account.security", _anchor="sessions"), code=303)


@bp.post("/security/sessions/end-others")
@login_required
def end_other_sessions() -> ResponseReturnValue:
    """Sign out everywhere but here (a lost phone, a shared computer)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = user_sessions.end_other_sessions(current_user.id, current_user.session_id)
    flash(
        ngettext(
            "%(num)d other session is signed out.", "%(num)d other sessions are signed out.", ended
        ),
        "success",
    )
    return _after_ending_sessions()


@bp.post("/security/sessions/<int:session_id>/end")
@login_required
def end_other_session(session_id: int) -> ResponseReturnValue:
    """Sign out one other session; another user's session (or this one) is a 404."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not user_sessions.end_other_session(current_user.id, session_id, current_user.session_id):
        abort(404)
    flash(_("That session is signed out."), "success")
    return _after_ending_sessions()


@bp.post("/security/password")
@login_required
@limiter.limit(rate("account_change"))
def change_password() -> ResponseReturnValue:
    user = current_user.user
    form = ChangePasswordForm(prefix="pw", personal=(user.email, user.name))
    if form.validate_on_submit():
        try:
            changed = accounts.change_password(
                current_user.id,
                form.current_password.data,
                form.new_password.data,
                keep_session=current_user.session_id,
            )
        except accounts.AccountError:
            form.current_password.errors.append(_("That is not your current password."))
        else:
            refresh_session(changed)
            flash(_("Your password is changed. All your other sessions are signed out."), "success")
            return redirect(url_for("account.security"), code=303)
    return _security_page(422, password_form=form)


@bp.post("/security/email")
@login_required
@limiter.limit(rate("account_change"))
def change_email() -> ResponseReturnValue:
    form = ChangeEmailForm(prefix="em")
    if form.validate_on_submit():
        try:
            accounts.request_email_change(
                current_user.id, form.current_password.data, form.new_email.data
            )
        except accounts.AccountError as error:
            field = form.current_password if str(error) == "current_password" else form.new_email
            field.errors.append(
                _("That is not your current password.")
                if field is form.current_password
                else _("That is already your email address.")
            )
        else:
            flash(
                _(
                    "We sent a link to %(email)s. Your address changes when you open it.",
                    email=form.new_email.data,
                ),
                "success",
            )
            return redirect(url_for("account.security"), code=303)
    return _security_page(422, email_form=form)


@bp.get("/email/confirm/<token>")
def confirm_email(token: str) -> ResponseReturnValue:
    """The link sent to the new address."""
    try:
        accounts.confirm_email_change(token)
    except TokenError as error:
        return link_problem(error)
    except accounts.AccountError:
        message = _("Another account already uses this address.")
        return render_template("auth/link_problem.html", message=message), 409
    flash(_("Your email address is changed."), "success")
    return redirect(
        url_for("account.security" if current_user.is_authenticated else "auth.signin"), code=303
    )


@bp.route("/security/two-factor", methods=["GET", "POST"])
@login_required
@limiter.limit(rate("two_factor_setup"), methods=["POST"])
def two_factor() -> ResponseReturnValue:
    """Set up TOTP: scan the QR code (drawn here as SVG) or type the secret, then confirm a code."""
    if current_user.has_two_factor:
        return redirect(url_for("account.security"))
    secret = session.get(TOTP_SETUP) or totp.new_totp_secret()
    session[TOTP_SETUP] = secret
    form = EnableTwoFactorForm()
    if form.validate_on_submit():
        try:
            codes = totp.enable_two_factor(current_user.id, secret, form.code.data)
        except accounts.AccountError:
            form.code.errors.append(
                _("That code is not right. Check the time on your phone and try the newest code.")
            )
        else:
            session.pop(TOTP_SETUP, None)
            flash(_("Two-factor sign-in is on."), "success")
            return _no_store(render_template("account/recovery_codes.html", codes=codes))
    uri = totp.totp_uri(current_user.user, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#000", light="#fff")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    page = render_template("account/two_factor.html", form=form, qr=qr, secret=grouped)
    return _no_store((page, 422 if form.errors else 200))


@bp.post("/security/two-factor/disable")
@login_required
@limiter.limit(rate("account_change"))
def disable_two_factor() -> ResponseReturnValue:
    form = ConfirmPasswordForm(prefix="tf")
    if form.validate_on_submit():
        try:
            totp.disable_two_factor(current_user.id, form.current_password.data)
        except accounts.AccountError:
            form.current_password.errors.append(_("That is not your current password."))
        else:
            flash(_("Two-factor sign-in is off."), "success")
            return redirect(url_for("account.security"), code=303)
    return _security_page(422, confirm_form=form)


@bp.post("/security/recovery-codes")
@login_required
@limiter.limit(rate("account_change"))
def regenerate_recovery_codes() -> ResponseReturnValue:
    form = ConfirmPasswordForm(prefix="tf")
    if form.validate_on_submit():
        try:
            codes = totp.regenerate_recovery_codes(current_user.id, form.current_password.data)
        except accounts.AccountError:
            form.current_password.errors.append(_("That is not your current password."))
        else:
            return _no_store(render_template("account/recovery_codes.html", codes=codes))
    return _security_page(422, confirm_form=form)


# Email preferences ------------------------------------------------------------------------


@bp.route("/email-preferences", methods=["GET", "POST"])
@require_verified_account
@limiter.limit(rate("account_change"), methods=["POST"])
def email_preferences() -> ResponseReturnValue:
    """Order mails always go out; the newsletter only after a confirmed opt-in."""
    form = EmptyForm()
    if form.validate_on_submit():
        if request.form.get("marketing") == "subscribe":
            accounts.request_marketing(current_user.id)
            flash(_("Please confirm with the link we just sent you."), "success")
        elif request.form.get("marketing") == "unsubscribe":
            accounts.withdraw_marketing(current_user.id)
            flash(_("You will get no more newsletters."), "success")
        return redirect(url_for("account.email_preferences"), code=303)
    return render_template("account/email_preferences.html", form=form)


@bp.get("/newsletter/confirm/<token>")
def confirm_marketing(token: str) -> ResponseReturnValue:
    """The double opt-in link."""
    try:
        accounts.confirm_marketing(token)
    except TokenError as error:
        return link_problem(error)
    flash(_("Thank you, your newsletter subscription is confirmed."), "success")
    return redirect(
        url_for("account.email_preferences" if current_user.is_authenticated else "core.home"),
        code=303,
    )


@bp.get("/orders")
@login_required
def orders_list() -> str:
    """The customer's orders, newest first, each linking to its page."""
    return render_template("account/orders.html", orders=orders.of_customer(current_user.id))
