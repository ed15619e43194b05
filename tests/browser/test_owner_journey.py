"""From an empty shop to a stocked, priced, illustrated one with a second staff member.

Issue 13's test of done: after the one terminal step of the README (`flask --app kiosk
kiosk create-admin`), the owner does everything else in the browser: two-factor
sign-in, seller details, a category, a product with price, VAT and weight, two
pictures with alt text, goods received into stock; the product shows in the shop;
a staff member invited by mail joins, sets up two-factor sign-in and signs in.

This test gets a shop of its own (a migrated database without the demo catalog or
any account) instead of the session's seeded live server. It runs with JavaScript
on in English, and with JavaScript off in German, as the browser asks.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import LocatorAssertions, Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback
from sqlalchemy import func, select

from kiosk import create_app
from kiosk.accounts.models import User
from kiosk.catalog.models import Product
from kiosk.extensions import db
from tests.browser.conftest import VIEWPORT, live_settings, serve
from tests.browser.support import link_from_mail, png_upload
from tests.conftest import wipe
from tests.mailbox import CapturingSMTP

OWNER, OWNER_PASSWORD = "inhaberin@papeterie.example", "quiet paper lanterns at noon"
CLERK_PASSWORD = "seven blue herons at dawn"

# The texts the journey reads and clicks, in German for the run without JavaScript.
GERMAN = {
    "Email": "E-Mail",
    "Password": "Passwort",
    "Sign in": "Anmelden",
    "Staff accounts need two-factor sign-in. Please set it up first.": (
        "Mitarbeiterkonten benötigen die Zwei-Faktor-Anmeldung. Bitte richten Sie sie zuerst ein."
    ),
    "Security": "Sicherheit",
    "Set up two-factor sign-in": "Zwei-Faktor-Anmeldung einrichten",
    "Six-digit code from the app": "Sechsstelliger Code aus der App",
    "Turn on": "Aktivieren",
    "Your recovery codes": "Ihre Wiederherstellungscodes",
    "Staff": "Mitarbeiterbereich",
    "Overview": "Übersicht",
    "Settings": "Einstellungen",
    "Seller details": "Verkäuferangaben",
    "Seller name": "Name des Verkäufers",
    "Address": "Adresse",
    "VAT ID": "USt-IdNr.",
    "Account holder": "Kontoinhaber",
    "IBAN": "IBAN",
    "BIC": "BIC",
    "Bank": "Bank",
    "Contact email": "Kontakt-E-Mail",
    "Save as a new version": "Als neue Version speichern",
    "The seller's details are saved; new invoices use them.": (
        "Die Verkäuferangaben sind gespeichert; neue Rechnungen verwenden sie."
    ),
    "Categories": "Kategorien",
    "New category": "Neue Kategorie",
    "Name": "Name",
    "Create category": "Kategorie anlegen",
    "The category {} is created.": "Die Kategorie {} ist angelegt.",
    "Products": "Produkte",
    "New product": "Neues Produkt",
    "SKU (article number)": "Artikelnummer (SKU)",
    "Description (Markdown)": "Beschreibung (Markdown)",
    "Price (gross)": "Preis (brutto)",
    "VAT rate": "Steuersatz",
    "reduced rate (7 %)": "ermäßigter Satz (7 %)",
    "Delivery time": "Lieferzeit",
    "Weight in grams": "Gewicht in Gramm",
    "Category": "Kategorie",
    "Active: shown in the shop": "Aktiv: im Shop sichtbar",
    "Save": "Speichern",
    "The product is saved.": "Das Produkt ist gespeichert.",
    "This product": "Dieses Produkt",
    "Pictures": "Bilder",
    "Pictures (JPEG, PNG, WebP or GIF)": "Bilder (JPEG, PNG, WebP oder GIF)",
    "Alt text": "Alternativtext",
    "Upload": "Hochladen",
    "2 pictures added.": "2 Bilder hinzugefügt.",
    "Alt text of picture 2": "Alternativtext von Bild 2",
    "Save alt text of picture 2": "Alternativtext speichern von Bild 2",
    "The alt text of picture 2 is saved.": "Der Alternativtext von Bild 2 ist gespeichert.",
    "Stock": "Bestand",
    "Reason": "Grund",
    "Goods received (add)": "Wareneingang (hinzufügen)",
    "Quantity": "Menge",
    "Note (optional)": "Notiz (optional)",
    "Save adjustment": "Änderung speichern",
    "Stock on hand is now 25 (was 0).": "Der Lagerbestand ist jetzt 25 (vorher 0).",
    "Goods received": "Wareneingang",
    "Breadcrumb": "Navigationspfad",
    "In stock": "Auf Lager",
    "Team": "Team",
    "Email address": "E-Mail-Adresse",
    "Role": "Rolle",
    "Staff member": "Mitarbeiter",
    "Language of the invitation": "Sprache der Einladung",
    "Send invitation": "Einladung senden",
    "The invitation is on its way to {}.": "Die Einladung ist an {} unterwegs.",
    "Join the team": "Dem Team beitreten",
    "Your name": "Ihr Name",
    "Create account and join": "Konto erstellen und beitreten",
    "Sign out": "Abmelden",
    "You are signed out.": "Sie sind abgemeldet.",
    "Code from your authenticator app": "Code aus Ihrer Authenticator-App",
    "Confirm": "Bestätigen",
}


def text_in(english: bool) -> Callable[[str], str]:
    """The page's text for an English one, in the language of the run."""
    return (lambda text: text) if english else GERMAN.__getitem__


