"""TOTP secrets are encrypted in the database, and `flask kiosk rotate-key` moves them to a
new key without anyone losing their second factor."""

from __future__ import annotations

import time

import pyotp
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text

from kiosk.encryption import decrypt, new_key
from kiosk.extensions import db
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_user
from tests.functional.test_accounts import _enable_two_factor, sign_in
from tests.mailbox import link_in, outbox


def _raw_secrets(app: Flask) -> list[str]:
    """`totp_secret` as the database holds it, past every ORM type."""
    with app.app_context():
        rows = db.session.execute(
            text("SELECT totp_secret FROM user_account WHERE totp_secret IS NOT NULL")
        )
        secrets = [row[0] for row in rows]
        db.session.remove()
    return secrets


def _sign_in_with_code(app: Flask, secret: str) -> FlaskClient:
    """Sign in with the code of the next time step: setting up 2FA used the current one."""
    client = new_client(app)
    assert sign_in(client).headers["Location"] == "/signin/code"
    code = pyotp.TOTP(secret).at(time.time() + 30)
    done = client.post(
        "/signin/code", data={"csrf_token": csrf_token(client, "/signin/code"), "code": code}
    )
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    return client


def test_the_database_never_holds_a_plain_totp_secret(app: Flask, client: FlaskClient) -> None:
    client.post(
        "/register",
        data={
            "csrf_token": csrf_token(client, "/register"),
            "email": "jana@example.org",
            "name": "Jana",
            "password": PASSWORD,
        },
    )
    with app.app_context():
        verify = link_in(outbox("jana@example.org")[0], "/verify/")
    client.get(verify)
    sign_in(client)
    secret, _ = _enable_two_factor(app, client)

    [stored] = _raw_secrets(app)
    assert secret not in stored and secret.lower() not in stored.lower()
    with app.app_context():
        assert decrypt(stored) == secret
        row = db.session.execute(text("SELECT * FROM user_account")).one()
        assert not any(secret in str(value) for value in row)
    _sign_in_with_code(app, secret)


def test_rotate_key_moves_every_secret_to_the_new_key(app: Flask, runner: FlaskCliRunner) -> None:
    key_a, key_b = new_key(), new_key()
    app.config["KIOSK_DATA_KEYS"] = (key_a,)
    secret = pyotp.random_base32()
    with app.app_context():
        make_user(two_factor_secret=secret)
        make_user("no-2fa@example.org")
    [under_a] = _raw_secrets(app)

    app.config["KIOSK_DATA_KEYS"] = (key_b, key_a)
    first = runner.invoke(args=["kiosk", "rotate-key"])
    again = runner.invoke(args=["kiosk", "rotate-key"])

    assert first.exit_code == 0, first.output
    assert "1 re-encrypted with the newest key, 0 already under it" in first.output
    [under_b] = _raw_secrets(app)
    assert under_b != under_a and decrypt(under_b, [key_b]) == secret
    assert "0 re-encrypted with the newest key, 1 already under it" in again.output
    assert _raw_secrets(app) == [under_b]  # the second run changed nothing
    app.config["KIOSK_DATA_KEYS"] = (key_b,)  # the old key leaves the setting
    _sign_in_with_code(app, secret)


def test_rotate_key_changes_nothing_when_a_secret_is_unreadable(
    app: Flask, runner: FlaskCliRunner
) -> None:
    key_a, key_b, key_c = new_key(), new_key(), new_key()
    app.config["KIOSK_DATA_KEYS"] = (key_a,)
    with app.app_context():
        make_user(two_factor_secret=pyotp.random_base32())
    app.config["KIOSK_DATA_KEYS"] = (key_b,)
    with app.app_context():
        lost = make_user("lost@example.org", two_factor_secret=pyotp.random_base32()).id
    before = _raw_secrets(app)

    app.config["KIOSK_DATA_KEYS"] = (key_c, key_a)  # key B was dropped before a rotation
    result = runner.invoke(args=["kiosk", "rotate-key"])

    assert result.exit_code == 1
    assert f"TOTP secret of user(s) {lost}; nothing was changed" in result.output
    assert _raw_secrets(app) == before
