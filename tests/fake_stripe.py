"""A fake Stripe API on 127.0.0.1, for driving the real `stripe` SDK offline.

It imitates what the shop uses of Stripe: Checkout Sessions (create, retrieve,
a hosted payment page with a "Pay" button), refunds against a PaymentIntent,
idempotency keys (same key and parameters: the same answer; other parameters:
an `idempotency_error`), the API-key check, Stripe-shaped errors, and signed
webhook events (`checkout.session.*`, `charge.refunded`) that tests build,
deliver, replay or reorder at will. It keeps a list of the API requests it was
sent (`api_requests`), and `failing(status)` makes every API request fail as
Stripe does in an incident (500) or under a rate limit (429).

It does not imitate: prices, products or customers as objects, line-item
listing, expansion, pagination, taxes, discounts, sessions that expire by the
clock (call `expire`), webhook retries, or Stripe's delays: events go out
synchronously, and a refund made through the API records its `charge.refunded`
event in `events` without delivering it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import stripe
from flask import Flask, abort, redirect, request
from markupsafe import escape
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Response

Json = dict[str, Any]
HOSTED_PAGE = """<!doctype html><title>Fake Stripe Checkout</title><h1>Pay {total}</h1>
<form method="post" action="/pay/{id}"><button type="submit">Pay</button></form>
<a href="{cancel_url}">Cancel</a>"""


class StripeError(Exception):
    """An error answer in Stripe's shape: `{"error": {"type", "message", ...}}`."""

    def __init__(self, status: int, message: str, **fields: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": "invalid_request_error", "message": message} | fields}


def parse_form(pairs: Iterable[tuple[str, str]]) -> Json:
    """Nest Stripe's form keys: `a[0][b]=1` becomes `{"a": [{"b": "1"}]}`."""
    root: Json = {}
    for key, value in pairs:
        *path, last = key.replace("]", "").split("[")
        node = root
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    nested: Json = _as_lists(root)
    return nested


def _as_lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _as_lists(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LocalServer:
    """A WSGI app served on a free port of 127.0.0.1 by a daemon thread."""

    def __init__(self, app: Flask) -> None:
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


class FakeStripe:
    secret_key = "sk_test_fake"
    webhook_secret = "whsec_test"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._server = LocalServer(self._make_app())
        self.url = self._server.url
        self.reset()

    def start(self) -> FakeStripe:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        with self._lock:
            self.sessions: dict[str, Json] = {}
            self.charges: dict[str, Json] = {}  # by payment_intent
            self.events: list[Json] = []
            self._idempotent: dict[str, tuple[str, Json]] = {}
            self.api_requests: list[str] = []  # "GET /v1/checkout/sessions/cs_…"
            self.failure: int | None = None  # the status every API request gets, if set
        self.webhook_url: str | None = None

    @contextlib.contextmanager
    def failing(self, status: int) -> Iterator[None]:
        """Answer every API request with `status` (500: an incident, 429: a rate limit)."""
        with self._lock:
            self.failure = status
        try:
            yield
        finally:
            with self._lock:
                self.failure = None

    # The HTTP API

    def _make_app(self) -> Flask:
        app = Flask(__name__)
        app.register_error_handler(StripeError, lambda error: (error.body, error.status))

        @app.before_request
        def check_api_key() -> None:
            if not request.path.startswith("/v1/"):
                return
            with self._lock:
                self.api_requests.append(f"{request.method} {request.path}")
                failure = self.failure
            if failure == 429:
                raise StripeError(429, "Too many requests.", type="rate_limit_error")
            if failure is not None:
                raise StripeError(failure, "An error occurred.", type="api_error")
            if request.headers.get("Authorization") != f"Bearer {self.secret_key}":
                raise StripeError(401, "Invalid API Key provided.")

        for path, create in [
            ("/v1/checkout/sessions", self._create_session),
            ("/v1/refunds", self._create_refund),
        ]:
            view = functools.partial(self._idempotently, create)
            app.add_url_rule(path, path, view, methods=["POST"])

        @app.get("/v1/checkout/sessions/<session_id>")
        def retrieve_session(session_id: str) -> Json:
            with self._lock:
                return copy.deepcopy(self._session(session_id))

        @app.get("/pay/<session_id>")
        def hosted_page(session_id: str) -> str:
            with self._lock:
                session = copy.deepcopy(self._session(session_id))
            if session["status"] != "open":
                return "<!doctype html><title>Checkout</title><p>This session is not open.</p>"
            cents = session["amount_total"]
            total = f"{cents // 100}.{cents % 100:02d} {session['currency'].upper()}"
            return HOSTED_PAGE.format(
                total=total, id=escape(session_id), cancel_url=escape(session["cancel_url"] or "")
            )

        @app.post("/pay/<session_id>")
        def hosted_pay(session_id: str) -> Response:
            try:
                self.pay(session_id)
            except ValueError:
                abort(409)
            url = self.sessions[session_id]["success_url"]
            return redirect(url.replace("{CHECKOUT_SESSION_ID}", session_id), 303)

        return app

    def _idempotently(self, create: Callable[[Json], Json]) -> Json:
        """Run `create` once per Idempotency-Key; like Stripe, keep only successes."""
        key = request.headers.get("Idempotency-Key")
        fingerprint = f"{request.path}?{sorted(request.form.items(multi=True))}"
        with self._lock:
            if key in self._idempotent:
                if self._idempotent[key][0] != fingerprint:
                    message = f"Key {key!r} was used with other parameters before."
                    raise StripeError(400, message, type="idempotency_error")
                return copy.deepcopy(self._idempotent[key][1])
            result = create(parse_form(request.form.items(multi=True)))
            if key:
                self._idempotent[key] = (fingerprint, copy.deepcopy(result))
            return result

    def _create_session(self, params: Json) -> Json:
        now = int(time.time())
        expires_at = int(params.get("expires_at", now + 24 * 3600))
        if not now + 30 * 60 <= expires_at <= now + 24 * 3600:
            message = "The `expires_at` timestamp must be 30 minutes to 24 hours from now."
            raise StripeError(400, message, param="expires_at")
        items = params.get("line_items", [])
        subtotal = sum(
            int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items
        )
        shipping = params.get("shipping_options", [{}])[0].get("shipping_rate_data", {})
        currencies = {item["price_data"]["currency"].lower() for item in items}
        session_id = _new_id("cs")
        keys = ("mode", "success_url", "cancel_url", "customer_email", "locale")
        self.sessions[session_id] = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"{self.url}/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_subtotal": subtotal,
            "amount_total": subtotal + int(shipping.get("fixed_amount", {}).get("amount", 0)),
            "currency": params.get("currency") or min(currencies, default="eur"),
            "metadata": params.get("metadata", {}),
            "client_reference_id": params.get("client_reference_id"),
            "payment_intent": None,
            "created": now,
            "expires_at": expires_at,
            "livemode": False,
        } | {key: params.get(key) for key in keys}
        return copy.deepcopy(self.sessions[session_id])

    def _session(self, session_id: str, status: str | None = None) -> Json:
        if session_id not in self.sessions:
            message = f"No such checkout.session: '{session_id}'"
            raise StripeError(404, message, code="resource_missing")
        session = self.sessions[session_id]
        if status and session["status"] != status:
            raise ValueError(f"{session_id} is {session['status']}, not {status}")
        return session

    def _create_refund(self, params: Json) -> Json:
        charge = self.charges.get(params.get("payment_intent", ""))
        if charge is None:
            message = f"No such payment_intent: '{params.get('payment_intent')}'"
            raise StripeError(400, message, code="resource_missing")
        amount = params.get("amount")
        refund = self._refund(charge, None if amount is None else int(amount))
        self.events.append(self.event("charge.refunded", copy.deepcopy(charge)))
        return refund | {"metadata": params.get("metadata", {})}

    def _refund(self, charge: Json, amount: int | None) -> Json:
        left = charge["amount"] - charge["amount_refunded"]
        amount = left if amount is None else amount
        if not 0 < amount <= left:
            code = "charge_already_refunded" if left == 0 else "amount_too_large"
            raise StripeError(400, f"Cannot refund {amount}: {left} left.", code=code)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return {
            "id": _new_id("re"),
            "object": "refund",
            "status": "succeeded",
            "amount": amount,
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "created": int(time.time()),
        }

    # Control methods for tests: each returns the event it recorded (and delivered)

    def pay(self, session_id: str, deliver: bool = True, paid: bool = True) -> Json:
        """Complete the session: paid, as by card, or with the money still to come."""
        with self._lock:
            session = self._session(session_id, status="open")
            session.update(status="complete", payment_intent=_new_id("pi"))
            if paid:
                self._charge(session)
        return self._emit("checkout.session.completed", session_id, deliver)

    def pay_async(self, session_id: str, deliver: bool = True) -> Json:
        """Complete the session unpaid, as SEPA debit does; then `async_succeed` or `_fail`."""
        return self.pay(session_id, deliver, paid=False)

    def async_succeed(self, session_id: str, deliver: bool = True) -> Json:
        with self._lock:
            self._charge(self._session(session_id, status="complete"))
        return self._emit("checkout.session.async_payment_succeeded", session_id, deliver)

    def async_fail(self, session_id: str, deliver: bool = True) -> Json:
        with self._lock:
            self._session(session_id, status="complete")
        return self._emit("checkout.session.async_payment_failed", session_id, deliver)

    def expire(self, session_id: str, deliver: bool = True) -> Json:
        with self._lock:
            self._session(session_id, status="open")["status"] = "expired"
        return self._emit("checkout.session.expired", session_id, deliver)

    def refund_externally(self, payment_intent: str, amount: int, deliver: bool = True) -> Json:
        """A refund made in Stripe's dashboard: the shop learns of it by webhook only."""
        with self._lock:
            charge = self.charges[payment_intent]
            self._refund(charge, amount)
            event = self.event("charge.refunded", copy.deepcopy(charge))
        return self._record(event, deliver)

    def set_amount_total(self, session_id: str, cents: int) -> None:
        with self._lock:
            self._session(session_id)["amount_total"] = cents

    def _charge(self, session: Json) -> None:
        session["payment_status"] = "paid"
        self.charges[session["payment_intent"]] = {
            "id": _new_id("ch"),
            "object": "charge",
            "payment_intent": session["payment_intent"],
            "amount": session["amount_total"],
            "amount_refunded": 0,
            "refunded": False,
            "currency": session["currency"],
        }

    def _emit(self, event_type: str, session_id: str, deliver: bool) -> Json:
        with self._lock:
            event = self.event(event_type, copy.deepcopy(self.sessions[session_id]))
        return self._record(event, deliver)

    def _record(self, event: Json, deliver: bool) -> Json:
        with self._lock:
            self.events.append(event)
        if deliver and self.webhook_url:
            self.deliver(event)  # outside the lock: the shop may call back into the fake
        return event

    # Webhooks

    def event(self, event_type: str, obj: Json) -> Json:
        return {
            "id": _new_id("evt"),
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }

    def sign(self, payload: str, secret: str | None = None, timestamp: int | None = None) -> str:
        return str(
            stripe.WebhookSignature.generate_signature_header(
                payload, secret or self.webhook_secret, timestamp=timestamp
            )
        )

    def deliver(
        self,
        event: Json,
        url: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> int:
        """POST the event as Stripe does; return the status the webhook endpoint answered."""
        payload = json.dumps(event)
        header = self.sign(payload, secret, timestamp)
        if not (url := url or self.webhook_url):
            raise ValueError("set fake.webhook_url first")
        headers = {"Content-Type": "application/json", "Stripe-Signature": header}
        post = urllib.request.Request(url, payload.encode(), headers)  # noqa: S310 - loopback
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_proxy
        try:
            with direct.open(post, timeout=10) as reply:
                return int(reply.status)
        except urllib.error.HTTPError as error:
            return error.code


@functools.cache
def _shared_fake() -> FakeStripe:
    return FakeStripe().start()


@pytest.fixture(name="fake_stripe")
def fake_stripe_fixture() -> Iterator[FakeStripe]:
    """One fake server per process, emptied around each test.

    Import it as `from tests.fake_stripe import fake_stripe_fixture  # noqa: F401`;
    tests then ask for `fake_stripe`.
    """
    fake = _shared_fake()
    fake.reset()
    yield fake
    fake.reset()
