"""Staff adjust stock through the ledger, see its history with who and when, and the
products that run low."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.accounts.models import Role
from kiosk.audit.models import AuditEvent
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.inventory import services as inventory
from kiosk.inventory.models import InventoryMovement, MovementKind
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.shopping import sign_in, staff_member


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return staff_member(app)


@pytest.fixture
def product_id(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Kaffeebecher Bär", stock_on_hand=10, reorder_level=3).id


def counters(app: Flask, product_id: int) -> tuple[int, int]:
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product is not None
        return product.stock_on_hand, product.stock_reserved


def seen(client: FlaskClient, url: str) -> str:
    match = re.search(r'name="seen" value="(\d+)"', client.get(url).text)
    assert match
    return match.group(1)


def adjust(client: FlaskClient, product_id: int, **data: Any) -> Any:
    url = f"/staff/products/{product_id}/stock"
    fields = {"csrf_token": csrf_token(client, url), "seen": seen(client, url), "note": ""}
    return client.post(url, data={**fields, **data})


def hold(app: Flask, product_id: int, quantity: int) -> None:
    with app.app_context(), unit_of_work() as session:
        inventory.reserve(session, "checkout-1", {product_id: quantity}, 30)


def test_the_stock_page_shows_the_counters(app: Flask, staff: FlaskClient, product_id: int) -> None:
    hold(app, product_id, 2)
    page = staff.get(f"/staff/products/{product_id}/stock").text
    assert "<h1>Kaffeebecher Bär</h1>" in page
    figures = re.search(r'id="stock-figures">(.*?)</tr>', page)
    assert figures and re.findall(r"<td>(\d+)</td>", figures.group(1)) == ["10", "2", "8", "3"]


def test_each_reason_changes_on_hand_through_the_ledger_and_is_audited(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    steps = [
        ("received", "5", 15, MovementKind.RESTOCK),
        ("count", "7", 7, MovementKind.COUNT),
        ("damage", "4", 3, MovementKind.DAMAGE),
        ("return", "1", 4, MovementKind.RETURN),
        ("count", "0", 0, MovementKind.COUNT),  # a count may find none
    ]
    before = 10
    for reason, quantity, on_hand, kind in steps:
        note = f"Beleg {reason}"
        response = adjust(staff, product_id, reason=reason, quantity=quantity, note=note)
        assert response.status_code == 303, reason
        assert response.headers["Location"] == f"/staff/products/{product_id}/stock"
        assert counters(app, product_id) == (on_hand, 0)
        with app.app_context():
            last = db.session.scalars(
                select(InventoryMovement).order_by(InventoryMovement.id.desc())
            ).first()
            assert last is not None and last.actor_id is not None
            assert (last.kind, last.quantity, last.reason) == (kind, on_hand - before, note)
            assert inventory.ledger_totals(product_id)[0] == on_hand
            event = db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.event == "stock.adjusted")
                .order_by(AuditEvent.id.desc())
            ).first()
            assert event is not None and event.details["reason"] == reason
            assert event.details["before"] == {"on_hand": before}
            assert event.details["after"] == {"on_hand": on_hand}
        page = staff.get(response.headers["Location"]).text
        assert f"Stock on hand is now {on_hand} (was {before})." in page
        before = on_hand


def test_stock_below_the_reserved_quantity_or_zero_is_refused_at_the_field(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    hold(app, product_id, 3)
    for reason, quantity, message in (
        ("count", "2", "hold 3 of these"),
        ("damage", "8", "hold 3 of these"),
        ("damage", "11", "cannot go below zero"),
    ):
        response = adjust(staff, product_id, reason=reason, quantity=quantity, note="Bruch")
        assert response.status_code == 422
        assert message in response.text
        assert 'id="stock-quantity-error"' in response.text
        assert f'value="{quantity}"' in response.text and 'value="Bruch"' in response.text
    assert counters(app, product_id) == (10, 3)


def test_a_quantity_that_is_no_positive_number_is_refused(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    for quantity in ("", "-3", "drei", "0", "99999999999"):
        response = adjust(staff, product_id, reason="received", quantity=quantity)
        assert response.status_code == 422, quantity
        assert 'aria-invalid="true"' in response.text
    assert counters(app, product_id) == (10, 0)


def test_two_staff_adjusting_at_once_never_lose_a_change(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    """Both open the page at 10; the first saves, the second is told and saves again."""
    url = f"/staff/products/{product_id}/stock"
    other = staff_member_two(app)
    first = {"csrf_token": csrf_token(staff, url), "seen": seen(staff, url)}
    second = {"csrf_token": csrf_token(other, url), "seen": seen(other, url)}
    assert first["seen"] == second["seen"] == "10"

    response = staff.post(url, data={**first, "reason": "received", "quantity": "5"})
    assert response.status_code == 303
    response = other.post(url, data={**second, "reason": "damage", "quantity": "2"})
    assert response.status_code == 422
    assert "Stock changed meanwhile: 15 are on hand now." in response.text
    assert counters(app, product_id) == (15, 0)

    # The form came back with the new figure and what was typed: saving again applies it.
    fresh = re.search(r'name="seen" value="(\d+)"', response.text)
    assert fresh and fresh.group(1) == "15"
    response = other.post(url, data={**second, "seen": "15", "reason": "damage", "quantity": "2"})
    assert response.status_code == 303
    assert counters(app, product_id) == (13, 0)
    # The same submit again (a double click) changes nothing.
    response = other.post(url, data={**second, "seen": "15", "reason": "damage", "quantity": "2"})
    assert response.status_code == 422
    assert counters(app, product_id) == (13, 0)
    with app.app_context():
        assert inventory.ledger_totals(product_id)[0] == 13


def staff_member_two(app: Flask) -> FlaskClient:
    """A second staff member, signed in on their own browser."""
    with app.app_context():
        make_user("lager@example.org", role=Role.STAFF, name="Lena Lager")
    client = new_client(app)
    sign_in(client, "lager@example.org", PASSWORD)
    return client


def test_the_ledger_shows_who_what_and_the_resulting_stock_newest_first(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    other = staff_member_two(app)
    adjust(staff, product_id, reason="received", quantity="5", note="Lieferung 7")
    adjust(other, product_id, reason="damage", quantity="2", note="Scherben")
    page = staff.get(f"/staff/products/{product_id}/stock").text
    rows = re.findall(r"<tr>\s*<td><time.*?</tr>", page, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S)[1:] for row in rows]
    assert cells == [
        ["Damage", "-2", "13", "Lena Lager", "Scherben"],
        ["Goods received", "+5", "15", "staff@example.org", "Lieferung 7"],
        ["Adjustment", "+10", "10", "System", "test data"],
    ]


def test_the_ledger_is_paged_and_each_page_knows_its_stock(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    with app.app_context():
        for _ in range(26):
            inventory.restock(product_id, 1, "Nachlieferung")
    page = staff.get(f"/staff/products/{product_id}/stock?page=2").text
    assert "Page 2 of 2" in page
    rows = re.findall(r"<tr>\s*<td><time.*?</tr>", page, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S)[1:4] for row in rows]
    assert cells == [["Goods received", "+1", "11"], ["Adjustment", "+10", "10"]]
    fragment = staff.get(
        f"/staff/products/{product_id}/stock?page=1", headers={"HX-Request": "true"}
    )
    assert "<h1>" not in fragment.text and "Page 1 of 2" in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_low_stock_list_names_products_at_or_below_their_reorder_level(
    app: Flask, staff: FlaskClient
) -> None:
    with app.app_context():
        sold_out = make_product(name="Ausverkauft", stock_on_hand=0).id
        low = make_product(name="Knapp", stock_on_hand=3, reorder_level=3).id
        make_product(name="Genug", stock_on_hand=4, reorder_level=3)
        make_product(name="Archiviert", stock_on_hand=0, is_active=False)
    page = staff.get("/staff/stock").text
    assert "2 products" in page
    assert page.index("Ausverkauft") < page.index("Knapp")
    assert "Genug" not in page and "Archiviert" not in page
    assert f'href="/staff/products/{sold_out}/stock"' in page
    assert f'href="/staff/products/{low}/stock"' in page
    assert staff.get("/staff/products/999999/stock").status_code == 404
