"""Signed-in sessions kept on the server (OWASP ASVS V3.3): open, find, list, end.

Every sign-in gets a `UserSession` row and a random secret. The secret goes
into Flask-Login's login id, which Flask keeps in the signed session cookie
and, with "stay signed in", in the remember-me cookie; the row keeps only its
SHA-256. A cookie opens a session only while its row exists and is within the
limits, so deleting the row (sign-out, "sign out of all other sessions",
a password or role change) ends both cookies, even copies of them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.accounts.models import User, UserSession
from kiosk.accounts.repository import UserRepository, UserSessionRepository, mark_seen
from kiosk.audit import services as audit
from kiosk.database import WRITE_OPTION
from kiosk.extensions import db
from kiosk.orm import utcnow
from kiosk.uow import read_session, unit_of_work

log = logging.getLogger(__name__)

SECRET_BYTES = 32
# "Last seen" is written at most this often, and never waited for long.
LAST_SEEN_EVERY = timedelta(minutes=1)
LAST_SEEN_WAIT_MS = 500


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    longest: timedelta
    remember_for: timedelta

    @classmethod
    def of_app(cls) -> Limits:
        config = current_app.config
        return cls(
            idle=timedelta(minutes=config["KIOSK_SESSION_IDLE_MINUTES"]),
            longest=timedelta(hours=config["KIOSK_SESSION_MAX_HOURS"]),
            remember_for=config["REMEMBER_COOKIE_DURATION"],
        )


@dataclass(frozen=True)
class Found:
    """The session a login id names: its account, its row, and whether it is still live."""

    user: User
    record: UserSession
    live: bool


def hash_secret(secret: str) -> str:
    """SHA-256 is enough: the secret is 256 random bits, not a password."""
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(
    user_id: int, user_agent: str, remember: bool, replaces: int | None = None
) -> tuple[UserSession, str]:
    """A new session row for a sign-in, and the secret for the cookie.

    The browser's previous session (`replaces`) ends, and so do the expired
    rows of every user, so none lingers after its limits.
    """
    secret = secrets.token_urlsafe(SECRET_BYTES)
    browser, system = device_of(user_agent)
    limits = Limits.of_app()
    with unit_of_work() as session:
        sessions = UserSessionRepository(session)
        if replaces is not None:
            sessions.delete_by_id(replaces)
        sessions.delete_expired(utcnow(), limits.idle, limits.longest, limits.remember_for)
        record = sessions.add(
            UserSession(
                user_id=user_id,
                token_hash=hash_secret(secret),
                remember=remember,
                browser=browser,
                system=system,
            )
        )
        session.flush()
    return record, secret


def find(secret: str) -> Found | None:
    """The session whose secret this is, or None when it was ended (or never existed)."""
    found = UserSessionRepository(read_session()).with_user(hash_secret(secret))
    if found is None:
        return None
    record, user = found
    limits = Limits.of_app()
    live = record.is_live(utcnow(), limits.idle, limits.longest, limits.remember_for)
    return Found(user, record, live)


def active_sessions(user_id: int) -> list[UserSession]:
    """The user's live sessions, the most recently seen first."""
    limits = Limits.of_app()
    now = utcnow()
    records = UserSessionRepository(read_session()).of_user(user_id)
    return [r for r in records if r.is_live(now, limits.idle, limits.longest, limits.remember_for)]


def sign_out(user_id: int, session_id: int) -> None:
    """The user signs out: this session's row goes, and with it every copy of its cookies."""
    with unit_of_work() as session:
        UserSessionRepository(session).delete_by_id(session_id)
        user = UserRepository(session).get(user_id)
        if user is not None:
            audit.record(session, "signout", actor=user)


def end_timed_out(session_id: int) -> None:
    """A session past its idle or absolute limit: its row goes too."""
    with unit_of_work() as session:
        UserSessionRepository(session).delete_by_id(session_id)


def end_other_sessions(user_id: int, current_id: int) -> int:
    """Sign out of all other sessions: every session of the user but this one ends."""
    with unit_of_work() as session:
        ended = UserSessionRepository(session).delete_of_user(user_id, keep=current_id)
        audit.record(
            session, "session.others_ended", actor=UserRepository(session).get(user_id), count=ended
        )
        return ended


def end_other_session(user_id: int, session_id: int, current_id: int) -> bool:
    """End one other session of this user; False if the user has no such other session."""
    if session_id == current_id:
        return False
    with unit_of_work() as session:
        sessions = UserSessionRepository(session)
        record = sessions.owned(user_id, session_id)
        if record is None:
            return False
        sessions.delete_by_id(record.id)
        audit.record(
            session,
            "session.ended",
            actor=UserRepository(session).get(user_id),
            browser=record.browser,
            system=record.system,
            signed_in_at=record.created_at.isoformat(timespec="seconds"),
        )
        return True


def end_all(session: Session, user_id: int, keep: int | None = None) -> None:
    """For use cases that raise the session version (password, role): their rows go too."""
    UserSessionRepository(session).delete_of_user(user_id, keep=keep)


def note_activity(record: UserSession) -> None:
    """Move "last seen" on, at most once a minute. A write that cannot happen at once
    (SQLite busy, a locked row) is skipped: it never fails or holds up the request."""
    now = utcnow()
    if now - record.last_seen_at < LAST_SEEN_EVERY:
        return
    try:
        with _impatient_write() as connection:
            mark_seen(connection, record.id, now, LAST_SEEN_EVERY)
    except SQLAlchemyError as error:
        log.warning("last seen of session %s not written: %s", record.id, error.__class__.__name__)


@contextmanager
def _impatient_write() -> Iterator[Connection]:
    """A short write transaction of its own that waits LAST_SEEN_WAIT_MS at most for a lock."""
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_busy_timeout(connection, LAST_SEEN_WAIT_MS)
        try:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                if not sqlite:
                    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {LAST_SEEN_WAIT_MS}")
                yield connection
        finally:
            if sqlite:
                _sqlite_busy_timeout(connection, current_app.config["KIOSK_DB_LOCK_TIMEOUT_MS"])


def _sqlite_busy_timeout(connection: Connection, milliseconds: int) -> None:
    # On the driver's connection, which is in autocommit mode: no transaction is begun.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
    finally:
        cursor.close()


# The device label ---------------------------------------------------------------------

# First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari",
# iPads and iPhones also say "Mac OS X", Android also says "Linux".
_BROWSERS = (
    ("Edge", r"\bEdg(e|A|iOS)?/"),
    ("Opera", r"\bOPR/|\bOpera\b"),
    ("Samsung Internet", r"\bSamsungBrowser/"),
    ("Firefox", r"\bFirefox/|\bFxiOS/"),
    ("Chrome", r"\b(Headless)?Chrome/|\bCriOS/|\bChromium/"),
    ("Safari", r"\bVersion/[\d.]+.*\bSafari/"),
)
_SYSTEMS = (
    ("iOS", r"\biPhone|\biPad|\biPod"),
    ("Android", r"\bAndroid\b"),
    ("Windows", r"\bWindows\b"),
    ("ChromeOS", r"\bCrOS\b"),
    ("macOS", r"\bMac OS X\b|\bMacintosh\b"),
    ("Linux", r"\bLinux\b|\bX11\b"),
)


def device_of(user_agent: str) -> tuple[str, str]:
    """("Firefox", "Linux") from a User-Agent; "" for what it does not tell."""

    def first(patterns: tuple[tuple[str, str], ...]) -> str:
        return next((name for name, pattern in patterns if re.search(pattern, user_agent)), "")

    return first(_BROWSERS), first(_SYSTEMS)
