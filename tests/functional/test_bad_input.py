"""Bad input gets a clear answer, never a 500: numbers beyond what the database holds,
control characters, overlong text. Each test names the defect it keeps fixed."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.accounts.models import Role
from kiosk.cart.models import CartLine
from kiosk.extensions import db
from kiosk.orders.models import Order
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_category, make_product, make_user
from tests.mailbox import outbox
from tests.shopping import (
    add_to_cart,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    review_form,
    sign_in,
    staff_member,
)

ONE_LINE = "Please write this on one line, without control characters such as NUL."


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        kaffee = make_category("Kaffee", slug="kaffee")
        return make_product(
            name="Becher", slug="becher", category=kaffee, price_cents=1290, stock_on_hand=5
        ).id


def _at_review(client: FlaskClient, product_id: int) -> None:
    add_to_cart(client, product_id)
    give_address(client)
    choose_shipping(client)
    choose_payment(client)


# Numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "product_id", ["1e30", str(2**63), str(-(2**63) - 1), str(2**31), "0", "١٢", "1_0", "1.0"]
)
def test_add_to_cart_with_an_id_no_column_holds_says_the_product_is_unavailable(
    app: Flask, client: FlaskClient, mug: int, product_id: str
) -> None:
    data = {"csrf_token": csrf_token(client, "/p/becher"), "quantity": "1", "next": "/p/becher"}
    response = client.post("/cart/add", data={**data, "product_id": product_id})
    assert response.status_code == 303 and response.headers["Location"] == "/p/becher"
    assert "This product is no longer available." in client.get("/p/becher").text
    with app.app_context():
        assert db.session.scalars(select(CartLine)).all() == []


@pytest.mark.parametrize("quantity", [str(2**63), "9" * 40])
def test_a_huge_quantity_is_explained(client: FlaskClient, mug: int, quantity: str) -> None:
    token = csrf_token(client, "/p/becher")
    data = {"csrf_token": token, "product_id": str(mug), "quantity": quantity, "next": "/p/becher"}
    assert client.post("/cart/add", data=data).status_code == 303
    assert "At most 99 of one item per order, please." in client.get("/p/becher").text


@pytest.mark.parametrize("path", ["/products", "/c/kaffee"])
@pytest.mark.parametrize(
    "query", ["min_price=21474837", "max_price=99999999", "min_price=999999999.99"]
)
def test_a_price_filter_beyond_the_price_column_is_a_field_message(
    client: FlaskClient, mug: int, path: str, query: str
) -> None:
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200
    assert "Enter an amount of at most 21474836.47." in response.text
    assert "Becher" in response.text  # the filter is left out, the listing still shows


def test_a_price_filter_at_the_limit_still_filters(client: FlaskClient, mug: int) -> None:
    response = client.get("/products?min_price=21474836.47")
    assert response.status_code == 200 and "Becher" not in response.text


def test_staff_order_list_takes_any_page_number(app: Flask, mug: int) -> None:
    staff = staff_member(app)
    for page in ("99999999999999999999", "-5", "1e9", "\x00"):
        response = staff.get("/staff/orders", query_string={"page": page, "q": "K\x00"})
        assert response.status_code == 200


@pytest.fixture
def staff_with_order(app: Flask, client: FlaskClient, mug: int) -> tuple[FlaskClient, str]:
    """A staff member's browser, and the number of an order a guest placed."""
    _at_review(client, mug)
    place(client)
    with app.app_context():
        number = db.session.scalar(select(Order.number))
    assert number is not None
    return staff_member(app), number


def test_a_refund_beyond_the_amount_column_is_a_field_message(
    staff_with_order: tuple[FlaskClient, str],
) -> None:
    staff, number = staff_with_order
    token = csrf_token(staff, f"/staff/orders/{number}")
    response = staff.post(
        f"/staff/orders/{number}/refund",
        data={"csrf_token": token, "amount": "999999999", "reason": "Test"},
    )
    assert response.status_code == 422
    assert "Enter an amount of at most 21474836.47." in response.text


# Control characters ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/products", "/c/kaffee"])
def test_a_nul_in_the_search_is_read_as_a_space(client: FlaskClient, mug: int, path: str) -> None:
    response = client.get(path, query_string={"q": "Bech\x00er\x1b"})
    assert response.status_code == 200
    assert 'id="filter-q" type="search" name="q" value="Bech er"' in response.text


