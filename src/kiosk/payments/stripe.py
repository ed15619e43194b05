"""Card payments at Stripe Checkout: the shop never sees card data (PCI SAQ A).

This module is all the shop knows of Stripe's API: the client, the card payment
method (how long an order keeps its stock while the page is payable, refunds), and
creating and reading a Checkout Session. What a session means for an order (paid,
failed, refunded) is `orders.card_payment`; the webhook is `payments.views`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import stripe
from flask import current_app

from kiosk.money import Money
from kiosk.orm import utcnow
from kiosk.payments.models import Payment
from kiosk.payments.providers import PaymentProblem, ProviderBase

log = logging.getLogger(__name__)
PROVIDER = "stripe"


def client() -> stripe.StripeClient:
    config = current_app.config
    base = config["STRIPE_API_BASE"]
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else {},
        max_network_retries=2,
    )


def page_minutes() -> int:
    """How long a Checkout page is payable."""
    return int(current_app.config["KIOSK_CARD_PAYMENT_MINUTES"])


class StripeCheckout(ProviderBase):
    code = PROVIDER
    offline = False

    def hold_until(self) -> datetime:
        # A little longer than the page is payable, so a payment made in the
        # last second still finds its stock.
        return utcnow() + timedelta(minutes=page_minutes() + 5)

    def send_refund(self, payment: Payment, amount: Money, idempotency_key: str) -> None:
        """Ask Stripe to refund; this call's answer is enough, its charge.refunded webhook
        then finds the refund recorded."""
        try:
            client().v1.refunds.create(
                params={"payment_intent": str(payment.intent_id), "amount": amount.cents},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            log.warning("Stripe refund of payment %s failed: %s", payment.id, exc)
            raise PaymentProblem("provider") from exc


class PaymentNotStarted(RuntimeError):
    """Stripe could not be reached or refused; the shopper may try again."""


class RetryLater(RuntimeError):
    """Stripe could not be asked now (unreachable, 5xx, rate limit, or refusing our key):
    nothing was stored, and the same event can be applied when it comes again."""


def create_checkout(params: dict[str, Any], idempotency_key: str) -> tuple[str, str]:
    """A Checkout Session's id and URL (PaymentNotStarted if Stripe cannot make one now).
    Called outside any transaction: nothing waits on Stripe's answer."""
    try:
        checkout = client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise PaymentNotStarted(str(exc)) from exc
    return checkout.id, str(checkout.url)


def read_checkout(checkout_id: str) -> dict[str, Any] | None:
    """The Checkout Session as Stripe has it now; None if Stripe does not know it (an
    event from another account or mode, or a forged id: it will never apply)."""
    try:
        found: dict[str, Any] = client().v1.checkout.sessions.retrieve(checkout_id).to_dict()
    except stripe.InvalidRequestError:
        return None
    except stripe.StripeError as exc:
        raise RetryLater(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
    return found
