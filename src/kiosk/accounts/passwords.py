"""Passwords: Argon2id hashing and the policy for new passwords.

Hashing uses Argon2id with RFC 9106's second recommended ("low memory")
profile by default: time_cost=3, memory_cost=64 MiB, parallelism=4, 16-byte
salt, 32-byte hash (settings ARGON2_TIME_COST, ARGON2_MEMORY_KIB,
ARGON2_PARALLELISM). `needs_rehash` lets sign-in upgrade stored hashes when
these parameters change. The policy follows NIST SP 800-63B: at least 12 characters, long
passphrases welcome, no composition rules, but no password from the list of
common and breached passwords bundled with zxcvbn (30,000 entries) and none
that zxcvbn rates as easy to guess.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY
from flask import current_app
from flask_babel import gettext as _
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 256


@cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=RFC_9106_LOW_MEMORY.hash_len,
        salt_len=RFC_9106_LOW_MEMORY.salt_len,
        type=Type.ID,
    )


def hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher_for(
        config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"], config["ARGON2_PARALLELISM"]
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("an unknown account still costs one verification")


def burn_verification_time(password: str) -> None:
    """Spend the time of one verification, so an unknown email answers as slowly as a known one."""
    verify_password(_dummy_hash(hasher()), password)


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, *personal: str) -> list[str]:
    """Why this password may not be used; an empty list when it is fine."""
    if len(password) < MIN_LENGTH:
        return [_("Use at least %(num)d characters.", num=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("Use at most %(num)d characters.", num=MAX_LENGTH)]
    if password.lower() in _common_passwords():
        return [_("This password is on the list of common or breached passwords.")]
    result = zxcvbn(password[:72], user_inputs=[p for p in personal if p])  # its limit
    if result["score"] < 3:
        return [_("This password is too easy to guess. A few unusual words together work well.")]
    return []
