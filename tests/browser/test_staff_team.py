"""The owner invites a staff member, who joins from the mailed link and is sent to set up
two-factor sign-in before the back office opens; with JavaScript on and off, in English
and in German."""

from __future__ import annotations

import re
import uuid
from email.header import decode_header, make_header

import pyotp
from flask import Flask
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from kiosk.accounts.models import Role
from tests.browser.support import link_from_mail, sign_in_with_code
from tests.mailbox import CapturingSMTP

NEW_PASSWORD = "seven blue herons at dawn"


def _owner_invites(page: Page, live_app: Flask, email: str, language: str) -> None:
    """An owner signs in with password and code and sends an invitation from the team page."""
    sign_in_with_code(page, live_app, Role.OWNER)
    page.goto("/staff/orders")
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    expect(page.get_by_role("region", name="Who may do what")).to_contain_text("Invite staff")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Role").select_option(label="Staff member")
    page.get_by_label("Language of the invitation").select_option(label=language)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".flash")).to_contain_text(f"The invitation is on its way to {email}.")
    expect(page.get_by_role("region", name="Invite someone")).to_contain_text(email)


# What the invitee reads, in the language of each run.
TEXT = {
    "English": {
        "join": "Join the team",
        "name": "Your name",
        "password": "Password",
        "create": "Create account and join",
        "security": "Security",
        "welcome": "Please set up two-factor sign-in now",
        "set up": "Set up two-factor sign-in",
        "code": "Six-digit code from the app",
        "turn on": "Turn on",
        "codes": "Your recovery codes",
        "orders": "Orders",
        "used": "This invitation does not work",
    },
    "Deutsch": {
        "join": "Dem Team beitreten",
        "name": "Ihr Name",
        "password": "Passwort",
        "create": "Konto erstellen und beitreten",
        "security": "Sicherheit",
        "welcome": "Bitte richten Sie jetzt die Zwei-Faktor-Anmeldung ein",
        "set up": "Zwei-Faktor-Anmeldung einrichten",
        "code": "Sechsstelliger Code aus der App",
        "turn on": "Aktivieren",
        "codes": "Ihre Wiederherstellungscodes",
        "orders": "Bestellungen",
        "used": "Diese Einladung funktioniert nicht",
    },
}


def test_an_invited_staff_member_joins_from_the_mail_and_sets_up_two_factor_first(
    new_context: CreateContextCallback, live_app: Flask, js: bool, smtp: CapturingSMTP
) -> None:
    """With JavaScript the invitation is English; without it, German (mail and pages)."""
    language = "English" if js else "Deutsch"
    text = TEXT[language]
    email = f"clerk-{uuid.uuid4().hex[:8]}@example.org"
    _owner_invites(new_context(java_script_enabled=js).new_page(), live_app, email, language)
    link = link_from_mail(smtp, email, "/invitation/")
    mail = next(m for m in reversed(smtp.messages) if m["To"] == email)
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject.startswith("You are invited" if js else "Sie sind eingeladen")

    invitee = new_context(java_script_enabled=js).new_page()
    invitee.goto(link)
    if not js:
        invitee.get_by_role("button", name=re.compile("^DE")).click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text(text["join"])
    invitee.get_by_label(text["name"]).fill("Clara Clerk")
    invitee.get_by_label(text["password"]).fill(NEW_PASSWORD)
    invitee.get_by_role("button", name=text["create"]).click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text(text["security"])
    expect(invitee.locator(".flash")).to_contain_text(text["welcome"])
    invitee.goto("/staff/orders")  # the back office waits for two-factor sign-in
    expect(invitee.get_by_role("heading", level=1)).to_have_text(text["security"])

    invitee.get_by_role("link", name=text["set up"]).click()
    secret = invitee.locator("code.secret").inner_text().replace(" ", "")
    invitee.get_by_label(text["code"]).fill(pyotp.TOTP(secret).now())
    invitee.get_by_role("button", name=text["turn on"]).click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text(text["codes"])
    invitee.goto("/staff/orders")
    expect(invitee.get_by_role("heading", level=1)).to_have_text(text["orders"])

    invitee.goto(link)  # the link worked once
    expect(invitee.get_by_role("heading", level=1)).to_have_text(text["used"])
