"""Account use cases: register, verify, sign in, reset and change credentials, 2FA.

Every function that changes something runs in one unit of work, records its
audit event and queues its mail in that same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import pyotp
from flask import current_app
from sqlalchemy.orm import Session

from kiosk.models import Address, RecoveryCode, Role, User
from kiosk.models.base import utcnow
from kiosk.repositories.accounts import UserRepository, normalise_email
from kiosk.services import audit
from kiosk.services.mail import queue_mail
from kiosk.services.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    burn_verification_time,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from kiosk.services.tokens import (
    TokenError,
    TokenProblem,
    TokenPurpose,
    check_fingerprint,
    make_token,
    read_token,
)
from kiosk.services.uow import read_session, unit_of_work

RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "Kiosk"


class AccountError(ValueError):
    """A request about an account that cannot be carried out, with the reason for the user."""


def _link(endpoint: str, **values: str) -> str:
    from kiosk.urls import external_url

    return external_url(endpoint, **values)


# Registration and verification ---------------------------------------------------


def register(email: str, password: str, name: str, locale: str) -> None:
    """Create an unverified account and mail the verification link.

    For an address that already has an account, the owner is told by mail
    instead; the page the visitor sees is the same either way.
    """
    with unit_of_work() as session:
        users = UserRepository(session)
        existing = users.get_by_email(email)
        if existing is not None:
            queue_mail(
                session,
                existing.email,
                "account_exists",
                existing.locale,
                user=existing,
                signin_url=_link("auth.signin"),
                reset_url=_link("auth.forgot_password"),
            )
            return
        user = users.add(
            User(email=email, password_hash=hash_password(password), name=name, locale=locale)
        )
        session.flush()
        audit.record(session, "account.registered", actor=user)
        _queue_verification(session, user)


def _queue_verification(session: Session, user: User) -> None:
    token = make_token(TokenPurpose.VERIFY_EMAIL, user)
    queue_mail(
        session,
        user.email,
        "verify_email",
        user.locale,
        user=user,
        verify_url=_link("auth.verify_email", token=token),
    )


def resend_verification(user_id: int) -> None:
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        if user is not None and not user.is_verified:
            _queue_verification(session, user)


def verify_email(token: str) -> User:
    payload = read_token(TokenPurpose.VERIFY_EMAIL, token)
    with unit_of_work() as session:
        user = check_fingerprint(
            TokenPurpose.VERIFY_EMAIL, UserRepository(session).get(payload["u"]), payload
        )
        user.email_verified_at = utcnow()
        audit.record(session, "account.verified", actor=user)
        return user


# Signing in -----------------------------------------------------------------------


@dataclass(frozen=True)
class SignInResult:
    user: User
    needs_second_factor: bool


def authenticate(email: str, password: str) -> SignInResult | None:
    """Check email and password. None for a wrong pair, whether or not the email exists.

    An unknown email costs one Argon2 verification too, so timing tells nothing.
    """
    with unit_of_work() as session:
        user = UserRepository(session).get_by_email(email)
        if user is None or not user.is_active:
            burn_verification_time(password)
            audit.record(session, "signin.failed", reason="unknown")
            return None
        if not verify_password(user.password_hash, password):
            audit.record(session, "signin.failed", subject=user, reason="password")
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)  # parameters changed: upgrade
        if not user.has_two_factor:
            _signed_in(session, user)
        return SignInResult(user, user.has_two_factor)


def _signed_in(session: Session, user: User, method: str = "password") -> None:
    user.last_sign_in_at = utcnow()
    audit.record(session, "signin.ok", actor=user, method=method)


def complete_second_factor(user_id: int, code: str) -> User | None:
    """Finish a sign-in with a TOTP code or a recovery code; None when the code is wrong."""
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        if user is None or not user.has_two_factor or not user.is_active:
            return None
        method = _use_second_factor(user, code)
        if method is None:
            audit.record(session, "signin.2fa_failed", subject=user)
            return None
        if method == "recovery":
            audit.record(session, "2fa.recovery_used", actor=user)
        _signed_in(session, user, method=method)
        return user


def _use_second_factor(user: User, code: str) -> str | None:
    code = "".join(code.split()).replace("-", "").upper()
    if code.isdigit() and len(code) == 6:
        return "totp" if _use_totp(user, code) else None
    digest = _hash_recovery_code(code)
    for recovery in user.recovery_codes:
        if recovery.used_at is None and secrets.compare_digest(recovery.code_hash, digest):
            recovery.used_at = utcnow()
            return "recovery"
    return None


def _use_totp(user: User, code: str, secret: str | None = None) -> bool:
    """Accept the current code or one step either side, each time step only once."""
    totp = pyotp.TOTP(secret or user.totp_secret or "")
    now_step = totp.timecode(utcnow())
    for step in (now_step - 1, now_step, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # replayed
            user.totp_last_step = step
            return True
    return False


# Passwords --------------------------------------------------------------------------


def check_new_password(
    password: str, user: User | None = None, email: str = "", name: str = ""
) -> list[str]:
    personal = [email, name, current_app.config["KIOSK_SHOP_NAME"]]
    if user is not None:
        personal += [user.email, user.name]
    return password_problems(password, *personal)


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say and do the same otherwise."""
    with unit_of_work() as session:
        user = UserRepository(session).get_by_email(email)
        if user is None or not user.is_active:
            return
        token = make_token(TokenPurpose.RESET_PASSWORD, user)
        audit.record(session, "password.reset_requested", subject=user)
        queue_mail(
            session,
            user.email,
            "reset_password",
            user.locale,
            user=user,
            reset_url=_link("auth.reset_password", token=token),
        )


