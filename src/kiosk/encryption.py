"""Secrets the shop must read back, encrypted at rest with keys kept outside the database.

Passwords and recovery codes are hashed: the shop only ever compares them. A TOTP
secret cannot be hashed, because checking a code needs the secret itself. Stored in
plain, a copy of the database (a backup, a dump, a lost disk) would be enough to make
every user's second factor. So such values are encrypted with Fernet (AES-128-CBC and
HMAC-SHA256, from `cryptography`) under a key from the environment, `KIOSK_DATA_KEYS`,
which backups do not contain.

`KIOSK_DATA_KEYS` lists one or more keys, newest first. The newest encrypts; every
listed key decrypts. To replace a key: put a new one in front, restart, run
`flask kiosk rotate-key` (re-encrypts every value with the newest key), then drop the
old one. Without the setting, development and tests derive a key from SECRET_KEY
(`derive_key`); production refuses to start, as it does without SECRET_KEY.

The functions take the keys from the running app unless given them, so migrations use
the very keys the app uses.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# The HKDF "info" of the development key: changing it would make every value
# encrypted under a derived key unreadable.
_DERIVED_KEY_INFO = b"kiosk data key v1 (derived from SECRET_KEY)"


# How an owner makes a key (what Fernet.generate_key does, without needing the shop's venv).
KEY_COMMAND = (
    "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
)


class DataKeyError(RuntimeError):
    """No key of KIOSK_DATA_KEYS decrypts a stored value (a key was dropped too early)."""


def new_key() -> str:
    """A fresh random key, in the form KIOSK_DATA_KEYS lists them."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str) -> tuple[str, ...]:
    """The keys of "newest,older", newest first; ValueError names a malformed key by position."""
    keys = tuple(part.strip() for part in text.split(",") if part.strip())
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(
                f"key {position} is not a key: 32 bytes in url-safe base64 (44 characters);"
                f" make one with: {KEY_COMMAND}"
            ) from None
    return keys


def derive_key(secret_key: str) -> str:
    """The development key: HKDF-SHA256 of SECRET_KEY, so `make run` needs no new step.

    A derived key ties the encrypted values to SECRET_KEY: changing SECRET_KEY would
    lock every user out of two-factor sign-in. That is why production asks for a key
    of its own.
    """
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVED_KEY_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8"))).decode("ascii")


def encrypt(plain: str, keys: Sequence[str] | None = None) -> str:
    """`plain` encrypted under the newest key, as text for a String column."""
    return _fernet(_keys(keys)).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str, keys: Sequence[str] | None = None) -> str:
    """The plain text of a value `encrypt` made under any listed key."""
    try:
        return _fernet(_keys(keys)).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise DataKeyError(
            "no key in KIOSK_DATA_KEYS decrypts a stored secret: was a key removed"
            " before `flask kiosk rotate-key` re-encrypted everything?"
        ) from None


def is_encrypted(value: str, keys: Sequence[str] | None = None) -> bool:
    """Whether a listed key decrypts `value` (a plain TOTP secret is never a Fernet token)."""
    try:
        decrypt(value, keys)
    except DataKeyError:
        return False
    return True


def reencrypt(token: str, keys: Sequence[str] | None = None) -> str | None:
    """`token` encrypted anew under the newest key, or None when it already is."""
    keys = _keys(keys)
    try:
        _fernet((keys[0],)).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        pass
    else:
        return None
    decrypt(token, keys)  # DataKeyError when no listed key can read it
    return _fernet(keys).rotate(token.encode("ascii")).decode("ascii")


def _keys(keys: Sequence[str] | None) -> tuple[str, ...]:
    chosen = tuple(keys if keys is not None else current_app.config["KIOSK_DATA_KEYS"])
    if not chosen:
        raise DataKeyError("KIOSK_DATA_KEYS lists no key")
    return chosen


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])
