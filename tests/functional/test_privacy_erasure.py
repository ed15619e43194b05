"""Erasure (Art. 17 GDPR) from the account and as a guest, proven by a search of every text
column of every table; and the retention job that removes the rest when its time is over."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, render_template
from flask.testing import FlaskClient
from sqlalchemy import JSON, String, Text, select

from kiosk.accounts.models import Address, User
from kiosk.audit import services as audit
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from kiosk.inventory.models import StockAlert
from kiosk.invoicing.models import Invoice
from kiosk.mail import services as mail
from kiosk.mail.models import MailStatus, OutboxMessage
from kiosk.orders import lifecycle, settlement
from kiosk.orders.models import Order, OrderStatus
from kiosk.orm import Base, utcnow
from kiosk.privacy import retention
from kiosk.privacy.data_map import TABLES, Erasure
from kiosk.privacy.models import ErasureRequest, ErasureState
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.mailbox import link_in, outbox
from tests.shopping import buy, sign_in

CUSTOMER = {
    "email": "kaethe.kunde@example.org",
    "name": "Käthe Kundenfrau",
    "street": "Löschweg 99",
    "phone": "+49 151 2345678",
}
GUEST = {
    "email": "gustav.gast@example.org",
    "name": "Gustav Gastmann",
    "street": "Gastgasse 3",
    "phone": "+49 160 9876543",
}


def _customer(app: Flask) -> tuple[FlaskClient, int]:
    with app.app_context():
        user = make_user(
            CUSTOMER["email"],
            name=CUSTOMER["name"],
            phone=CUSTOMER["phone"],
            marketing_opt_in_at=utcnow(),
            marketing_consent_at=utcnow(),
        )
        user_id = user.id
        with unit_of_work() as session:
            session.add(
                Address(
                    user_id=user_id,
                    name=CUSTOMER["name"],
                    street=CUSTOMER["street"],
                    postal_code="50667",
                    city="Köln",
                    phone=CUSTOMER["phone"],
                )
            )
    client = new_client(app)
    sign_in(client, CUSTOMER["email"], PASSWORD)
    return client, user_id


def _order_of(app: Flask, email: str) -> Order:
    with app.app_context():
        query = select(Order).where(Order.email == email).order_by(Order.id.desc())
        order = db.session.scalars(query).first()
        assert order is not None
        return order


def _buy(app: Flask, client: FlaskClient, product: int, person: dict[str, str]) -> str:
    buy(
        client,
        product,
        email=person["email"],
        name=person["name"],
        street=person["street"],
        phone=person["phone"],
    )
    return _order_of(app, person["email"]).number


def _staff(app: Flask) -> int:
    with app.app_context():
        from kiosk.accounts.models import Role

        return make_user("staff@example.org", role=Role.STAFF).id


def _paid_and_shipped(app: Flask, number: str, staff_id: int) -> None:
    with app.test_request_context():
        settlement.mark_received(number, staff_id)
        lifecycle.transition(number, OrderStatus.SHIPPED, lifecycle.Actor.STAFF, user_id=staff_id)


def _cancelled(app: Flask, number: str, staff_id: int) -> None:
    with app.test_request_context():
        lifecycle.transition(number, OrderStatus.CANCELLED, lifecycle.Actor.STAFF, user_id=staff_id)


def _confirm_by_link(app: Flask, client: FlaskClient, to: str) -> Any:
    with app.app_context():
        message = [m for m in outbox(to) if m.template == "privacy_erasure_confirm"][-1]
        link = link_in(message, "/privacy/erase/confirm/")
    page = client.get(link)
    assert page.status_code == 200
    token = csrf_token(client, link)
    return client.post(link, data={"csrf_token": token})


def _ask_as_guest(client: FlaskClient, email: str) -> Any:
    token = csrf_token(client, "/privacy/erase")
    return client.post("/privacy/erase", data={"csrf_token": token, "email": email})


def _ask_from_account(client: FlaskClient) -> Any:
    return client.post(
        "/account/privacy/erase", data={"csrf_token": csrf_token(client, "/account")}
    )


def _text_hits(needles: list[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (table, column, row) whose text or JSON value holds one of the needles."""
    hits = []
    lowered = [needle.lower() for needle in needles]
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in db.session.execute(select(table)).mappings():
            for column in columns:
                value = row[column.name]
                if value is None:
                    continue
                text = (
                    json.dumps(value, ensure_ascii=False)
                    if isinstance(value, dict | list)
                    else str(value)
                )
                if any(needle in text.lower() for needle in lowered):
                    hits.append((table.name, column.name, dict(row)))
    return hits


