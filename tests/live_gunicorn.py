"""A shop served by a real gunicorn, and shoppers that talk to it over plain HTTP.

Each `Shopper` is a browser without JavaScript: its own cookies (Flask's signed
session) and its own connection, and it keeps every reply it got, so a caller
can check that none was a server error. `ShopDatabase` opens the server's
database in this process, for test data and for checking what the shoppers did.
The concurrency tests and the checkout benchmark (bench/checkout.py) share them.
"""

from __future__ import annotations

import http.client
import os
import re
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask_migrate import upgrade
from sqlalchemy import select

from kiosk import create_app
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.inventory import services as inventory
from kiosk.orders.models import Order, OrderLine
from tests.factories import make_product

# What every simulated guest chooses: a German address, DHL, bank transfer.
ADDRESS = dict(
    name="Erika Gast", street="Heidestraße 17", postal_code="51147", city="Köln", country="DE"
)
GUEST_STEPS = (
    (
        "/checkout/address",
        {"email": "gast@example.org"} | {f"shipping-{k}": v for k, v in ADDRESS.items()},
    ),
    ("/checkout/shipping", {"shipping_method": "dhl-de"}),
    ("/checkout/payment", {"payment_method": "bank_transfer"}),
)
REVIEW = "/checkout/review"

# gunicorn's gthread workers close a keep-alive connection after 2 s of silence;
# one that was quiet for longer is opened anew instead of being found closed.
IDLE_S = 1.0

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ORDER_FIELDS = re.compile(r'name="(csrf_token|key|expected_total)" value="([^"]*)"')
_ORDER_PATH = re.compile(r"^/orders/([A-Z0-9-]+)")


class UnexpectedReply(AssertionError):
    """The shop answered something no browser would have been shown at this point."""


@dataclass(frozen=True)
class Reply:
    method: str
    path: str
    status: int
    location: str  # path and query of a redirect, else ""
    body: str
    seconds: float

    @property
    def redirected(self) -> bool:
        return 300 <= self.status < 400

    def __str__(self) -> str:
        target = f" -> {self.location}" if self.location else ""
        return f"{self.method} {self.path}: {self.status}{target}"


@dataclass(frozen=True)
class Outcome:
    """Where a checkout ended: an order's page, or another page (the cart) with a message."""

    page: Reply  # the page the redirects ended on
    order_number: str | None = None

    @property
    def placed(self) -> bool:
        return self.order_number is not None


