"""Staff's customer pages: the list with search, one customer's file, notes, resending the
verification mail, and disabling sign-in (which ends every session at once)."""

from __future__ import annotations

import io
import json
import zipfile
from email.message import Message

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.accounts.addresses import AddressData, save_address
from kiosk.accounts.models import Role, User, UserSession
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from kiosk.inventory import alerts
from kiosk.mail.services import deliver_due
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.mailbox import CapturingSMTP, link_in, outbox
from tests.shopping import ADDRESS, buy, sign_in, staff_member


def _id(app: Flask, email: str) -> int:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        assert user_id is not None
        return user_id


def _audit(app: Flask, event: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.event == event))
        return list(events)


def _post(client: FlaskClient, url: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client, "/staff/customers"), **data})


def test_the_list_finds_customers_by_email_or_name_and_counts_their_orders(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context():
        make_user("jana@example.org", name="Jana Novak")
        make_user("otto@example.org", name="Otto Wels", verified=False)
    page = staff.get("/staff/customers?q=novak")
    assert page.status_code == 200
    assert "jana@example.org" in page.text and "otto@example.org" not in page.text
    assert staff.get("/staff/customers?q=OTTO@").text.count("otto@example.org") == 1
    assert "1 account" in staff.get("/staff/customers?q=wels").text


def test_the_search_answers_htmx_with_the_results_only(app: Flask) -> None:
    staff = staff_member(app)
    response = staff.get("/staff/customers?q=staff", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in response.text and "staff@example.org" in response.text


def test_hostile_search_and_page_values_still_show_the_list(app: Flask) -> None:
    staff = staff_member(app)
    for query in ("q=%25_%5C", "q=%00x", "page=-3", "page=99999999999", "page=x"):
        assert staff.get(f"/staff/customers?{query}").status_code == 200, query


def test_the_list_pages_fifty_at_a_time(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context(), unit_of_work() as session:  # no password: no Argon2 fifty times
        session.add_all(User(email=f"c{n}@example.org", password_hash="-") for n in range(50))
    first = staff.get("/staff/customers")
    assert "Page 1 of 2" in first.text and 'rel="next"' in first.text
    second = staff.get("/staff/customers?page=2")
    assert 'rel="prev"' in second.text


def test_the_customer_page_shows_orders_addresses_newsletter_alerts_and_sessions(
    app: Flask,
) -> None:
    staff = staff_member(app)
    with app.app_context():
        product_id = make_product().id
        sold_out_id = make_product(name="Sold out", sku="OUT-1", stock_on_hand=0).id
        jana = make_user("jana@example.org", name="Jana Novak").id
        save_address(
            jana,
            AddressData(**{**ADDRESS, "is_default_shipping": True, "is_default_billing": False}),
        )
    shopper = new_client(app)
    sign_in(shopper, "jana@example.org", PASSWORD)
    buy(shopper, product_id)
    with app.app_context():
        alerts.request_alert(sold_out_id, None, jana, "en")
    page = staff.get(f"/staff/customers/{jana}").text
    assert "Jana Novak" in page
    assert "/staff/orders/K" in page  # the order links to its staff page
    assert "Heidestraße 17" in page
    assert "Sold out (OUT-1)" in page and "waiting" in page
    assert "not subscribed" in page
    assert "Active sessions</dt><dd>1 · last seen" in page


def test_an_unknown_customer_is_404(app: Flask) -> None:
    assert staff_member(app).get("/staff/customers/999").status_code == 404


def test_notes_are_kept_with_author_newest_first_and_audited(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context():
        customer = make_user("jana@example.org").id
    url = f"/staff/customers/{customer}"
    assert _post(staff, f"{url}/notes", note="Called about the parcel").status_code == 303
    assert _post(staff, f"{url}/notes", note="Parcel found").status_code == 303
    page = staff.get(url).text
    assert page.index("Parcel found") < page.index("Called about the parcel")
    assert "staff@example.org: Parcel found" in page
    [first, _second] = _audit(app, "customer.note_added")
    assert first.subject_id == customer and first.actor_id == _id(app, "staff@example.org")


def test_an_empty_or_overlong_note_comes_back_at_its_field(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context():
        customer = make_user("jana@example.org").id
    empty = _post(staff, f"/staff/customers/{customer}/notes", note="  ")
    assert empty.status_code == 422 and "Please write the note." in empty.text
    long = _post(staff, f"/staff/customers/{customer}/notes", note="x" * 1001)
    assert long.status_code == 422 and "x" * 1001 in long.text
    assert _audit(app, "customer.note_added") == []


def _body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def test_staff_resend_the_verification_mail_which_confirms_the_address(
    smtp_app: Flask, smtp: CapturingSMTP
) -> None:
    app = smtp_app
    staff = staff_member(app)
    with app.app_context():
        customer = make_user("otto@example.org", verified=False, locale="de").id
    assert "Send the confirmation link again" in staff.get(f"/staff/customers/{customer}").text
    sent = _post(staff, f"/staff/customers/{customer}/resend-verification")
    assert sent.status_code == 303
    with app.app_context():
        assert deliver_due().sent == 1
        link = link_in(outbox("otto@example.org")[0], "/verify/")
    [received] = smtp.messages
    assert received["To"] == "otto@example.org" and link in _body(received)
    assert "Hallo" in _body(received)  # the customer's language
    assert new_client(app).get(link).status_code == 303
    with app.app_context():
        assert db.session.get(User, customer).is_verified  # type: ignore[union-attr]
    [event] = _audit(app, "customer.verification_resent")
    assert event.subject_id == customer
    again = _post(staff, f"/staff/customers/{customer}/resend-verification")
    assert again.status_code == 303 and len(_audit(app, "customer.verification_resent")) == 1


def test_disabling_ends_every_session_at_once_and_blocks_sign_in(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context():
        customer = make_user("jana@example.org").id
    laptop, phone = new_client(app), new_client(app)
    sign_in(laptop, "jana@example.org", PASSWORD)
    sign_in(phone, "jana@example.org", PASSWORD)
    assert laptop.get("/account").status_code == 200
    assert _post(staff, f"/staff/customers/{customer}/disable").status_code == 303
    assert laptop.get("/account").status_code == 302
    assert phone.get("/account").status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(UserSession).where(UserSession.user_id == customer))
        assert list(rows) == []
    refused = sign_in(new_client(app), "jana@example.org", PASSWORD)
    assert refused.status_code == 422
    assert "Sign-in to this account is disabled by the shop." in refused.text
    wrong = sign_in(new_client(app), "jana@example.org", "wrong password here")
    assert "disabled" not in wrong.text  # only someone who knows the password is told
    [event] = _audit(app, "customer.disabled")
    assert event.details == {"before": True, "after": False}


def test_a_password_reset_does_not_enable_a_disabled_account(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context():
        customer = make_user("jana@example.org").id
    _post(staff, f"/staff/customers/{customer}/disable")
    visitor = new_client(app)
    visitor.post(
        "/forgot-password",
        data={"csrf_token": csrf_token(visitor, "/forgot-password"), "email": "jana@example.org"},
    )
    with app.app_context():
        assert outbox("jana@example.org") == []
        assert not db.session.get(User, customer).is_active  # type: ignore[union-attr]


def test_enabling_lets_the_customer_sign_in_again(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context():
        customer = make_user("jana@example.org").id
    _post(staff, f"/staff/customers/{customer}/disable")
    assert "Enable sign-in" in staff.get(f"/staff/customers/{customer}").text
    assert _post(staff, f"/staff/customers/{customer}/enable").status_code == 303
    assert sign_in(new_client(app), "jana@example.org", PASSWORD).status_code == 303
    assert [e.details for e in _audit(app, "customer.enabled")] == [
        {"before": False, "after": True}
    ]


def test_staff_cannot_disable_an_owner_or_themselves(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context():
        owner = make_user("owner@example.org", role=Role.OWNER).id
    me = _id(app, "staff@example.org")
    assert "Disable sign-in" not in staff.get(f"/staff/customers/{owner}").text
    for user_id in (owner, me):
        response = _post(staff, f"/staff/customers/{user_id}/disable")
        assert response.status_code == 303
        assert "cannot be disabled" in staff.get(response.headers["Location"]).text
    with app.app_context():
        assert all(u.is_active for u in db.session.scalars(select(User)))
    assert _audit(app, "customer.disabled") == []


def test_actions_need_the_csrf_token(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context():
        customer = make_user("jana@example.org").id
    assert staff.post(f"/staff/customers/{customer}/disable").status_code == 400
    with app.app_context():
        assert db.session.get(User, customer).is_active  # type: ignore[union-attr]


def test_staff_start_a_customers_export_and_erasure_which_the_customer_completes(
    app: Flask,
) -> None:
    """A customer who asks by phone: staff start it, but the link goes to the customer's
    own address, the export covers the whole account, and only the customer confirms."""
    staff = staff_member(app)
    with app.app_context():
        customer = make_user("ruth@example.org", name="Ruth Weiss").id
        save_address(customer, AddressData(**ADDRESS, is_default_shipping=True,
                                           is_default_billing=True))  # fmt: skip
    page = staff.get(f"/staff/customers/{customer}").text
    assert "Mail the customer their data" in page and "No erasure requested." in page

    assert _post(staff, f"/staff/customers/{customer}/privacy-export").status_code == 303
    with app.app_context():
        [mail] = outbox("ruth@example.org")
        link = link_in(mail, "/privacy/export/")
    [event] = _audit(app, "privacy.export_requested")
    assert event.subject_id == customer and event.actor_id == _id(app, "staff@example.org")
    guest = new_client(app)
    zipped = guest.post(link, data={"csrf_token": csrf_token(guest, link)})
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as archive:
        data = json.loads(archive.read("data.json"))
    assert [a["street"] for a in data["address"]] == [ADDRESS["street"]]  # the account's rows

    assert _post(staff, f"/staff/customers/{customer}/erasure").status_code == 303
    with app.app_context():
        assert db.session.get(User, customer).email == "ruth@example.org"  # type: ignore[union-attr]
        assert link_in(outbox("ruth@example.org")[-1], "/privacy/erase/confirm/")
    [event] = _audit(app, "privacy.erasure_requested")
    assert event.subject_id == customer and event.details["by"] == "staff"
    assert "Erasure: waiting for confirmation" in staff.get(f"/staff/customers/{customer}").text