def _retained_by_the_map(table: str, column: str, row: dict[str, Any]) -> bool:
    """The exceptions, read from the map: columns it retains, in rows it keeps."""
    declared = TABLES[table]
    personal = next((p for p in declared.personal if p.column == column), None)
    if personal is None or personal.erasure is not Erasure.RETAIN:
        return False
    rule = declared.retain_if
    return rule is None or row[rule.column] in rule.values


def test_after_erasure_no_personal_value_is_left_but_in_retained_documents(
    app: Flask,
) -> None:
    app.config["KIOSK_INVOICE_FOR"] = "all"
    staff_id = _staff(app)
    with app.app_context():
        mug = make_product(name="Becher", price_cents=1290, stock_on_hand=20).id
        sold_out = make_product(name="Kanne", price_cents=2990, stock_on_hand=0).id
    customer, user_id = _customer(app)
    shipped = _buy(app, customer, mug, CUSTOMER)
    _paid_and_shipped(app, shipped, staff_id)
    cancelled = _buy(app, customer, mug, CUSTOMER)
    _cancelled(app, cancelled, staff_id)
    guest = new_client(app)
    guest_order = _buy(app, guest, mug, GUEST)
    _cancelled(app, guest_order, staff_id)
    with app.app_context():
        with unit_of_work() as session:
            session.add(
                StockAlert(
                    product_id=sold_out, user_id=user_id, email=CUSTOMER["email"], locale="en"
                )
            )
        assert db.session.scalar(select(Invoice.id).join(Order).where(Order.number == shipped))
        with app.test_request_context():
            mail.deliver_due()
        needles = [value for person in (CUSTOMER, GUEST) for value in person.values()]
        before = {table for table, _, _ in _text_hits(needles)}
        assert before >= {"user_account", "address", "customer_order", "outbox_message"}
        assert "stock_alert" in before

    assert _ask_from_account(customer).status_code == 303
    done = _confirm_by_link(app, customer, CUSTOMER["email"])
    assert "Your data has been erased" in done.text
    assert customer.get("/account").status_code == 302  # signed out, for good
    assert _ask_as_guest(guest, GUEST["email"]).status_code == 303
    assert "Your data has been erased" in _confirm_by_link(app, guest, GUEST["email"]).text

    with app.app_context():
        hits = _text_hits(needles)
        unexpected = [(t, c, r.get("id")) for t, c, r in hits if not _retained_by_the_map(t, c, r)]
        assert not unexpected, unexpected
        kept = {(t, c) for t, c, _ in hits}
        assert ("outbox_message", "to_address") in kept  # business letters and the last mail
        tombstone = db.session.get(User, user_id)
        assert tombstone is not None and tombstone.email == f"erased-{user_id}@invalid"
        assert not tombstone.is_active and not tombstone.password_hash
        done_mails = [m for m in outbox() if m.template == "privacy_erasure_done"]
        assert sorted(m.to_address for m in done_mails) == sorted(
            [CUSTOMER["email"], GUEST["email"]]
        )
        states = db.session.scalars(select(ErasureRequest.state)).all()
        assert states == [ErasureState.DONE, ErasureState.DONE]
        events = db.session.scalars(
            select(AuditEvent.event).where(AuditEvent.event.like("privacy.%"))
        ).all()
        assert events.count("privacy.erasure_done") == 2
        for details in db.session.scalars(select(AuditEvent.details)):
            assert not any(
                n.lower() in json.dumps(details, ensure_ascii=False).lower() for n in needles
            )

        with app.test_request_context():
            mail.deliver_due()
            # The invoice of this year is kept to the end of the year + 8 years.
            last_day = datetime(utcnow().year + 8, 12, 31, 23, 0, tzinfo=UTC)
            retention.run(now=last_day)
        assert db.session.scalar(select(Invoice.pdf).join(Order).where(Order.number == shipped))
        with app.test_request_context():
            retention.run(now=last_day + timedelta(days=1))
        db.session.expire_all()
        assert not _text_hits(needles)
        pdfs = db.session.scalars(select(Invoice.pdf)).all()
        assert pdfs and all(pdf == b"" for pdf in pdfs)


