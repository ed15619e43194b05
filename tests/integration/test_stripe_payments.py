"""Card payments through Stripe Checkout, with the real SDK against a local fake Stripe.

Webhooks are delivered through the test client with real signatures, so each
test controls exactly which events arrive, how often and in which order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.test import TestResponse

from kiosk.accounts.models import Role
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.inventory import services as inventory
from kiosk.inventory.models import InventoryMovement, MovementKind
from kiosk.mail.models import OutboxMessage
from kiosk.orders.models import Order, OrderStatus
from kiosk.payments.models import PaymentEvent, PaymentStatus
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.fake_stripe import FakeStripe, fake_stripe_fixture  # noqa: F401
from tests.shopping import (
    add_to_cart,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    sign_in,
)

Json = dict[str, Any]


@pytest.fixture
def stripe_shop(app: Flask, fake_stripe: FakeStripe) -> FakeStripe:
    app.config.update(
        STRIPE_SECRET_KEY=fake_stripe.secret_key,
        STRIPE_WEBHOOK_SECRET=fake_stripe.webhook_secret,
        STRIPE_API_BASE=fake_stripe.url,
        STRIPE_CHECKOUT_ORIGIN=fake_stripe.url,
    )
    return fake_stripe


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", price_cents=1290, stock_on_hand=5).id


def _checkout_by_card(client: FlaskClient, product_id: int, quantity: int = 1) -> str:
    """Place an order paid by card; returns the Stripe Checkout session id."""
    add_to_cart(client, product_id, quantity)
    give_address(client)
    choose_shipping(client)
    choose_payment(client, "stripe")
    response = place(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/pay")
    to_stripe = client.get(response.headers["Location"])
    assert to_stripe.status_code == 303
    return str(to_stripe.headers["Location"]).rsplit("/", 1)[-1]


def _post_event(client: FlaskClient, fake: FakeStripe, event: Json, **signing: Any) -> TestResponse:
    payload = json.dumps(event)
    headers = {
        "Stripe-Signature": fake.sign(payload, **signing),
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/stripe", data=payload, headers=headers)


def _deliver(client: FlaskClient, fake: FakeStripe, event: Json, **signing: Any) -> int:
    return _post_event(client, fake, event, **signing).status_code


def _order(app: Flask) -> Order:
    with app.app_context():
        query = select(Order).options(
            selectinload(Order.payments), selectinload(Order.events), selectinload(Order.invoices)
        )
        return db.session.scalars(query).one()


def _stock(app: Flask, product_id: int) -> tuple[int, int]:
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product is not None
        return product.stock_on_hand, product.stock_reserved


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_card_payment_end_to_end(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug, 2)
    created = stripe_shop.sessions[session_id]
    assert created["amount_total"] == 2 * 1290 + 490 and created["currency"] == "eur"
    assert created["metadata"]["order_number"] == _order(app).number
    assert _stock(app, mug) == (5, 2)  # held for the order, not sold before the money comes
    returned = client.get(f"/orders/{_order(app).number}/payment")
    assert "We are confirming your payment" in returned.text
    assert '<meta http-equiv="refresh"' not in returned.text  # WCAG 2.2.1: no self-reload
    assert f'href="/orders/{_order(app).number}/payment">Check again' in returned.text
    assert 'data-hx-trigger="every 2s"' in returned.text
    event = stripe_shop.pay(session_id, deliver=False)
    assert _deliver(client, stripe_shop, event) == 200
    order = _order(app)
    assert order.status == OrderStatus.PAID and order.payments[0].status == PaymentStatus.PAID
    assert order.payments[0].intent_id
    assert _stock(app, mug) == (3, 0)
    done = client.get(f"/orders/{order.number}/payment")
    assert done.headers["Location"] == f"/orders/{order.number}?placed=1"
    polled = client.get(f"/orders/{order.number}/payment", headers={"HX-Request": "true"})
    assert polled.headers["HX-Redirect"] == f"/orders/{order.number}?placed=1"
    assert _count(app, OutboxMessage, OutboxMessage.template == "payment_received") == 1


def test_the_order_is_paid_even_if_the_shopper_never_comes_back(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    other_device = new_client(app)  # Stripe's webhook needs no session of the shopper
    assert _deliver(other_device, stripe_shop, stripe_shop.pay(session_id, deliver=False)) == 200
    assert _order(app).status == OrderStatus.PAID


def test_the_same_event_a_hundred_times_acts_once(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    event = stripe_shop.pay(session_id, deliver=False)
    statuses: list[int] = []

    def deliver_some(times: int) -> None:
        worker = new_client(app)
        statuses.extend(_deliver(worker, stripe_shop, event) for _ in range(times))

    threads = [threading.Thread(target=deliver_some, args=(10,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deliver_some(50)
    assert statuses == [200] * 100
    assert _count(app, PaymentEvent) == 1
    assert _count(app, OutboxMessage, OutboxMessage.template == "payment_received") == 1
    assert _count(app, InventoryMovement, InventoryMovement.kind == MovementKind.SALE) == 1
    order = _order(app)
    assert [e.kind for e in order.events] == ["status", "payment_received"]


def test_events_in_reverse_order_end_in_the_same_state(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    completed = stripe_shop.pay_async(session_id, deliver=False)  # bank debit: paid later
    succeeded = stripe_shop.async_succeed(session_id, deliver=False)
    assert _deliver(client, stripe_shop, succeeded) == 200
    assert _deliver(client, stripe_shop, completed) == 200
    assert _order(app).status == OrderStatus.PAID
    assert _stock(app, mug) == (4, 0)


def test_a_completed_but_unpaid_session_waits(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    _deliver(client, stripe_shop, stripe_shop.pay_async(session_id, deliver=False))
    assert _order(app).status == OrderStatus.AWAITING_PAYMENT
    _deliver(client, stripe_shop, stripe_shop.async_fail(session_id, deliver=False))
    order = _order(app)
    assert (
        order.status == OrderStatus.CANCELLED and order.payments[0].status == PaymentStatus.FAILED
    )
    assert _stock(app, mug) == (5, 0)


@pytest.mark.parametrize(
    "forgery",
    [
        {"secret": "whsec_wrong"},
        {"timestamp": int(time.time()) - 600},  # older than Stripe's 5-minute tolerance
    ],
)
def test_forged_or_old_events_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int, forgery: Json
) -> None:
    session_id = _checkout_by_card(client, mug)
    event = stripe_shop.pay(session_id, deliver=False)
    assert _deliver(client, stripe_shop, event, **forgery) == 400
    assert _order(app).status == OrderStatus.AWAITING_PAYMENT
    assert _count(app, PaymentEvent) == 0


def test_unsigned_and_tampered_events_are_refused(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    event = stripe_shop.pay(session_id, deliver=False)
    payload = json.dumps(event)
    unsigned = client.post("/webhooks/stripe", data=payload)
    header = stripe_shop.sign(payload)
    tampered = client.post(
        "/webhooks/stripe",
        data=payload.replace("checkout", "checkouT"),
        headers={"Stripe-Signature": header},
    )
    assert unsigned.status_code == tampered.status_code == 400
    assert _order(app).status == OrderStatus.AWAITING_PAYMENT


def test_an_amount_mismatch_is_flagged_not_paid(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    stripe_shop.set_amount_total(session_id, 100)
    _deliver(client, stripe_shop, stripe_shop.pay(session_id, deliver=False))
    order = _order(app)
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.needs_review
    assert order.payments[0].status == PaymentStatus.FLAGGED
    assert [e.kind for e in order.events] == ["payment_mismatch"]


def test_an_expired_session_releases_the_stock_and_cancels(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug, 3)
    assert _stock(app, mug) == (5, 3)
    _deliver(client, stripe_shop, stripe_shop.expire(session_id, deliver=False))
    order = _order(app)
    assert (
        order.status == OrderStatus.CANCELLED and order.payments[0].status == PaymentStatus.EXPIRED
    )
    assert _stock(app, mug) == (5, 0)
    page = client.get(f"/orders/{order.number}/payment").text
    assert "The payment did not go through" in page and "http-equiv" not in page


def test_reconcile_repairs_a_lost_webhook(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    stripe_shop.pay(session_id, deliver=False)  # the webhook never arrives
    result = app.test_cli_runner().invoke(args=["kiosk", "reconcile-payments"])
    assert result.exit_code == 0 and "1 paid" in result.output
    assert _order(app).status == OrderStatus.PAID
    again = app.test_cli_runner().invoke(args=["kiosk", "reconcile-payments"])
    assert "none open" in again.output


def test_staff_refund_part_then_all_through_stripe(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    _deliver(client, stripe_shop, stripe_shop.pay(session_id, deliver=False))
    app.config["KIOSK_STAFF_REQUIRE_2FA"] = False
    with app.app_context():
        make_user("staff@example.org", role=Role.STAFF)
    staff = new_client(app)
    sign_in(staff, "staff@example.org", PASSWORD)
    number = _order(app).number
    token = csrf_token(staff, f"/staff/orders/{number}")
    form = {"csrf_token": token, "amount": "5.00", "reason": "Henkel fehlt"}
    staff.post(f"/staff/orders/{number}/refund", data=form)
    order = _order(app)
    assert order.payments[0].refunded_cents == 500 and order.status == OrderStatus.PAID
    # Stripe's own report of the same refund changes nothing more.
    refund_event = stripe_shop.events[-1]
    assert refund_event["type"] == "charge.refunded"
    assert _deliver(client, stripe_shop, refund_event) == 200
    assert _order(app).payments[0].refunded_cents == 500
    staff.post(f"/staff/orders/{number}/refund", data={**form, "amount": "12.80"})
    order = _order(app)
    assert order.payments[0].refunded_cents == 1780 and order.status == OrderStatus.REFUNDED
    assert [e.kind for e in order.events].count("refund") == 2
    page = staff.get(f"/staff/orders/{number}").text
    assert "checkout.session.completed" in page and "charge.refunded" in page


def _cancel_as_buyer(client: FlaskClient, number: str) -> None:
    token = csrf_token(client, f"/orders/{number}")
    response = client.post(f"/orders/{number}/cancel", data={"csrf_token": token})
    assert response.status_code == 303


def test_cancelling_a_paid_card_order_refunds_it_through_stripe(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    """The buyer cancels before shipping: the stock comes back and the card is refunded."""
    session_id = _checkout_by_card(client, mug, 2)
    _deliver(client, stripe_shop, stripe_shop.pay(session_id, deliver=False))
    number = _order(app).number
    _cancel_as_buyer(client, number)
    order = _order(app)
    assert order.status == OrderStatus.REFUNDED
    assert order.payments[0].refunded_cents == order.payments[0].amount_cents == 3070
    charge = stripe_shop.charges[str(order.payments[0].intent_id)]
    assert charge["amount_refunded"] == 3070
    refund = next(event for event in order.events if event.kind == "refund")
    assert refund.actor_kind == "system" and refund.reason == "Order cancelled"
    assert _stock(app, mug) == (5, 0)
    assert [i.kind for i in order.invoices] == ["invoice", "credit_note"]
    # Stripe's report of that refund arrives later and changes nothing.
    assert _deliver(client, stripe_shop, stripe_shop.events[-1]) == 200
    assert _order(app).payments[0].refunded_cents == 3070
    assert [e.kind for e in _order(app).events].count("refund") == 1


def test_a_refund_stripe_could_not_take_is_retried_by_the_order_jobs(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    """Stripe is unreachable when staff cancel: the order is cancelled, the refund due,
    and `order-jobs` makes it once Stripe answers again (and only once)."""
    session_id = _checkout_by_card(client, mug)
    _deliver(client, stripe_shop, stripe_shop.pay(session_id, deliver=False))
    number = _order(app).number
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # the discard port: nobody answers
    _cancel_as_buyer(client, number)
    order = _order(app)
    assert order.status == OrderStatus.CANCELLED and order.payments[0].refunded_cents == 0
    assert "refund_due" in [event.kind for event in order.events]
    app.config["STRIPE_API_BASE"] = stripe_shop.url
    for _ in range(2):
        result = app.test_cli_runner().invoke(args=["kiosk", "order-jobs"])
        assert result.exit_code == 0
    assert "refunded 0 order(s)" in result.output  # the second run found nothing left to do
    order = _order(app)
    assert order.status == OrderStatus.REFUNDED and order.payments[0].refunded_cents == 1780


def test_money_that_arrives_after_the_cancellation_goes_back(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    """The buyer cancels while the Stripe page is still open, then pays on it anyway."""
    session_id = _checkout_by_card(client, mug)
    number = _order(app).number
    _cancel_as_buyer(client, number)
    assert _stock(app, mug) == (5, 0)
    assert _deliver(client, stripe_shop, stripe_shop.pay(session_id, deliver=False)) == 200
    order = _order(app)
    assert order.status == OrderStatus.REFUNDED
    assert order.payments[0].status == PaymentStatus.PAID
    assert order.payments[0].refunded_cents == 1780
    assert _stock(app, mug) == (5, 0)  # nothing was sold for a cancelled order


def test_a_webhook_that_records_the_refund_first_is_not_counted_twice(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int, monkeypatch: Any
) -> None:
    """Stripe's charge.refunded may arrive before its answer to the refund request."""
    from kiosk.payments.providers import registry

    session_id = _checkout_by_card(client, mug)
    _deliver(client, stripe_shop, stripe_shop.pay(session_id, deliver=False))
    stripe = registry(app)["stripe"]
    send_refund = stripe.send_refund

    def webhook_first(*args: Any) -> None:
        send_refund(*args)
        assert _deliver(new_client(app), stripe_shop, stripe_shop.events[-1]) == 200

    monkeypatch.setattr(stripe, "send_refund", webhook_first)
    _cancel_as_buyer(client, _order(app).number)
    order = _order(app)
    assert order.status == OrderStatus.REFUNDED and order.payments[0].refunded_cents == 1780
    assert [e.kind for e in order.events].count("refund") == 1
    assert [i.kind for i in order.invoices].count("credit_note") == 1


