"""Invoices (§14 Abs. 4 UStG) and credit notes: content, numbering, immutability, access."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk.extensions import db
from kiosk.models import DocumentKind, Invoice, Order, OrderStatus, Role
from kiosk.services import invoices, lifecycle, payments
from kiosk.services.lifecycle import Actor
from kiosk.services.uow import unit_of_work
from tests.conftest import REQUIRE_ALL, csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.mailbox import outbox
from tests.shopping import add_to_cart, buy, sign_in

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
        payments.mark_received(number, staff_id)
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
        payments.mark_received(number, staff_id)
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
    monkeypatch.setattr(invoices, "complete_pending", lambda order_id=None: 0)
    for _ in range(20):
        buy(new_client(app), products[0])
    numbers = [order.number for order in _orders(app)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(numbers))

    def pay(number: str) -> None:
        with app.app_context():
            start.wait()
            try:
                payments.mark_received(number, staff_id)
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
        assert invoices.complete_pending() == 20
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
        payments.mark_received(number, staff_id)
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
        payments.mark_received(number, staff_id)
        assert _orders(app)[0].invoices == []
        lifecycle.transition(number, OrderStatus.SHIPPED, Actor.STAFF, staff_id)
    assert len(_orders(app)[0].invoices) == 1
