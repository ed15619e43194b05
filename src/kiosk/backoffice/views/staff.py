"""The team, for the owner: who works in the back office with which role and when they last
signed in, invitations, role changes and removals, and the table of who may do what."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.accounts import services as accounts
from kiosk.accounts import team
from kiosk.accounts.login import refresh_session
from kiosk.accounts.models import Role, User
from kiosk.accounts.services import AccountError
from kiosk.backoffice.access import DESCRIPTIONS, Permission, allows, require
from kiosk.backoffice.forms import TEAM_ROLES, InviteForm, RoleForm
from kiosk.backoffice.views import bp
from kiosk.i18n import LANGUAGE_NAMES
from kiosk.validation import EmptyForm


def _team_page(status: int = 200, invite_form: InviteForm | None = None) -> ResponseReturnValue:
    permissions = [
        (DESCRIPTIONS[permission], allows(Role.STAFF, permission), allows(Role.OWNER, permission))
        for permission in Permission
    ]
    page = render_template(
        "staff/team.html",
        members=team.members(),
        invitations=team.pending_invitations(),
        permissions=permissions,
        invite_form=invite_form or InviteForm(formdata=None),
        role_choices=list(TEAM_ROLES.items()),
        language_choices=list(LANGUAGE_NAMES.items()),
        form=EmptyForm(),
    )
    return page, status


@bp.get("/team")
@require(Permission.MANAGE_STAFF)
def team_page() -> ResponseReturnValue:
    """Owners and staff with their last sign-in, open invitations, and what each role may do."""
    return _team_page()


def _back() -> ResponseReturnValue:
    return redirect(url_for("staff.team_page"), code=303)


@bp.post("/team/invite")
@require(Permission.MANAGE_STAFF)
def invite() -> ResponseReturnValue:
    """Mail someone a single-use link to join the team."""
    form = InviteForm()
    if form.validate():
        try:
            team.invite(current_user.id, form.email.data, Role(form.role.data), form.locale.data)
        except AccountError:
            form.email.errors = [*form.email.errors, _("This address is on the team already.")]
        else:
            flash(_("The invitation is on its way to %(email)s.", email=form.email.data), "success")
            return _back()
    return _team_page(422, invite_form=form)


def _after_own_change(user: User | None) -> ResponseReturnValue:
    """The owner changed their own role: keep them signed in; the team page may be closed now."""
    if user is not None and user.id == current_user.id:
        refresh_session(user)
        if user.role is not Role.OWNER:
            return redirect(url_for("staff.orders_list"), code=303)
    return _back()


def _role_refused(error: AccountError) -> None:
    if str(error) == "last_owner":
        flash(_("The shop needs at least one owner. Make someone else owner first."), "error")
    else:
        abort(403)


@bp.post("/team/<int:user_id>/role")
@require(Permission.MANAGE_STAFF)
def change_role(user_id: int) -> ResponseReturnValue:
    """Make a staff member owner, or an owner staff; their sessions end."""
    form = RoleForm()
    if not form.validate():
        abort(400)
    member = next((m for m in team.members() if m.id == user_id), None)
    if member is None:
        abort(404)
    keep = current_user.session_id if user_id == current_user.id else None
    try:
        changed = accounts.change_role(current_user.id, user_id, Role(form.role.data), keep)
    except LookupError:
        abort(404)
    except AccountError as error:
        _role_refused(error)
        return _back()
    if changed is not None:
        flash(_("%(email)s has a new role.", email=changed.email), "success")
    return _after_own_change(changed)


@bp.post("/team/<int:user_id>/remove")
@require(Permission.MANAGE_STAFF)
def remove(user_id: int) -> ResponseReturnValue:
    """Take someone off the team: their account stays, as a customer's; their sessions end."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    keep = current_user.session_id if user_id == current_user.id else None
    try:
        removed = accounts.remove_staff(current_user.id, user_id, keep)
    except LookupError:
        abort(404)
    except AccountError as error:
        _role_refused(error)
        return _back()
    if removed is not None:
        flash(_("%(email)s is no longer on the team.", email=removed.email), "success")
    return _after_own_change(removed)


@bp.post("/team/invitations/<int:invitation_id>/revoke")
@require(Permission.MANAGE_STAFF)
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    """Withdraw an invitation that was not accepted yet; its link stops working."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        if team.revoke(current_user.id, invitation_id):
            flash(_("The invitation is withdrawn."), "success")
    except LookupError:
        abort(404)
    return _back()
