"""Account use cases: register, verify, sign in, reset and change credentials, profile.

Two-factor sign-in is in `two_factor`, the address book in `addresses`.

Every function that changes something runs in one unit of work, records its
audit event and queues its mail in that same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from kiosk.accounts import user_sessions
from kiosk.accounts.models import Role, User, normalise_email
from kiosk.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    burn_verification_time,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from kiosk.accounts.repository import UserRepository
from kiosk.accounts.tokens import TokenError, TokenProblem, TokenPurpose, make_token, user_for_token
from kiosk.audit import services as audit
from kiosk.mail.models import OutboxMessage
from kiosk.mail.services import queue_mail
from kiosk.orm import utcnow
from kiosk.uow import read_session, unit_of_work
from kiosk.urls import external_url


class AccountError(ValueError):
    """A request about an account that cannot be carried out, with the reason for the user."""


def mail_user(session: Session, user: User, template: str, **context: Any) -> OutboxMessage:
    """Queue a mail to an account holder, in their language, with `user` in the template."""
    return queue_mail(session, user.email, template, user.locale, user=user, **context)


def mail_staff(session: Session, template: str, **context: Any) -> None:
    """Queue a mail to every active staff member and owner, each in their language."""
    staff = UserRepository(session).active_staff()
    for member in staff:
        queue_mail(session, member.email, template, member.locale, user=member, **context)


def _link(endpoint: str, **values: str) -> str:
    return external_url(endpoint, **values)


# Registration and verification ---------------------------------------------------


def register(email: str, password: str, name: str, locale: str) -> None:
    """Create an unverified account and mail the verification link.

    For an address that already has an account, the owner is told by mail
    instead; the page the visitor sees is the same either way.
    """
    # Hashed first, known address or not: both answers take as long, and no write
    # lock is held while Argon2 works.
    password_hash = hash_password(password)
    with unit_of_work() as session:
        users = UserRepository(session)
        existing = users.get_by_email(email)
        if existing is not None:
            mail_user(
                session,
                existing,
                "account_exists",
                signin_url=_link("auth.signin"),
                reset_url=_link("auth.forgot_password"),
            )
            return
        user = users.add(User(email=email, password_hash=password_hash, name=name, locale=locale))
        session.flush()
        audit.record(session, "account.registered", actor=user)
        queue_verification(session, user)


def queue_verification(session: Session, user: User) -> None:
    """Mail a fresh link that confirms the address (a new sign-up, or asked again)."""
    token = make_token(TokenPurpose.VERIFY_EMAIL, user)
    mail_user(
        session,
        user,
        "verify_email",
        verify_url=_link("auth.verify_email", token=token),
    )


def resend_verification(user_id: int) -> None:
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        if user is not None and not user.is_verified:
            queue_verification(session, user)


def verify_email(token: str) -> User:
    with unit_of_work() as session:
        user, _ = user_for_token(session, TokenPurpose.VERIFY_EMAIL, token)
        user.email_verified_at = utcnow()
        audit.record(session, "account.verified", actor=user)
        return user


# Signing in -----------------------------------------------------------------------


@dataclass(frozen=True)
class SignInResult:
    user: User
    needs_second_factor: bool
    # Staff disabled sign-in: said only to someone who knows the password.
    disabled: bool = False


def authenticate(email: str, password: str) -> SignInResult | None:
    """Check email and password. None for a wrong pair, whether or not the email exists.

    An unknown email costs one Argon2 verification too, so timing tells nothing.
    """
    # Argon2 runs before the transaction: no write lock is held while it works.
    found = UserRepository(read_session()).get_by_email(email)
    if found is None:
        burn_verification_time(password)
        correct = False
    else:
        correct = verify_password(found.password_hash, password)
    upgraded = (
        hash_password(password) if correct and found and needs_rehash(found.password_hash) else None
    )
    with unit_of_work() as session:
        user = UserRepository(session).get(found.id) if found is not None else None
        if user is None:
            audit.record(session, "signin.failed", reason="unknown")
            return None
        if not correct:
            audit.record(session, "signin.failed", subject=user, reason="password")
            return None
        if not user.is_active:
            audit.record(session, "signin.failed", subject=user, reason="disabled")
            return SignInResult(user, needs_second_factor=False, disabled=True)
        if upgraded:
            user.password_hash = upgraded  # the parameters changed: upgrade the stored hash
        if not user.has_two_factor:
            signed_in(session, user)
        return SignInResult(user, user.has_two_factor)


def signed_in(session: Session, user: User, method: str = "password") -> None:
    user.last_sign_in_at = utcnow()
    audit.record(session, "signin.ok", actor=user, method=method)


# Passwords --------------------------------------------------------------------------


def check_new_password(password: str, *personal: str) -> list[str]:
    """Why a new password will not do, judged with the person's own words and the shop's name."""
    return password_problems(password, *personal, current_app.config["KIOSK_SHOP_NAME"])


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say and do the same otherwise."""
    with unit_of_work() as session:
        user = UserRepository(session).get_by_email(email)
        if user is None or not user.is_active:
            return
        token = make_token(TokenPurpose.RESET_PASSWORD, user)
        audit.record(session, "password.reset_requested", subject=user)
        mail_user(
            session,
            user,
            "reset_password",
            reset_url=_link("auth.reset_password", token=token),
        )


