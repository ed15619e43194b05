"""Orders after checkout: cancel, ship, return, and the withdrawal button (§356a BGB)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk.accounts.models import Role
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.orders.models import Order, OrderStatus
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.mailbox import outbox
from tests.shopping import buy, sign_in, staff_member


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", price_cents=1290, stock_on_hand=10).id


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return staff_member(app)


def _order(app: Flask) -> Order:
    with app.app_context():
        query = select(Order).options(selectinload(Order.events), selectinload(Order.lines))
        return db.session.scalars(query).one()


def _on_hand(app: Flask, product_id: int) -> int:
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product is not None
        return product.stock_on_hand


def _post(client: FlaskClient, page: str, action: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data})


def _staff_status(staff: FlaskClient, number: str, to: str, **data: str):  # type: ignore[no-untyped-def]
    return _post(staff, f"/staff/orders/{number}", f"/staff/orders/{number}/status", to=to, **data)


def test_the_buyer_cancels_before_shipping_and_the_stock_comes_back(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    buy(client, mug, 2)
    number = _order(app).number
    assert _on_hand(app, mug) == 8
    page = client.get(f"/orders/{number}").text
    assert "Cancel order" in page and "Withdraw from contract" in page
    response = _post(client, f"/orders/{number}", f"/orders/{number}/cancel")
    assert "Your order is cancelled." in client.get(response.headers["Location"]).text
    assert _order(app).status == OrderStatus.CANCELLED and _on_hand(app, mug) == 10
    with app.app_context():
        assert outbox("erika@example.org")[-1].subject == f"Your order {number} is cancelled"


def test_a_shipped_order_cannot_be_cancelled_by_the_buyer(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    buy(client, mug)
    number = _order(app).number
    _post(staff, f"/staff/orders/{number}", f"/staff/orders/{number}/mark-paid")
    _staff_status(staff, number, "shipped", carrier="dhl", tracking="00340434")
    assert "Cancel order" not in client.get(f"/orders/{number}").text
    response = _post(client, f"/orders/{number}", f"/orders/{number}/cancel")
    page = client.get(response.headers["Location"]).text
    assert "Only the shop can make this change." in page or "cannot become" in page
    assert _order(app).status == OrderStatus.SHIPPED
    dhl = "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434"
    assert f'DHL tracking number <a href="{dhl}"' in page
    with app.app_context():
        shipped = outbox("erika@example.org")[-1]
        assert shipped.subject == f"Your order {number} is on its way"
        assert "DHL tracking number 00340434" in shipped.text_body
        assert dhl in shipped.text_body and f'href="{dhl}"' in shipped.html_body


def test_staff_must_name_the_carrier_of_a_tracking_number(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    """A number without its carrier could not be followed: the form says so and keeps it."""
    buy(client, mug)
    number = _order(app).number
    _post(staff, f"/staff/orders/{number}", f"/staff/orders/{number}/mark-paid")
    response = _staff_status(staff, number, "shipped", carrier="", tracking="00340434")
    assert response.status_code == 422
    assert "Please choose the carrier of this tracking number." in response.text
    assert 'id="shipped-tracking"' in response.text and 'value="00340434"' in response.text
    bad = _staff_status(staff, number, "shipped", carrier="dhl", tracking="<script>")
    assert bad.status_code == 422 and "4 to 40 letters, digits or hyphens" in bad.text
    assert _order(app).status == OrderStatus.PAID


def test_staff_cannot_skip_the_table(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    buy(client, mug)
    number = _order(app).number
    response = _staff_status(staff, number, "delivered")
    page = staff.get(response.headers["Location"]).text
    assert "An order that is awaiting payment cannot become delivered." in page
    assert _order(app).status == OrderStatus.AWAITING_PAYMENT
    assert _staff_status(staff, number, "nonsense").status_code == 400


def test_cancelling_a_paid_order_leaves_a_refund_due_for_staff(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    buy(client, mug)
    number = _order(app).number
    _post(staff, f"/staff/orders/{number}", f"/staff/orders/{number}/mark-paid")
    _staff_status(staff, number, "cancelled", reason="Kunde hat angerufen")
    kinds = [e.kind for e in _order(app).events]
    assert kinds[-1] == "refund_due" and _order(app).status == OrderStatus.CANCELLED
    assert "Refund due" in staff.get(f"/staff/orders/{number}").text
    with app.app_context():  # the money came by transfer: staff must send it back
        (mail,) = [m for m in outbox("staff@example.org") if m.template == "refund_due_staff"]
        assert mail.subject == f"Refund due: order {number}"
        assert "Please send €17.80 back to the buyer" in mail.text_body
        assert f"/staff/orders/{number}" in mail.text_body


def test_a_guest_withdraws_in_two_steps_and_both_sides_hear_of_it(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    with app.app_context():
        make_user("staff@example.org", role=Role.STAFF)
    buy(client, mug)
    number = _order(app).number
    elsewhere = new_client(app)  # later, on another device, from the link in the mail
    wrong = _post(elsewhere, "/withdraw", "/withdraw", number=number, email="x@example.org")
    assert wrong.status_code == 422 and "We found no order" in wrong.text
    assert f'value="{number}"' in wrong.text
    found = _post(
        elsewhere, "/withdraw", "/withdraw", number=number.lower(), email="Erika@example.org"
    )
    assert found.headers["Location"] == f"/orders/{number}/withdraw"
    confirm_page = elsewhere.get(found.headers["Location"]).text
    assert "Confirm withdrawal" in confirm_page
    done = _post(
        elsewhere, f"/orders/{number}/withdraw", f"/orders/{number}/withdraw", reason="Zu groß"
    )
    assert done.headers["Location"] == f"/orders/{number}"
    _post(elsewhere, f"/orders/{number}/withdraw", f"/orders/{number}/withdraw")  # again
    events = [e for e in _order(app).events if e.kind == "withdrawal_received"]
    assert len(events) == 1 and events[0].reason == "Zu groß"
    with app.app_context():
        (mail,) = [m for m in outbox("erika@example.org") if "withdrawal" in m.subject]
        assert number in mail.subject and "Zu groß" in mail.text_body
        subjects = [m.subject for m in outbox("staff@example.org")]
        assert f"Withdrawal received: order {number}" in subjects


def test_the_withdrawal_link_is_in_the_order_mail(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    buy(client, mug)
    with app.app_context():
        assert "/withdraw" in outbox("erika@example.org")[0].text_body


def _order_routes(app: Flask, number: str, document: str) -> list[tuple[str, str]]:
    """Every route of the buyer's order pages, filled in for one order (so none is forgotten)."""
    values = {"number": number, "document_number": document, "key": "not-the-key"}
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("orders."):
            continue
        url = rule.build(values, append_unknown=False)
        assert url is not None, rule
        routes += [(method, url[1]) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_nobody_else_can_see_or_act_on_an_order(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    buy(client, mug)
    number = _order(app).number
    _post(staff, f"/staff/orders/{number}", f"/staff/orders/{number}/mark-paid")
    (invoice,) = [i.number for i in _order_with_invoices(app).invoices]
    with app.app_context():
        make_user()
    guest, customer = new_client(app), new_client(app)
    sign_in(customer, "jana@example.org", PASSWORD)
    routes = _order_routes(app, number, invoice)
    assert len(routes) >= 9  # view, access link, pay, payment, cancel, withdraw ×2, reorder, PDF
    for stranger in (guest, customer):
        token = csrf_token(stranger, "/")
        for method, url in routes:
            response = stranger.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (method, url)
    assert _order(app).status == OrderStatus.PAID
    assert client.get(f"/orders/{number}/documents/{invoice}.pdf").status_code == 200


def _order_with_invoices(app: Flask) -> Order:
    with app.app_context():
        return db.session.scalars(select(Order).options(selectinload(Order.invoices))).one()


def test_staff_hear_of_new_orders_and_buyers_get_the_contract_texts(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    buy(client, mug)
    number = _order(app).number
    with app.app_context():
        (staff_mail,) = outbox("staff@example.org")
        assert staff_mail.subject.startswith(f"New order {number}")
        (confirmation,) = outbox("erika@example.org")
        files = {a.filename: a.data.decode() for a in confirmation.attachments}
    # §312f BGB: the confirmation carries the terms and the withdrawal policy.
    assert set(files) == {"terms.html", "withdrawal.html"}
    assert "Model withdrawal form" in files["withdrawal.html"]


def test_staff_write_notes_into_the_history(
    app: Flask, client: FlaskClient, staff: FlaskClient, mug: int
) -> None:
    buy(client, mug)
    number = _order(app).number
    page = f"/staff/orders/{number}"
    empty = _post(staff, page, f"{page}/note", note="  ")
    assert empty.status_code == 422 and "Please write the note." in empty.text
    assert 'aria-describedby="order-note-error"' in empty.text
    _post(staff, page, f"{page}/note", note="Kunde ruft zurück")
    assert "Kunde ruft zurück" in staff.get(page).text
    assert [(e.kind, e.reason) for e in _order(app).events] == [("note", "Kunde ruft zurück")]
