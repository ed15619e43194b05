"""Signed-in sessions on top of Flask-Login.

- The login id stored in the session and in the remember-me cookie is
  "<user id>:<session version>". Raising a user's session version (password
  change or reset, role change) makes every other session and cookie invalid.
- Signing in clears the old session and starts a new one with a fresh random
  id (and a fresh CSRF token): no session fixation.
- Sessions end after `KIOSK_SESSION_IDLE_MINUTES` without a request, and
  `KIOSK_SESSION_MAX_HOURS` after sign-in (a remember-me cookie starts a new one).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import current_app, flash, session
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user

from kiosk.extensions import login_manager
from kiosk.models import User
from kiosk.services.uow import read_session


class SignedInUser(UserMixin):
    """What Flask-Login keeps for a request: the account, and the id that proves the session."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = user.id

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)


@login_manager.user_loader
def load_user(login_id: str) -> SignedInUser | None:
    user_id, _, version = login_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = read_session().get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return SignedInUser(user)


def start_session(user: User, remember: bool) -> None:
    """Sign in with a brand-new session."""
    session.clear()
    login_user(SignedInUser(user), remember=remember)
    session["sid"] = secrets.token_urlsafe(24)
    now = int(time.time())
    session["auth_at"] = session["seen_at"] = now
    session.permanent = True


def end_session() -> None:
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion


def refresh_session(user: User) -> None:
    """Keep this session after the user's session version changed (their own password change)."""
    login_user(SignedInUser(user), remember=False)
    session["sid"] = secrets.token_urlsafe(24)


def enforce_timeouts() -> None:
    """Before each request: end idle and too old sessions."""
    if not current_user.is_authenticated:
        return
    now = int(time.time())
    if "auth_at" not in session:  # came back through the remember-me cookie
        session["sid"] = secrets.token_urlsafe(24)
        session["auth_at"] = session["seen_at"] = now
    idle = current_app.config["KIOSK_SESSION_IDLE_MINUTES"] * 60
    longest = current_app.config["KIOSK_SESSION_MAX_HOURS"] * 3600
    if now - session.get("seen_at", now) > idle or now - session["auth_at"] > longest:
        end_session()
        flash(
            _("You were signed out after a while without activity. Please sign in again."), "info"
        )
        return
    if now - session.get("seen_at", 0) > 60:  # write the cookie at most once a minute
        session["seen_at"] = now
