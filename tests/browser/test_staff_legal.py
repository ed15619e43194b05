"""The owner edits the accessibility statement in a real browser: preview, save as a new
version, see it in the shop; with JavaScript on (in English) and off (in German).

The live server lasts the whole session: the test saves the shipped text again at the end,
so other tests see the statement as a fresh shop shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from kiosk.accounts.models import Role, User
from kiosk.extensions import db
from kiosk.legal import initial
from kiosk.legal import services as legal
from kiosk.uow import read_session
from tests.browser.test_staff_orders import _staff_sign_in


@pytest.fixture
def owner_page(page: Page, live_app: Flask) -> Iterator[Page]:
    """A browser signed in as a new owner; the shipped statement saved again afterwards."""
    email = _staff_sign_in(page, live_app, Role.OWNER)
    yield page
    with live_app.test_request_context():
        owner_id = db.session.scalars(select(User.id).where(User.email == email)).one()
        shipped = {
            language: initial.shipped_text(read_session(), "accessibility", language)
            for language in ("de", "en")
        }
        legal.save(owner_id, "accessibility", shipped)
        db.session.remove()


def test_the_owner_previews_and_saves_the_accessibility_statement(
    owner_page: Page, js: bool
) -> None:
    page = owner_page
    page.goto("/staff/orders")
    if not js:  # the run without JavaScript is in German
        page.get_by_role("button", name=re.compile(r"^DE\b")).click()
        expect(page.locator("html")).to_have_attribute("lang", "de")
    words = (
        {"nav": "Legal texts", "text": "Accessibility statement (BFSG)", "field": "English text",
         "preview": "Preview", "save": "Save as new version", "saved": "Saved as version",
         "heading": "Preview of the English text", "public": "Accessibility statement"}
        if js else
        {"nav": "Rechtstexte", "text": "Erklärung zur Barrierefreiheit (BFSG)",
         "field": "Deutscher Text", "preview": "Vorschau", "save": "Als neue Version speichern",
         "saved": "Als Version", "heading": "Vorschau des deutschen Texts",
         "public": "Erklärung zur Barrierefreiheit"}
    )  # fmt: skip
    page.get_by_role("link", name=words["nav"]).click()
    page.get_by_role("link", name=words["text"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["text"])
    statement = page.get_by_label(words["field"])
    expect(statement).to_have_value(re.compile("WCAG 2.1"))  # the shipped text to start from
    statement.fill("## Kontakt / Contact\n\nBarrieren: **barrieren@example.org**")
    page.get_by_role("button", name=words["preview"], exact=True).click()

    preview = page.locator("#markdown-preview")
    expect(preview.get_by_role("heading", name=words["heading"])).to_be_visible()
    expect(preview.get_by_role("heading", name="Kontakt / Contact")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("barrieren@example.org")
    expect(page.get_by_label(words["field"])).to_have_value(re.compile("barrieren@example.org"))

    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator(".flash--success")).to_contain_text(words["saved"])
    page.get_by_role("contentinfo").get_by_role(
        "link", name=re.compile("^(Accessibility|Barrierefreiheit)$")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["public"])
    expect(page.locator("main")).to_contain_text("barrieren@example.org")
