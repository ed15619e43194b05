"""Notifications from payment providers. The only routes without a CSRF token: they are
authenticated by the provider's signature on the raw body instead.

Stripe delivers an event again until it gets a 2xx (for up to three days), so the
answer says what Stripe should do: 2xx for an event that is applied, a duplicate,
or one that will never apply (ignored); 503 for a temporary failure (Stripe or the
database busy or unreachable), after which its retry applies it. Always JSON, and
one log line per event.
"""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue

from kiosk.errors import answer_json, busy
from kiosk.extensions import csrf
from kiosk.orders import card_payment
from kiosk.payments.stripe import RetryLater

bp = Blueprint("payments", __name__)
bp.before_request(answer_json)
log = logging.getLogger(__name__)


@bp.post("/webhooks/stripe")
@csrf.exempt
def stripe_webhook() -> ResponseReturnValue:
    """Verify the signature on the raw body, then apply the event once (see card_payment)."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        abort(404)
    try:
        event = stripe.Webhook.construct_event(
            request.get_data(), request.headers.get("Stripe-Signature", ""), secret
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        log.warning("Stripe webhook refused: %s", exc)
        return {"error": "invalid signature"}, 400
    try:
        outcome = card_payment.handle_event(event)
    except RetryLater as later:
        log.warning(
            "Stripe event %s (%s) not applied now, Stripe will send it again: %s",
            event.id,
            event.type,
            later,
        )
        return busy(f"Not applied now ({later}); please send it again.")
    log.info("Stripe event %s (%s): %s", event.id, event.type, outcome)
    return {"received": True, "outcome": outcome}
