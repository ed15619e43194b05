"""The owner's settings: seller details for invoices, kept as versions that issued invoices
keep, checked by format (VAT ID, IBAN, BIC), audited, and closed to staff."""

from __future__ import annotations

import re
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk.accounts.models import Role
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from kiosk.invoicing import seller as sellers
from kiosk.invoicing import services as invoicing
from kiosk.invoicing.models import SellerProfileVersion
from kiosk.mail.services import deliver_due
from kiosk.money import Money
from kiosk.orders import documents, settlement
from kiosk.orders.models import Order
from kiosk.shipping import services as shipping
from kiosk.shipping.models import ShippingMethodRow
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.integration.test_invoices import factur_x, needs_pdftotext, pdf_text, text
from tests.mailbox import outbox
from tests.shopping import (
    add_to_cart,
    buy,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    sign_in,
    staff_member,
)

SELLER_URL = "/staff/settings/seller"
SELLER = {
    "name": "Papeterie Lindner",
    "address": "Greta Lindner\r\nHauptstraße 5\r\n04109 Leipzig\r\nGermany",
    "vat_id": "DE 123 456 789",
    "tax_number": "231/123/45678",
    "account_holder": "Greta Lindner",
    "iban": "DE89 3704 0044 0532 0130 00",
    "bic": "COBADEFFXXX",
    "bank_name": "Commerzbank",
    "email": "post@papeterie.example",
    "invoice_footer": "Amtsgericht Leipzig HRA 1234",
}


def owner(app: Flask) -> FlaskClient:
    return staff_member(app, Role.OWNER)


def save_seller(client: FlaskClient, **changes: str) -> Any:
    data = {**SELLER, **changes, "csrf_token": csrf_token(client, SELLER_URL)}
    return client.post(SELLER_URL, data=data)


def versions(app: Flask) -> list[SellerProfileVersion]:
    with app.app_context():
        query = select(SellerProfileVersion).order_by(SellerProfileVersion.id)
        return list(db.session.scalars(query))


def test_staff_who_are_not_the_owner_get_403_on_the_settings(app: Flask) -> None:
    staff = staff_member(app)
    assert staff.get(SELLER_URL).status_code == 403
    assert (
        staff.post(SELLER_URL, data={**SELLER, "csrf_token": csrf_token(staff)}).status_code == 403
    )
    assert versions(app) == []


def test_the_form_starts_with_the_environments_values(app: Flask) -> None:
    page = owner(app).get(SELLER_URL)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "[Placeholder] Shop owner name\n" in body  # one address line per line
    assert "[Placeholder] DE000000000" in body
    assert "Nothing is stored yet" in body


@pytest.mark.parametrize(
    ("vat_id", "accepted"),
    [
        ("DE123456789", True),
        ("de 123 456 789", True),
        ("ATU12345678", True),
        ("FR40303265045", True),
        ("NL123456789B01", True),
        ("ESX1234567X", True),
        ("IE6388047V", True),
        ("DE12345678", False),  # one digit short
        ("DE1234567890", False),
        ("US123456789", False),  # not an EU country
        ("ATU1234567", False),
        ("NL123456789", False),
    ],
)
def test_a_vat_id_has_its_countrys_format(vat_id: str, accepted: bool) -> None:
    assert sellers.vat_id_ok(sellers.compact(vat_id)) is accepted


@pytest.mark.parametrize(
    ("iban", "accepted"),
    [
        ("DE89 3704 0044 0532 0130 00", True),
        ("de89370400440532013000", True),
        ("AT61 1904 3002 3457 3201", True),
        ("GB82 WEST 1234 5698 7654 32", True),
        ("DE89 3704 0044 0532 0130 01", False),  # check digits do not match
        ("DE89 3704 0044 0532 0130", False),  # too short for Germany
        ("DE00 0000 0000 0000 0000 00", False),
        ("XX", False),
    ],
)
def test_an_iban_passes_its_mod_97_check(iban: str, accepted: bool) -> None:
    assert sellers.iban_ok(sellers.compact(iban)) is accepted


