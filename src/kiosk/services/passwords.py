"""Password hashing with Argon2id.

Parameters are argon2-cffi's RFC 9106 "low memory" profile: time_cost=3,
memory_cost=64 MiB, parallelism=4, 16-byte salt, 32-byte hash. Measured in
the closing note of the foundation issue; `needs_rehash` lets sign-in upgrade
old hashes when these change.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