def test_a_nul_in_the_sign_in_email_is_a_field_message(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    token = csrf_token(client, "/signin")
    response = client.post(
        "/signin",
        data={"csrf_token": token, "email": "jana@example.org\x00", "password": PASSWORD},
    )
    assert response.status_code == 422
    assert ONE_LINE in response.text
    assert 'id="email-error"' in response.text


def test_a_nul_in_the_coupon_code_is_a_field_message(client: FlaskClient, mug: int) -> None:
    _at_review(client, mug)
    token = csrf_token(client, "/checkout/review")
    response = client.post("/checkout/coupon", data={"csrf_token": token, "code": "SOMMER\x00"})
    assert response.status_code == 422
    assert ONE_LINE in response.text


def test_a_nul_in_the_place_order_key_is_refused_and_the_order_still_possible(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    _at_review(client, mug)
    form = review_form(client)
    response = place(client, form, key="\x00" + form["key"])
    assert response.status_code == 303 and response.headers["Location"] == "/checkout/review"
    assert place(client).status_code == 303
    with app.app_context():
        assert len(db.session.scalars(select(Order)).all()) == 1


def test_a_nul_in_the_address_is_a_field_message_and_the_rest_is_kept(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    add_to_cart(client, mug)
    response = give_address(client, name="Erika\x00 Mustermann")
    assert response.status_code == 422
    assert ONE_LINE in response.text and 'id="shipping-name-error"' in response.text
    assert (
        'value="Heidestraße 17"' in response.text and 'value="erika@example.org"' in response.text
    )
    assert give_address(client).status_code == 303


def test_an_address_stored_with_a_nul_before_the_fix_does_not_stop_the_order(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    """Before the edge refused it, a NUL in the name reached the session; every order then
    failed while queueing the mails (PostgreSQL refuses NUL in text)."""
    with app.app_context():
        make_user("staff@example.org", role=Role.STAFF)
    _at_review(client, mug)
    with client.session_transaction() as session:
        session["checkout"]["shipping_address"]["name"] = "Erika\x00 Mustermann"
    response = place(client)
    assert response.status_code == 303 and response.headers["Location"].startswith("/orders/")
    with app.app_context():
        mails = outbox()
        assert {m.to_address for m in mails} == {"erika@example.org", "staff@example.org"}
        for mail in mails:
            assert "\x00" not in mail.subject + mail.text_body + (mail.html_body or "")
        assert any("Erika Mustermann" in m.text_body for m in mails)


def test_a_textarea_keeps_line_breaks_but_not_other_control_characters(
    staff_with_order: tuple[FlaskClient, str],
) -> None:
    staff, number = staff_with_order
    url = f"/staff/orders/{number}"
    refused = staff.post(
        f"{url}/note", data={"csrf_token": csrf_token(staff, url), "note": "Paket\x07 kam an"}
    )
    assert refused.status_code == 422
    assert "Please remove the control characters (such as NUL) from this text." in refused.text
    assert "Paket\x07 kam an" in refused.text  # what staff typed comes back
    saved = staff.post(
        f"{url}/note",
        data={"csrf_token": csrf_token(staff, url), "note": "Paket kam an.\r\n\tZweite Zeile"},
    )
    assert saved.status_code == 303


def test_a_line_break_in_a_one_line_field_is_a_field_message(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_user()
    sign_in(client, "jana@example.org", PASSWORD)
    token = csrf_token(client, "/account/profile")
    response = client.post(
        "/account/profile", data={"csrf_token": token, "name": "Jana\nX", "locale": "en"}
    )
    assert response.status_code == 422 and ONE_LINE in response.text


@pytest.mark.parametrize(
    "url", ["/p/becher%00", "/c/%00", "/orders/K%00", "/verify/%0A", "/media/a%00.webp"]
)
def test_control_characters_in_urls_are_not_found(client: FlaskClient, mug: int, url: str) -> None:
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("target", ["/a\nb", "/a\x00", "//[x", "/" + "a" * 5000])
def test_a_bad_redirect_target_falls_back_to_a_safe_page(client: FlaskClient, target: str) -> None:
    token = csrf_token(client)
    response = client.post("/preferences", data={"csrf_token": token, "next": target, "lang": "de"})
    assert response.status_code == 303 and response.headers["Location"] == "/"


# Length ---------------------------------------------------------------------------------


def test_very_long_text_gets_a_length_message(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client, "/register")
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "email": "a" * 100_000 + "@example.org",
            "name": "Jana",
            "password": "x" * 100_000,
        },
    )
    assert response.status_code == 422
    assert "Please use at most 254 characters." in response.text  # the email's limit
    assert "Please use at most 256 characters." in response.text  # the password policy's
