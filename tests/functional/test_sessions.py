"""Sessions live on the server: sign-out ends copies of the cookies, and the security page
lists where the account is signed in and signs out other sessions (OWASP ASVS V3.3)."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from kiosk.accounts import services as accounts
from kiosk.accounts.models import Role, UserSession
from kiosk.audit.models import AuditEvent
from kiosk.database import WRITE_OPTION
from kiosk.extensions import db
from kiosk.orm import utcnow
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_user
from tests.functional.test_accounts import NEW_PASSWORD, sign_in

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
SIGNED_OUT = "/signin?next=%2Faccount"


def _browser(app: Flask, user_agent: str = FIREFOX_LINUX) -> FlaskClient:
    client = new_client(app)
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def _copy(client: FlaskClient, app: Flask, *names: str) -> FlaskClient:
    """Another browser holding copies of `client`'s cookies (as a thief would)."""
    thief = _browser(app)
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value)
    return thief


def _sign_out(client: FlaskClient) -> None:
    response = client.post("/signout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303


def _session_rows(app: Flask) -> list[UserSession]:
    with app.app_context():
        rows = list(db.session.scalars(select(UserSession).order_by(UserSession.id)))
        db.session.expunge_all()
        return rows


def _events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return events


def _set_times(app: Flask, **times: object) -> None:
    with app.app_context(), db.session.begin():
        db.session.execute(update(UserSession).values(**times))


# Signing out ends copies of the cookies ---------------------------------------------------


def test_a_session_cookie_copied_before_sign_out_opens_nothing_after(app: Flask) -> None:
    with app.app_context():
        make_user()
    browser = _browser(app)
    sign_in(browser)
    thief = _copy(browser, app, "session")
    assert thief.get("/account").status_code == 200  # the copy works while signed in
    _sign_out(browser)
    response = thief.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == SIGNED_OUT
    assert _session_rows(app) == []


def test_a_remember_me_cookie_copied_before_sign_out_opens_nothing_after(app: Flask) -> None:
    with app.app_context():
        make_user()
    browser = _browser(app)
    sign_in(browser, remember="y")
    thief = _copy(browser, app, "remember_token")
    assert thief.get("/account").status_code == 200  # the remember-me cookie alone signs in
    thief = _copy(browser, app, "remember_token")
    _sign_out(browser)
    response = thief.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == SIGNED_OUT


def test_remember_me_outlasts_the_idle_limit_but_not_its_days(app: Flask) -> None:
    with app.app_context():
        make_user()
    browser = _browser(app)
    sign_in(browser, remember="y")
    _set_times(app, last_seen_at=utcnow() - timedelta(days=2))
    browser.delete_cookie("session")  # the browser was closed for two days
    assert browser.get("/account").status_code == 200
    _set_times(app, created_at=utcnow() - app.config["REMEMBER_COOKIE_DURATION"])
    browser.delete_cookie("session")
    assert browser.get("/account").status_code == 302
    assert browser.get_cookie("remember_token") is None  # and the stale cookie is gone


def test_a_session_idle_on_the_server_ends_with_a_message(app: Flask) -> None:
    with app.app_context():
        make_user()
    browser = _browser(app)
    sign_in(browser)
    idle = timedelta(minutes=app.config["KIOSK_SESSION_IDLE_MINUTES"], seconds=1)
    _set_times(app, last_seen_at=utcnow() - idle)
    assert browser.get("/account").status_code == 302
    assert "You were signed out after a while" in browser.get("/signin").text
    assert _session_rows(app) == []


def test_a_session_past_its_longest_time_on_the_server_ends(app: Flask) -> None:
    with app.app_context():
        make_user()
    browser = _browser(app)
    sign_in(browser)
    longest = timedelta(hours=app.config["KIOSK_SESSION_MAX_HOURS"], seconds=1)
    _set_times(app, created_at=utcnow() - longest)
    assert browser.get("/account").status_code == 302


def test_a_login_id_from_before_session_rows_is_refused(app: Flask) -> None:
    with app.app_context():
        user = make_user()
        old_login_id = f"{user.id}:{user.session_version}"
    browser = _browser(app)
    with browser.session_transaction() as session:
        session["_user_id"] = old_login_id
        session["_fresh"] = True
    assert browser.get("/account").status_code == 302


def test_a_role_change_ends_the_accounts_sessions(app: Flask) -> None:
    with app.app_context():
        owner_id = make_user("owner@example.org", role=Role.OWNER).id
        clerk_id = make_user("clerk@example.org").id
    browser = _browser(app)
    sign_in(browser, email="clerk@example.org")
    with app.app_context():
        accounts.change_role(owner_id, clerk_id, Role.STAFF)
    assert browser.get("/account").status_code == 302
    assert _session_rows(app) == []


def test_a_password_change_ends_the_other_sessions_rows_and_keeps_this_one(app: Flask) -> None:
    with app.app_context():
        make_user()
    laptop, phone = _browser(app), _browser(app, SAFARI_IPHONE)
    sign_in(laptop, remember="y")
    sign_in(phone)
    response = laptop.post(
        "/account/security/password",
        data={
            "csrf_token": csrf_token(laptop, "/account/security"),
            "pw-current_password": PASSWORD,
            "pw-new_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert [row.system for row in _session_rows(app)] == ["Linux"]
    assert phone.get("/account").status_code == 302
    laptop.delete_cookie("session")  # the laptop's remember-me cookie carries on
    assert laptop.get("/account").status_code == 200


# The list of sessions --------------------------------------------------------------------


def test_the_security_page_lists_sessions_with_device_and_times(app: Flask) -> None:
    with app.app_context():
        make_user()
    laptop, phone = _browser(app), _browser(app, SAFARI_IPHONE)
    sign_in(phone)
    sign_in(laptop)
    page = laptop.get("/account/security").text
    section = page[page.index('id="sessions"') :]
    assert "<caption" in section and '<th scope="col">Last seen</th>' in section
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>", section, re.S)
    assert [re.sub(r"\s+|<[^>]+>", " ", row).split() for row in rows] == [
        ["Firefox", "on", "Linux", "This", "device"],
        ["Safari", "on", "iOS"],
    ]
    stamps = re.findall(r'<time datetime="([^"]+)">', section)
    assert len(stamps) == 4
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps)
    assert section.count(">Sign out<") == 1  # the other session only
    assert "Sign out of all other sessions" in section


def test_the_security_page_is_german_for_german_browsers(app: Flask) -> None:
    with app.app_context():
        make_user()
    browser = _browser(app)
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    sign_in(browser)
    page = browser.get("/account/security").text
    assert "Firefox unter Linux" in page and "Dieses Gerät" in page


def test_last_seen_is_written_at_most_once_a_minute(app: Flask) -> None:
    with app.app_context():
        make_user()
    browser = _browser(app)
    sign_in(browser)
    [row] = _session_rows(app)
    browser.get("/account")
    assert _session_rows(app)[0].last_seen_at == row.last_seen_at  # not a minute yet
    two_minutes_ago = utcnow() - timedelta(minutes=2)
    _set_times(app, last_seen_at=two_minutes_ago)
    browser.get("/account")
    assert _session_rows(app)[0].last_seen_at > two_minutes_ago + timedelta(minutes=1)


def test_a_busy_database_never_fails_a_request_over_last_seen(app: Flask) -> None:
    with app.app_context():
        make_user()
    browser = _browser(app)
    sign_in(browser)
    two_minutes_ago = utcnow() - timedelta(minutes=2)
    _set_times(app, last_seen_at=two_minutes_ago)
    with app.app_context(), db.engine.connect() as other:
        # Another writer holds the lock: the whole database on SQLite, the row on PostgreSQL.
        other.execution_options(**{WRITE_OPTION: True})
        with other.begin():
            other.execute(select(UserSession).with_for_update())
            assert browser.get("/account").status_code == 200
    assert _session_rows(app)[0].last_seen_at == two_minutes_ago


# Signing out other sessions --------------------------------------------------------------


def test_signing_out_all_other_sessions_ends_them_but_not_this_one(app: Flask) -> None:
    with app.app_context():
        make_user()
    laptop, phone, tablet = _browser(app), _browser(app, SAFARI_IPHONE), _browser(app)
    for browser in (phone, tablet, laptop):
        sign_in(browser, remember="y")
    phone_remembered = _copy(phone, app, "remember_token")
    response = laptop.post(
        "/account/security/sessions/end-others",
        data={"csrf_token": csrf_token(laptop, "/account/security")},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/security#sessions"
    assert "2 other sessions are signed out." in laptop.get("/account/security").text
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302
    assert tablet.get("/account").status_code == 302
    assert phone_remembered.get("/account").status_code == 302
    event = _events(app)[-1]
    assert (event.event, event.details) == ("session.others_ended", {"count": 2})


def test_one_other_session_can_be_signed_out(app: Flask) -> None:
    with app.app_context():
        make_user()
    laptop, phone = _browser(app), _browser(app, SAFARI_IPHONE)
    sign_in(phone)
    sign_in(laptop)
    phone_row = next(row for row in _session_rows(app) if row.system == "iOS")
    response = laptop.post(
        f"/account/security/sessions/{phone_row.id}/end",
        data={"csrf_token": csrf_token(laptop, "/account/security")},
    )
    assert response.status_code == 303
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200
    event = _events(app)[-1]
    assert event.event == "session.ended"
    assert (event.details["browser"], event.details["system"]) == ("Safari", "iOS")


def test_signing_out_a_session_with_htmx_returns_the_fresh_list(app: Flask) -> None:
    with app.app_context():
        make_user()
    laptop, phone = _browser(app), _browser(app, SAFARI_IPHONE)
    sign_in(phone)
    sign_in(laptop)
    response = laptop.post(
        "/account/security/sessions/end-others",
        data={"csrf_token": csrf_token(laptop, "/account/security")},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert '<section class="card" id="sessions"' in response.text
    assert "Safari" not in response.text and "<html" not in response.text
    assert "1 other session is signed out." in response.text  # the flash, out of band


def test_another_users_session_cannot_be_ended(app: Flask) -> None:
    with app.app_context():
        make_user()
        make_user("max@example.org")
    jana, max_ = _browser(app), _browser(app, SAFARI_IPHONE)
    sign_in(max_, email="max@example.org")
    sign_in(jana)
    rows = {row.system: row.id for row in _session_rows(app)}
    token = csrf_token(jana, "/account/security")
    for session_id in (rows["iOS"], rows["Linux"], 9999):  # Max's, her own current, none
        response = jana.post(
            f"/account/security/sessions/{session_id}/end", data={"csrf_token": token}
        )
        assert response.status_code == 404
    assert max_.get("/account").status_code == 200
    assert jana.get("/account").status_code == 200
    assert "Safari" not in jana.get("/account/security").text


def test_ending_sessions_needs_the_csrf_token(app: Flask) -> None:
    with app.app_context():
        make_user()
    laptop, phone = _browser(app), _browser(app, SAFARI_IPHONE)
    sign_in(phone)
    sign_in(laptop)
    assert laptop.post("/account/security/sessions/end-others").status_code == 400
    assert phone.get("/account").status_code == 200
