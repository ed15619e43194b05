"""KIOSK_DATA_KEYS: what production demands, what development derives, how keys take turns."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import ConfigError, load_settings
from kiosk.encryption import DataKeyError, decrypt, encrypt, new_key, reencrypt


@pytest.fixture(autouse=True)
def _no_keys_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIOSK_DATA_KEYS", raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-secret-key")


def test_production_refuses_to_start_without_data_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KIOSK_ENV", "production")
    with pytest.raises(ConfigError, match="KIOSK_DATA_KEYS must be set in production"):
        load_settings(tmp_path)
    key = new_key()
    monkeypatch.setenv("KIOSK_DATA_KEYS", key)
    assert load_settings(tmp_path)["KIOSK_DATA_KEYS"] == (key,)


def test_a_malformed_key_is_named_by_its_position(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KIOSK_DATA_KEYS", f"{new_key()}, not-a-key")
    with pytest.raises(ConfigError, match="key 2 is not a key"):
        load_settings(tmp_path)


def test_development_derives_its_key_from_the_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KIOSK_ENV", "development")
    [derived] = load_settings(tmp_path)["KIOSK_DATA_KEYS"]
    assert load_settings(tmp_path)["KIOSK_DATA_KEYS"] == (derived,)  # the same after a restart
    assert decrypt(encrypt("JBSWY3DPEHPK3PXP", [derived]), [derived]) == "JBSWY3DPEHPK3PXP"
    monkeypatch.setenv("SECRET_KEY", "another-secret-key")
    assert load_settings(tmp_path)["KIOSK_DATA_KEYS"] != (derived,)


def test_the_newest_key_encrypts_and_every_listed_key_decrypts() -> None:
    old, new = new_key(), new_key()
    token = encrypt("JBSWY3DPEHPK3PXP", [old])

    assert decrypt(token, [new, old]) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(DataKeyError):
        decrypt(token, [new])
    rotated = reencrypt(token, [new, old])
    assert rotated is not None and decrypt(rotated, [new]) == "JBSWY3DPEHPK3PXP"
    assert reencrypt(rotated, [new, old]) is None  # already under the newest key
