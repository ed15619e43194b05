"""Invoices (§14 Abs. 4 UStG) and credit notes: content, numbering, immutability, access."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import threading
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import drafthorse
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk.accounts.models import Role
from kiosk.coupons import services as coupons
from kiosk.coupons.models import CouponKind
from kiosk.extensions import db
from kiosk.invoicing.models import DocumentKind, Invoice
from kiosk.money import Money
from kiosk.orders import documents, lifecycle, settlement
from kiosk.orders.lifecycle import Actor
from kiosk.orders.models import Order, OrderStatus
from kiosk.uow import unit_of_work
from tests.conftest import REQUIRE_ALL, csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.mailbox import outbox
from tests.shopping import (
    add_to_cart,
    buy,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    sign_in,
)

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(
    PDFTOTEXT is None and not REQUIRE_ALL, reason="pdftotext (poppler-utils) is not installed"
)


def pdf_text(data: bytes) -> str:
    """The PDF's text as pdftotext reads it, runs of spaces folded to one."""
    assert PDFTOTEXT, "pdftotext is required (apt-get install poppler-utils)"
    done = subprocess.run(
        [PDFTOTEXT, "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    lines = done.stdout.decode().splitlines()
    return "\n".join(" ".join(line.split()).replace(" %", "%") for line in lines)


EN16931_XSD = Path(drafthorse.__file__).parent / "schema" / "Factur-X_1.0.07_EN16931.xsd"
CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def factur_x(pdf: bytes) -> etree._Element:
    """The PDF's attached factur-x.xml, checked against the Factur-X 1.0.07 EN 16931 schema."""
    attachments = PdfReader(io.BytesIO(pdf)).attachments
    assert list(attachments) == ["factur-x.xml"]
    (xml,) = attachments["factur-x.xml"]
    root = etree.fromstring(xml)
    etree.XMLSchema(file=str(EN16931_XSD)).assertValid(root)
    return root


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(node.text) for node in root.xpath(path, namespaces=CII)]


def text(root: etree._Element, path: str) -> str:
    (value,) = texts(root, path)
    return value


def cents(root: etree._Element, path: str) -> int:
    """The sum of the amounts at `path`, in cents (each written with two decimals)."""
    total = 0
    for value in texts(root, path):
        assert value == f"{Decimal(value):.2f}", value  # BR-DEC: two decimals at most
        total += int(Decimal(value) * 100)
    return total


def vat_breakdown(root: etree._Element) -> list[tuple[str, int, int]]:
    """The document's VAT per rate: (rate in percent, taxable amount, tax) in cents."""
    rates = root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax",
                       namespaces=CII)  # fmt: skip
    return [
        (
            text(rate, "ram:RateApplicablePercent"),
            cents(rate, "ram:BasisAmount"),
            cents(rate, "ram:CalculatedAmount"),
        )
        for rate in rates
    ]


def local_day(app: Flask, moment: datetime) -> str:
    """A moment's date in the shop's time zone, as CII writes a date (format 102)."""
    return moment.astimezone(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).strftime("%Y%m%d")


@pytest.fixture
def products(app: Flask) -> tuple[int, int]:
    with app.app_context():
        mug = make_product(name="Kaffeebecher „Bär“", sku="BECHER", price_cents=1290,
                           stock_on_hand=100)  # fmt: skip
        book = make_product(name="Kochbuch", sku="BUCH", price_cents=2140, vat_class="reduced",
                            stock_on_hand=100)  # fmt: skip
        return mug.id, book.id


@pytest.fixture
def staff_id(app: Flask) -> int:
    with app.app_context():
        return make_user("staff@example.org", role=Role.STAFF).id


def _orders(app: Flask) -> list[Order]:
    with app.app_context():
        query = select(Order).options(selectinload(Order.invoices)).order_by(Order.id)
        return list(db.session.scalars(query))


