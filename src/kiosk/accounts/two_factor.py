"""Two-factor sign-in: TOTP (RFC 6238) and single-use recovery codes.

A TOTP code is accepted for the current 30-second step and one step either
side (clock drift), and each step only once (`User.totp_last_step`), so a code
seen over someone's shoulder cannot be used again. Recovery codes are random
(50 bits) and stored as SHA-256 hashes. The TOTP secret itself must be read back
to check a code, so it is stored encrypted (`kiosk.encryption`) instead.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import pyotp
from flask import current_app

from kiosk import encryption
from kiosk.accounts.models import RecoveryCode, User
from kiosk.accounts.repository import UserRepository
from kiosk.accounts.services import AccountError, mail_user, require_password, signed_in
from kiosk.audit import services as audit
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work

RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "Kiosk"


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
        signed_in(session, user, method=method)
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
    if secret is None:
        if user.totp_secret is None:
            return False
        secret = encryption.decrypt(user.totp_secret)
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(utcnow())
    for step in (now_step - 1, now_step, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # replayed
            user.totp_last_step = step
            return True
    return False


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
        user.totp_secret, user.totp_enabled_at = encryption.encrypt(secret), utcnow()
        audit.record(session, "2fa.enabled", actor=user)
        mail_user(session, user, "two_factor_changed", enabled=True)
        return _new_recovery_codes(user)


def disable_two_factor(user_id: int, current_password: str) -> None:
    require_password(user_id, current_password)
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        assert user is not None
        user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
        user.recovery_codes.clear()
        audit.record(session, "2fa.disabled", actor=user)
        mail_user(session, user, "two_factor_changed", enabled=False)


def regenerate_recovery_codes(user_id: int, current_password: str) -> list[str]:
    require_password(user_id, current_password)
    with unit_of_work() as session:
        user = UserRepository(session).get(user_id)
        assert user is not None
        if not user.has_two_factor:
            raise AccountError("no_two_factor")
        audit.record(session, "2fa.recovery_regenerated", actor=user)
        return _new_recovery_codes(user)


def unused_recovery_codes(user: User) -> int:
    return sum(1 for code in user.recovery_codes if code.used_at is None)


@dataclass(frozen=True)
class KeyRotation:
    reencrypted: int
    already_current: int


def reencrypt_totp_secrets() -> KeyRotation:
    """Encrypt every stored TOTP secret under the newest key of KIOSK_DATA_KEYS.

    One transaction: either every secret moves to the newest key, after which the
    older keys can leave the setting, or none does. Secrets already under the
    newest key stay as they are, so running it twice changes nothing.
    """
    reencrypted = already_current = 0
    unreadable: list[int] = []
    with unit_of_work() as session:
        for user in UserRepository(session).with_totp_secret():
            assert user.totp_secret is not None
            try:
                token = encryption.reencrypt(user.totp_secret)
            except encryption.DataKeyError:
                unreadable.append(user.id)
                continue
            if token is None:
                already_current += 1
            else:
                user.totp_secret = token
                reencrypted += 1
        if unreadable:
            raise encryption.DataKeyError(
                f"no key in KIOSK_DATA_KEYS decrypts the TOTP secret of user(s)"
                f" {', '.join(map(str, unreadable))}; nothing was changed"
            )
    return KeyRotation(reencrypted, already_current)