def user_for_reset(token: str) -> User:
    """The account a reset link is for, if the link is still good (checked before the form)."""
    payload = read_token(TokenPurpose.RESET_PASSWORD, token)
    return check_fingerprint(
        TokenPurpose.RESET_PASSWORD, UserRepository(read_session()).get(payload["u"]), payload
    )


def reset_password(token: str, new_password: str) -> User:
    payload = read_token(TokenPurpose.RESET_PASSWORD, token)
    with unit_of_work() as session:
        user = check_fingerprint(
            TokenPurpose.RESET_PASSWORD, UserRepository(session).get(payload["u"]), payload
        )
        _set_password(user, new_password)
        user.email_verified_at = user.email_verified_at or utcnow()  # the link proved the address
        audit.record(session, "password.reset", actor=user)
        queue_mail(session, user.email, "password_changed", user.locale, user=user)
        return user


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.session_version += 1  # every other session and remember-me cookie ends


def change_password(user_id: int, current_password: str, new_password: str) -> User:
    with unit_of_work() as session:
        user = _require_password(session, user_id, current_password)
        _set_password(user, new_password)
        audit.record(session, "password.changed", actor=user)
        queue_mail(session, user.email, "password_changed", user.locale, user=user)
        return user


def _require_password(session: Session, user_id: int, password: str) -> User:
    user = UserRepository(session).get(user_id)
    if user is None or not verify_password(user.password_hash, password):
        raise AccountError("current_password")
    return user


# Email address ----------------------------------------------------------------------


def request_email_change(user_id: int, current_password: str, new_email: str) -> None:
    new_email = normalise_email(new_email)
    with unit_of_work() as session:
        user = _require_password(session, user_id, current_password)
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
    payload = read_token(TokenPurpose.CHANGE_EMAIL, token)
    new_email = payload.get("email")
    if not isinstance(new_email, str):
        raise TokenError(TokenProblem.INVALID)
    with unit_of_work() as session:
        users = UserRepository(session)
        user = check_fingerprint(TokenPurpose.CHANGE_EMAIL, users.get(payload["u"]), payload)
        if users.get_by_email(new_email) is not None:
            raise AccountError("email_taken")
        old_email = user.email
        user.email = new_email
        user.email_verified_at = utcnow()
        audit.record(session, "email.changed", actor=user)
        queue_mail(session, old_email, "email_changed", user.locale, user=user, new_email=new_email)
        return user