@pytest.fixture(scope="module")
def shop_server(
    database_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory, smtp: CapturingSMTP
) -> Iterator[tuple[Flask, str]]:
    """A second shop, served, on the worker's migrated SQLite database (the one the
    functional tests use and empty after each); both runs share it, and its warm caches."""
    media = tmp_path_factory.mktemp("empty-shop") / "media"
    app = create_app(live_settings(database_urls["sqlite"], media, smtp))
    with serve(app) as base_url:
        yield app, base_url
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def empty_shop(shop_server: tuple[Flask, str]) -> Iterator[tuple[Flask, str]]:
    """The shop as after `flask db upgrade`: no demo catalog, no account; emptied again
    after each run."""
    app, _ = shop_server
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0
        assert db.session.scalar(select(func.count(Product.id))) == 0
        db.session.remove()
    yield shop_server
    with app.app_context():
        db.session.remove()
        wipe(db.engine)


@pytest.fixture
def browser_context_args(empty_shop: tuple[Flask, str], js: bool) -> dict[str, Any]:
    """Contexts open the empty shop; the browser asks for English with JavaScript on and
    for German with it off (Accept-Language), as a German owner's browser would."""
    return {"locale": "en-GB" if js else "de-DE", "viewport": VIEWPORT, "base_url": empty_shop[1]}


