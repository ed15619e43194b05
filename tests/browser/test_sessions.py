"""Where the account is signed in: the security page lists the sessions and signs out
the others, with JavaScript (htmx swaps the list) and without (the form posts, 303)."""

from __future__ import annotations

import re
import uuid

from flask import Flask
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from tests.browser.test_checkout import _sign_in
from tests.factories import make_user

SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def test_sign_out_of_the_other_sessions(
    page: Page, new_context: CreateContextCallback, live_app: Flask
) -> None:
    email = f"sessions-{uuid.uuid4().hex[:10]}@example.org"
    with live_app.app_context():
        make_user(email=email)
    phone = new_context(user_agent=SAFARI_IPHONE).new_page()
    _sign_in(phone, email)
    _sign_in(page, email)

    page.goto("/account/security")
    sessions = page.get_by_role("table", name="Your active sessions")
    expect(sessions.get_by_role("row")).to_have_count(3)  # the header and two sessions
    expect(sessions.get_by_role("rowheader").first).to_contain_text("Chrome on Linux")
    expect(sessions.get_by_role("rowheader").first).to_contain_text("This device")
    expect(sessions.get_by_role("rowheader").last).to_have_text("Safari on iOS")
    page.get_by_role("button", name="Sign out of all other sessions").click()

    expect(page.locator(".flash")).to_contain_text("1 other session is signed out.")
    expect(sessions.get_by_role("row")).to_have_count(2)
    expect(page.get_by_role("button", name="Sign out of all other sessions")).to_have_count(0)
    phone.goto("/account")
    expect(phone).to_have_url(re.compile(r"/signin\?next="))
