"""A shopper's way through the shop with the test client: the forms a browser would submit."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from kiosk.accounts.models import Role
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_user

ADDRESS = {
    "name": "Erika Mustermann",
    "company": "",
    "street": "Heidestraße 17",
    "extra": "",
    "postal_code": "51147",
    "city": "Köln",
    "country": "DE",
    "phone": "",
}


def add_to_cart(client: FlaskClient, product_id: int, quantity: int = 1) -> TestResponse:
    data = {"csrf_token": csrf_token(client, "/cart"), "product_id": str(product_id)}
    return client.post("/cart/add", data={**data, "quantity": str(quantity)})


def give_address(
    client: FlaskClient, email: str | None = "erika@example.org", **changes: str
) -> TestResponse:
    data: dict[str, Any] = {"csrf_token": csrf_token(client, "/checkout/address")}
    if email is not None:
        data["email"] = email
    data.update({f"shipping-{key}": value for key, value in {**ADDRESS, **changes}.items()})
    return client.post("/checkout/address", data=data)


def choose_shipping(client: FlaskClient, code: str = "dhl-de") -> TestResponse:
    token = csrf_token(client, "/checkout/shipping")
    return client.post("/checkout/shipping", data={"csrf_token": token, "shipping_method": code})


def choose_payment(client: FlaskClient, method: str = "bank_transfer") -> TestResponse:
    token = csrf_token(client, "/checkout/payment")
    return client.post("/checkout/payment", data={"csrf_token": token, "payment_method": method})


def review_form(client: FlaskClient) -> dict[str, str]:
    """The hidden fields of the review page's order form, as the browser would send them."""
    page = client.get("/checkout/review").get_data(as_text=True)
    form = page[page.index('action="/checkout/place"') :]
    fields = dict(re.findall(r'name="(csrf_token|key|expected_total)" value="([^"]*)"', form))
    assert set(fields) == {"csrf_token", "key", "expected_total"}, (
        "no order form on the review page"
    )
    return fields


def place(client: FlaskClient, form: dict[str, str] | None = None, **extra: str) -> TestResponse:
    return client.post("/checkout/place", data={**(form or review_form(client)), **extra})


def buy(client: FlaskClient, product_id: int, quantity: int = 1, **address: str) -> TestResponse:
    """A whole guest checkout; returns the response of the order button."""
    add_to_cart(client, product_id, quantity)
    give_address(client, **address)
    choose_shipping(client)
    choose_payment(client)
    return place(client)


def sign_in(client: FlaskClient, email: str, password: str) -> TestResponse:
    token = csrf_token(client, "/signin")
    return client.post("/signin", data={"csrf_token": token, "email": email, "password": password})


def staff_member(app: Flask, role: Role = Role.STAFF) -> FlaskClient:
    """A browser signed in as staff, or as the owner with `role=Role.OWNER`, as
    `<role>@example.org` (the two-factor rule switched off for the test)."""
    app.config["KIOSK_STAFF_REQUIRE_2FA"] = False
    email = f"{role.value}@example.org"
    with app.app_context():
        make_user(email, role=role)
    client = new_client(app)
    sign_in(client, email, PASSWORD)
    return client
