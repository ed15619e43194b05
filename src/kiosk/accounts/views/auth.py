"""Signing in and out, registering, verifying the email address, resetting the password."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.accounts import services as accounts
from kiosk.accounts import team, two_factor, user_sessions
from kiosk.accounts.forms import (
    AcceptInvitationForm,
    ForgotPasswordForm,
    NewPasswordForm,
    RegisterForm,
    SecondFactorForm,
    SignInForm,
)
from kiosk.accounts.links import link_problem
from kiosk.accounts.login import end_session, refresh_session, start_session
from kiosk.accounts.models import User, normalise_email
from kiosk.accounts.services import AccountError
from kiosk.accounts.team import InvitationError, InvitationProblem
from kiosk.accounts.tokens import TokenError
from kiosk.cart import services as cart
from kiosk.cart.owner import CART_KEY
from kiosk.extensions import limiter
from kiosk.hypermedia import safe_next
from kiosk.limits import rate
from kiosk.validation import EmptyForm

bp = Blueprint("auth", __name__)

PENDING_2FA = "pending_2fa"
PENDING_2FA_SECONDS = 300


def _form_email_key() -> str:
    """Rate-limit key for 'per account': the email the form names, known or not."""
    return "account:" + normalise_email(request.form.get("email", ""))[:254]


def _pending_user_key() -> str:
    return "2fa:" + str((session.get(PENDING_2FA) or {}).get("user_id", "none"))


def _sign_in(user: User, remember: bool) -> None:
    """Start the session, bringing the guest cart along (and saying what changed in it)."""
    guest_cart = session.get(CART_KEY)
    start_session(user, remember)
    for note in cart.merge_into_account(guest_cart, user.id):
        flash(note, "info")


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(rate("signin"), methods=["POST"])
@limiter.limit(rate("signin_account"), methods=["POST"], key_func=_form_email_key)
def signin() -> ResponseReturnValue:
    """Email and password; a second step follows when 2FA is on."""
    form = SignInForm()
    next_url = safe_next(request.values.get("next"), url_for("account.overview"))
    if form.validate_on_submit():
        result = accounts.authenticate(form.email.data, form.password.data)
        if result is None:
            form.password.errors.append(_("The email address or password is not right."))
        elif result.disabled:
            form.email.errors.append(
                _(
                    "Sign-in to this account is disabled by the shop. "
                    "Please contact us if you think this is a mistake."
                )
            )
        elif result.needs_second_factor:
            session[PENDING_2FA] = {
                "user_id": result.user.id,
                "remember": form.remember.data,
                "next": next_url,
                "at": int(time.time()),
            }
            return redirect(url_for("auth.second_factor"), code=303)
        else:
            _sign_in(result.user, form.remember.data)
            return redirect(next_url, code=303)
    status = 422 if form.errors else 200
    return render_template("auth/signin.html", form=form, next=next_url), status


@bp.route("/signin/code", methods=["GET", "POST"])
@limiter.limit(rate("second_factor"), methods=["POST"])
@limiter.limit(rate("second_factor_account"), methods=["POST"], key_func=_pending_user_key)
def second_factor() -> ResponseReturnValue:
    """The second step: a code from the authenticator app, or a recovery code."""
    pending = session.get(PENDING_2FA)
    if not pending or time.time() - pending["at"] > PENDING_2FA_SECONDS:
        session.pop(PENDING_2FA, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.signin"), code=303)
    form = SecondFactorForm()
    if form.validate_on_submit():
        user = two_factor.complete_second_factor(pending["user_id"], form.code.data)
        if user is None:
            form.code.errors.append(_("That code is not right. Codes change every 30 seconds."))
        else:
            _sign_in(user, pending["remember"])
            return redirect(pending["next"], code=303)
    return render_template("auth/second_factor.html", form=form), 422 if form.errors else 200


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    """Sign out: a POST, so no link on another site can sign anyone out. The session ends
    on the server, so a copy of its cookies opens nothing afterwards."""
    if EmptyForm().validate_on_submit() and current_user.is_authenticated:
        user_sessions.sign_out(current_user.id, current_user.session_id)
        end_session()
        flash(_("You are signed out."), "success")
    return redirect(url_for("core.home"), code=303)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(rate("register"), methods=["POST"])
def register() -> ResponseReturnValue:
    """Create an account; the same answer whether or not the address is known."""
    form = RegisterForm()
    if form.validate_on_submit():
        accounts.register(
            form.email.data, form.password.data, form.name.data or "", str(get_locale())
        )
        return redirect(url_for("auth.check_mail", reason="register"), code=303)
    return render_template("auth/register.html", form=form), 422 if form.errors else 200


@bp.post("/register/check-password")
@limiter.limit(rate("password_check"))
def check_password() -> ResponseReturnValue:
    """htmx: judge the password while the visitor types (the form checks again on submit)."""
    form = RegisterForm()
    problems = accounts.check_new_password(form.password.data or "", *form.personal_data())
    return render_template(
        "auth/_password_feedback.html", problems=problems, password=form.password.data or ""
    )


@bp.get("/check-your-mail")
def check_mail() -> str:
    """Where registering and asking for a reset lead, known address or not."""
    return render_template("auth/check_mail.html", reason=request.args.get("reason", "register"))


@bp.get("/verify/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    """The link from the verification mail."""
    try:
        accounts.verify_email(token)
    except TokenError as error:
        return link_problem(error)
    flash(_("Thank you, your email address is confirmed."), "success")
    target = "account.overview" if current_user.is_authenticated else "auth.signin"
    return redirect(url_for(target), code=303)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(rate("reset_request"), methods=["POST"])
@limiter.limit(rate("reset_request_account"), methods=["POST"], key_func=_form_email_key)
def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link; the answer does not tell whether the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        return redirect(url_for("auth.check_mail", reason="reset"), code=303)
    return render_template("auth/forgot_password.html", form=form), 422 if form.errors else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(rate("reset"), methods=["POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password from the emailed link; all other sessions end."""
    try:
        user = accounts.user_for_reset(token)
    except TokenError as error:
        return link_problem(error)
    form = NewPasswordForm(personal=(user.email, user.name))
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(token, form.password.data)
        except TokenError as error:
            return link_problem(error)
        _sign_in(user, remember=False)
        flash(
            _("Your password is changed. You are signed in, and signed out everywhere else."),
            "success",
        )
        return redirect(url_for("account.overview"), code=303)
    return render_template("auth/reset_password.html", form=form), 422 if form.errors else 200


