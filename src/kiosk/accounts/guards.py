"""Access checks: one decorator per kind of page, used on every view that needs one."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.accounts.models import Role
from kiosk.extensions import login_manager

View = TypeVar("View", bound=Callable[..., Any])


def require_role(role: Role) -> Callable[[View], View]:
    """Signed in, with at least `role`; staff may be asked to set up 2FA first."""

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role.rank < role.rank:
                abort(403)
            if (
                role.rank >= Role.STAFF.rank
                and current_app.config["KIOSK_STAFF_REQUIRE_2FA"]
                and not current_user.has_two_factor
            ):
                flash(_("Staff accounts need two-factor sign-in. Please set it up first."), "error")
                return redirect(url_for("account.security"))
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator


def require_verified_account(view: View) -> View:
    """Signed in with a verified email address (account pages)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_verified:
            return redirect(url_for("account.unverified"))
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]
