"""The owner changes the seller's details and creates a coupon, in a real browser, with
JavaScript on and off, in English and in German.

The live server lasts the whole session: each test puts the environment's seller details
back as the newest version when it ends, so other tests see the shop as configured.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from kiosk.accounts.models import Role, User
from kiosk.extensions import db
from kiosk.invoicing import seller as sellers
from kiosk.uow import unit_of_work
from tests.browser.test_staff_orders import _staff_sign_in


@pytest.fixture
def owner_page(page: Page, live_app: Flask) -> Iterator[tuple[Page, str]]:
    """A browser signed in as a new owner; the seller's details restored afterwards."""
    email = _staff_sign_in(page, live_app, Role.OWNER)
    yield page, email
    with live_app.app_context():
        owner_id = db.session.scalars(select(User.id).where(User.email == email)).one()
        with unit_of_work() as session:
            sellers.save(session, sellers.from_environment(), owner_id)
        db.session.remove()


def test_the_owner_saves_new_seller_details_and_creates_a_coupon(
    owner_page: tuple[Page, str],
) -> None:
    page, email = owner_page
    page.goto("/staff/orders")
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Seller details")
    page.get_by_label("Seller name").fill("Papeterie Lindner")
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 01")
    page.get_by_role("button", name="Save as a new version").click()

    iban = page.get_by_label("IBAN")
    expect(page.locator(".error-summary")).to_contain_text("This IBAN is not valid")
    expect(iban).to_have_attribute("aria-invalid", "true")
    expect(iban).to_have_value("DE89 3704 0044 0532 0130 01")  # what was typed stays
    expect(page.get_by_label("Seller name")).to_have_value("Papeterie Lindner")
    iban.fill("DE89 3704 0044 0532 0130 00")
    page.get_by_label("VAT ID").fill("DE123456789")  # the placeholders will not do
    page.get_by_label("BIC").fill("COBADEFFXXX")
    page.get_by_role("button", name="Save as a new version").click()

    expect(page.locator(".flash--success")).to_have_text(
        "The seller's details are saved; new invoices use them."
    )
    expect(page.get_by_label("IBAN")).to_have_value("DE89370400440532013000")
    newest = page.locator("#seller-history ~ .table-wrap tbody tr").first
    expect(newest).to_contain_text(email)
    expect(newest).to_contain_text("Papeterie Lindner")

    code = f"SPRING-{uuid.uuid4().hex[:6]}"
    page.get_by_role("link", name="Coupons").click()
    page.get_by_role("link", name="New coupon").click()
    page.get_by_label("Code", exact=True).fill(code.lower())
    page.get_by_label("Kind of discount").select_option("fixed")
    page.get_by_label("Discount", exact=True).fill("5")
    page.get_by_label("Uses in total").fill("50")
    page.get_by_role("button", name="Create coupon").click()
    expect(page.locator(".flash--success")).to_have_text(f"The coupon {code.upper()} is created.")
    row = page.get_by_role("row", name=re.compile(code.upper()))
    expect(row).to_contain_text("0 of 50")
    row.get_by_role("button", name=re.compile("Switch off")).click()
    expect(page.get_by_role("row", name=re.compile(code.upper()))).to_contain_text("switched off")


def test_in_german_a_wrong_vat_id_is_explained_at_its_field(owner_page: tuple[Page, str]) -> None:
    page, _email = owner_page
    page.goto("/staff/settings/seller")
    page.get_by_role("button", name=re.compile(r"^DE\b")).click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_label("USt-IdNr.").fill("DE12345")
    page.get_by_role("button", name="Als neue Version speichern").click()
    expect(page.get_by_label("USt-IdNr.")).to_have_accessible_description(
        re.compile("Das ist keine USt-IdNr. eines EU-Landes")
    )
    expect(page.locator(".error-summary")).to_be_visible()