@needs_pdftotext
def test_the_invoice_carries_everything_paragraph_14_asks_for(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int
) -> None:
    mug, book = products
    add_to_cart(client, book)
    buy(client, mug, 2, name="Käthe Müller", street="Lindenweg 3", postal_code="50667")
    number = _orders(app)[0].number
    with app.app_context():
        settlement.mark_received(number, staff_id)
    (order,) = _orders(app)
    (invoice,) = order.invoices
    assert invoice.kind == DocumentKind.INVOICE and invoice.number.endswith("-00001")
    assert invoice.sha256 == hashlib.sha256(invoice.pdf).hexdigest()
    text = pdf_text(invoice.pdf)
    for expected in (
        "[Placeholder] Shop owner name",  # seller, from the shop settings
        "12345 Town",
        "VAT ID: [Placeholder] DE000000000",
        "Käthe Müller",  # buyer
        "Lindenweg 3",
        f"Invoice {invoice.number}",
        "Delivery date:",
        f"Order number: {number}",
        "Kaffeebecher „Bär“ (BECHER)",  # items with quantity, rate and price
        "Kochbuch (BUCH)",
        "€25.80",
        "19%",
        "7%",
        "Total amount: €52.10",  # 2 × 12.90 + 21.40 + 4.90 shipping
        "Payment method: Bank transfer (prepayment)",
        "Already paid: €52.10",  # issued when the transfer arrived: nothing is due
    ):
        assert expected in text, expected
    # VAT per rate, and the rates add up to the total.
    assert "19% €23.93 €4.55 €28.48" in text  # 25.80 + 2.68 of the shipping
    assert "7% €22.07 €1.55 €23.62" in text  # 21.40 + 2.22 of the shipping
    assert "Total €46.00 €6.10 €52.10" in text
    net = sum(row["net_cents"] for row in order.vat_breakdown)
    vat = sum(row["vat_cents"] for row in order.vat_breakdown)
    assert net + vat == order.total_cents == 5210


def test_an_invoice_is_issued_once_and_mailed_with_the_payment_confirmation(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int
) -> None:
    buy(client, products[0])
    number = _orders(app)[0].number
    with app.app_context():
        settlement.mark_received(number, staff_id)
        with unit_of_work() as session:  # a second "paid" changes nothing
            order = session.scalars(select(Order)).one()
            lifecycle.change(session, order, OrderStatus.PAID, Actor.SYSTEM)
        mail = [m for m in outbox("erika@example.org") if m.template == "payment_received"]
        assert len(mail) == 1
        (attachment,) = mail[0].attachments
        assert attachment.content_type == "application/pdf"
    (invoice,) = _orders(app)[0].invoices
    assert attachment.data == invoice.pdf
    download = client.get(f"/orders/{number}/documents/{invoice.number}.pdf")
    assert download.status_code == 200 and download.data == invoice.pdf
    assert download.headers["Content-Disposition"].startswith("attachment")
    stranger = new_client(app)
    assert stranger.get(f"/orders/{number}/documents/{invoice.number}.pdf").status_code == 404
    assert client.get(f"/orders/{number}/documents/RE-1999-00001.pdf").status_code == 404