def test_a_wrong_vat_id_iban_and_bic_come_back_at_their_fields_with_the_input(
    app: Flask,
) -> None:
    client = owner(app)
    response = save_seller(client, vat_id="DE12345", iban="DE89 3704 0044 0532 0130 01", bic="COBA")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This is not a VAT ID of an EU country" in body
    assert "This IBAN is not valid" in body
    assert "A BIC has 8 or 11 letters and digits" in body
    assert 'value="DE12345"' in body and "Papeterie Lindner" in body  # input kept
    assert 'aria-invalid="true"' in body
    assert versions(app) == []


def test_an_invoice_needs_the_vat_id_or_the_tax_number(app: Flask) -> None:
    client = owner(app)
    response = save_seller(client, vat_id="", tax_number="")
    assert response.status_code == 422
    assert "Please enter the VAT ID or the tax number." in response.get_data(as_text=True)
    assert save_seller(client, vat_id="").status_code == 303  # a tax number alone will do


def test_every_save_adds_a_version_and_the_history_says_who_and_what(app: Flask) -> None:
    client = owner(app)
    response = save_seller(client)
    assert response.status_code == 303 and response.headers["Location"] == SELLER_URL
    assert save_seller(client).status_code == 303  # the same again: nothing new
    assert save_seller(client, iban="AT61 1904 3002 3457 3201").status_code == 303
    first, second, third = versions(app)
    assert first.created_by_id is None and first.name == "Kiosk"  # the environment's values
    assert (second.iban, second.vat_id, second.address) == (
        "DE89370400440532013000",
        "DE123456789",
        "Greta Lindner\nHauptstraße 5\n04109 Leipzig\nGermany",
    )
    assert third.iban == "AT611904300234573201" and third.name == second.name
    page = client.get(SELLER_URL).get_data(as_text=True)
    assert 'value="AT611904300234573201"' in page
    assert "owner@example.org" in page and "Environment (first version)" in page
    assert "<del>DE89370400440532013000</del> → <ins>AT611904300234573201</ins>" in page
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "settings.seller_changed")
        ).all()
        # Which fields changed; the values (a sole trader's bank account) stay in the versions.
        assert events[-1].details == {"changed": ["iban"]}
        assert events[-1].actor_id is not None


def _issued_without_pdf(app: Flask, number: str) -> None:
    """The invoice issued, its PDF not rendered yet (as after a crash right after issuing)."""
    with app.app_context(), unit_of_work() as session:
        order = session.scalars(select(Order).where(Order.number == number)).one()
        invoicing.issue_invoice(session, order)


def _invoice_pdf(app: Flask, number: str) -> bytes:
    with app.app_context():
        query = select(Order).options(selectinload(Order.invoices)).where(Order.number == number)
        (document,) = db.session.scalars(query).one().invoices
        return document.pdf


