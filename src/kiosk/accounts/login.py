"""Signed-in sessions on top of Flask-Login, each backed by a row on the server.

- The login id stored in the session cookie and in the remember-me cookie is
  "<user id>:<session version>:<session secret>". The secret names a
  `UserSession` row (`services.user_sessions`), which holds only its hash:
  deleting the row (sign-out, signing out other sessions) ends the session and
  its remember-me cookie, copies included. Raising a user's session version
  (password change or reset, role change) ends every other session too, and
  those use cases delete the rows.
- Signing in clears the old session and starts a new one with a fresh secret
  (and a fresh CSRF token): no session fixation.
- Sessions end after `KIOSK_SESSION_IDLE_MINUTES` without a request, and
  `KIOSK_SESSION_MAX_HOURS` after sign-in: checked on the row when the user is
  loaded and on the cookie before each request. A remembered session's row
  lasts `KIOSK_REMEMBER_DAYS`, and its cookie starts a new cookie session.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, flash, g, request, session
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user

from kiosk.accounts import user_sessions
from kiosk.accounts.models import User, UserSession
from kiosk.extensions import login_manager

TIMED_OUT = "kiosk_timed_out_session"


class SignedInUser(UserMixin):
    """What Flask-Login keeps for a request: the account, and the session that proves it."""

    def __init__(self, user: User, record: UserSession, secret: str) -> None:
        self.user = user
        self.id = user.id
        self.session_record = record
        self.session_secret = secret

    @property
    def session_id(self) -> int:
        return self.session_record.id

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}:{self.session_secret}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)


@login_manager.user_loader
def load_user(login_id: str) -> SignedInUser | None:
    user_id, version, secret = [*login_id.split(":", 2), "", ""][:3]
    if not user_id.isdigit() or not version.isdigit() or not secret:
        return None  # also the "<id>:<version>" ids from before sessions had rows
    found = user_sessions.find(secret)
    if found is None:
        return None
    user, record = found.user, found.record
    if user.id != int(user_id) or user.session_version != int(version) or not user.is_active:
        return None
    if not found.live:
        g.setdefault(TIMED_OUT, record.id)
        return None
    return SignedInUser(user, record, secret)


def start_session(user: User, remember: bool) -> None:
    """Sign in with a brand-new session (and end this browser's previous one)."""
    replaces = current_user.session_id if current_user.is_authenticated else None
    record, secret = user_sessions.open_session(
        user.id, request.user_agent.string, remember, replaces
    )
    session.clear()
    login_user(SignedInUser(user, record, secret), remember=remember)
    now = int(time.time())
    session["auth_at"] = session["seen_at"] = now
    session.permanent = True


def end_session() -> None:
    """Forget the session in this browser (the caller ends its row)."""
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion


def refresh_session(user: User) -> None:
    """Keep this session after the user's session version changed (their own password
    change): the same row, a login id with the new version, a fresh remember-me cookie."""
    record, secret = current_user.session_record, current_user.session_secret
    login_user(SignedInUser(user, record, secret), remember=record.remember)


def enforce_timeouts() -> None:
    """Before each request: end idle and too old sessions; note that this one was seen."""
    if not current_user.is_authenticated:
        timed_out = g.pop(TIMED_OUT, None)
        if timed_out is not None:
            _time_out(timed_out)
        return
    now = int(time.time())
    if "auth_at" not in session:  # came back through the remember-me cookie
        session["auth_at"] = session["seen_at"] = now
    idle = current_app.config["KIOSK_SESSION_IDLE_MINUTES"] * 60
    longest = current_app.config["KIOSK_SESSION_MAX_HOURS"] * 3600
    if now - session.get("seen_at", now) > idle or now - session["auth_at"] > longest:
        _time_out(current_user.session_id)
        return
    if now - session.get("seen_at", 0) > 60:  # write the cookie at most once a minute
        session["seen_at"] = now
    user_sessions.note_activity(current_user.session_record)


def _time_out(session_id: int) -> None:
    user_sessions.end_timed_out(session_id)
    end_session()
    flash(_("You were signed out after a while without activity. Please sign in again."), "info")
