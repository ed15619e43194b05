"""Export of a person's data (Art. 15, 20 GDPR): from the account, or by a guest's emailed link."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from kiosk.accounts.models import User
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from kiosk.orders.models import Order
from kiosk.orm import utcnow
from kiosk.privacy.data_map import about_persons
from kiosk.privacy.models import ExportLink
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.mailbox import link_in, outbox
from tests.shopping import (
    ADDRESS,
    add_to_cart,
    buy,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    sign_in,
    staff_member,
)

ACCOUNT_PAGE = "/account/privacy"
GUEST_PAGE = "/privacy/export"
SAME_ANSWER = "If we hold data under this address, we have sent it a link to download it."
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _zip(response) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    assert "no-store" in response.headers["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _account_export(client: FlaskClient):  # type: ignore[no-untyped-def]
    return client.post(
        f"{ACCOUNT_PAGE}/export", data={"csrf_token": csrf_token(client, ACCOUNT_PAGE)}
    )


def _mark_paid(app: Flask, number: str) -> None:
    staff = staff_member(app)
    token = csrf_token(staff, f"/staff/orders/{number}")
    staff.post(f"/staff/orders/{number}/mark-paid", data={"csrf_token": token})


def _orders(app: Flask) -> dict[str, str]:
    with app.app_context():
        return {
            number: email for number, email in db.session.execute(select(Order.number, Order.email))
        }


def _events(app: Flask, prefix: str = "privacy.") -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.event.startswith(prefix))
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def _ask(client: FlaskClient, email: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, GUEST_PAGE), "email": email}
    return client.post(GUEST_PAGE, data=data, follow_redirects=True)


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", slug="becher", price_cents=1290).id


def test_a_customer_downloads_everything_of_theirs_and_no_secret_nor_stranger(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    buy(client, mug, email="jana@example.org")  # a guest order, before the account existed
    stranger = new_client(app)
    buy(stranger, mug, email="ute@example.org")
    with app.app_context():
        make_product(name="Kanne", slug="kanne", stock_on_hand=0)
        make_user("jana@example.org", name="Jana Berg", locale="de")
        db.session.execute(update(User).values(totp_secret=TOTP_SECRET))
        db.session.commit()
        password_hash = db.session.scalar(select(User.password_hash))
    client = new_client(app)
    sign_in(client, "jana@example.org", PASSWORD)
    token = csrf_token(client, "/account/addresses/new")
    address = {**ADDRESS, "name": "Jana Berg", "street": "Lindenweg 3"}
    client.post("/account/addresses/new", data={"csrf_token": token, **address})
    add_to_cart(client, mug)
    give_address(client, email=None, name="Jana Berg", street="Lindenweg 3")
    choose_shipping(client)
    choose_payment(client)
    place(client)
    client.post("/p/kanne/notify", data={"csrf_token": csrf_token(client, "/p/kanne")})
    numbers = {email: number for number, email in _orders(app).items()}
    assert set(numbers) == {"jana@example.org", "ute@example.org"} and len(_orders(app)) == 3
    account_order = next(n for n, e in _orders(app).items() if e == "jana@example.org")
    _mark_paid(app, account_order)

    files = _zip(_account_export(client))

    data = json.loads(files["data.json"])
    assert data["format"] == "kiosk-export/1" and data["generated_at"].endswith("Z")
    assert set(data) == {"format", "generated_at", "language", "withheld"} | {
        table.name for table in about_persons()
    }
    assert {"user_account.password_hash", "user_account.totp_secret"} <= set(data["withheld"])
    (account,) = data["user_account"]
    assert account["email"] == "jana@example.org" and "password_hash" not in account
    jana_orders = {o["number"] for o in data["customer_order"]}
    assert len(jana_orders) == 2 and numbers["ute@example.org"] not in jana_orders
    assert {line["name"] for line in data["order_line"]} == {"Becher"}
    assert [a["street"] for a in data["address"]] == ["Lindenweg 3"]
    assert [alert["email"] for alert in data["stock_alert"]] == ["jana@example.org"]
    (invoice,) = data["invoice"]
    assert invoice["pdf"] == f"invoices/{invoice['number']}.pdf"
    assert files[invoice["pdf"]].startswith(b"%PDF")
    summary = files["summary.html"].decode()
    assert "Ihre Daten bei" in summary and "Jana Berg" in summary  # the account is in German
    assert not re.search(r"<(img|link|script|iframe)\b", summary)  # nothing loaded from outside
    everything = b"\n".join(files.values())
    for secret in (password_hash, TOTP_SECRET, "ute@example.org", numbers["ute@example.org"]):
        assert str(secret).encode() not in everything, secret
    (event,) = _events(app)
    assert event.event == "privacy.exported" and event.subject_id == account["id"]
    assert "jana" not in json.dumps(event.details)


def test_the_account_page_offers_the_download_only_by_post_with_its_token(
    app: Flask, client: FlaskClient
) -> None:
    assert client.get(ACCOUNT_PAGE).status_code == 302  # to the sign-in
    with app.app_context():
        make_user()
    sign_in(client, "jana@example.org", PASSWORD)
    page = client.get(ACCOUNT_PAGE).text
    assert 'action="/account/privacy/export"' in page and 'href="/account/privacy"' in page
    assert client.get(f"{ACCOUNT_PAGE}/export").status_code == 405
    assert client.post(f"{ACCOUNT_PAGE}/export").status_code == 400
    assert _events(app) == []


def test_a_guest_gets_a_single_use_link_by_mail(app: Flask, client: FlaskClient, mug: int) -> None:
    buy(client, mug, email="erika@example.org")
    buy(new_client(app), mug, email="ute@example.org")
    assert SAME_ANSWER in _ask(client, "Erika@Example.org").text
    with app.app_context():
        (mail,) = outbox("erika@example.org")[-1:]
        assert mail.template == "privacy_export_link"
        link = link_in(mail, "/privacy/export/")
    page = client.get(link)
    assert page.status_code == 200 and f'action="{link}"' in page.text

    files = _zip(client.post(link, data={"csrf_token": csrf_token(client, link)}))

    data = json.loads(files["data.json"])
    assert [o["email"] for o in data["customer_order"]] == ["erika@example.org"]
    assert data["user_account"] == [] and b"ute@example.org" not in b"".join(files.values())
    again = client.post(link, data={"csrf_token": csrf_token(client, GUEST_PAGE)})
    assert again.status_code == 400 and "already been used" in again.text
    assert client.get(link).status_code == 400
    events = _events(app)
    assert [e.event for e in events] == ["privacy.export_requested", "privacy.exported"]
    assert all("erika" not in json.dumps(e.details) for e in events)


def test_an_expired_or_forged_link_downloads_nothing(app: Flask, client: FlaskClient) -> None:
    with app.app_context():  # anything under the address will do: a back-in-stock request
        make_product(name="Kanne", slug="kanne", stock_on_hand=0)
    data = {"csrf_token": csrf_token(client, "/p/kanne"), "email": "erika@example.org"}
    client.post("/p/kanne/notify", data=data)
    _ask(client, "erika@example.org")
    with app.app_context():
        link = link_in(outbox("erika@example.org")[-1], "/privacy/export/")
        db.session.execute(update(ExportLink).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    expired = client.post(link, data={"csrf_token": csrf_token(client, GUEST_PAGE)})
    assert expired.status_code == 400 and "expired" in expired.text
    forged = client.get(link[:-3] + "abc")
    assert forged.status_code == 400 and "not valid" in forged.text
    assert [e.event for e in _events(app)] == ["privacy.export_requested"]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    app: Flask, client: FlaskClient
) -> None:
    page = _ask(client, "nobody@example.org")
    assert page.status_code == 200 and SAME_ANSWER in page.text
    with app.app_context():
        assert outbox() == []
        assert db.session.scalars(select(ExportLink)).all() == []


def test_asking_for_links_is_rate_limited(app: Flask, client: FlaskClient) -> None:
    app.config["KIOSK_RATE_LIMITS"]["privacy_export_request_account"] = "1 per hour"
    assert _ask(client, "erika@example.org").status_code == 200
    assert _ask(client, "erika@example.org").status_code == 429