@needs_pdftotext
def test_an_issued_invoice_keeps_the_seller_it_was_issued_with(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        product = make_product(stock_on_hand=10).id
        staff_id = make_user("staff@example.org", role=Role.STAFF).id
    buy(client, product)
    buy(new_client(app), product)
    with app.app_context():
        first, second = db.session.scalars(select(Order.number).order_by(Order.id)).all()
    _issued_without_pdf(app, first)

    # New details after issuing (without a BIC, which SEPA transfers do without).
    assert save_seller(owner(app), bic="").status_code == 303
    with app.app_context():
        documents.complete_pending()
        settlement.mark_received(second, staff_id)
    before, after = _invoice_pdf(app, first), _invoice_pdf(app, second)

    old_text, old_xml = pdf_text(before), factur_x(before)
    assert "[Placeholder] Shop owner name" in old_text and "Papeterie Lindner" not in old_text
    assert text(old_xml, "//ram:SellerTradeParty/ram:Name") == "Kiosk"
    iban = "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID"
    assert text(old_xml, iban) == app.config["KIOSK_BANK_IBAN"].replace(" ", "")
    new_text, new_xml = pdf_text(after), factur_x(after)
    for expected in ("Papeterie Lindner", "Hauptstraße 5", "VAT ID: DE123456789",
                     "Tax number: 231/123/45678", "Amtsgericht Leipzig HRA 1234"):  # fmt: skip
        assert expected in new_text, expected
    assert text(new_xml, "//ram:SellerTradeParty/ram:Name") == "Papeterie Lindner"
    assert text(new_xml, iban) == "DE89370400440532013000"
    assert text(new_xml, "//ram:SellerTradeParty/ram:PostalTradeAddress/ram:CityName") == (
        "Leipzig"
    )

    save_seller(owner_again(app), name="Lindner & Söhne")  # a later change: nothing re-rendered
    assert _invoice_pdf(app, first) == before and _invoice_pdf(app, second) == after


def owner_again(app: Flask) -> FlaskClient:
    client = new_client(app)
    sign_in(client, "owner@example.org", PASSWORD)
    return client


def test_buyers_are_told_the_bank_account_saved_last(app: Flask, client: FlaskClient) -> None:
    assert save_seller(owner(app)).status_code == 303
    with app.app_context():
        product = make_product(stock_on_hand=5).id
    placed = buy(client, product)  # bank transfer: the page and the mail say where to pay
    assert "DE89370400440532013000" in client.get(placed.headers["Location"]).text
    with app.app_context():
        (mail,) = [m for m in outbox("erika@example.org") if m.template == "order_received"]
    assert "IBAN: DE89370400440532013000" in mail.text_body
    assert "Greta Lindner · Hauptstraße 5 · 04109 Leipzig · Germany" in mail.text_body


SHIPPING_URL = "/staff/settings/shipping"
DHL_DE = {
    "name_de": "DHL Paket Plus",
    "name_en": "DHL parcel plus",
    "delivery_de": "2–4 Werktage",
    "delivery_en": "2–4 working days",
    "countries": "DE, AT",
    "kind": "flat",
    "price": "5.90",
    "free_above": "",
    "carrier": "dhl",
    "position": "10",
    "active": "y",
}


def post_form(client: FlaskClient, url: str, form: dict[str, str], **changes: str) -> Any:
    """The form as filled, with some fields changed ("-": left out)."""
    data = {**form, **changes, "csrf_token": csrf_token(client, SHIPPING_URL)}
    return client.post(url, data={k: v for k, v in data.items() if v != "-"})


def save_method(client: FlaskClient, code: str, **changes: str) -> Any:
    return post_form(client, f"{SHIPPING_URL}/{code}", DHL_DE, **changes)


def stored_methods(app: Flask) -> dict[str, ShippingMethodRow]:
    with app.app_context():
        return {row.code: row for row in db.session.scalars(select(ShippingMethodRow))}


def test_the_shipping_file_is_the_list_until_the_first_save_copies_it(app: Flask) -> None:
    client = owner(app)
    listing = client.get(SHIPPING_URL).get_data(as_text=True)
    assert "dhl-de" in listing and "express-de" in listing and "by weight" in listing
    assert stored_methods(app) == {}
    form = client.get(f"{SHIPPING_URL}/dhl-eu").get_data(as_text=True)
    assert 'value="DHL Paket EU"' in form and 'value="150.00"' in form
    assert save_method(client, "dhl-de").status_code == 303
    stored = stored_methods(app)
    assert sorted(stored) == ["dhl-de", "dhl-eu", "express-de"]  # the whole file, once
    assert (stored["dhl-de"].price_cents, stored["dhl-de"].free_above_cents) == (590, None)
    assert stored["dhl-de"].countries == ["AT", "DE"]
    assert (stored["dhl-eu"].kind, stored["dhl-eu"].tiers[0]) == ("weight", [2000, 1290])
    assert stored["express-de"].price_cents == 1290  # as the file says
    with app.app_context():
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "settings.shipping_changed")
        ).all()
    assert event.details["method"] == "dhl-de"
    assert (event.details["before"]["price_cents"], event.details["after"]["price_cents"]) == (
        490,
        590,
    )


