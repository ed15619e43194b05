"""A customer downloads their data (Art. 15, 20 GDPR) from the account's privacy page, in a
browser: with JavaScript in German, without it in English."""

from __future__ import annotations

import json
import re
import uuid
import zipfile

from flask import Flask
from playwright.sync_api import Page, expect

from kiosk.extensions import db
from tests.factories import PASSWORD, make_user

WORDS = {
    "de": {"email": "E-Mail", "password": "Passwort", "sign_in": "Anmelden",
           "privacy": "Datenschutz", "download": "Meine Daten herunterladen (ZIP)",
           "summary": "Ihre Daten bei"},
    "en": {"email": "Email", "password": "Password", "sign_in": "Sign in",
           "privacy": "Privacy", "download": "Download my data (ZIP)",
           "summary": "Your data at"},
}  # fmt: skip


def test_a_customer_downloads_their_data_from_the_privacy_page(
    page: Page, live_app: Flask, js: bool
) -> None:
    language = "de" if js else "en"
    words, email = WORDS[language], f"privacy-{uuid.uuid4().hex[:10]}@example.org"
    with live_app.app_context():
        make_user(email=email, name="Jana Müller", locale=language)
        db.session.remove()
    page.goto("/signin")
    page.get_by_role("button", name=re.compile(f"^{language.upper()}")).click()
    page.get_by_label(words["email"], exact=True).fill(email)
    page.get_by_label(words["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    page.locator(".account-nav").get_by_role("link", name=words["privacy"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["privacy"])

    with page.expect_download() as download:
        page.get_by_role("button", name=words["download"]).click()

    with zipfile.ZipFile(download.value.path()) as archive:
        data = json.loads(archive.read("data.json"))
        summary = archive.read("summary.html").decode()
    assert [account["email"] for account in data["user_account"]] == [email]
    assert "password_hash" not in data["user_account"][0]
    assert words["summary"] in summary and "Jana Müller" in summary