def test_twenty_concurrent_payments_number_their_invoices_without_gaps(
    app: Flask, products: tuple[int, int], staff_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The numbers are taken in the payments' transactions; the PDFs are made afterwards
    # (as after a crash), so twenty renderings in one process do not starve the race.
    monkeypatch.setattr(documents, "complete_pending", lambda order_id=None: 0)
    for _ in range(20):
        buy(new_client(app), products[0])
    numbers = [order.number for order in _orders(app)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(numbers))

    def pay(number: str) -> None:
        with app.app_context():
            start.wait()
            try:
                settlement.mark_received(number, staff_id)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=pay, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        sequences = sorted(db.session.scalars(select(Invoice.sequence)))
        assert sequences == list(range(1, 21))
        assert len(set(db.session.scalars(select(Invoice.number)))) == 20
        monkeypatch.undo()
        assert documents.complete_pending() == 20
        assert all(db.session.scalars(select(Invoice.sha256)))


@needs_pdftotext
def test_a_refund_issues_a_credit_note_that_refers_to_the_invoice(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int
) -> None:
    app.config["KIOSK_STAFF_REQUIRE_2FA"] = False
    mug, book = products
    add_to_cart(client, book)
    buy(client, mug)
    number = _orders(app)[0].number
    with app.app_context():
        settlement.mark_received(number, staff_id)
    staff = new_client(app)
    sign_in(staff, "staff@example.org", PASSWORD)
    token = csrf_token(staff, f"/staff/orders/{number}")
    refund = {"csrf_token": token, "amount": "10.00", "reason": "Becher angeschlagen"}
    staff.post(f"/staff/orders/{number}/refund", data=refund)
    invoice, credit = _orders(app)[0].invoices
    assert credit.kind == DocumentKind.CREDIT_NOTE and credit.refers_to_id == invoice.id
    assert credit.number.startswith("RK-") and credit.amount_cents == 1000
    text = pdf_text(credit.pdf)
    assert f"Corrects invoice: {invoice.number}" in text and "Becher angeschlagen" in text
    assert "Amount credited: €10.00" in text
    page = staff.get(f"/staff/orders/{number}").text
    assert invoice.number in page and credit.number in page


def test_the_invoice_can_wait_for_shipping(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int
) -> None:
    app.config["KIOSK_INVOICE_ON"] = "shipped"
    buy(client, products[0])
    number = _orders(app)[0].number
    with app.app_context():
        settlement.mark_received(number, staff_id)
        assert _orders(app)[0].invoices == []
        lifecycle.transition(number, OrderStatus.SHIPPED, Actor.STAFF, staff_id)
    assert len(_orders(app)[0].invoices) == 1


def test_the_invoice_pdf_carries_the_same_invoice_as_factur_x_xml(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int
) -> None:
    mug, book = products
    add_to_cart(client, book)
    buy(client, mug, 2, name="Käthe Müller", company="Müller & Töchter GmbH")
    number = _orders(app)[0].number
    with app.app_context():
        settlement.mark_received(number, staff_id)
    (order,) = _orders(app)
    (invoice,) = order.invoices
    xml = factur_x(invoice.pdf)
    assert text(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == (
        "urn:cen.eu:en16931:2017"
    )
    assert text(xml, "//rsm:ExchangedDocument/ram:ID") == invoice.number
    assert text(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    issued = local_day(app, invoice.issued_at)
    assert text(xml, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == issued
    delivered = "//ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString"
    assert text(xml, delivered) == invoice.delivery_date.strftime("%Y%m%d")
    seller = "//ram:SellerTradeParty"
    assert text(xml, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == (
        "[Placeholder] DE000000000"
    )
    assert text(xml, f"{seller}/ram:PostalTradeAddress/ram:PostcodeCode") == "12345"
    assert text(xml, f"{seller}/ram:PostalTradeAddress/ram:CountryID") == "DE"
    buyer = "//ram:BuyerTradeParty"
    assert text(xml, f"{buyer}/ram:Name") == "Müller & Töchter GmbH"
    assert text(xml, f"{buyer}/ram:DefinedTradeContact/ram:PersonName") == "Käthe Müller"
    assert text(xml, f"{buyer}/ram:PostalTradeAddress/ram:CountryID") == "DE"
    assert text(xml, "//ram:SellerOrderReferencedDocument/ram:IssuerAssignedID") == number
    assert texts(xml, "//ram:SpecifiedTradeProduct/ram:Name") == [
        "Kochbuch",
        "Kaffeebecher „Bär“",
    ]
    assert text(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "58"
    assert text(xml, "//ram:PaymentReference") == order.payment_reference
    # The totals are the order's, and the VAT per rate is the breakdown the PDF prints.
    sums = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert cents(xml, f"{sums}/ram:GrandTotalAmount") == order.total_cents == 5210
    # Issued when the transfer arrived: all of it is paid, nothing is due.
    assert cents(xml, f"{sums}/ram:TotalPrepaidAmount") == 5210
    assert cents(xml, f"{sums}/ram:DuePayableAmount") == 0
    assert cents(xml, f"{sums}/ram:TaxBasisTotalAmount") == 4600
    assert cents(xml, f"{sums}/ram:TaxTotalAmount[@currencyID='EUR']") == 610
    assert vat_breakdown(xml) == [("19.00", 2393, 455), ("7.00", 2207, 155)]
    assert [(row["net_cents"], row["vat_cents"]) for row in invoice.vat_breakdown] == [
        (2393, 455),
        (2207, 155),
    ]


def test_the_invoice_pdf_declares_itself_factur_x_en_16931_on_pdf_a_3(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int
) -> None:
    buy(client, products[0])
    number = _orders(app)[0].number
    with app.app_context():
        settlement.mark_received(number, staff_id)
    (invoice,) = _orders(app)[0].invoices
    catalog = PdfReader(io.BytesIO(invoice.pdf)).trailer["/Root"]
    (intent,) = catalog["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    (filespec,) = catalog["/AF"]
    assert filespec.get_object()["/AFRelationship"] == "/Alternative"
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    for declared in (
        "<pdfaid:part>3</pdfaid:part>",
        "<pdfaid:conformance>B</pdfaid:conformance>",
        "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>",
        "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>",
    ):
        assert declared in xmp, declared


def test_the_xml_amounts_add_up_with_discount_shipping_and_fee_in_two_rates(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int
) -> None:
    """EN 16931's sums hold to the cent, and the VAT per rate is still the order's."""
    mug, book = products
    with app.app_context():
        coupons.create(coupons.NewCoupon("ZEHN", CouponKind.PERCENT, 1000))
    add_to_cart(client, mug, 4)  # amounts where rounding each part to net misses by a cent
    add_to_cart(client, book)
    give_address(client)
    choose_shipping(client, "express-de")  # 12.90, never free
    choose_payment(client, "cash_on_delivery")
    token = csrf_token(client, "/checkout/review")
    client.post("/checkout/coupon", data={"csrf_token": token, "code": "ZEHN"})
    place(client)
    (order,) = _orders(app)
    assert (order.discount_cents, order.shipping_cents, order.fee_cents) == (730, 1290, 400)
    with app.app_context():
        settlement.mark_received(order.number, staff_id)
    (invoice,) = _orders(app)[0].invoices
    xml = factur_x(invoice.pdf)

    lines = xml.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=CII)
    # 43.37 net for four mugs is no whole-cent price per mug: the price is for all four.
    assert texts(lines[0], ".//ram:NetPriceProductTradePrice/ram:BasisQuantity") == ["4"]
    for line in lines:  # quantity × net price ÷ price base quantity = line net amount
        quantity = Decimal(text(line, ".//ram:BilledQuantity"))
        price = Decimal(text(line, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount"))
        base = texts(line, ".//ram:NetPriceProductTradePrice/ram:BasisQuantity")
        per = Decimal(base[0]) if base else 1
        assert quantity * price / per == Decimal(text(line, ".//ram:LineTotalAmount"))
    header = "//ram:ApplicableHeaderTradeSettlement"
    charge = f"{header}/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='true']"
    allowance = (
        f"{header}/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='false']"
    )
    assert set(texts(xml, f"{charge}/ram:Reason")) == {"Shipping", "Fee"}
    assert set(texts(xml, f"{allowance}/ram:Reason")) == {"Discount"}
    sums = f"{header}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    line_total = cents(xml, f"{sums}/ram:LineTotalAmount")
    charges = cents(xml, f"{sums}/ram:ChargeTotalAmount")
    allowances = cents(xml, f"{sums}/ram:AllowanceTotalAmount")
    basis = cents(xml, f"{sums}/ram:TaxBasisTotalAmount")
    tax = cents(xml, f"{sums}/ram:TaxTotalAmount")
    assert line_total == cents(xml, "//ram:SpecifiedLineTradeSettlement//ram:LineTotalAmount")
    assert charges == cents(xml, f"{charge}/ram:ActualAmount")  # BR-CO-11, -12
    assert allowances == cents(xml, f"{allowance}/ram:ActualAmount")
    assert basis == line_total - allowances + charges  # BR-CO-13
    assert tax == cents(xml, f"{header}/ram:ApplicableTradeTax/ram:CalculatedAmount")
    assert cents(xml, f"{sums}/ram:GrandTotalAmount") == basis + tax == order.total_cents
    for row in order.vat_breakdown:  # BR-S-08: per rate, lines + charges - allowances
        rate = f"{row['rate_bp'] / 100:.2f}"
        of_rate = f"[.//ram:RateApplicablePercent='{rate}']"
        in_rate = (
            cents(xml, f"//ram:IncludedSupplyChainTradeLineItem{of_rate}//ram:LineTotalAmount")
            + cents(xml, f"{charge}{of_rate}/ram:ActualAmount")
            - cents(xml, f"{allowance}{of_rate}/ram:ActualAmount")
        )
        breakdown = f"{header}/ram:ApplicableTradeTax[ram:RateApplicablePercent='{rate}']"
        assert cents(xml, f"{breakdown}/ram:BasisAmount") == in_rate == row["net_cents"]
        assert cents(xml, f"{breakdown}/ram:CalculatedAmount") == row["vat_cents"]
        assert abs(row["vat_cents"] - row["net_cents"] * row["rate_bp"] / 10_000) <= 1  # BR-S-09


def test_the_credit_note_pdf_carries_a_factur_x_credit_note_for_the_invoice(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int
) -> None:
    mug, book = products
    add_to_cart(client, book)
    buy(client, mug)
    number = _orders(app)[0].number
    with app.app_context():
        settlement.mark_received(number, staff_id)
        settlement.refund(number, Money(1000), "Becher angeschlagen", staff_id)
    invoice, credit = _orders(app)[0].invoices
    xml = factur_x(credit.pdf)
    assert text(xml, "//rsm:ExchangedDocument/ram:ID") == credit.number
    assert text(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert text(xml, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content") == (
        "Becher angeschlagen"
    )
    corrected = "//ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument"
    assert text(xml, f"{corrected}/ram:IssuerAssignedID") == invoice.number
    assert text(xml, f"{corrected}/ram:FormattedIssueDateTime/*") == (
        local_day(app, invoice.issued_at)
    )
    sums = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert cents(xml, f"{sums}/ram:GrandTotalAmount") == credit.amount_cents == 1000
    assert cents(xml, f"{sums}/ram:DuePayableAmount") == 1000
    assert vat_breakdown(xml) == [
        (f"{row['rate_bp'] / 100:.2f}", row["net_cents"], row["vat_cents"])
        for row in credit.vat_breakdown
    ]
    net = sum(row["net_cents"] for row in credit.vat_breakdown)
    assert cents(xml, f"{sums}/ram:LineTotalAmount") == net  # one line per rate
    assert cents(xml, f"{sums}/ram:TaxBasisTotalAmount") == net


@needs_pdftotext
def test_a_german_buyer_gets_the_invoice_in_german(
    app: Flask, products: tuple[int, int], staff_id: int
) -> None:
    german = new_client(app)
    german.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    mug, book = products
    add_to_cart(german, book)
    buy(german, mug, 2)
    (order,) = _orders(app)
    assert order.locale == "de"
    with app.app_context():
        settlement.mark_received(order.number, staff_id)
    (invoice,) = _orders(app)[0].invoices
    page = pdf_text(invoice.pdf)
    for expected in (
        f"Rechnung {invoice.number}",
        "USt-IdNr.: [Placeholder] DE000000000",
        "Liefer-/Leistungsdatum:",
        f"Bestellnummer: {order.number}",
        "Artikel Menge MwSt. Einzelpreis Summe",
        "Kaffeebecher „Bär“ (BECHER) 2 19% 12,90 € 25,80 €",
        "Versand 4,90 €",
        "Steuersatz Netto MwSt. Brutto",
        "19% 23,93 € 4,55 € 28,48 €",
        "7% 22,07 € 1,55 € 23,62 €",
        "Summe 46,00 € 6,10 € 52,10 €",
        "Gesamtbetrag: 52,10 €",
        "Bereits bezahlt: 52,10 €",
    ):
        assert expected in page, expected
    assert "Invoice" not in page and "€52.10" not in page


@needs_pdftotext
@pytest.mark.parametrize("method", ["cash_on_delivery", "invoice"])
def test_an_order_paid_after_delivery_ships_first_with_an_invoice_that_asks_for_the_money(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int, method: str
) -> None:
    """Cash on delivery and "on invoice" go out unpaid: the invoice in the parcel says what
    is due and how to pay it; when the money comes the order keeps its state."""
    app.config["KIOSK_INVOICE_FOR"] = "all"
    add_to_cart(client, products[0])
    give_address(client, email="spaeter@example.org")
    choose_shipping(client)
    choose_payment(client, method)
    place(client)
    (order,) = _orders(app)
    with app.app_context():
        lifecycle.transition(order.number, OrderStatus.SHIPPED, Actor.STAFF, staff_id,
                             carrier="dhl", tracking="00340434")  # fmt: skip
    (order,) = _orders(app)
    (invoice,) = order.invoices
    assert order.status == OrderStatus.SHIPPED and invoice.amount_cents == order.total_cents
    pdf = pdf_text(invoice.pdf)
    due = order.money(order.total_cents).format("en")
    assert f"Amount due: {due}" in pdf and "Already paid" not in pdf
    if method == "cash_on_delivery":
        assert "Payable in cash to the carrier on delivery." in pdf
    else:
        assert f"IBAN: {app.config['KIOSK_BANK_IBAN']}" in pdf
        assert f"Payment reference: {order.payment_reference}" in pdf
    sums = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert cents(factur_x(invoice.pdf), f"{sums}/ram:DuePayableAmount") == order.total_cents

    with app.app_context():
        settlement.mark_received(order.number, staff_id)
        lifecycle.transition(order.number, OrderStatus.DELIVERED, Actor.STAFF, staff_id)
        (mail,) = [m for m in outbox("spaeter@example.org") if m.template == "payment_received"]
        assert "Thank you!" in mail.text_body and "preparing" not in mail.text_body
    (order,) = _orders(app)
    assert order.status == OrderStatus.DELIVERED and len(order.invoices) == 1


def test_a_prepaid_order_cannot_ship_before_its_money(
    app: Flask, client: FlaskClient, products: tuple[int, int], staff_id: int
) -> None:
    buy(client, products[0])  # bank transfer: prepayment
    (order,) = _orders(app)
    with app.app_context(), pytest.raises(lifecycle.TransitionRefused):
        lifecycle.transition(order.number, OrderStatus.SHIPPED, Actor.STAFF, staff_id)
    assert _orders(app)[0].status == OrderStatus.AWAITING_PAYMENT