def _invitation_problem(error: InvitationError) -> ResponseReturnValue:
    messages = {
        InvitationProblem.EXPIRED: _(
            "This invitation has expired. Please ask the shop owner to invite you again."
        ),
        InvitationProblem.USED: _(
            "This invitation has been accepted already. Please sign in with your account."
        ),
        InvitationProblem.WITHDRAWN: _("The shop owner has withdrawn this invitation."),
        InvitationProblem.INVALID: _(
            "This invitation link is not valid. Please copy the whole link from the mail."
        ),
    }
    page = render_template("auth/invitation_problem.html", message=messages[error.problem])
    return page, 410 if error.problem is not InvitationProblem.INVALID else 400


def _welcome(user: User) -> ResponseReturnValue:
    """The invitee is on the team: on to two-factor set-up first, where the back office
    would send them anyway."""
    if current_app.config["KIOSK_STAFF_REQUIRE_2FA"] and not user.has_two_factor:
        flash(
            _(
                "Welcome to the team. Please set up two-factor sign-in now; "
                "the back office opens once it is on."
            ),
            "success",
        )
        return redirect(url_for("account.security", _anchor="two-factor-title"), code=303)
    flash(_("Welcome to the team."), "success")
    return redirect(url_for("staff.orders_list"), code=303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(rate("reset"), methods=["POST"])
def invitation(token: str) -> ResponseReturnValue:
    """The link from an owner's invitation: create the account, or accept with the one
    that has the invited address."""
    try:
        invited, has_account = team.invitation_for(token)
    except InvitationError as error:
        return _invitation_problem(error)
    signed_in_as = current_user.email if current_user.is_authenticated else None
    form: AcceptInvitationForm | EmptyForm
    if signed_in_as == invited.email:
        form = EmptyForm()
        if form.validate_on_submit():
            try:
                user = team.accept_as(token, current_user.id, current_user.session_id)
            except InvitationError as error:
                return _invitation_problem(error)
            refresh_session(user)
            return _welcome(user)
    elif not has_account and signed_in_as is None:
        form = AcceptInvitationForm(personal=(invited.email,))
        if form.validate_on_submit():
            try:
                user = team.accept_with_new_account(token, form.name.data, form.password.data)
            except InvitationError as error:
                return _invitation_problem(error)
            except AccountError:
                return redirect(url_for("auth.invitation", token=token), code=303)
            _sign_in(user, remember=False)
            return _welcome(user)
    else:
        form = EmptyForm()
    page = render_template(
        "auth/invitation.html",
        invitation=invited,
        has_account=has_account,
        signed_in_as=signed_in_as,
        form=form,
        token=token,
    )
    return page, 422 if form.errors else 200