def create_admin(app: Flask) -> None:
    """The README's one terminal step, `flask --app kiosk kiosk create-admin`, which asks
    for the email address and the password."""
    result = app.test_cli_runner().invoke(
        args=["kiosk", "create-admin"], input=f"{OWNER}\n{OWNER_PASSWORD}\n{OWNER_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert f"{OWNER} is now a shop owner." in result.output


def next_code(secret: str) -> str:
    """The authenticator's code of the next 30 seconds: the one just used to turn 2FA on
    is spent, and the shop accepts one step of clock drift."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def set_up_two_factor(page: Page, t: Callable[[str], str]) -> str:
    """From the security page: turn on two-factor sign-in; returns the secret."""
    page.get_by_role("link", name=t("Set up two-factor sign-in")).click()
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label(t("Six-digit code from the app")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=t("Turn on")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your recovery codes"))
    return secret


def heading(page: Page) -> LocatorAssertions:
    return expect(page.get_by_role("heading", level=1))


def test_an_owner_opens_an_empty_shop_stocks_it_and_appoints_staff_in_the_browser(
    page: Page,
    new_context: CreateContextCallback,
    empty_shop: tuple[Flask, str],
    js: bool,
    smtp: CapturingSMTP,
) -> None:
    app, _ = empty_shop
    t = text_in(english=js)
    clerk_email = f"clara-{uuid.uuid4().hex[:8]}@papeterie.example"  # the mailbox is shared
    create_admin(app)

    # The owner signs in; the back office asks for two-factor sign-in first.
    page.goto("/staff/")
    page.get_by_label(t("Email")).fill(OWNER)
    page.get_by_label(t("Password")).fill(OWNER_PASSWORD)
    page.get_by_role("button", name=t("Sign in")).click()
    heading(page).to_have_text(t("Security"))
    expect(page.locator(".flash")).to_contain_text(
        t("Staff accounts need two-factor sign-in. Please set it up first.")
    )
    set_up_two_factor(page, t)
    page.get_by_role("banner").get_by_role("link", name=t("Staff")).click()
    heading(page).to_have_text(t("Overview"))
    nav = page.get_by_role("navigation", name=t("Staff"))

    # Seller details for invoices.
    nav.get_by_role("link", name=t("Settings")).click()
    heading(page).to_have_text(t("Seller details"))
    page.get_by_label(t("Seller name")).fill("Papeterie Lindner")
    page.get_by_label(t("Address"), exact=True).fill(
        "Papeterie Lindner\nLindenstraße 4\n04109 Leipzig\nDeutschland"
    )
    page.get_by_label(t("VAT ID")).fill("DE123456789")
    page.get_by_label(t("Account holder")).fill("Lena Lindner")
    page.get_by_label(t("IBAN")).fill("DE89 3704 0044 0532 0130 00")
    page.get_by_label(t("BIC")).fill("COBADEFFXXX")
    page.get_by_label(t("Bank"), exact=True).fill("Commerzbank")
    page.get_by_label(t("Contact email")).fill("post@papeterie.example")
    page.get_by_role("button", name=t("Save as a new version")).click()
    expect(page.locator(".flash--success")).to_have_text(
        t("The seller's details are saved; new invoices use them.")
    )

    # A category.
    nav.get_by_role("link", name=t("Categories")).click()
    new = page.get_by_role("region", name=t("New category"))
    new.get_by_label(t("Name")).fill("Notizbücher")
    new.get_by_role("button", name=t("Create category")).click()
    heading(page).to_have_text("Notizbücher")
    expect(page.locator(".flash")).to_contain_text(
        t("The category {} is created.").format("Notizbücher")
    )

    # A product with price, VAT, weight and category, on sale.
    nav.get_by_role("link", name=t("Products")).click()
    page.get_by_role("link", name=t("New product")).click()
    page.get_by_label(t("Name"), exact=True).fill("Notizbuch Birke A5")
    page.get_by_label(t("SKU (article number)")).fill("NB-BIRKE-A5")
    page.get_by_label(t("Description (Markdown)")).fill("Fadengebunden, **96 Seiten**, punktiert.")
    page.get_by_label(t("Price (gross)")).fill("14.90" if js else "14,90")
    page.get_by_label(t("VAT rate")).select_option(label=t("reduced rate (7 %)"))
    page.get_by_label(t("Delivery time")).fill("2–3 Werktage")
    page.get_by_label(t("Weight in grams")).fill("320")
    page.get_by_label(t("Category"), exact=True).select_option(label="Notizbücher")
    page.get_by_label(t("Active: shown in the shop")).check()
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.locator(".flash")).to_contain_text(t("The product is saved."))
    heading(page).to_have_text("Notizbuch Birke A5")
    tabs = page.get_by_role("navigation", name=t("This product"))

    # Two pictures with their alt texts.
    tabs.get_by_role("link", name=t("Pictures")).click()
    page.get_by_label(t("Pictures (JPEG, PNG, WebP or GIF)")).set_input_files(
        [png_upload("sienna"), png_upload("tan")]
    )
    page.get_by_label(t("Alt text"), exact=True).fill("Notizbuch Birke A5, Einband aus Birkenholz")
    page.get_by_role("button", name=t("Upload")).click()
    expect(page.locator(".flash")).to_have_text(t("2 pictures added."))
    page.get_by_label(t("Alt text of picture 2")).fill("Notizbuch Birke A5, aufgeschlagen")
    page.get_by_role("button", name=t("Save alt text of picture 2")).click()
    expect(page.locator(".flash")).to_have_text(t("The alt text of picture 2 is saved."))

    # Goods received.
    tabs.get_by_role("link", name=t("Stock")).click()
    page.get_by_label(t("Reason")).select_option(label=t("Goods received (add)"))
    page.get_by_label(t("Quantity")).fill("25")
    page.get_by_label(t("Note (optional)")).fill("Lieferschein 1")
    page.get_by_role("button", name=t("Save adjustment")).click()
    expect(page.locator(".flash")).to_contain_text(t("Stock on hand is now 25 (was 0)."))
    expect(page.locator("#stock-ledger tbody tr").first).to_contain_text(t("Goods received"))

    # The shop front: the product on the home page, its page with price, picture, stock.
    page.goto("/")
    page.get_by_role("main").get_by_role("link", name="Notizbuch Birke A5").first.click()
    heading(page).to_have_text("Notizbuch Birke A5")
    expect(page.get_by_role("navigation", name=t("Breadcrumb"))).to_contain_text("Notizbücher")
    expect(page.locator(".price__now")).to_have_text("€14.90" if js else "14,90\xa0€")
    expect(page.get_by_text(t("In stock"), exact=True)).to_be_visible()
    picture = page.get_by_role("img", name="Notizbuch Birke A5, Einband aus Birkenholz", exact=True)
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.decode().then(() => img.naturalWidth > 0)")  # it loads

    # A second staff member, invited by mail.
    page.goto("/staff/team")
    page.get_by_label(t("Email address")).fill(clerk_email)
    page.get_by_label(t("Role")).select_option(label=t("Staff member"))
    page.get_by_label(t("Language of the invitation")).select_option(
        label="English" if js else "Deutsch"
    )
    page.get_by_role("button", name=t("Send invitation")).click()
    expect(page.locator(".flash")).to_contain_text(
        t("The invitation is on its way to {}.").format(clerk_email)
    )

    clerk = new_context(java_script_enabled=js).new_page()
    clerk.goto(link_from_mail(smtp, clerk_email, "/invitation/"))
    heading(clerk).to_have_text(t("Join the team"))
    clerk.get_by_label(t("Your name")).fill("Clara Clerk")
    clerk.get_by_label(t("Password")).fill(CLERK_PASSWORD)
    clerk.get_by_role("button", name=t("Create account and join")).click()
    heading(clerk).to_have_text(t("Security"))
    secret = set_up_two_factor(clerk, t)
    clerk.get_by_role("button", name=t("Sign out")).click()
    expect(clerk.locator(".flash")).to_have_text(t("You are signed out."))

    clerk.goto("/staff/")
    clerk.get_by_label(t("Email")).fill(clerk_email)
    clerk.get_by_label(t("Password")).fill(CLERK_PASSWORD)
    clerk.get_by_role("button", name=t("Sign in")).click()
    clerk.get_by_label(re.compile(t("Code from your authenticator app"))).fill(next_code(secret))
    clerk.get_by_role("button", name=t("Confirm")).click()
    heading(clerk).to_have_text(t("Overview"))
    expect(clerk.get_by_role("navigation", name=t("Staff"))).not_to_contain_text(t("Team"))
