"""Signed, expiring, single-use links (verify email, reset password, change email …).

A token carries the user's id and a fingerprint of the state the link is
meant to change: the password hash for a reset, the email and its
verification time for a verification. Once the link has been used, that state
has changed, the fingerprint no longer matches, and the link is dead. No token
table is needed, and a token is useless for any purpose but its own (salt).
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from kiosk.accounts.models import User
from kiosk.accounts.repository import UserRepository


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"  # noqa: S105  (a purpose, not a password)
    CHANGE_EMAIL = "change-email"
    MARKETING_OPT_IN = "marketing-opt-in"

    @property
    def max_age(self) -> int:
        hours = {
            "verify-email": 48,
            "reset-password": 1,
            "change-email": 24,
            "marketing-opt-in": 72,
        }
        return hours[self.value] * 3600


class TokenProblem(enum.StrEnum):
    EXPIRED = "expired"
    INVALID = "invalid"
    USED = "used"


class TokenError(Exception):
    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def fingerprint(purpose: TokenPurpose, user: User) -> str:
    state: tuple[Any, ...] = {
        TokenPurpose.VERIFY_EMAIL: (user.email, user.email_verified_at),
        TokenPurpose.RESET_PASSWORD: (user.password_hash,),
        TokenPurpose.CHANGE_EMAIL: (user.email,),
        TokenPurpose.MARKETING_OPT_IN: (user.marketing_opt_in_at, user.marketing_consent_at),
    }[purpose]
    return hashlib.sha256(repr(state).encode()).hexdigest()[:20]


def _serializer(purpose: TokenPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"kiosk.{purpose.value}")


def make_token(purpose: TokenPurpose, user: User, **extra: str) -> str:
    return _serializer(purpose).dumps({"u": user.id, "f": fingerprint(purpose, user), **extra})


def read_token(purpose: TokenPurpose, token: str) -> dict[str, Any]:
    """The token's payload; raises TokenError when it is expired, tampered or foreign."""
    try:
        payload = _serializer(purpose).loads(token, max_age=purpose.max_age)
    except SignatureExpired as exc:
        raise TokenError(TokenProblem.EXPIRED) from exc
    except BadSignature as exc:
        raise TokenError(TokenProblem.INVALID) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise TokenError(TokenProblem.INVALID)
    return payload


def check_fingerprint(purpose: TokenPurpose, user: User | None, payload: dict[str, Any]) -> User:
    """The token's user, if the link has not been used yet."""
    if user is None or not user.is_active:
        raise TokenError(TokenProblem.INVALID)
    if payload.get("f") != fingerprint(purpose, user):
        raise TokenError(TokenProblem.USED)
    return user


def user_for_token(
    session: Session, purpose: TokenPurpose, token: str
) -> tuple[User, dict[str, Any]]:
    """The user a link is for, and its payload, if the link is good and unused."""
    payload = read_token(purpose, token)
    user = UserRepository(session).get(payload["u"])
    return check_fingerprint(purpose, user, payload), payload