def test_wrong_shipping_terms_come_back_at_their_fields(app: Flask) -> None:
    client = owner(app)
    response = save_method(client, "dhl-de", countries="DE, US", price="abc", carrier="post")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please list EU country codes" in body
    assert "Please enter an amount such as 4.90" in body
    assert 'value="DE, US"' in body
    assert stored_methods(app) == {}
    assert save_method(client, "no-such-method").status_code == 404
    assert staff_member(app).get(SHIPPING_URL).status_code == 403


def test_checkout_offers_the_edited_methods_and_old_orders_keep_theirs(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        product = make_product(price_cents=1000, stock_on_hand=5).id
    buy(client, product)  # with DHL parcel at 4.90, before any change
    shop_owner = owner(app)
    assert save_method(shop_owner, "dhl-de").status_code == 303
    assert save_method(shop_owner, "express-de", name_de="Express", active="-").status_code == 303

    shopper = new_client(app)
    add_to_cart(shopper, product)
    give_address(shopper)
    page = shopper.get("/checkout/shipping").get_data(as_text=True)
    assert "DHL parcel plus" in page and "€5.90" in page and "2–4 working days" in page
    assert "DHL Express" not in page and "express-de" not in page  # switched off
    assert choose_shipping(shopper, "express-de").status_code == 422
    choose_shipping(shopper, "dhl-de")
    choose_payment(shopper)
    assert place(shopper).status_code == 303
    with app.app_context():
        first, second = db.session.scalars(select(Order).order_by(Order.id)).all()
        assert (first.shipping_cents, second.shipping_cents) == (490, 590)

    save_method(shop_owner, "dhl-de", active="-")  # switched off: old orders still find it
    staff = staff_member(app)
    order_page = staff.get(f"/staff/orders/{first.number}")
    assert order_page.status_code == 200
    with app.app_context():
        kept = shipping.method("dhl-de")
        assert kept is not None and (kept.active, kept.carrier) == (False, "dhl")
        assert [m.code for m in shipping.methods()] == ["dhl-eu"]


DHL_EU = {
    **DHL_DE,
    "name_de": "DHL Paket EU",
    "name_en": "DHL parcel EU",
    "countries": "EU",
    "kind": "weight",
    "price": "",
    "tiers-0-grams": "1000",
    "tiers-0-price": "7.00",
    "tiers-1-grams": "3000",
    "tiers-1-price": "9.90",
    "tiers-2-grams": "",
    "tiers-2-price": "",
}


def save_tiers(client: FlaskClient, **changes: str) -> Any:
    return post_form(client, f"{SHIPPING_URL}/dhl-eu", DHL_EU, **changes)


def test_checkout_quotes_the_tiers_the_owner_just_saved(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        parcel = make_product(price_cents=2000, weight_grams=1500, stock_on_hand=5).id
    add_to_cart(client, parcel)
    give_address(client, postal_code="1010", city="Wien", country="AT")
    before = client.get("/checkout/shipping").get_data(as_text=True)
    assert "DHL parcel EU" in before and "€12.90" in before  # the file's tier up to 2 kg

    assert save_tiers(owner(app)).status_code == 303
    page = client.get("/checkout/shipping").get_data(as_text=True)
    assert "€9.90" in page and "€12.90" not in page  # 1.5 kg: the new tier up to 3 kg
    add_to_cart(client, parcel)  # 3 kg: still the 3 kg tier
    assert "€9.90" in client.get("/checkout/shipping").get_data(as_text=True)
    add_to_cart(client, parcel)  # 4.5 kg: heavier than the last tier, so not offered
    assert "DHL parcel EU" not in client.get("/checkout/shipping").get_data(as_text=True)
    with app.app_context():
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "settings.shipping_changed")
        ).all()
    assert event.details["before"]["tiers"] == [[2000, 1290], [5000, 1690], [31500, 2490]]
    assert event.details["after"]["tiers"] == [[1000, 700], [3000, 990]]


