"""Staff in a real browser: two-factor sign-in, then the mail outbox and its Retry button."""

from __future__ import annotations

import re
import uuid

import pyotp
from flask import Flask
from playwright.sync_api import Page, expect

from kiosk.accounts.models import Role
from kiosk.mail.models import MailStatus, OutboxMessage
from kiosk.uow import unit_of_work
from tests.factories import PASSWORD, make_user


def test_staff_retry_a_failed_mail(page: Page, live_app: Flask) -> None:
    """A staff member signs in with a code and sends a failed mail again."""
    email, secret = f"staff-{uuid.uuid4().hex[:8]}@example.org", pyotp.random_base32()
    subject = f"Bestellung {uuid.uuid4().hex[:6]}"
    with live_app.app_context():
        make_user(email=email, role=Role.STAFF, two_factor_secret=secret)
        with unit_of_work() as session:
            session.add(
                OutboxMessage(
                    message_id=f"<{uuid.uuid4().hex}@test>",
                    to_address="kunde@example.org",
                    subject=subject,
                    text_body="x",
                    template="test",
                    status=MailStatus.FAILED,
                    attempts=10,
                    last_error="SMTPRecipientsRefused",
                )
            )
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label(re.compile("Code from your authenticator app")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    page.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")  # the staff landing page
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Mail outbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mail outbox")
    row = page.get_by_role("row").filter(has_text=subject)
    expect(row).to_contain_text("SMTPRecipientsRefused")
    row.get_by_role("button", name=re.compile("^Retry")).click()
    expect(page.locator(".flash")).to_contain_text("The message will be sent again.")


def test_customers_are_refused_staff_pages(page: Page, live_app: Flask) -> None:
    """A customer who types the staff address sees the 403 page."""
    email = f"customer-{uuid.uuid4().hex[:8]}@example.org"
    with live_app.app_context():
        make_user(email=email)
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    response = page.goto("/staff/mail")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Access denied")