def test_an_open_order_postpones_erasure_until_it_is_closed(app: Flask) -> None:
    staff_id = _staff(app)
    with app.app_context():
        mug = make_product(name="Becher", price_cents=1290, stock_on_hand=20).id
    customer, user_id = _customer(app)
    number = _buy(app, customer, mug, CUSTOMER)
    _ask_from_account(customer)
    answer = _confirm_by_link(app, customer, CUSTOMER["email"])
    assert "waiting for your open orders" in answer.text
    staff = new_client(app)
    app.config["KIOSK_STAFF_REQUIRE_2FA"] = False
    sign_in(staff, "staff@example.org", PASSWORD)
    page = staff.get("/staff/privacy?state=postponed")
    assert "postponed: an order is open" in page.text
    assert staff.get("/staff/").text.count("Privacy requests not yet done") == 1
    with app.test_request_context():
        assert retention.run()[0].count == 0  # still open: nothing happens
        with app.app_context():
            assert db.session.get(User, user_id).email == CUSTOMER["email"]  # type: ignore[union-attr]
    _cancelled(app, number, staff_id)
    with app.test_request_context():
        assert retention.run(dry_run=True)[0].count == 1
        assert retention.run()[0].count == 1
    with app.app_context():
        request = db.session.scalars(select(ErasureRequest)).one()
        assert request.state is ErasureState.DONE and request.postponed_at and request.done_at
        assert db.session.get(User, user_id).email == f"erased-{user_id}@invalid"  # type: ignore[union-attr]
        assert [m.template for m in outbox(CUSTOMER["email"])][-1] == "privacy_erasure_done"
        events = db.session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
        privacy = [e for e in events if e.startswith("privacy.erasure")]
        assert privacy == [
            "privacy.erasure_requested",
            "privacy.erasure_confirmed",
            "privacy.erasure_postponed",
            "privacy.erasure_done",
        ]