WRONG_TIERS = [  # what the owner sends, and the message expected at each field
    (
        {"tiers-0-grams": "0", "tiers-1-price": "-1", "tiers-2-price": "3.00"},
        {"tiers-0-grams": "from 1", "tiers-1-price": "such as 12.90",
         "tiers-2-grams": "weight in grams"},
    ),
    (
        {"tiers-1-grams": "1000", "tiers-0-price": "99999999", "kind": "parcel"},
        {"tiers-1-grams": "more than the tier above", "tiers-0-price": "at most",
         "kind": "Please choose one"},
    ),
    (
        {"tiers-0-grams": "1e3", "tiers-1-grams": "-5", "tiers-1-price": ""},
        {"tiers-0-grams": "whole number", "tiers-1-grams": "from 1"},
    ),
    (
        {"tiers-0-grams": "", "tiers-0-price": "", "tiers-1-grams": "", "tiers-1-price": ""},
        {"tiers-0-grams": "needs at least one tier"},
    ),
    ({"kind": "flat"}, {"price": "Please enter the price"}),
]  # fmt: skip


def test_wrong_tiers_and_kinds_come_back_at_their_fields_with_the_input(app: Flask) -> None:
    client = owner(app)
    for changes, expected in WRONG_TIERS:
        response = save_tiers(client, **changes)
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        for field, message in expected.items():
            error = re.search(rf'<p class="field__error" id="{field}-error">([^<]*)</p>', body)
            assert error is not None and message in error.group(1), (field, body[:3000])
            assert f'href="#{field}"' in body  # and in the summary at the top
        for name, value in changes.items():
            if name.startswith("tiers-") and value:
                assert f'name="{name}" type="text" value="{value}"' in body
        assert 'name="tiers-2-grams" type="text" value="' in body  # every row stays
    assert stored_methods(app) == {}