# Two-factor sign-in -----------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    issuer = current_app.config["KIOSK_SHOP_NAME"] or TOTP_ISSUER
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _hash_recovery_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    codes = [
        "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    user.recovery_codes.clear()
    user.recovery_codes.extend(RecoveryCode(code_hash=_hash_recovery_code(c)) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def enable_two_factor(user_id: int, secret: str, code: str) -> list[str]:
    """Turn on TOTP once the user proved their app has the secret; returns the recovery codes."""
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        if user is None:
            raise AccountError("no_user")
        code = "".join(code.split())
        if not (code.isdigit() and len(code) == 6 and _use_totp(user, code, secret)):
            raise AccountError("wrong_code")
        user.totp_secret, user.totp_enabled_at = secret, utcnow()
        audit.record(session, "2fa.enabled", actor=user)
        queue_mail(session, user.email, "two_factor_changed", user.locale, user=user, enabled=True)
        return _new_recovery_codes(user)


def disable_two_factor(user_id: int, current_password: str) -> None:
    with unit_of_work() as session:
        user = _require_password(session, user_id, current_password)
        user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
        user.recovery_codes.clear()
        audit.record(session, "2fa.disabled", actor=user)
        queue_mail(session, user.email, "two_factor_changed", user.locale, user=user, enabled=False)


def regenerate_recovery_codes(user_id: int, current_password: str) -> list[str]:
    with unit_of_work() as session:
        user = _require_password(session, user_id, current_password)
        if not user.has_two_factor:
            raise AccountError("no_two_factor")
        audit.record(session, "2fa.recovery_regenerated", actor=user)
        return _new_recovery_codes(user)


def unused_recovery_codes(user: User) -> int:
    return sum(1 for code in user.recovery_codes if code.used_at is None)


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
        queue_mail(
            session,
            user.email,
            "confirm_marketing",
            user.locale,
            user=user,
            confirm_url=_link("account.confirm_marketing", token=token),
        )


def confirm_marketing(token: str) -> User:
    payload = read_token(TokenPurpose.MARKETING_OPT_IN, token)
    with unit_of_work() as session:
        user = check_fingerprint(
            TokenPurpose.MARKETING_OPT_IN, UserRepository(session).get(payload["u"]), payload
        )
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


def change_role(actor_id: int, user_id: int, role: Role) -> None:
    with unit_of_work() as session:
        users = UserRepository(session)
        actor, user = users.get(actor_id), users.get(user_id)
        if actor is None or actor.role is not Role.OWNER or user is None:
            raise AccountError("not_allowed")
        old = user.role
        user.role = role
        user.session_version += 1
        audit.record(
            session, "role.changed", actor=actor, subject=user, old=old.value, new=role.value
        )


def create_owner(email: str, password: str, name: str = "") -> User:
    """Make a shop owner, or promote an existing account to owner with a new password."""
    if "@" not in email or len(email) > 254:
        raise AccountError("That is not an email address.")
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise AccountError(f"The password must have {MIN_LENGTH} to {MAX_LENGTH} characters.")
    with unit_of_work() as session:
        users = UserRepository(session)
        user = users.get_by_email(email)
        if user is None:
            user = users.add(User(email=email, password_hash="", name=name))
            session.flush()
        old = user.role
        _set_password(user, password)
        user.role = Role.OWNER
        user.email_verified_at = user.email_verified_at or utcnow()
        if name:
            user.name = name
        if old is not Role.OWNER:
            audit.record(
                session, "role.changed", subject=user, old=old.value, new="owner", by="cli"
            )
    return user


# Addresses -------------------------------------------------------------------------


@dataclass
class AddressData:
    name: str
    company: str
    street: str
    extra: str
    postal_code: str
    city: str
    country: str
    phone: str
    is_default_shipping: bool
    is_default_billing: bool


def save_address(user_id: int, data: AddressData, address_id: int | None = None) -> Address:
    """Add an address, or change one of the user's own (another user's is not found)."""
    with unit_of_work() as session:
        users = UserRepository(session)
        user = users.get(user_id)
        if user is None:
            raise AccountError("no_user")
        if address_id is None:
            address = Address(user=user, name="", street="", postal_code="", city="")
            session.add(address)
        else:
            found = users.address_of(user, address_id)
            if found is None:
                raise AccountError("not_found")
            address = found
        for field, value in vars(data).items():
            setattr(address, field, value)
        first = len(user.addresses) == 1
        _keep_one_default(
            user,
            address,
            shipping=data.is_default_shipping or first,
            billing=data.is_default_billing or first,
        )
        return address


def _keep_one_default(user: User, chosen: Address, shipping: bool, billing: bool) -> None:
    for other in user.addresses:
        if shipping:
            other.is_default_shipping = other is chosen
        if billing:
            other.is_default_billing = other is chosen


def delete_address(user_id: int, address_id: int) -> None:
    with unit_of_work() as session:
        users = UserRepository(session)
        user = users.get(user_id)
        address = users.address_of(user, address_id) if user else None
        if user is None or address is None:
            raise AccountError("not_found")
        user.addresses.remove(address)
        remaining = user.addresses
        if remaining and not any(a.is_default_shipping for a in remaining):
            remaining[0].is_default_shipping = True
        if remaining and not any(a.is_default_billing for a in remaining):
            remaining[0].is_default_billing = True


def record_signout(user_id: int) -> None:
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        if user is not None:
            audit.record(session, "signout", actor=user)
