""" "Tell me when it is back" on the product page: guests confirm by mail, accounts at once."""

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.extensions import db
from kiosk.inventory import services as inventory
from kiosk.inventory.models import StockAlert
from tests.conftest import csrf_token
from tests.factories import make_product, make_user
from tests.functional.test_accounts import sign_in
from tests.mailbox import link_in, outbox

PAGE = "/p/becher"
NOTIFY = "/p/becher/notify"
CONFIRM = "/back-in-stock/confirm/"


@pytest.fixture
def sold_out(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", slug="becher", stock_on_hand=0).id


def _ask(client: FlaskClient, email: str | None = "ana@example.org", **headers: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, PAGE)}
    if email is not None:
        data["email"] = email
    return client.post(NOTIFY, data=data, headers=headers)


def _alerts(app: Flask) -> list[tuple[str, bool]]:
    with app.app_context():
        rows = db.session.execute(select(StockAlert.email, StockAlert.confirmed_at)).all()
        return [(email, confirmed is not None) for email, confirmed in rows]


def test_the_form_shows_only_when_sold_out(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_product(slug="becher", stock_on_hand=0)
        make_product(slug="kanne", stock_on_hand=2)
    sold_out_page = client.get(PAGE).text
    assert 'id="stock-alert"' in sold_out_page and f'action="{NOTIFY}"' in sold_out_page
    assert 'type="email"' in sold_out_page and "Tell me when it is back" in sold_out_page
    assert 'id="stock-alert"' not in client.get("/p/kanne").text


def test_a_guest_confirms_by_mail(app: Flask, client: FlaskClient, sold_out: int) -> None:
    response = _ask(client)
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    assert "we have sent it a link to confirm" in client.get(PAGE).text
    assert _alerts(app) == [("ana@example.org", False)]
    with app.app_context():
        [mail] = outbox("ana@example.org")
        assert mail.template == "stock_alert_confirm" and "Becher" in mail.subject
        link = link_in(mail, CONFIRM)
    confirmed = client.get(link)
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == PAGE
    assert _alerts(app) == [("ana@example.org", True)]
    assert client.get(link).status_code == 400  # used


def test_an_unconfirmed_guest_gets_no_mail_on_restock(
    app: Flask, client: FlaskClient, sold_out: int
) -> None:
    _ask(client)
    with app.app_context():
        inventory.restock(sold_out, 1, "delivery")
        assert [m.template for m in outbox()] == ["stock_alert_confirm"]


def test_confirming_then_restocking_sends_one_mail(
    app: Flask, client: FlaskClient, sold_out: int
) -> None:
    _ask(client)
    with app.app_context():
        link = link_in(outbox()[-1], CONFIRM)
    client.get(link)
    assert "We will mail you once when Becher is back in stock." in client.get(PAGE).text
    with app.app_context():
        inventory.restock(sold_out, 2, "delivery")
        inventory.restock(sold_out, 2, "second delivery")
        assert [m.template for m in outbox("ana@example.org")] == [
            "stock_alert_confirm",
            "back_in_stock",
        ]


def test_asking_twice_gives_the_same_answer(app: Flask, client: FlaskClient, sold_out: int) -> None:
    first = _ask(client)
    first_page = client.get(PAGE).text
    second = _ask(client, "ANA@example.org")
    second_page = client.get(PAGE).text
    assert first.status_code == second.status_code == 303
    message = "If this address is not on the list yet, we have sent it a link to confirm."
    assert message in first_page and message in second_page
    assert _alerts(app) == [("ana@example.org", False)]


def test_a_verified_customer_is_on_the_list_at_once(
    app: Flask, client: FlaskClient, sold_out: int
) -> None:
    with app.app_context():
        make_user("jana@example.org")
    sign_in(client)
    page = client.get(PAGE).text
    assert 'name="email"' not in page
    assert "We mail you once at jana@example.org when it is back in stock." in page
    response = _ask(client, email="someone-else@example.org")  # the account's address counts
    assert response.status_code == 303
    assert "We will mail you once when Becher is back in stock." in client.get(PAGE).text
    assert _alerts(app) == [("jana@example.org", True)]
    with app.app_context():
        assert outbox() == []


def test_a_bad_address_is_explained_next_to_the_field_and_kept(
    app: Flask, client: FlaskClient, sold_out: int
) -> None:
    response = _ask(client, "not-an-address")
    assert response.status_code == 422
    assert 'value="not-an-address"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'aria-describedby="email-error"' in response.text and 'id="email-error"' in response.text
    assert _alerts(app) == []


def test_a_missing_address_is_refused(app: Flask, client: FlaskClient, sold_out: int) -> None:
    assert _ask(client, None).status_code == 422
    assert _alerts(app) == []


def test_htmx_gets_the_page_with_the_form_region_on_a_mistake(
    app: Flask, client: FlaskClient, sold_out: int
) -> None:
    response = _ask(client, "nope", **{"HX-Request": "true"})
    assert response.status_code == 422  # htmx-config swaps 422; hx-select takes the region
    assert 'id="stock-alert"' in response.text and 'id="flashes"' in response.text


def test_the_form_needs_its_csrf_token(app: Flask, client: FlaskClient, sold_out: int) -> None:
    response = client.post(NOTIFY, data={"email": "ana@example.org"})
    assert response.status_code == 400
    assert _alerts(app) == []


def test_a_broken_confirm_link_says_so(client: FlaskClient, sold_out: int) -> None:
    response = client.get(CONFIRM + "not-a-token")
    assert response.status_code == 400 and "This link is not valid." in response.text


def test_asking_is_rate_limited(app: Flask, client: FlaskClient, sold_out: int) -> None:
    app.config["KIOSK_RATE_LIMITS"]["stock_alert"] = "2 per minute"
    statuses = [_ask(client, f"n{n}@example.org").status_code for n in range(3)]
    assert statuses == [303, 303, 429]


def test_an_unknown_product_is_not_found(client: FlaskClient) -> None:
    response = client.post("/p/nothing/notify", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 404
