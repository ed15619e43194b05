"""The owner reads the audit log and narrows it to their own sign-ins: with JavaScript the
results follow the typing (htmx), without it the Show button does the same; English with
JavaScript, German without."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from playwright.sync_api import BrowserContext, expect

from kiosk.accounts.models import Role
from kiosk.i18n import LANGUAGE_COOKIE
from tests.browser.support import sign_in_with_code

TEXT = {
    True: {"nav": "Audit log", "by": "By (email)", "show": "Show", "one": "1 entry"},
    False: {"nav": "Protokoll", "by": "Von (E-Mail)", "show": "Anzeigen", "one": "1 Eintrag"},
}


def test_the_owner_filters_the_log_by_who_acted(
    context: BrowserContext, live_app: Flask, live_server: str, js: bool
) -> None:
    text = TEXT[js]
    page = context.new_page()
    email = sign_in_with_code(page, live_app, Role.OWNER)
    if not js:
        context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "de", "url": live_server}])
    page.goto("/staff/orders")
    page.get_by_role("navigation", name="Staff" if js else "Mitarbeiterbereich").get_by_role(
        "link", name=text["nav"]
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["nav"])
    page.get_by_label(text["by"]).fill(email)
    if not js:
        page.get_by_role("button", name=text["show"]).click()
    expect(page.locator("#staff-audit .results__count")).to_have_text(text["one"])
    row = page.locator("#staff-audit tbody tr")
    expect(row).to_contain_text("signin.ok")
    expect(row).to_contain_text(email)
    expect(page).to_have_url(re.compile(r"[?&]actor=owner-"))  # an address to come back to
    assert parse_qs(urlsplit(page.url).query)["actor"] == [email]
