"""The owner changes the seller's details, creates a coupon, adds a carrier and edits a
method's weight tiers, in a real browser, with JavaScript on and off, in English and in German.

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
from sqlalchemy import delete, select

from kiosk.accounts.models import Role, User
from kiosk.extensions import db
from kiosk.invoicing import seller as sellers
from kiosk.shipping import services as shipping
from kiosk.shipping.models import CarrierRow, ShippingMethodRow
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
    page.get_by_role("link", name="Settings", exact=True).click()
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


@pytest.fixture
def shipping_restored(live_app: Flask) -> Iterator[None]:
    """The shipping file stays the shop's list for the other tests: the rows this test's
    first saves copy into the tables are removed again (only if there were none before)."""
    with live_app.app_context():
        empty = not db.session.scalars(select(CarrierRow.id)).first() and not (
            db.session.scalars(select(ShippingMethodRow.id)).first()
        )
        db.session.remove()
    yield
    if empty:
        with live_app.app_context(), unit_of_work() as session:
            session.execute(delete(CarrierRow))
            session.execute(delete(ShippingMethodRow))
        with live_app.app_context():
            db.session.remove()


def test_the_owner_adds_a_carrier_and_a_weight_tier(
    owner_page: tuple[Page, str], shipping_restored: None, live_app: Flask
) -> None:
    page, _email = owner_page
    code = f"post-{uuid.uuid4().hex[:6]}"
    page.goto("/staff/settings/carriers/new")
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_label("Name", exact=True).fill("Österreichische Post")
    page.get_by_label("Tracking address").fill("https://www.post.at/s/sendungssuche?snr={tracking}")
    page.get_by_role("button", name="Add carrier").click()
    expect(page.locator(".flash--success")).to_have_text(
        "The carrier Österreichische Post is added."
    )

    page.get_by_role("link", name="Shipping methods").click()
    page.get_by_role("link", name="DHL parcel EU").click()
    page.get_by_label("Carrier").select_option(code)
    page.get_by_label("Tier 4: up to grams").fill("40000")
    page.get_by_label("Tier 4: price").fill("34.90")
    page.get_by_role("button", name="Add a tier").click()
    sixth = page.get_by_label("Tier 6: up to grams")
    expect(sixth).to_be_focused()  # htmx swapped the tiers, or the whole page came back
    expect(page.get_by_label("Tier 4: price")).to_have_value("34.90")  # the input stays
    sixth.fill("30000")  # lighter than tier 4: refused at its field
    page.get_by_label("Tier 6: price").fill("30.00")
    page.get_by_role("button", name="Save shipping method").click()
    expect(sixth).to_have_accessible_description(
        "Each tier must weigh more than the tier above it."
    )
    sixth.fill("50000")
    page.get_by_role("button", name="Save shipping method").click()
    expect(page.locator(".flash--success")).to_contain_text("The shipping method is saved")
    with live_app.app_context():
        method = shipping.method("dhl-eu")
        db.session.remove()
    assert method is not None and method.carrier == code
    assert method.tiers[-2:] == ((40000, 3490), (50000, 3000))
