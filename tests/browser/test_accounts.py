"""Account flows in a real browser, with JavaScript on and off; mail arrives over SMTP."""

from __future__ import annotations

import re
import uuid

import pyotp
from playwright.sync_api import Page, expect

from tests.browser.support import link_from_mail
from tests.factories import PASSWORD
from tests.mailbox import CapturingSMTP


def _email() -> str:
    return f"shopper-{uuid.uuid4().hex[:10]}@example.org"


def _register(page: Page, email: str) -> None:
    page.goto("/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name (optional)").fill("Jana Müller")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Please check your mail")


def _sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")  # wait for it


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()  # wait for it


def _registered_and_verified(page: Page, smtp: CapturingSMTP) -> str:
    email = _email()
    _register(page, email)
    page.goto(link_from_mail(smtp, email, "/verify/"))
    return email


def test_register_verify_and_sign_in(page: Page, smtp: CapturingSMTP) -> None:
    """A new shopper registers, confirms the address from the mail, and signs in."""
    email = _registered_and_verified(page, smtp)
    expect(page.locator(".flash")).to_contain_text("your email address is confirmed")
    _sign_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_text(email)).to_be_visible()


def test_a_weak_password_is_explained_and_the_email_kept(page: Page, js: bool) -> None:
    """The form says what is wrong, next to the field and at the top, and keeps what was typed."""
    page.goto("/register")
    page.get_by_label("Email").fill("weak@example.org")
    page.get_by_label("Password").fill("passwordpassword")
    if js:  # htmx judges the password while typing
        expect(page.locator("#password-feedback")).to_contain_text("too easy to guess")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".error-summary")).to_contain_text("too easy to guess")
    expect(page.locator("#password-error")).to_contain_text("too easy to guess")
    expect(page.get_by_label("Email")).to_have_value("weak@example.org")


def test_reset_a_forgotten_password(page: Page, smtp: CapturingSMTP) -> None:
    """The reset link from the mail sets a new password and signs the shopper in."""
    email = _registered_and_verified(page, smtp)
    page.goto("/forgot-password")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Please check your mail")
    page.goto(link_from_mail(smtp, email, "/reset-password/"))
    page.get_by_label("New password").fill("purple elephants juggle quietly")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    _sign_out(page)
    _sign_in(page, email, "purple elephants juggle quietly")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")


def test_two_factor_set_up_and_sign_in(page: Page, smtp: CapturingSMTP) -> None:
    """Set up TOTP from the key on the page, keep the recovery codes, sign in with a code."""
    email = _registered_and_verified(page, smtp)
    _sign_in(page, email)
    page.goto("/account/security")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label("Six-digit code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    recovery = page.locator(".recovery-codes li").first.inner_text()
    page.get_by_role("link", name="I have saved them").click()
    _sign_out(page)
    _sign_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in")
    page.get_by_label(re.compile("Code from your authenticator app")).fill(recovery)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")


def test_address_book(page: Page, smtp: CapturingSMTP) -> None:
    """Add an address (a mistake first), see it listed, change it, delete it."""
    email = _registered_and_verified(page, smtp)
    _sign_in(page, email)
    page.goto("/account/addresses")
    page.get_by_role("link", name="Add an address").click()
    page.get_by_label("Full name").fill("Jana Müller")
    page.get_by_label("Street and number").fill("Hauptstraße 1")
    page.get_by_label("Postcode").fill("1011")
    page.get_by_label("Town or city").fill("Berlin")
    page.get_by_role("button", name="Save address").click()
    expect(page.locator("#postal_code-error")).to_have_text("A German postcode has five digits.")
    expect(page.get_by_label("Street and number")).to_have_value("Hauptstraße 1")
    page.get_by_label("Postcode").fill("10115")
    page.get_by_role("button", name="Save address").click()
    expect(page.locator(".address-list address")).to_contain_text("Hauptstraße 1")
    expect(page.locator(".flash")).to_contain_text("The address is saved.")
    page.get_by_role("link", name=re.compile("^Edit")).click()
    page.get_by_label("Street and number").fill("Nebenweg 2")
    page.get_by_role("button", name="Save address").click()
    expect(page.locator(".address-list address")).to_contain_text("Nebenweg 2")
    page.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_text("No addresses yet.")).to_be_visible()


def test_sign_in_page_in_german(page: Page) -> None:
    """The switcher turns the sign-in page German, labels included."""
    page.goto("/signin")
    page.get_by_role("button", name=re.compile("^DE")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    expect(page.get_by_label("Passwort")).to_be_visible()
    page.get_by_role("button", name=re.compile("^EN")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_profile_and_newsletter(page: Page, smtp: CapturingSMTP) -> None:
    """Change the profile (a bad phone number first), then subscribe with the emailed link."""
    email = _registered_and_verified(page, smtp)
    _sign_in(page, email)
    page.get_by_role("link", name="Change profile").click()
    page.get_by_label("Phone (optional)").fill("call me")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#phone-error")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Jana Müller")
    page.get_by_label("Phone (optional)").fill("+49 30 123456")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Your profile is saved.")
    page.goto("/account/email-preferences")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".flash")).to_contain_text("Please confirm")
    page.goto(link_from_mail(smtp, email, "/account/newsletter/confirm/"))
    expect(page.get_by_text(re.compile("You subscribed on"))).to_be_visible()


def test_change_password_on_the_security_page(page: Page, smtp: CapturingSMTP) -> None:
    """A wrong current password is refused in place; the right one changes it."""
    email = _registered_and_verified(page, smtp)
    _sign_in(page, email)
    page.goto("/account/security")
    page.locator("#pw-current_password").fill("not my password")
    page.locator("#pw-new_password").fill("purple elephants juggle quietly")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".error-summary")).to_contain_text("That is not your current password.")
    page.locator("#pw-current_password").fill(PASSWORD)
    page.locator("#pw-new_password").fill("purple elephants juggle quietly")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".flash")).to_contain_text("Your password is changed.")


def test_unverified_account_asks_for_the_link(page: Page, smtp: CapturingSMTP) -> None:
    """Signed in before confirming: account pages wait, and the link can be sent again."""
    email = _email()
    _register(page, email)
    _sign_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Please confirm your email address")
    page.get_by_role("button", name="Send the link again").click()
    expect(page.locator(".flash")).to_contain_text("We sent the link again.")
    page.goto(link_from_mail(smtp, email, "/verify/"))
    page.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
