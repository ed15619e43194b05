"""The fake Stripe answers the real `stripe` SDK as Stripe would.

No database here: the shop's payment tests trust these answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from flask import Flask, request

from tests.fake_stripe import FakeStripe, LocalServer, fake_stripe_fixture, parse_form  # noqa: F401

ORDER = {
    "mode": "payment",
    "success_url": "http://shop.test/checkout/done?session={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://shop.test/checkout/payment",
    "customer_email": "gast@example.org",
    "locale": "de",
    "line_items": [
        {
            "quantity": 2,
            "price_data": {
                "currency": "eur",
                "unit_amount": 1250,
                "product_data": {"name": "Tasse"},
            },
        },
        {
            "quantity": 1,
            "price_data": {"currency": "eur", "unit_amount": 390, "product_data": {"name": "Tee"}},
        },
    ],
    "metadata": {"order_id": "42"},
}


def client_for(fake: FakeStripe, api_key: str | None = None) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key or fake.secret_key, base_addresses={"api": fake.url}, max_network_retries=0
    )


@pytest.fixture
def sdk(fake_stripe: FakeStripe) -> stripe.StripeClient:
    return client_for(fake_stripe)


@pytest.fixture
def webhooks(fake_stripe: FakeStripe) -> Iterator[list[stripe.Event]]:
    """A webhook endpoint that checks signatures as the shop's must; collects the events."""
    received: list[stripe.Event] = []
    app = Flask(__name__)

    @app.post("/stripe/webhook")
    def webhook() -> tuple[str, int]:
        signature = request.headers.get("Stripe-Signature")
        try:
            event = stripe.Webhook.construct_event(request.get_data(), signature, "whsec_test")
        except stripe.SignatureVerificationError:
            return "bad signature", 400
        received.append(event)
        return "", 200

    server = LocalServer(app)
    server.start()
    fake_stripe.webhook_url = f"{server.url}/stripe/webhook"
    yield received
    server.stop()


def create(client: stripe.StripeClient, key: str = "order-42", **changes: Any) -> Any:
    return client.v1.checkout.sessions.create(
        params={**ORDER, **changes}, options={"idempotency_key": key}
    )


def test_parse_form_nests_keys_into_dicts_and_lists() -> None:
    pairs = [("line_items[1][quantity]", "1"), ("line_items[0][price_data][unit_amount]", "1250")]
    assert parse_form([*pairs, ("mode", "payment")]) == {
        "line_items": [{"price_data": {"unit_amount": "1250"}}, {"quantity": "1"}],
        "mode": "payment",
    }


def test_create_answers_an_open_checkout_session(sdk: stripe.StripeClient) -> None:
    session = create(sdk)

    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status, session.payment_intent) == (
        "open",
        "unpaid",
        None,
    )
    assert session.amount_total == 2 * 1250 + 390
    assert session.currency == "eur"
    assert session.metadata["order_id"] == "42"
    assert session.customer_email == "gast@example.org"
    assert session.url.endswith(f"/pay/{session.id}")
    assert session.expires_at > time.time() + 23 * 3600


def test_shipping_option_counts_into_the_total(sdk: stripe.StripeClient) -> None:
    rate = {
        "type": "fixed_amount",
        "display_name": "DHL",
        "fixed_amount": {"amount": 490, "currency": "eur"},
    }
    session = create(sdk, shipping_options=[{"shipping_rate_data": rate}])

    assert (session.amount_subtotal, session.amount_total) == (2890, 2890 + 490)