def test_add_a_tier_keeps_the_input_and_a_method_switches_between_price_and_tiers(
    app: Flask,
) -> None:
    client = owner(app)
    typed = {"name_de": "Päckchen EU", "tiers-2-grams": "9000", "add_tier": "1"}
    page = save_tiers(client, **typed)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    assert 'value="Päckchen EU"' in body and 'name="tiers-2-grams" type="text" value="9000"' in body
    assert 'id="tiers-3-grams"' in body and 'id="tiers-4-grams"' not in body
    assert "field__error" not in body  # not checked yet: the owner is still typing

    token = csrf_token(client, SHIPPING_URL)
    fragment = client.post(
        f"{SHIPPING_URL}/dhl-eu",
        data={**DHL_EU, **typed, "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    part = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert "<html" not in part and '<fieldset id="tiers"' in part  # the tiers alone
    assert 'value="9000"' in part and 'id="tiers-3-grams"' in part
    assert part.count("autofocus") == 1  # on the new row, where the owner types next
    assert stored_methods(app) == {}  # nothing saved by adding a row

    assert save_tiers(client, kind="flat", price="8.50").status_code == 303
    assert save_method(client, "dhl-de", kind="weight", **{"tiers-0-grams": "500",
                       "tiers-0-price": "3.90"}).status_code == 303  # fmt: skip
    stored = stored_methods(app)
    assert (stored["dhl-eu"].kind, stored["dhl-eu"].price_cents) == ("flat", 850)
    assert (stored["dhl-de"].kind, stored["dhl-de"].tiers) == ("weight", [[500, 390]])
    with app.app_context():
        assert shipping.method("dhl-eu").cost(Money(100, "EUR"), 99_000) == Money(850, "EUR")
    form = client.get(f"{SHIPPING_URL}/dhl-de").get_data(as_text=True)
    assert 'name="tiers-0-grams" type="text" value="500"' in form
    assert 'name="tiers-2-grams" type="text" value=""' in form  # empty rows to add tiers


CARRIERS_URL = "/staff/settings/carriers"
HERMES = {
    "code": "Hermes-2",
    "name": "Hermes Paketshop",
    "tracking_url": "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{tracking}",
    "active": "y",
}


def save_carrier(client: FlaskClient, url: str, **changes: str) -> Any:
    return post_form(client, url, HERMES, **changes)


def carrier_events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.event.like("settings.carrier_%"))
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_the_owner_adds_edits_and_switches_off_carriers(app: Flask) -> None:
    client = owner(app)
    listing = client.get(CARRIERS_URL).get_data(as_text=True)
    assert "DPD" in listing and "https://tracking.dpd.de/status/de_DE/parcel/{tracking}" in listing
    twice = "https://tracking.example/{tracking}?again={tracking}"  # the unit tests have more
    wrong = save_carrier(client, f"{CARRIERS_URL}/new", tracking_url=twice)
    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and 'href="#tracking_url"' in body
    assert 'id="tracking_url-error">Please enter the carrier' in body
    assert 'value="Hermes-2"' in body  # the input stays
    assert carrier_events(app) == []
    assert save_carrier(client, f"{CARRIERS_URL}/new").status_code == 303
    again = save_carrier(client, f"{CARRIERS_URL}/new")  # a double submit adds nothing
    assert again.status_code == 422 and "Another carrier has this code" in again.get_data(
        as_text=True
    )
    assert save_carrier(client, f"{CARRIERS_URL}/new", code="new").status_code == 422
    with app.app_context():
        stored = shipping.all_carriers()
        assert list(stored)[:2] == ["dhl", "dhl-express"]  # the file's carriers, copied first
        assert stored["hermes-2"].name == "Hermes Paketshop"

    dpd = {
        "name": "DPD Classic",
        "active": "-",
        "tracking_url": "https://dpd.example/t?n={tracking}",
    }
    assert save_carrier(client, f"{CARRIERS_URL}/dpd", **dpd).status_code == 303
    assert save_carrier(client, f"{CARRIERS_URL}/dpd", **dpd).status_code == 303
    assert client.get(f"{CARRIERS_URL}/nobody").status_code == 404
    created, switched = carrier_events(app)  # the second, same save changed nothing
    assert (created.event, created.details["carrier"]) == ("settings.carrier_created", "hermes-2")
    assert switched.details["before"]["active"] is True
    assert switched.details["after"] == {
        "name": "DPD Classic",
        "tracking_url": "https://dpd.example/t?n={tracking}",
        "active": False,
    }
    with app.app_context():
        assert "dpd" not in shipping.carriers() and "hermes-2" in shipping.carriers()
        # an order shipped with DPD before still links to its (new) tracking page
        assert shipping.shipment("dpd", "0034 1") == (
            "DPD Classic",
            "https://dpd.example/t?n=0034%201",
        )
    method_form = client.get(f"{SHIPPING_URL}/dhl-de").get_data(as_text=True)
    assert 'value="hermes-2"' in method_form and 'value="dpd"' not in method_form
    assert save_method(client, "dhl-de", carrier="hermes-2").status_code == 303
    assert stored_methods(app)["dhl-de"].carrier == "hermes-2"
    assert staff_member(app).get(CARRIERS_URL).status_code == 403


def test_staff_ship_with_an_added_carrier_and_the_buyer_gets_its_link(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        product = make_product(price_cents=1000, stock_on_hand=5).id
    placed = buy(client, product)
    with app.app_context():
        number = db.session.scalars(select(Order.number)).one()
    assert save_carrier(owner(app), f"{CARRIERS_URL}/new").status_code == 303
    staff = staff_member(app)
    token = csrf_token(staff, f"/staff/orders/{number}")
    staff.post(f"/staff/orders/{number}/mark-paid", data={"csrf_token": token, "note": ""})
    order_page = staff.get(f"/staff/orders/{number}").get_data(as_text=True)
    assert 'value="hermes-2"' in order_page
    token = csrf_token(staff, f"/staff/orders/{number}")
    shipped = {"csrf_token": token, "to": "shipped", "carrier": "hermes-2", "tracking": "H1234"}
    assert staff.post(f"/staff/orders/{number}/status", data=shipped).status_code == 303
    with app.app_context():
        mail = outbox()[-1]
    assert "sendungsinformation#H1234" in mail.html_body and "Hermes Paketshop" in mail.text_body
    buyer = client.get(placed.headers["Location"]).get_data(as_text=True)
    assert "sendungsinformation#H1234" in buyer


SHOP_URL = "/staff/settings/shop"


def save_shop(client: FlaskClient, **values: str) -> Any:
    data = {"shop_name": "Kiosk", "mail_from": "Kiosk <shop@example.org>", "refund_limit": ""}
    return client.post(
        SHOP_URL, data={**data, **values, "csrf_token": csrf_token(client, SHOP_URL)}
    )


def test_the_shop_name_and_mail_sender_set_here_replace_the_environments(
    app: Flask, client: FlaskClient
) -> None:
    shop_owner = owner(app)
    bad = save_shop(shop_owner, shop_name="", mail_from="Papeterie post@")
    assert bad.status_code == 422
    assert "Please enter the sender's email address, such as shop@example.org" in bad.text
    assert 'value="Papeterie post@"' in bad.text
    response = save_shop(
        shop_owner, shop_name="Papeterie Lindner", mail_from="Papeterie <post@papeterie.example>"
    )
    assert response.status_code == 303
    assert "<title>" in client.get("/products").text
    assert "All products – Papeterie Lindner</title>" in client.get("/products").text
    with app.app_context():
        product = make_product(stock_on_hand=5).id
    buy(client, product)
    with app.app_context():
        (mail,) = [m for m in outbox("erika@example.org") if m.template == "order_received"]
        assert "Papeterie Lindner" in mail.text_body
        assert deliver_due().sent >= 1
    sent = [
        message_from_bytes(path.read_bytes())
        for path in Path(app.config["KIOSK_MAIL_DIR"]).glob("*.eml")
    ]
    assert {message["From"] for message in sent} == {"Papeterie <post@papeterie.example>"}
    with app.app_context():
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "settings.shop_changed")
        ).all()
    assert event.details["before"]["shop_name"] == "Kiosk"
    assert event.details["after"] == {"shop_name": "Papeterie Lindner"}
    assert event.details["changed"] == ["mail_from", "shop_name"]  # the address is not logged
    assert save_shop(staff_member(app), shop_name="Mine").status_code == 403