def user_for_reset(token: str) -> User:
    """The account a reset link is for, if the link is still good (checked before the form)."""
    return user_for_token(read_session(), TokenPurpose.RESET_PASSWORD, token)[0]


def reset_password(token: str, new_password: str) -> User:
    new_hash = hash_password(new_password)
    with unit_of_work() as session:
        user, _ = user_for_token(session, TokenPurpose.RESET_PASSWORD, token)
        _set_password(session, user, new_hash)
        user.email_verified_at = user.email_verified_at or utcnow()  # the link proved the address
        audit.record(session, "password.reset", actor=user)
        mail_user(session, user, "password_changed")
        return user


def _set_password(
    session: Session, user: User, new_hash: str, keep_session: int | None = None
) -> None:
    user.password_hash = new_hash
    user.session_version += 1  # every other session and remember-me cookie ends
    user_sessions.end_all(session, user.id, keep=keep_session)


def change_password(
    user_id: int, current_password: str, new_password: str, keep_session: int | None = None
) -> User:
    """Set a new password; every session but `keep_session` (the one asking) ends."""
    require_password(user_id, current_password)
    new_hash = hash_password(new_password)
    with unit_of_work() as session:
        user = _get(session, user_id)
        _set_password(session, user, new_hash, keep_session)
        audit.record(session, "password.changed", actor=user)
        mail_user(session, user, "password_changed")
        return user


def require_password(user_id: int, password: str) -> None:
    """Raise AccountError unless `password` is the user's current one.

    Called before the unit of work, so Argon2 runs while no write lock is held.
    """
    user = UserRepository(read_session()).get(user_id)
    if user is None or not verify_password(user.password_hash, password):
        raise AccountError("current_password")


def find_user(session: Session, user_id: int) -> User | None:
    """An account by id in the caller's transaction (who acted, for other domains' records)."""
    return UserRepository(session).get(user_id)


def close_erased_account(session: Session, user_id: int) -> None:
    """An erased account stays as a nameless tombstone (orders kept for tax law and the
    audit log point at it), which nobody can sign in to: the privacy centre's erasure has
    emptied its password hash and deleted its sessions; this ends every remember-me cookie
    and signed-in browser too, in the caller's transaction."""
    user = UserRepository(session).get(user_id)
    if user is None:
        return
    session.refresh(user)
    user.is_active = False
    user.session_version += 1


def _get(session: Session, user_id: int) -> User:
    user = UserRepository(session).get(user_id)
    if user is None:
        raise AccountError("no_user")
    return user


# Email address ----------------------------------------------------------------------


def request_email_change(user_id: int, current_password: str, new_email: str) -> None:
    new_email = normalise_email(new_email)
    require_password(user_id, current_password)
    with unit_of_work() as session:
        user = _get(session, user_id)
        if new_email == user.email:
            raise AccountError("same_email")
        token = make_token(TokenPurpose.CHANGE_EMAIL, user, email=new_email)
        audit.record(session, "email.change_requested", actor=user)
        queue_mail(
            session,
            new_email,
            "confirm_email_change",
            user.locale,
            user=user,
            new_email=new_email,
            confirm_url=_link("account.confirm_email", token=token),
        )


def confirm_email_change(token: str) -> User:
    with unit_of_work() as session:
        user, payload = user_for_token(session, TokenPurpose.CHANGE_EMAIL, token)
        new_email = payload.get("email")
        if not isinstance(new_email, str):
            raise TokenError(TokenProblem.INVALID)
        if UserRepository(session).get_by_email(new_email) is not None:
            raise AccountError("email_taken")
        old_email = user.email
        user.email = new_email
        user.email_verified_at = utcnow()
        audit.record(session, "email.changed", actor=user)
        queue_mail(session, old_email, "email_changed", user.locale, user=user, new_email=new_email)
        return user