def test_same_idempotency_key_returns_the_same_session(
    sdk: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    first = create(sdk, key="order-42")
    again = create(sdk, key="order-42")

    assert again.id == first.id
    assert len(fake_stripe.sessions) == 1
    assert create(sdk, key="order-43").id != first.id


def test_idempotency_key_reused_with_other_params_is_refused(sdk: stripe.StripeClient) -> None:
    create(sdk, key="order-42")

    with pytest.raises(stripe.IdempotencyError):
        create(sdk, key="order-42", metadata={"order_id": "43"})


def test_retrieve_answers_the_current_state(
    sdk: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    session = create(sdk)
    fake_stripe.pay(session.id)

    paid = sdk.v1.checkout.sessions.retrieve(session.id)

    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.payment_intent.startswith("pi_test_")


def test_unknown_session_raises_invalid_request(sdk: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sdk.v1.checkout.sessions.retrieve("cs_test_nope")

    assert raised.value.http_status == 404


def test_wrong_api_key_raises_authentication_error(fake_stripe: FakeStripe) -> None:
    with pytest.raises(stripe.AuthenticationError):
        create(client_for(fake_stripe, api_key="sk_test_wrong"))


@pytest.mark.parametrize("seconds_ahead", [60, 29 * 60, 24 * 3600 + 60, -60])
def test_expires_at_outside_30_minutes_to_24_hours_is_refused(
    sdk: stripe.StripeClient, seconds_ahead: int
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create(sdk, expires_at=int(time.time()) + seconds_ahead)

    assert raised.value.param == "expires_at"


def test_expires_at_within_range_is_kept(sdk: stripe.StripeClient) -> None:
    expires_at = int(time.time()) + 31 * 60

    assert create(sdk, expires_at=expires_at).expires_at == expires_at


def test_signed_event_verifies_with_the_sdk(fake_stripe: FakeStripe) -> None:
    payload = json.dumps(fake_stripe.event("checkout.session.completed", {"id": "cs_test_1"}))

    event = stripe.Webhook.construct_event(payload, fake_stripe.sign(payload), "whsec_test")

    assert event.type == "checkout.session.completed"
    assert event.data.object["id"] == "cs_test_1"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda fake, payload: (payload.replace("cs_test_1", "cs_test_2"), fake.sign(payload)),
        lambda fake, payload: (payload, fake.sign(payload, secret="whsec_other")),
        lambda fake, payload: (payload, fake.sign(payload, timestamp=int(time.time()) - 301)),
    ],
    ids=["tampered payload", "other secret", "older than 300 s"],
)
def test_bad_signature_is_refused_by_the_sdk(fake_stripe: FakeStripe, tamper: Any) -> None:
    payload = json.dumps(fake_stripe.event("checkout.session.completed", {"id": "cs_test_1"}))

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(*tamper(fake_stripe, payload), "whsec_test")


def test_hosted_page_pays_delivers_the_event_and_returns_to_the_shop(
    sdk: stripe.StripeClient, webhooks: list[stripe.Event]
) -> None:
    session = create(sdk)

    page = requests.get(session.url, timeout=5)
    paid = requests.post(session.url, timeout=5, allow_redirects=False)

    assert '<button type="submit">Pay</button>' in page.text
    assert 'href="http://shop.test/checkout/payment"' in page.text
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"http://shop.test/checkout/done?session={session.id}"
    assert [(e.type, e.data.object["payment_status"]) for e in webhooks] == [
        ("checkout.session.completed", "paid")
    ]
    assert "not open" in requests.get(session.url, timeout=5).text


def test_events_can_be_delivered_again_and_refused_when_badly_signed(
    sdk: stripe.StripeClient, fake_stripe: FakeStripe, webhooks: list[stripe.Event]
) -> None:
    event = fake_stripe.pay(create(sdk).id)

    assert fake_stripe.deliver(event) == 200
    assert fake_stripe.deliver(event, secret="whsec_other") == 400
    assert fake_stripe.deliver(event, timestamp=int(time.time()) - 301) == 400
    assert [e.id for e in webhooks] == [event["id"], event["id"]]
    assert fake_stripe.events == [event]


def test_async_payment_completes_unpaid_then_succeeds_or_fails(
    sdk: stripe.StripeClient, fake_stripe: FakeStripe, webhooks: list[stripe.Event]
) -> None:
    later, never = create(sdk, key="a").id, create(sdk, key="b").id
    fake_stripe.pay_async(later)
    fake_stripe.pay_async(never)
    fake_stripe.async_succeed(later)
    fake_stripe.async_fail(never)

    assert [(e.type, e.data.object["payment_status"]) for e in webhooks] == [
        ("checkout.session.completed", "unpaid"),
        ("checkout.session.completed", "unpaid"),
        ("checkout.session.async_payment_succeeded", "paid"),
        ("checkout.session.async_payment_failed", "unpaid"),
    ]


def test_expired_session_cannot_be_paid(sdk: stripe.StripeClient, fake_stripe: FakeStripe) -> None:
    session = create(sdk)
    event = fake_stripe.expire(session.id)

    assert event["type"] == "checkout.session.expired"
    assert sdk.v1.checkout.sessions.retrieve(session.id).status == "expired"
    with pytest.raises(ValueError, match="expired"):
        fake_stripe.pay(session.id)
    assert requests.post(session.url, timeout=5, allow_redirects=False).status_code == 409


def test_set_amount_total_changes_what_retrieve_answers(
    sdk: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    session = create(sdk)
    fake_stripe.set_amount_total(session.id, 1)

    assert sdk.v1.checkout.sessions.retrieve(session.id).amount_total == 1


@pytest.fixture
def intent(sdk: stripe.StripeClient, fake_stripe: FakeStripe) -> str:
    """The PaymentIntent of a paid session of 28.90 EUR."""
    session_id = create(sdk).id
    fake_stripe.pay(session_id)
    return str(fake_stripe.sessions[session_id]["payment_intent"])


def refund(client: stripe.StripeClient, key: str, **params: Any) -> Any:
    return client.v1.refunds.create(params=params, options={"idempotency_key": key})


def test_refunds_up_to_the_total_and_no_further(
    sdk: stripe.StripeClient, fake_stripe: FakeStripe, intent: str
) -> None:
    part = refund(sdk, "refund-1", payment_intent=intent, amount=500)
    rest = refund(sdk, "refund-2", payment_intent=intent)

    assert (part.object, part.status, part.amount, part.payment_intent) == (
        "refund",
        "succeeded",
        500,
        intent,
    )
    assert part.id.startswith("re_test_")
    assert rest.amount == 2890 - 500
    assert fake_stripe.charges[intent]["amount_refunded"] == 2890
    with pytest.raises(stripe.InvalidRequestError):
        refund(sdk, "refund-3", payment_intent=intent, amount=1)


def test_refund_over_what_is_left_is_refused(
    sdk: stripe.StripeClient, fake_stripe: FakeStripe, intent: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        refund(sdk, "refund-1", payment_intent=intent, amount=2891)

    assert raised.value.code == "amount_too_large"
    assert fake_stripe.charges[intent]["amount_refunded"] == 0


def test_same_refund_key_refunds_once(
    sdk: stripe.StripeClient, fake_stripe: FakeStripe, intent: str
) -> None:
    first = refund(sdk, "refund-1", payment_intent=intent, amount=500)
    again = refund(sdk, "refund-1", payment_intent=intent, amount=500)

    assert again.id == first.id
    assert fake_stripe.charges[intent]["amount_refunded"] == 500


def test_refund_of_unknown_payment_intent_is_refused(sdk: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        refund(sdk, "refund-1", payment_intent="pi_test_nope", amount=100)


def test_external_refund_sends_charge_refunded_and_lowers_what_is_left(
    sdk: stripe.StripeClient, fake_stripe: FakeStripe, webhooks: list[stripe.Event], intent: str
) -> None:
    fake_stripe.refund_externally(intent, 2000)

    charge = webhooks[-1].data.object
    assert (webhooks[-1].type, charge["payment_intent"]) == ("charge.refunded", intent)
    assert (charge["amount"], charge["amount_refunded"]) == (2890, 2000)
    assert refund(sdk, "refund-1", payment_intent=intent).amount == 890