def test_a_guest_gets_the_same_answer_for_any_address_and_a_link_works_once(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_user("known@example.org")
    known = _ask_as_guest(client, "known@example.org")
    unknown = _ask_as_guest(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 303
    assert known.location == unknown.location
    assert client.get(unknown.location).text == client.get(known.location).text
    bad = _ask_as_guest(client, "not an address")
    assert bad.status_code == 422 and "not an address" in bad.text
    with app.app_context():
        used = link_in(outbox("nobody@example.org")[-1], "/privacy/erase/confirm/")
    _confirm_by_link(app, client, "nobody@example.org")
    assert client.get(used).status_code == 410  # used
    assert client.get("/privacy/erase/confirm/made-up").status_code == 410
    with app.app_context():
        with unit_of_work() as session:
            request = session.scalars(
                select(ErasureRequest).where(ErasureRequest.email == "known@example.org")
            ).one()
            request.token_expires_at = utcnow() - timedelta(seconds=1)
        message = outbox("known@example.org")[-1]
    link = link_in(message, "/privacy/erase/confirm/")
    assert client.get(link).status_code == 410
    assert client.post(link, data={"csrf_token": csrf_token(client)}).status_code == 410


def test_guest_requests_are_rate_limited(app: Flask, client: FlaskClient) -> None:
    app.config["KIOSK_RATE_LIMITS"] = {
        **app.config["KIOSK_RATE_LIMITS"],
        "erasure_request": "2 per minute",
    }
    assert [_ask_as_guest(client, f"a{i}@example.org").status_code for i in range(3)] == [
        303,
        303,
        429,
    ]


def test_the_retention_job_applies_each_rule_of_the_map_and_a_dry_run_changes_nothing(
    app: Flask, runner: Any
) -> None:
    now = utcnow() + timedelta(days=1)
    long_ago = now - timedelta(days=400)
    with app.app_context():
        old = make_user("old-unverified@example.org", verified=False).id
        fresh = make_user("fresh-unverified@example.org", verified=False).id
        with unit_of_work() as session:
            session.get(User, old).created_at = long_ago  # type: ignore[union-attr]
            month = now - timedelta(days=31)
            for template in ("reset_password", "order_received"):
                session.add(
                    OutboxMessage(message_id=f"<{template}@x>", to_address="a@example.org",
                                  subject="s", text_body="t", template=template,
                                  status=MailStatus.SENT, sent_at=month)
                )  # fmt: skip
            for address, when in (("203.0.113.77", month), ("2001:db8:1:2::7", month),
                                  ("198.51.100.9", now - timedelta(days=29))):  # fmt: skip
                # Chained at commit, so the back-dated time and the address are hashed.
                entry = audit.record(session, "signin.ok")
                entry.ip_address, entry.occurred_at = address, when
        with app.test_request_context():
            dry = {r.rule: r.count for r in retention.run(now=now, dry_run=True)}
        assert dry["unverified accounts"] == 1
        assert dry["sent mails"] == 1 and dry["audit IP addresses"] == 2
        db.session.expire_all()
        assert db.session.get(User, old).email == "old-unverified@example.org"  # type: ignore[union-attr]
        assert len(outbox()) == 2
        with app.test_request_context():
            done = {r.rule: r.count for r in retention.run(now=now)}
        assert done == dry
        db.session.expire_all()
        assert db.session.get(User, old).email == f"erased-{old}@invalid"  # type: ignore[union-attr]
        assert db.session.get(User, fresh).email == "fresh-unverified@example.org"  # type: ignore[union-attr]
        assert [m.template for m in outbox() if m.status == "sent"] == ["order_received"]
        ips = sorted(
            db.session.scalars(select(AuditEvent.ip_address).where(AuditEvent.ip_address != ""))
        )
        assert ips == ["198.51.100.9", "2001:db8:1::", "203.0.113.0"]
        with app.test_request_context():
            again = retention.run(now=now)
        assert all(r.count == 0 for r in again), again  # safe to run daily
    result = runner.invoke(args=["kiosk", "privacy-jobs", "--dry-run"])
    assert result.exit_code == 0 and "guest carts: would remove 0" in result.output


def test_the_account_privacy_page_section_posts_the_request_with_its_token(app: Flask) -> None:
    """`privacy/_erasure.html` is included by the account's privacy page (built apart)."""
    with app.test_request_context("/account/privacy", headers={"Accept-Language": "en"}):
        html = render_template("privacy/_erasure.html")
    assert 'action="/account/privacy/erase"' in html
    assert 'name="csrf_token" value="' in html
    assert "Send me the link to erase my data" in html


def test_staff_accounts_are_not_erased_from_the_account_page(app: Flask) -> None:
    app.config["KIOSK_STAFF_REQUIRE_2FA"] = False
    _staff(app)
    staff = new_client(app)
    sign_in(staff, "staff@example.org", PASSWORD)
    answer = _ask_from_account(staff)
    assert answer.status_code == 303 and answer.location == "/account"
    with app.app_context():
        assert not db.session.scalars(select(ErasureRequest)).all()