class Shopper:
    """One browser: its own cookies and keep-alive connection; English pages."""

    def __init__(self, base_url: str, timeout_s: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout_s = timeout_s
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}  # sent with every request (X-Forwarded-For)
        self.replies: list[Reply] = []
        self._connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout_s)
        self._last_reply_at = 0.0

    def twin(self) -> Shopper:
        """A second tab of this browser: the same cookies, another connection."""
        other = Shopper(f"http://{self.host}:{self.port}", self.timeout_s)
        other.cookies = dict(self.cookies)
        return other

    def forget_cookies(self) -> None:
        """A new visitor on the same connection."""
        self.cookies.clear()

    def close(self) -> None:
        self._connection.close()

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        headers = {"Accept-Language": "en", **self.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if time.monotonic() - self._last_reply_at > IDLE_S:
            self._connection.close()  # reopened by the next request
        started = time.perf_counter()
        self._connection.request(method, path, body=body, headers=headers)
        response = self._connection.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        seconds = time.perf_counter() - started
        self._last_reply_at = time.monotonic()
        for header in response.headers.get_all("Set-Cookie") or []:
            self._keep_cookies(header)
        location = urlsplit(response.headers.get("Location", ""))
        target = location.path + (f"?{location.query}" if location.query else "")
        reply = Reply(method, path, response.status, target, text, seconds)
        self.replies.append(reply)
        return reply

    def _keep_cookies(self, header: str) -> None:
        for name, morsel in SimpleCookie(header).items():
            if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Reply:
        return self.request("POST", path, form)

    def follow(self, reply: Reply) -> Reply:
        """The page a browser shows after `reply`: its redirects followed."""
        for _ in range(10):
            if not reply.redirected:
                return reply
            reply = self.get(reply.location)
        raise UnexpectedReply(f"too many redirects, the last: {reply}")

    def csrf_token(self, page: Reply) -> str:
        match = _CSRF.search(page.body)
        if match is None:
            raise UnexpectedReply(f"no CSRF token on {page}")
        return match.group(1)

    def add_to_cart(self, product_id: int, quantity: int = 1, token: str | None = None) -> Reply:
        """POST /cart/add, with the token of the cart page unless one is given."""
        token = token or self.csrf_token(self.get("/cart"))
        form = {"csrf_token": token, "product_id": str(product_id), "quantity": str(quantity)}
        reply = self.post("/cart/add", form)
        if reply.status != 303:
            raise UnexpectedReply(f"adding to the cart: {reply}")
        return reply

    def checkout(self) -> dict[str, str] | Outcome:
        """Address, shipping and payment as a guest; then the review page's order form,
        or the Outcome of a step that sent the shopper elsewhere (the cart, when sold out)."""
        following = [step for step, _ in GUEST_STEPS[1:]] + [REVIEW]
        for (step, choice), next_step in zip(GUEST_STEPS, following, strict=True):
            page = self.get(step)
            if page.status != 200:
                return Outcome(self.follow(page))
            done = self.post(step, {"csrf_token": self.csrf_token(page), **choice})
            if done.status != 303 or done.location != next_step:
                return Outcome(self.follow(done))
        review = self.get(REVIEW)
        if review.status != 200:
            return Outcome(self.follow(review))
        form = review.body[review.body.index('action="/checkout/place"') :]
        return dict(_ORDER_FIELDS.findall(form))

    def place(self, order_form: dict[str, str]) -> Reply:
        """Press the order button: POST /checkout/place (the redirect is not followed)."""
        return self.post("/checkout/place", order_form)

    def outcome(self, reply: Reply) -> Outcome:
        """Follow a reply to the page it ends on, reading the order number off an order page."""
        page = self.follow(reply)
        match = _ORDER_PATH.match(page.path) if page.status == 200 else None
        return Outcome(page, match.group(1) if match else None)

    def buy(self, product_id: int, quantity: int = 1) -> Outcome:
        """A whole guest checkout, from the cart to the order page (or wherever it stopped)."""
        self.add_to_cart(product_id, quantity)
        form = self.checkout()
        return form if isinstance(form, Outcome) else self.outcome(self.place(form))


# Production refuses to start without a data key; the shop's database writes with the same.
LIVE_DATA_KEY = "bGl2ZSBndW5pY29ybjogYSB0ZXN0IGtleSBvbmx5ISE="


def server_env(database_url: str, root: Path, **settings: str) -> dict[str, str]:
    """The environment of a gunicorn serving the shop from `database_url`: production
    settings over plain http, media and mail under `root`, warnings and errors logged."""
    return {
        **os.environ,
        "KIOSK_ENV": "production",
        "KIOSK_SECURE_COOKIES": "0",
        "SECRET_KEY": "live-gunicorn-secret",
        "KIOSK_DATA_KEYS": LIVE_DATA_KEY,
        "DATABASE_URL": database_url,
        "KIOSK_MEDIA_DIR": str(root / "media"),
        "KIOSK_MAIL_BACKEND": "file",
        "KIOSK_MAIL_DIR": str(root / "outbox"),
        "KIOSK_LOG_LEVEL": "WARNING",
        **settings,
    }


class ShopDatabase:
    """The live server's database, opened in this process: migrated, filled, inspected."""

    def __init__(self, database_url: str) -> None:
        settings = {
            "KIOSK_ENV": "testing",
            "SECRET_KEY": "shop-database",
            "KIOSK_DATA_KEYS": (LIVE_DATA_KEY,),
        }
        self.app = create_app({**settings, "DATABASE_URL": database_url})
        with self.app.app_context():
            upgrade()

    def product(self, name: str, stock: int) -> int:
        with self.app.app_context():
            return make_product(name=name, stock_on_hand=stock).id

    def stock(self, product_id: int) -> tuple[int, int]:
        """Stock on hand and reserved, as the product row has them."""
        with self.app.app_context():
            product = db.session.get(Product, product_id)
            assert product is not None
            return product.stock_on_hand, product.stock_reserved

    def ledger(self, product_id: int) -> tuple[int, int]:
        """Stock on hand and reserved, as the inventory movements add up."""
        with self.app.app_context():
            return inventory.ledger_totals(product_id)

    def orders_of(self, product_id: int) -> dict[str, int]:
        """{order number: quantity} of the orders that bought this product."""
        with self.app.app_context():
            rows = db.session.execute(
                select(Order.number, OrderLine.quantity)
                .join(OrderLine.order)
                .where(OrderLine.product_id == product_id)
            ).all()
        return {number: quantity for number, quantity in rows}

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()