# Profile, preferences, roles ----------------------------------------------------------


def update_profile(user_id: int, name: str, phone: str, locale: str) -> None:
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        if user is None:
            raise AccountError("no_user")
        user.name, user.phone, user.locale = name, phone, locale


def request_marketing(user_id: int) -> None:
    """First step of the double opt-in: mail a confirmation link."""
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        if user is None or user.marketing_consent_at is not None:
            return
        user.marketing_opt_in_at = utcnow()
        session.flush()
        token = make_token(TokenPurpose.MARKETING_OPT_IN, user)
        mail_user(
            session,
            user,
            "confirm_marketing",
            confirm_url=_link("account.confirm_marketing", token=token),
        )


def confirm_marketing(token: str) -> User:
    with unit_of_work() as session:
        user, _ = user_for_token(session, TokenPurpose.MARKETING_OPT_IN, token)
        if user.marketing_opt_in_at is None:
            raise TokenError(TokenProblem.USED)
        user.marketing_consent_at = utcnow()  # the consent time the law asks us to keep
        audit.record(session, "marketing.opted_in", actor=user)
        return user


def withdraw_marketing(user_id: int) -> None:
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        if user is None:
            return
        was_consenting = user.marketing_consent_at is not None
        user.marketing_opt_in_at = user.marketing_consent_at = None
        if was_consenting:
            audit.record(session, "marketing.opted_out", actor=user)


def change_role(
    actor_id: int, user_id: int, role: Role, keep_session: int | None = None
) -> User | None:
    """An owner gives an account another role; its sessions end (but `keep_session`, the
    owner's own when they change their own role). None if the role was that already.

    The shop always keeps an owner: the last one cannot be demoted, not even by themselves.
    """
    with unit_of_work() as session:
        actor, user = _owner_and_account(session, actor_id, user_id)
        if user.role is role:
            return None
        before = _set_role(session, user, role, keep_session)
        audit.record(
            session,
            "staff.role_changed",
            actor=actor,
            subject=user,
            before=before.value,
            after=role.value,
        )
        return user


def remove_staff(actor_id: int, user_id: int, keep_session: int | None = None) -> User | None:
    """An owner takes someone off the team: back to a customer account, every session
    ended. None if the account was not on the team."""
    with unit_of_work() as session:
        actor, user = _owner_and_account(session, actor_id, user_id)
        if not user.is_staff:
            return None
        before = _set_role(session, user, Role.CUSTOMER, keep_session)
        audit.record(
            session,
            "staff.removed",
            actor=actor,
            subject=user,
            before=before.value,
            after="customer",
        )
        return user


def _owner_and_account(session: Session, actor_id: int, user_id: int) -> tuple[User, User]:
    users = UserRepository(session)
    actor, user = users.get(actor_id), users.get(user_id)
    if actor is None or actor.role is not Role.OWNER:
        raise AccountError("not_allowed")
    if user is None:
        raise LookupError(user_id)
    return actor, user


def _set_role(session: Session, user: User, role: Role, keep_session: int | None) -> Role:
    """Set the role, refusing to leave the shop without an owner; the previous role."""
    before = user.role
    users = UserRepository(session)
    if before is Role.OWNER and user.is_active and users.count_owners() <= 1:
        raise AccountError("last_owner")
    user.role = role
    user.session_version += 1
    user_sessions.end_all(session, user.id, keep=keep_session)
    return before


def create_owner(email: str, password: str, name: str = "") -> User:
    """Make a shop owner, or promote an existing account to owner with a new password."""
    if "@" not in email or len(email) > 254:
        raise AccountError("That is not an email address.")
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise AccountError(f"The password must have {MIN_LENGTH} to {MAX_LENGTH} characters.")
    password_hash = hash_password(password)
    with unit_of_work() as session:
        users = UserRepository(session)
        user = users.get_by_email(email)
        if user is None:
            user = users.add(User(email=email, password_hash="", name=name))
            session.flush()
        old = user.role
        _set_password(session, user, password_hash)
        user.role = Role.OWNER
        user.email_verified_at = user.email_verified_at or utcnow()
        if name:
            user.name = name
        if old is not Role.OWNER:
            audit.record(
                session, "role.changed", subject=user, old=old.value, new="owner", by="cli"
            )
    return user
