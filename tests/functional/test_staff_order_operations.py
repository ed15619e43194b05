"""Staff order operations: bulk shipping (typed or from the carrier's CSV), the packing
slip, returns with restock and credit note, cancelling an unpaid invoice, and payment
reminders for overdue orders."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from kiosk.accounts.models import User
from kiosk.audit.models import AuditEvent
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.inventory.models import InventoryMovement, MovementKind
from kiosk.invoicing import seller as sellers
from kiosk.invoicing.models import DocumentKind, Invoice
from kiosk.mail import services as mail
from kiosk.orders.models import Order, OrderEvent, OrderStatus
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import make_product
from tests.mailbox import CapturingSMTP, outbox
from tests.shopping import add_to_cart, choose_payment, choose_shipping, give_address, place
from tests.shopping import staff_member as signed_in_staff


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", sku="MUG-1", price_cents=1290, stock_on_hand=20).id


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return signed_in_staff(app)


def _buy(
    app: Flask, product_id: int, quantity: int = 1, method: str = "bank_transfer", lang: str = "en"
) -> str:
    """A guest order; returns its number."""
    app.config["KIOSK_INVOICE_FOR"] = "all"
    shopper = new_client(app)
    shopper.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    add_to_cart(shopper, product_id, quantity)
    give_address(shopper, email="erika@example.org")
    choose_shipping(shopper)
    choose_payment(shopper, method)
    place(shopper)
    with app.app_context():
        return db.session.scalars(select(Order.number).order_by(Order.id.desc())).first() or ""


def _post(staff: FlaskClient, page: str, url: str, **data: object) -> TestResponse:
    return staff.post(url, data={"csrf_token": csrf_token(staff, page), **data})


def _paid(staff: FlaskClient, number: str) -> None:
    _post(staff, f"/staff/orders/{number}", f"/staff/orders/{number}/mark-paid")


def _ship_one(staff: FlaskClient, number: str) -> None:
    page = f"/staff/orders/{number}"
    _post(staff, page, f"/staff/orders/{number}/status", to="shipped", carrier="dhl",
          tracking="00340434")  # fmt: skip


def _order(app: Flask, number: str) -> Order:
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.number == number)).one()
        order.events, order.invoices, order.lines  # noqa: B018  (load before the context ends)
        db.session.expunge(order)
        return order


def _on_hand(app: Flask, product_id: int) -> int:
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product is not None
        return product.stock_on_hand


def _credit_notes(app: Flask, number: str) -> list[tuple[str, int]]:
    with app.app_context():
        query = (
            select(Invoice.number, Invoice.amount_cents)
            .join(Order, Order.id == Invoice.order_id)
            .where(Order.number == number, Invoice.kind == DocumentKind.CREDIT_NOTE)
            .order_by(Invoice.id)
        )
        return [(n, a) for n, a in db.session.execute(query)]


def _audits(app: Flask, event: str) -> list[dict[str, object]]:
    with app.app_context():
        query = select(AuditEvent.details).where(AuditEvent.event == event)
        return list(db.session.scalars(query))


def _flashes(staff: FlaskClient, response: TestResponse) -> str:
    return staff.get(response.headers["Location"]).get_data(as_text=True)


# Bulk ship ------------------------------------------------------------------------------


def _ship_rows(staff: FlaskClient, numbers: list[str], trackings: list[str]) -> TestResponse:
    query = "&".join(f"order={n}" for n in numbers)
    data: dict[str, object] = {}
    for i, (number, tracking) in enumerate(zip(numbers, trackings, strict=True)):
        data |= {f"number_{i}": number, f"carrier_{i}": "dhl", f"tracking_{i}": tracking}
    return _post(staff, f"/staff/orders/ship?{query}", "/staff/orders/ship", **data)


def test_chosen_orders_are_shipped_at_once_with_their_tracking_numbers(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    first, second = _buy(app, mug), _buy(app, mug)
    _paid(staff, first)
    _paid(staff, second)
    chosen = _post(staff, "/staff/orders", "/staff/orders/selection", action="ship",
                   order=[first, second])  # fmt: skip
    assert chosen.status_code == 303
    page = staff.get(chosen.headers["Location"]).get_data(as_text=True)
    assert first in page and second in page
    assert re.search(r'<option value="dhl" selected>', page)  # the shipping method's carrier

    response = _ship_rows(staff, [first, second], ["00340434111", "00340434222"])
    assert "2 orders marked as shipped." in _flashes(staff, response)
    for number, tracking in ((first, "00340434111"), (second, "00340434222")):
        order = _order(app, number)
        assert order.status is OrderStatus.SHIPPED
        assert order.events[-1].data["tracking"] == tracking
    with app.app_context():
        assert sum(m.template == "order_shipped" for m in outbox("erika@example.org")) == 2
    assert len(_audits(app, "order.bulk_shipped")) == 2

    again = _ship_rows(staff, [first, second], ["00340434111", "00340434222"])
    assert f"Already shipped before: {first}, {second}." in _flashes(staff, again)
    with app.app_context():
        assert sum(m.template == "order_shipped" for m in outbox("erika@example.org")) == 2


def test_an_order_that_cannot_ship_is_named_and_the_others_go_through(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    paid, unpaid = _buy(app, mug), _buy(app, mug)
    _paid(staff, paid)
    response = _ship_rows(staff, [unpaid, paid], ["00340434333", "00340434444"])
    page = _flashes(staff, response)
    assert (
        f"{unpaid} was not shipped: An order that is awaiting payment cannot become shipped."
        in page
    )
    assert "1 order marked as shipped." in page
    assert _order(app, paid).status is OrderStatus.SHIPPED
    assert _order(app, unpaid).status is OrderStatus.AWAITING_PAYMENT


def test_a_bad_tracking_number_comes_back_at_its_field_with_the_input(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    number = _buy(app, mug)
    _paid(staff, number)
    response = _ship_rows(staff, [number], ["no!"])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "A tracking number has 4 to 40 letters, digits or hyphens." in page
    assert 'value="no!"' in page
    assert _order(app, number).status is OrderStatus.PAID


def test_the_carrier_csv_is_checked_row_by_row_before_anything_ships(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    good, unpaid = _buy(app, mug), _buy(app, mug)
    _paid(staff, good)
    csv_text = (
        "Bestellnummer;Versanddienstleister;Sendungsnummer\r\n"
        f"{good};DHL;00340434555\r\n"
        "KXXXX-YYYY;DHL;00340434666\r\n"
        f"{unpaid};DHL;00340434777\r\n"
        f"{good};Brieftaube Müller;00340434888\r\n"
    )
    upload = (io.BytesIO(csv_text.encode("cp1252")), "sendungen.csv")
    response = _post(staff, "/staff/orders/ship", "/staff/orders/ship/csv", file=upload)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Line 3: There is no order KXXXX-YYYY." in page
    assert f"Line 4: Order {unpaid} is awaiting payment and cannot be shipped." in page
    assert "Line 5: Order" in page and "twice" in page  # the good one again, read as cp1252
    assert f'name="number_0" type="hidden" value="{good}"' in page
    assert 'value="00340434555"' in page and "number_1" not in page
    assert _order(app, good).status is OrderStatus.PAID  # a dry run changes nothing

    applied = _ship_rows(staff, [good], ["00340434555"])
    assert "1 order marked as shipped." in _flashes(staff, applied)
    assert _order(app, good).events[-1].data == {
        "previous": "paid", "state": "shipped", "carrier": "dhl", "tracking": "00340434555",
    }  # fmt: skip


def test_a_csv_without_known_column_names_is_refused(app: Flask, staff: FlaskClient) -> None:
    upload = (io.BytesIO(b"a,b,c\r\n1,2,3\r\n"), "x.csv")
    response = _post(staff, "/staff/orders/ship", "/staff/orders/ship/csv", file=upload)
    assert response.status_code == 422
    assert "The first line must name the columns" in response.get_data(as_text=True)


# Packing slip ---------------------------------------------------------------------------


def test_the_packing_slip_lists_items_and_address_without_prices(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    number = _buy(app, mug, 3)
    response = staff.get(f"/staff/orders/{number}/packing-slip.pdf")
    assert response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert number in text and "MUG-1" in text and "Becher" in text
    assert "Heidestraße 17" in text and "51147 Köln" in text
    assert "12,90" not in text and "12.90" not in text and "€" not in text


# Returns --------------------------------------------------------------------------------


def _return(staff: FlaskClient, number: str, quantity: int, key: str = "") -> TestResponse:
    page = staff.get(f"/staff/orders/{number}").get_data(as_text=True)
    field = re.search(r'name="(quantity_\d+)"', page)
    assert field is not None, "no return form on the order page"
    found = re.search(r'name="key" type="hidden" value="([^"]+)"', page)
    assert found is not None
    data = {field.group(1): str(quantity), "reason": "Damaged in transit", "key": key or found[1]}
    return _post(staff, f"/staff/orders/{number}", f"/staff/orders/{number}/return", **data)


def test_a_return_restocks_the_goods_and_issues_a_credit_note_once(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    number = _buy(app, mug, 3)
    _paid(staff, number)
    _ship_one(staff, number)
    assert _on_hand(app, mug) == 17
    year = utcnow().year

    response = _return(staff, number, 2, key="first-return")
    assert response.status_code == 303
    page = _flashes(staff, response)
    assert f"credit note RK-{year}-00001 over €25.80 is issued" in page
    assert _on_hand(app, mug) == 19
    assert _credit_notes(app, number) == [(f"RK-{year}-00001", 2580)]
    with app.app_context():
        kinds = db.session.scalars(
            select(InventoryMovement.kind).where(InventoryMovement.product_id == mug)
        ).all()
        assert kinds.count(MovementKind.RETURN) == 1
    assert _order(app, number).status is OrderStatus.SHIPPED
    (audit,) = _audits(app, "order.returned")
    assert audit["before"] == {"status": "shipped", "returned": {}}
    assert audit["after"]["status"] == "shipped"  # type: ignore[index]

    again = _return(staff, number, 2, key="first-return")  # the same form sent twice
    assert again.status_code == 303 and _on_hand(app, mug) == 19
    assert len(_credit_notes(app, number)) == 1

    # the paid order's refund form offers the credited amount; refunding it credits nothing more
    page = staff.get(f"/staff/orders/{number}").get_data(as_text=True)
    assert "Credited but not refunded yet: €25.80." in page
    assert re.search(r'name="amount"[^>]*value="25.80"', page)
    _post(staff, f"/staff/orders/{number}", f"/staff/orders/{number}/refund",
          amount="25.80", reason="Return")  # fmt: skip
    assert len(_credit_notes(app, number)) == 1
    assert "Credited but not refunded yet" not in staff.get(f"/staff/orders/{number}").text


def test_more_than_shipped_less_returned_cannot_come_back(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    number = _buy(app, mug, 3)
    _paid(staff, number)
    _ship_one(staff, number)
    _return(staff, number, 2)
    too_many = _return(staff, number, 2)
    assert too_many.status_code == 422
    assert "Please enter a whole number from 0 to 1." in too_many.get_data(as_text=True)
    assert _on_hand(app, mug) == 19

    last = _return(staff, number, 1)
    assert last.status_code == 303
    assert _order(app, number).status is OrderStatus.RETURNED
    assert _on_hand(app, mug) == 20  # the lifecycle's step to returned adds nothing more
    assert [a for _n, a in _credit_notes(app, number)] == [2580, 1290]


def test_goods_not_shipped_cannot_be_returned(app: Flask, staff: FlaskClient, mug: int) -> None:
    number = _buy(app, mug)
    assert 'name="quantity_' not in staff.get(f"/staff/orders/{number}").text
    response = _post(staff, f"/staff/orders/{number}", f"/staff/orders/{number}/return",
                     reason="x", key="k")  # fmt: skip
    assert response.status_code == 422
    assert "Only goods that were shipped can come back; this order is awaiting payment." in (
        response.text
    )


# Cancel invoice -------------------------------------------------------------------------


def test_cancelling_an_unpaid_invoice_order_issues_a_storno_and_restocks(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    number = _buy(app, mug, 2, method="invoice")
    _ship_one(staff, number)  # an invoice order is invoiced when it ships
    year = utcnow().year
    order = _order(app, number)
    (invoice,) = order.invoices
    assert invoice.number == f"RE-{year}-00001" and _on_hand(app, mug) == 18
    assert "Cancel invoice" in staff.get(f"/staff/orders/{number}").text

    page = f"/staff/orders/{number}"
    response = _post(staff, page, f"{page}/cancel-invoice", reason="Parcel refused")
    assert f"(credit note RK-{year}-00001)" in _flashes(staff, response)
    assert _order(app, number).status is OrderStatus.CANCELLED
    assert _credit_notes(app, number) == [(f"RK-{year}-00001", order.total_cents)]
    assert _on_hand(app, mug) == 20
    with app.app_context():
        storno = db.session.scalars(select(Invoice).where(Invoice.number.like("RK-%"))).one()
        assert storno.refers_to_id == invoice.id and storno.reason == "Parcel refused"
        assert outbox("erika@example.org")[-1].subject.startswith(f"Credit note RK-{year}-00001")
    (audit,) = _audits(app, "order.invoice_cancelled")
    assert audit["before"] == {"status": "shipped"} and audit["after"] == {"status": "cancelled"}

    again = _post(staff, page, f"{page}/cancel-invoice", reason="Parcel refused")
    assert again.status_code == 303 and len(_credit_notes(app, number)) == 1
    assert _on_hand(app, mug) == 20


def test_a_paid_invoice_cannot_be_cancelled_here(app: Flask, staff: FlaskClient, mug: int) -> None:
    number = _buy(app, mug, method="invoice")
    _ship_one(staff, number)
    _paid(staff, number)
    page = f"/staff/orders/{number}"
    assert "Cancel invoice" not in staff.get(page).text
    response = _post(staff, page, f"{page}/cancel-invoice", reason="Oops")
    assert response.status_code == 422
    assert "Money was paid for this order: refund it instead." in response.text
    assert _credit_notes(app, number) == []


# Payment reminders ----------------------------------------------------------------------


def _overdue_invoice(app: Flask, staff: FlaskClient, mug: int) -> str:
    number = _buy(app, mug, method="invoice")
    _ship_one(staff, number)
    with app.app_context():
        long_ago = utcnow() - timedelta(days=10)
        db.session.execute(update(Invoice).values(issued_at=long_ago))
        db.session.commit()
    return number


def test_a_reminder_for_an_overdue_invoice_is_mailed_and_recorded(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    number = _overdue_invoice(app, staff, mug)
    page = f"/staff/orders/{number}"
    assert "The payment of this order is overdue." in staff.get(page).text
    response = _post(staff, page, f"{page}/remind")
    assert "The payment reminder is on its way to erika@example.org." in _flashes(staff, response)
    assert _order(app, number).events[-1].kind == "payment_reminder"
    assert len(_audits(app, "order.reminder_sent")) == 1

    server = CapturingSMTP()
    server.start()
    try:
        app.config.update(KIOSK_MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1",
                          SMTP_PORT=server.port, SMTP_SECURITY="none")  # fmt: skip
        with app.app_context():
            mail.deliver_due()
    finally:
        server.stop()
    (reminder,) = [m for m in server.messages if "is due" in str(m["Subject"])]
    assert reminder["To"] == "erika@example.org"
    body = reminder.get_payload(0).get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "our invoice RE-" in body and "we have not received the payment" in body

    second = _post(staff, page, f"{page}/remind")
    assert "A reminder went out on" in _flashes(staff, second)
    assert len(_audits(app, "order.reminder_sent")) == 1


def test_an_invoice_reminder_names_the_bank_account_the_owner_saved_last(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    """The owner's bank details from the back office, not the environment's first ones,
    in both parts of the mail: the buyer pays where the money is expected."""
    number = _overdue_invoice(app, staff, mug)
    with app.app_context():
        staff_id = db.session.scalars(
            select(User.id).where(User.email == "staff@example.org")
        ).one()
        moved = replace(sellers.from_environment(), account_holder="Papeterie Lindner",
                        iban="DE89370400440532013000", bic="COBADEFFXXX")  # fmt: skip
        with unit_of_work() as session:
            sellers.save(session, moved, staff_id)
    page = f"/staff/orders/{number}"
    assert _post(staff, page, f"{page}/remind").status_code == 303
    with app.app_context():
        reminder = outbox("erika@example.org")[-1]
    assert reminder.template == "invoice_reminder"
    for body in (reminder.text_body, reminder.html_body):
        assert "DE89370400440532013000" in body and "Papeterie Lindner" in body
        assert app.config["KIOSK_BANK_IBAN"] not in body


def test_a_reminder_in_german_and_a_refusal_when_not_overdue(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    number = _buy(app, mug, lang="de")  # a transfer placed just now is not due yet
    page = f"/staff/orders/{number}"
    response = _post(staff, page, f"{page}/remind")
    assert "The payment of this order is not overdue." in _flashes(staff, response)
    with app.app_context():
        db.session.execute(update(Order).values(placed_at=utcnow() - timedelta(days=9)))
        db.session.commit()
    response = _post(staff, page, f"{page}/remind")
    assert response.status_code == 303
    with app.app_context():
        reminder = outbox("erika@example.org")[-1]
        assert reminder.template == "payment_reminder"
        assert reminder.subject == f"Erinnerung: Ihre Bestellung {number} ist noch nicht bezahlt"


def test_reminders_go_out_in_bulk_from_the_overdue_list(
    app: Flask, staff: FlaskClient, mug: int
) -> None:
    first = _overdue_invoice(app, staff, mug)
    second = _overdue_invoice(app, staff, mug)
    listing = staff.get("/staff/orders?queue=overdue").get_data(as_text=True)
    assert first in listing and second in listing and "Send payment reminders" in listing
    response = _post(staff, "/staff/orders?queue=overdue", "/staff/orders/selection",
                     action="remind", order=[first, second])  # fmt: skip
    assert "2 payment reminders sent." in _flashes(staff, response)
    again = _post(staff, "/staff/orders?queue=overdue", "/staff/orders/selection",
                  action="remind", order=[first])  # fmt: skip
    assert f"{first}: A reminder went out on" in _flashes(staff, again)
    with app.app_context():
        events = db.session.scalars(
            select(OrderEvent).where(OrderEvent.kind == "payment_reminder")
        ).all()
        assert len(events) == 2
