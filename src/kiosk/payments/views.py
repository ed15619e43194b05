"""Notifications from payment providers. The only routes without a CSRF token: they are
authenticated by the provider's signature on the raw body instead."""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue

from kiosk.extensions import csrf
from kiosk.services import stripe_checkout

bp = Blueprint("payments", __name__)
log = logging.getLogger(__name__)


@bp.post("/webhooks/stripe")
@csrf.exempt
def stripe_webhook() -> ResponseReturnValue:
    """Verify the signature on the raw body, then apply the event once (see stripe_checkout)."""
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
    outcome = stripe_checkout.handle_event(event)
    log.info("Stripe event %s (%s): %s", event.id, event.type, outcome)
    return {"received": True, "outcome": outcome}