def test_staff_cannot_refund_above_the_owners_limit_but_the_owner_can(
    app: Flask, client: FlaskClient
) -> None:
    shop_owner = owner(app)
    assert save_shop(shop_owner, refund_limit="10").status_code == 303
    with app.app_context():
        product = make_product(price_cents=3000, stock_on_hand=5).id
        staff_id = make_user("staff@example.org", role=Role.STAFF).id
    buy(client, product)
    with app.app_context():
        number = db.session.scalars(select(Order.number)).one()
        settlement.mark_received(number, staff_id)
    staff = new_client(app)
    sign_in(staff, "staff@example.org", PASSWORD)
    url = f"/staff/orders/{number}"

    def refund(who: FlaskClient, amount: str) -> Any:
        data = {"amount": amount, "reason": "damaged", "csrf_token": csrf_token(who, url)}
        return who.post(f"{url}/refund", data=data)

    refused = refund(staff, "10.01")
    assert refused.status_code == 422
    assert "Only the owner may refund more than €10.00." in refused.text
    assert refund(staff, "10.00").status_code == 303  # up to the limit staff may
    assert refund(shop_owner, "15.00").status_code == 303  # the owner may go above it
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.number == number)).one()
        assert sum(p.refunded_cents for p in order.payments) == 2500