def test_a_refund_made_in_the_stripe_dashboard_is_recorded(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    _deliver(client, stripe_shop, stripe_shop.pay(session_id, deliver=False))
    intent = _order(app).payments[0].intent_id
    assert intent
    event = stripe_shop.refund_externally(intent, 1780, deliver=False)
    assert _deliver(client, stripe_shop, event) == 200
    assert _order(app).status == OrderStatus.REFUNDED


def test_card_payment_is_offered_only_with_both_keys(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    add_to_cart(client, mug)
    give_address(client)
    choose_shipping(client)
    assert "Stripe" not in client.get("/checkout/payment").text
    app.config.update(STRIPE_SECRET_KEY="sk_test_x")
    assert "Stripe" not in client.get("/checkout/payment").text
    app.config.update(STRIPE_WEBHOOK_SECRET="whsec_x")
    assert "Card or wallet (Stripe)" in client.get("/checkout/payment").text
    assert client.post("/webhooks/stripe", data="{}").status_code == 400


def test_holds_of_an_unpaid_card_order_outlast_the_checkout(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    from datetime import timedelta

    from kiosk.orm import utcnow

    _checkout_by_card(client, mug)
    with app.app_context():
        assert inventory.release_expired(utcnow() + timedelta(minutes=30)) == 0
        assert inventory.release_expired(utcnow() + timedelta(minutes=66)) == 1


def test_an_event_for_a_session_stripe_does_not_know_is_acknowledged_and_ignored(
    app: Flask,
    client: FlaskClient,
    stripe_shop: FakeStripe,
    mug: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stripe would send it for three days if the answer were not 2xx; it can never apply."""
    _checkout_by_card(client, mug)
    event = stripe_shop.event("checkout.session.completed", {"id": "cs_test_nobody"})
    with caplog.at_level(logging.INFO, logger="kiosk"):
        response = _post_event(client, stripe_shop, event)
    assert response.status_code == 200 and response.is_json
    assert response.json is not None and response.json["outcome"].startswith("ignored")
    (line,) = [r for r in caplog.records if event["id"] in r.getMessage()]
    assert line.levelname == "INFO" and "ignored" in line.getMessage()
    assert _order(app).status == OrderStatus.AWAITING_PAYMENT
    assert _count(app, PaymentEvent) == 1  # a repeat is recognised without asking Stripe


@pytest.mark.parametrize("outage", ["unreachable", 500, 429])
def test_while_stripe_cannot_answer_the_event_is_refused_for_a_retry(
    app: Flask,
    client: FlaskClient,
    stripe_shop: FakeStripe,
    mug: int,
    caplog: pytest.LogCaptureFixture,
    outage: str | int,
) -> None:
    """503 in JSON, nothing stored: Stripe's next delivery of the same event applies it."""
    session_id = _checkout_by_card(client, mug)
    event = stripe_shop.pay(session_id, deliver=False)
    with contextlib.ExitStack() as during:
        if outage == "unreachable":
            app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # the discard port: refused
        else:
            during.enter_context(stripe_shop.failing(int(outage)))
        with caplog.at_level(logging.INFO, logger="kiosk"):
            refused = _post_event(client, stripe_shop, event)
    assert refused.status_code == 503 and refused.is_json and "Retry-After" in refused.headers
    (line,) = [r for r in caplog.records if r.name.startswith("kiosk")]
    assert line.levelname == "WARNING" and "Stripe will send it again" in line.getMessage()
    assert _count(app, PaymentEvent) == 0
    assert _order(app).status == OrderStatus.AWAITING_PAYMENT
    app.config["STRIPE_API_BASE"] = stripe_shop.url
    assert _post_event(client, stripe_shop, event).status_code == 200  # Stripe's retry
    assert _order(app).status == OrderStatus.PAID


def test_a_duplicate_event_is_recognised_before_any_call_to_stripe(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    session_id = _checkout_by_card(client, mug)
    event = stripe_shop.pay(session_id, deliver=False)
    assert _post_event(client, stripe_shop, event).status_code == 200
    stripe_shop.api_requests.clear()
    again = _post_event(client, stripe_shop, event)
    assert again.status_code == 200 and again.json == {"received": True, "outcome": "duplicate"}
    assert stripe_shop.api_requests == []


def test_errors_of_the_webhook_are_json_whatever_the_client_accepts(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post("/webhooks/stripe", data="{}", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.is_json  # Stripe is not configured


def test_reconcile_survives_a_session_it_cannot_read(
    app: Flask, client: FlaskClient, stripe_shop: FakeStripe, mug: int
) -> None:
    lost = _checkout_by_card(client, mug)
    paid = _checkout_by_card(new_client(app), mug)
    del stripe_shop.sessions[lost]  # Stripe has no such session (another account, a purge)
    stripe_shop.pay(paid, deliver=False)
    result = app.test_cli_runner().invoke(args=["kiosk", "reconcile-payments"])
    assert result.exit_code == 0, result.output
    assert "1 paid" in result.output and "1 unknown to Stripe" in result.output


def test_a_refund_that_fails_after_the_event_is_stored_does_not_ask_for_a_retry(
    app: Flask,
    client: FlaskClient,
    stripe_shop: FakeStripe,
    mug: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Paid after the cancellation, but Stripe refuses the refund: the payment is recorded
    (a retry would be a duplicate), and `order-jobs` tries the refund again later."""
    session_id = _checkout_by_card(client, mug)
    _cancel_as_buyer(client, _order(app).number)
    event = stripe_shop.pay(session_id, deliver=False)
    intent = stripe_shop.sessions[session_id]["payment_intent"]
    stripe_shop.refund_externally(intent, 1780, deliver=False)  # Stripe has nothing left
    with caplog.at_level(logging.WARNING, logger="kiosk"):
        assert _deliver(client, stripe_shop, event) == 200
    assert "order-jobs will retry" in caplog.text and "unhandled" not in caplog.text
    order = _order(app)
    assert order.payments[0].status == PaymentStatus.PAID and _count(app, PaymentEvent) == 1
