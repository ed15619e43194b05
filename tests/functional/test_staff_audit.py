"""The owner's audit log page: newest first, filtered by actor, event, subject and day,
paged, and the results alone for htmx. Staff who are not the owner are refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.accounts.models import Role, User
from kiosk.audit import services as audit
from kiosk.extensions import db
from kiosk.uow import unit_of_work
from tests.factories import make_user
from tests.shopping import staff_member


def _a_log(app: Flask) -> FlaskClient:
    """The owner, signed in; a customer's events, and one about an erased account (99)."""
    owner = staff_member(app, Role.OWNER)
    with app.app_context():
        jana = make_user("jana@example.org")
        staff = db.session.scalars(select(User).where(User.email == "owner@example.org")).one()
        with unit_of_work() as session:
            audit.record(session, "signin.failed", subject=jana, reason="password")
            audit.record(session, "customer.disabled", staff, jana, before=True)
            audit.record(session, "account.registered", audit.Account(99))
    return owner


def _results(page: str) -> str:
    """The results below the filters (whose event list names every event)."""
    return page[page.index('id="staff-audit"') :] if 'id="staff-audit"' in page else page


def _rows(page: str) -> int:
    return _results(page).count("<tr>") - 1  # the head's row


def test_the_owner_sees_the_log_newest_first_and_filters_it(app: Flask) -> None:
    owner = _a_log(app)
    page = owner.get("/staff/audit")
    assert page.status_code == 200
    text = _results(page.get_data(as_text=True))
    assert text.index("account.registered") < text.index("customer.disabled")
    assert text.index("customer.disabled") < text.index("signin.failed")
    assert "jana@example.org" in text and "account 99 (no longer there)" in text
    assert "signin.ok" in text  # the owner's own sign-in
    assert 'href="/staff/audit" aria-current="page"' in page.get_data(as_text=True)
    # Filters: who acted, whom it concerned, the event, the day.
    by_owner = _results(owner.get("/staff/audit?actor=OWNER@").text)
    assert "customer.disabled" in by_owner and "signin.failed" not in by_owner
    assert _rows(owner.get("/staff/audit?subject=jana@example.org").text) == 2
    only = owner.get("/staff/audit?event=signin.failed&subject=jana").text
    assert _rows(only) == 1 and "1 entry" in only
    assert "0 entries" in owner.get("/staff/audit?actor=nobody@example.org").text
    today = datetime.now(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    assert _rows(owner.get(f"/staff/audit?from={today}&to={today}").text) >= 4
    assert "0 entries" in owner.get(f"/staff/audit?to={today - timedelta(days=1)}").text

    german = owner.get("/staff/audit", headers={"Accept-Language": "de"}).text
    assert "Protokoll" in german and "Ereignis" in german


def test_bad_dates_htmx_pages_and_staff_who_are_not_the_owner(app: Flask) -> None:
    owner = _a_log(app)
    for bad in ("31.12.2026", "9999-12-31", "2026-02-30"):
        page = owner.get(f"/staff/audit?from={bad}&page=x")
        assert page.status_code == 200
        assert f"{bad} is not a date like 2026-11-23." in page.text
        assert _rows(page.text) >= 4
    with app.app_context(), unit_of_work() as session:
        for number in range(50):
            audit.record(session, "mail.retried", audit.Account(1), message=number)
    response = owner.get("/staff/audit?event=mail.retried", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in response.text and _rows(response.text) == 50
    second = owner.get("/staff/audit?page=2").text
    assert "Page 2 of 2" in second and _rows(second) > 0

    assert staff_member(app).get("/staff/audit").status_code == 403
