"""Accounts without JavaScript: register, verify, sign in (with 2FA), reset, change, roles."""

import re
import time

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kiosk.accounts.models import Address, Role, User, UserSession
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from tests.conftest import CSRF_INPUT, csrf_token, new_client
from tests.factories import PASSWORD, make_user
from tests.mailbox import link_in, outbox

NEW_PASSWORD = "purple elephants juggle quietly"


def sign_in(
    client: FlaskClient, email: str = "jana@example.org", password: str = PASSWORD, **extra: str
):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf_token(client, "/signin"),
        "email": email,
        "password": password,
        **extra,
    }
    return client.post("/signin", data=data)


def _events(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)))


def _user(app: Flask, email: str = "jana@example.org") -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        db.session.expunge(user)
        return user


# Registration and verification -----------------------------------------------------------


def test_register_verify_and_sign_in(app: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/register",
        data={
            "csrf_token": csrf_token(client, "/register"),
            "email": " Jana@Example.org ",
            "name": "Jana",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/check-your-mail?reason=register"
    with app.app_context():
        [mail] = outbox("jana@example.org")
        assert mail.subject == "Please confirm your email address"
        link = link_in(mail, "/verify/")
    assert _user(app).email_verified_at is None
    assert client.get(link).status_code == 303
    assert _user(app).email_verified_at is not None
    assert client.get(link).status_code == 400  # single use
    assert "already been used" in client.get(link).text
    assert sign_in(client).headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    assert _events(app) == ["account.registered", "account.verified", "signin.ok"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Use at least 12 characters."),
        ("passwordpassword", "too easy to guess"),
        ("123qweasdzxc", "common or breached passwords"),
    ],
)
def test_weak_passwords_are_refused_and_the_rest_is_kept(
    client: FlaskClient, password: str, message: str
) -> None:
    response = client.post(
        "/register",
        data={
            "csrf_token": csrf_token(client, "/register"),
            "email": "jana@example.org",
            "name": "Jana Müller",
            "password": password,
        },
    )
    assert response.status_code == 422
    assert message in response.text
    assert 'value="jana@example.org"' in response.text and 'value="Jana Müller"' in response.text
    assert 'class="error-summary"' in response.text
    assert 'aria-describedby="password-hint password-error"' in response.text
    assert 'id="password-error"' in response.text


def test_a_long_passphrase_is_accepted(client: FlaskClient) -> None:
    long_password = "tram " * 25 + "elephant umbrella"  # 142 characters
    response = client.post(
        "/register",
        data={
            "csrf_token": csrf_token(client, "/register"),
            "email": "long@example.org",
            "password": long_password,
        },
    )
    assert response.status_code == 303


def test_registering_a_known_address_looks_the_same_and_tells_the_owner(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_user()
    response = client.post(
        "/register",
        data={
            "csrf_token": csrf_token(client, "/register"),
            "email": "jana@example.org",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/check-your-mail?reason=register"
    with app.app_context():
        [mail] = outbox()
        assert mail.subject == "You already have an account"
        assert db.session.scalar(select(User.password_hash)) != NEW_PASSWORD


def test_password_check_for_htmx(client: FlaskClient) -> None:
    token = csrf_token(client, "/register")
    weak = client.post(
        "/register/check-password",
        data={"csrf_token": token, "password": "abc"},
        headers={"HX-Request": "true"},
    )
    assert "Use at least 12 characters." in weak.text and "<html" not in weak.text
    good = client.post(
        "/register/check-password", data={"csrf_token": token, "password": NEW_PASSWORD}
    )
    assert "This password is good." in good.text


def test_unverified_accounts_may_sign_in_but_not_see_account_pages(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_user(verified=False)
    sign_in(client)
    response = client.get("/account/addresses")
    assert response.status_code == 302 and response.headers["Location"] == "/account/unverified"
    assert (
        client.post(
            "/account/unverified", data={"csrf_token": csrf_token(client, "/account/unverified")}
        ).status_code
        == 303
    )
    with app.app_context():
        assert outbox()[-1].subject == "Please confirm your email address"


@pytest.mark.parametrize("link", ["/verify/garbage", "/verify/eyJ1IjoxfQ.tampered.sig"])
def test_broken_verification_links_get_a_clear_error(client: FlaskClient, link: str) -> None:
    response = client.get(link)
    assert response.status_code == 400
    assert "This link is not valid" in response.text


def test_expired_verification_links_get_a_clear_error(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post(
        "/register",
        data={
            "csrf_token": csrf_token(client, "/register"),
            "email": "jana@example.org",
            "password": PASSWORD,
        },
    )
    with app.app_context():
        link = link_in(outbox()[0], "/verify/")
    later = time.time() + 49 * 3600
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    response = client.get(link)
    assert response.status_code == 400
    assert "This link has expired" in response.text


# Signing in ------------------------------------------------------------------------------


def test_unknown_email_and_wrong_password_look_the_same(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    unknown = sign_in(client, email="nobody@example.org")
    wrong = sign_in(client, password="not the right password")
    assert unknown.status_code == wrong.status_code == 422
    message = "The email address or password is not right."
    assert message in unknown.text and message in wrong.text

    # The pages differ in nothing but the address typed (and the CSRF token, which is
    # signed with the time, so it changes when a second passes between the two).
    def same(page: str, email: str) -> str:
        return CSRF_INPUT.sub("csrf", page.replace(email, "X"))

    assert same(unknown.text, "nobody@example.org") == same(wrong.text, "jana@example.org")
    assert _events(app) == ["signin.failed", "signin.failed"]


def test_the_session_changes_at_sign_in(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    client.get("/signin")
    before = client.get_cookie("session")
    assert before is not None
    token_before = csrf_token(client, "/")
    sign_in(client)
    with client.session_transaction() as session:
        login_id = session["_user_id"]
    after = client.get_cookie("session")
    assert after is not None and after.value != before.value
    assert csrf_token(client, "/") != token_before
    sign_in(client)  # signing in again starts yet another session, and ends the first
    with client.session_transaction() as session:
        assert session["_user_id"] != login_id
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_sign_out_is_a_post(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    assert client.get("/signout").status_code == 405
    assert client.post("/signout", data={"csrf_token": csrf_token(client)}).status_code == 303
    assert client.get("/account").status_code == 302
    assert _events(app)[-1] == "signout"


def test_sign_in_is_throttled_with_retry_after(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    statuses = [sign_in(client, password="wrong password " + str(i)).status_code for i in range(6)]
    assert statuses[:5] == [422] * 5
    blocked = sign_in(client, password="wrong again")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many requests" in blocked.text


def test_throttling_counts_per_account_across_addresses(app: Flask) -> None:
    with app.app_context():
        make_user()
    for i in range(5):
        other_ip = new_client(app)
        other_ip.environ_base["REMOTE_ADDR"] = f"10.0.0.{i}"
        assert sign_in(other_ip, password="wrong").status_code == 422
    last = new_client(app)
    last.environ_base["REMOTE_ADDR"] = "10.0.1.1"
    assert sign_in(last).status_code == 429  # even the right password waits


def test_a_post_without_csrf_token_changes_nothing(app: Flask, client: FlaskClient) -> None:
    response = client.post("/register", data={"email": "jana@example.org", "password": PASSWORD})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_remember_me_survives_a_closed_browser(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client, remember="y")
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")  # the browser was closed
    assert client.get("/account").status_code == 200


def test_idle_sessions_end(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    with client.session_transaction() as session:
        session["seen_at"] -= app.config["KIOSK_SESSION_IDLE_MINUTES"] * 60 + 1
    assert client.get("/account").status_code == 302


def test_sessions_end_after_the_longest_time(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    with client.session_transaction() as session:
        session["auth_at"] -= app.config["KIOSK_SESSION_MAX_HOURS"] * 3600 + 1
    assert client.get("/account").status_code == 302


def test_argon2_hashes_are_upgraded_at_sign_in(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    old_hash = _user(app).password_hash
    assert "m=1024,t=1,p=1" in old_hash
    app.config.update(ARGON2_TIME_COST=2, ARGON2_MEMORY_KIB=2048)
    assert sign_in(client).status_code == 303
    new_hash = _user(app).password_hash
    assert "m=2048,t=2,p=1" in new_hash and new_hash.startswith("$argon2id$")


# Reset and change ------------------------------------------------------------------------


def test_reset_ends_every_other_session(app: Flask) -> None:
    with app.app_context():
        make_user()
    laptop, phone = new_client(app), new_client(app)
    sign_in(laptop)
    assert laptop.get("/account").status_code == 200
    response = phone.post(
        "/forgot-password",
        data={"csrf_token": csrf_token(phone, "/forgot-password"), "email": "jana@example.org"},
    )
    assert response.headers["Location"] == "/check-your-mail?reason=reset"
    with app.app_context():
        link = link_in(outbox()[-1], "/reset-password/")
    form = phone.get(link)
    assert form.status_code == 200
    done = phone.post(link, data={"csrf_token": csrf_token(phone, link), "password": NEW_PASSWORD})
    assert done.status_code == 303
    assert phone.get("/account").status_code == 200  # the phone is signed in
    assert laptop.get("/account").status_code == 302  # the laptop is not any more
    assert phone.get(link).status_code == 400  # the link is used up
    assert sign_in(new_client(app), password=NEW_PASSWORD).status_code == 303
    assert "password.reset" in _events(app)


def test_reset_for_an_unknown_address_looks_the_same(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    known = client.post(
        "/forgot-password",
        data={"csrf_token": csrf_token(client, "/forgot-password"), "email": "jana@example.org"},
    )
    unknown = client.post(
        "/forgot-password",
        data={"csrf_token": csrf_token(client, "/forgot-password"), "email": "nobody@example.org"},
    )
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    with app.app_context():
        assert [m.to_address for m in outbox()] == ["jana@example.org"]


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(app: Flask) -> None:
    with app.app_context():
        make_user()
    this, other = new_client(app), new_client(app)
    sign_in(this)
    sign_in(other)
    token = csrf_token(this, "/account/security")
    wrong = this.post(
        "/account/security/password",
        data={"csrf_token": token, "pw-current_password": "nope", "pw-new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and "That is not your current password." in wrong.text
    ok = this.post(
        "/account/security/password",
        data={
            "csrf_token": token,
            "pw-current_password": PASSWORD,
            "pw-new_password": NEW_PASSWORD,
        },
    )
    assert ok.status_code == 303
    assert this.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    with app.app_context():
        assert outbox()[-1].subject == "Your password was changed"


def test_changing_the_email_is_confirmed_at_the_new_address_and_told_to_the_old(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    token = csrf_token(client, "/account/security")
    response = client.post(
        "/account/security/email",
        data={
            "csrf_token": token,
            "em-new_email": "new@example.org",
            "em-current_password": PASSWORD,
        },
    )
    assert response.status_code == 303
    assert _user(app).email == "jana@example.org"  # not yet
    with app.app_context():
        link = link_in(outbox("new@example.org")[0], "/account/email/confirm/")
    assert client.get(link).status_code == 303
    assert _user(app, "new@example.org").email_verified_at is not None
    with app.app_context():
        assert (
            outbox("jana@example.org")[-1].subject
            == "The email address of your account was changed"
        )
    assert client.get(link).status_code == 400  # used


# Two-factor sign-in ------------------------------------------------------------------------


def _enable_two_factor(app: Flask, client: FlaskClient) -> tuple[str, list[str]]:
    page = client.get("/account/security/two-factor")
    assert page.status_code == 200 and "data:image/svg+xml" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    secret = (
        re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text).group(1).replace(" ", "")
    )
    code = pyotp.TOTP(secret).now()
    done = client.post(
        "/account/security/two-factor",
        data={"csrf_token": csrf_token(client, "/account/security/two-factor"), "code": code},
    )
    assert done.status_code == 200
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", done.text)
    assert len(codes) == 10
    return secret, codes


def test_setting_up_two_factor_needs_a_code_from_the_app(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    refused = client.post(
        "/account/security/two-factor",
        data={"csrf_token": csrf_token(client, "/account/security/two-factor"), "code": "123456"},
    )
    assert refused.status_code == 422 and _user(app).totp_enabled_at is None
    _enable_two_factor(app, client)
    assert _user(app).totp_enabled_at is not None
    assert "2fa.enabled" in _events(app)


def test_two_factor_sign_in_with_a_time_shifted_code(app: Flask, client: FlaskClient) -> None:
    secret = pyotp.random_base32()
    with app.app_context():
        make_user(two_factor_secret=secret)
    response = sign_in(client)
    assert response.headers["Location"] == "/signin/code"
    assert client.get("/account").status_code == 302  # not signed in yet
    wrong = client.post(
        "/signin/code", data={"csrf_token": csrf_token(client, "/signin/code"), "code": "000000"}
    )
    assert wrong.status_code == 422
    totp = pyotp.TOTP(secret)
    if time.time() % 30 > 28:  # not at the turn of a step, or "one step back" becomes two
        time.sleep(2.1)
    earlier = totp.at(time.time() - 30)  # one step back: clocks drift
    response = client.post(
        "/signin/code", data={"csrf_token": csrf_token(client, "/signin/code"), "code": earlier}
    )
    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    assert _events(app) == ["signin.2fa_failed", "signin.ok"]


def test_a_totp_code_cannot_be_used_twice(app: Flask) -> None:
    secret = pyotp.random_base32()
    with app.app_context():
        make_user(two_factor_secret=secret)
    code = pyotp.TOTP(secret).now()
    first, second = new_client(app), new_client(app)
    sign_in(first)
    assert (
        first.post(
            "/signin/code", data={"csrf_token": csrf_token(first, "/signin/code"), "code": code}
        ).status_code
        == 303
    )
    sign_in(second)
    replay = second.post(
        "/signin/code", data={"csrf_token": csrf_token(second, "/signin/code"), "code": code}
    )
    assert replay.status_code == 422


def test_a_totp_code_from_far_away_in_time_is_refused(app: Flask, client: FlaskClient) -> None:
    secret = pyotp.random_base32()
    with app.app_context():
        make_user(two_factor_secret=secret)
    sign_in(client)
    old = pyotp.TOTP(secret).at(time.time() - 120)
    assert (
        client.post(
            "/signin/code", data={"csrf_token": csrf_token(client, "/signin/code"), "code": old}
        ).status_code
        == 422
    )


def test_recovery_codes_work_once(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    _, codes = _enable_two_factor(app, client)
    client.post("/signout", data={"csrf_token": csrf_token(client)})
    for attempt, expected in ((codes[0].lower(), 303), (codes[0], 422)):
        client.post("/signout", data={"csrf_token": csrf_token(client)})
        sign_in(client)
        response = client.post(
            "/signin/code", data={"csrf_token": csrf_token(client, "/signin/code"), "code": attempt}
        )
        assert response.status_code == expected
    assert "2fa.recovery_used" in _events(app)


# Profile, addresses, preferences ------------------------------------------------------------------


def test_profile_is_saved(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    token = csrf_token(client, "/account/profile")
    bad = client.post(
        "/account/profile",
        data={"csrf_token": token, "name": "Jana", "phone": "call me", "locale": "en"},
    )
    assert bad.status_code == 422 and 'value="call me"' in bad.text
    ok = client.post(
        "/account/profile",
        data={"csrf_token": token, "name": "Jana M.", "phone": "+49 30 1234", "locale": "de"},
    )
    assert ok.status_code == 303
    user = _user(app)
    assert (user.name, user.phone, user.locale) == ("Jana M.", "+49 30 1234", "de")


ADDRESS = {
    "name": "Jana Müller",
    "street": "Hauptstraße 1",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
}


def test_address_book(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    token = csrf_token(client, "/account/addresses/new")
    bad = client.post(
        "/account/addresses/new", data={"csrf_token": token, **ADDRESS, "postal_code": "1011"}
    )
    assert bad.status_code == 422 and "A German postcode has five digits." in bad.text
    assert 'value="Hauptstraße 1"' in bad.text
    assert (
        client.post("/account/addresses/new", data={"csrf_token": token, **ADDRESS}).status_code
        == 303
    )
    second = {
        **ADDRESS,
        "street": "Nebenweg 2",
        "country": "AT",
        "postal_code": "1010",
        "city": "Wien",
        "is_default_shipping": "y",
    }
    assert (
        client.post("/account/addresses/new", data={"csrf_token": token, **second}).status_code
        == 303
    )
    with app.app_context():
        first, other = db.session.scalars(select(Address).order_by(Address.id)).all()
        assert (first.is_default_shipping, first.is_default_billing) == (False, True)
        assert (other.is_default_shipping, other.is_default_billing) == (True, False)
        first_id, other_id = first.id, other.id
    page = client.get("/account/addresses").text
    assert "Hauptstraße 1" in page and "Nebenweg 2" in page
    assert (
        client.post(f"/account/addresses/{other_id}/delete", data={"csrf_token": token}).status_code
        == 303
    )
    with app.app_context():
        remaining = db.session.scalars(select(Address)).all()
        assert [a.id for a in remaining] == [first_id] and remaining[0].is_default_shipping


def test_address_form_for_htmx_returns_the_fragment(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    response = client.get("/account/addresses/new", headers={"HX-Request": "true"})
    assert "<html" not in response.text and 'name="street"' in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_another_customers_address_is_not_found(app: Flask) -> None:
    with app.app_context():
        make_user()
        make_user(email="other@example.org")
    owner, intruder = new_client(app), new_client(app)
    sign_in(owner)
    owner.post(
        "/account/addresses/new",
        data={"csrf_token": csrf_token(owner, "/account/addresses/new"), **ADDRESS},
    )
    with app.app_context():
        address_id = db.session.scalar(select(Address.id))
    sign_in(intruder, email="other@example.org")
    token = csrf_token(intruder, "/account")
    assert intruder.get(f"/account/addresses/{address_id}/edit").status_code == 404
    assert (
        intruder.post(
            f"/account/addresses/{address_id}/edit",
            data={"csrf_token": token, **ADDRESS, "street": "Stolen"},
        ).status_code
        == 404
    )
    assert (
        intruder.post(
            f"/account/addresses/{address_id}/delete", data={"csrf_token": token}
        ).status_code
        == 404
    )
    with app.app_context():
        assert db.session.scalar(select(Address.street)) == "Hauptstraße 1"


def test_newsletter_needs_a_confirmed_opt_in(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client)
    token = csrf_token(client, "/account/email-preferences")
    client.post("/account/email-preferences", data={"csrf_token": token, "marketing": "subscribe"})
    assert _user(app).marketing_consent_at is None
    with app.app_context():
        link = link_in(outbox()[-1], "/account/newsletter/confirm/")
    client.get(link)
    assert _user(app).marketing_consent_at is not None
    assert client.get(link).status_code == 400
    client.post(
        "/account/email-preferences", data={"csrf_token": token, "marketing": "unsubscribe"}
    )
    assert _user(app).marketing_consent_at is None
    assert _events(app)[-2:] == ["marketing.opted_in", "marketing.opted_out"]


# Roles -----------------------------------------------------------------------------------


def test_staff_need_two_factor_when_the_shop_says_so(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user(role=Role.STAFF)
    sign_in(client)
    response = client.get("/staff/mail")
    assert response.status_code == 302 and response.headers["Location"] == "/account/security"
    app.config["KIOSK_STAFF_REQUIRE_2FA"] = False
    assert client.get("/staff/mail").status_code == 200


def test_staff_see_failed_mail_and_retry_it(app: Flask, client: FlaskClient) -> None:
    from kiosk.mail.models import MailStatus, OutboxMessage
    from kiosk.uow import unit_of_work

    app.config["KIOSK_STAFF_REQUIRE_2FA"] = False
    with app.app_context():
        make_user(role=Role.OWNER)
        with unit_of_work() as session:
            session.add(
                OutboxMessage(
                    message_id="<1@x>",
                    to_address="c@example.org",
                    subject="Ihre Bestellung",
                    text_body="x",
                    template="t",
                    status=MailStatus.FAILED,
                    attempts=10,
                    last_error="SMTPRecipientsRefused",
                )
            )
    sign_in(client)
    page = client.get("/staff/mail").text
    assert "Ihre Bestellung" in page and "SMTPRecipientsRefused" in page
    response = client.post(
        "/staff/mail/1/retry", data={"csrf_token": csrf_token(client, "/staff/mail")}
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.status)) is MailStatus.PENDING
    assert _events(app)[-1] == "mail.retried"


def test_create_admin_makes_a_verified_owner_and_records_it(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(
        args=["kiosk", "create-admin", "--email", "boss@example.org"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    user = _user(app, "boss@example.org")
    assert user.role is Role.OWNER and user.email_verified_at is not None
    assert _events(app) == ["role.changed"]
