"""While another connection holds the write lock: pages that only read still answer, and a
write that cannot get the lock in time answers 503 with Retry-After, never 500.

The lock is real: on SQLite a second connection in BEGIN IMMEDIATE (the one write
lock of the file); on PostgreSQL a second connection holding EXCLUSIVE locks on the
tables a checkout writes (plain reads still pass). The shop under test waits only
200 ms for a lock (KIOSK_DB_LOCK_TIMEOUT_MS), so the tests are quick.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from kiosk import create_app
from kiosk.extensions import db
from tests.conftest import csrf_token, new_client, settings_for
from tests.factories import make_product
from tests.shopping import add_to_cart, choose_payment, choose_shipping, give_address

WRITTEN_BY_CHECKOUT = ("cart", "cart_line", "product", "stock_reservation", "inventory_movement")
STEPS = ("/checkout/address", "/checkout/shipping", "/checkout/payment", "/checkout/review")


@pytest.fixture
def impatient_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The shop on the same database, waiting 200 ms for a lock (`app` empties it after)."""
    impatient = create_app(
        settings_for(database_url, tmp_path / "media", KIOSK_DB_LOCK_TIMEOUT_MS=200)
    )
    yield impatient
    with impatient.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def shopper(impatient_app: Flask) -> FlaskClient:
    return new_client(impatient_app)


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", price_cents=1290, stock_on_hand=5).id


@contextmanager
def write_lock_held_elsewhere(app: Flask) -> Iterator[None]:
    """Another connection takes the write lock and keeps it for the block."""
    with app.app_context():
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        if url.get_backend_name() == "sqlite":
            other = sqlite3.connect(str(url.database), isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                other.execute("ROLLBACK")
                other.close()
        else:
            with db.engine.connect() as conn, conn.begin():
                conn.exec_driver_sql(
                    f"LOCK TABLE {', '.join(WRITTEN_BY_CHECKOUT)} IN EXCLUSIVE MODE"
                )
                yield


def test_checkout_steps_only_read_when_the_stock_is_held_already(
    app: Flask, shopper: FlaskClient, mug: int
) -> None:
    add_to_cart(shopper, mug)
    give_address(shopper)
    choose_shipping(shopper)
    choose_payment(shopper)
    with write_lock_held_elsewhere(app):
        statuses = [shopper.get(step).status_code for step in STEPS * 2]
    assert statuses == [200] * 8


def test_a_write_that_cannot_get_the_lock_answers_503_in_the_shop_layout(
    app: Flask, shopper: FlaskClient, mug: int, caplog: pytest.LogCaptureFixture
) -> None:
    token = csrf_token(shopper, "/cart")
    form = {"csrf_token": token, "product_id": str(mug), "quantity": "1"}
    with write_lock_held_elsewhere(app), caplog.at_level(logging.WARNING):
        busy = shopper.post("/cart/add", data=form)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert busy.mimetype == "text/html"
    assert "The shop is busy" in busy.text and "Nothing was changed" in busy.text
    assert 'href="/cart"' in busy.text  # the shop's header: it is a page of the shop
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.levelname == "WARNING" and "database busy on POST /cart/add" in warning.message
    assert shopper.post("/cart/add", data=form).status_code == 303  # sent again: it works


def test_json_clients_get_the_503_as_json(app: Flask, shopper: FlaskClient, mug: int) -> None:
    token = csrf_token(shopper, "/cart")
    form = {"csrf_token": token, "product_id": str(mug), "quantity": "1"}
    with write_lock_held_elsewhere(app):
        busy = shopper.post("/cart/add", data=form, headers={"Accept": "application/json"})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert json.loads(busy.text)["error"]["status"] == 503


def test_a_step_that_must_hold_the_stock_anew_answers_503_not_500(
    app: Flask, shopper: FlaskClient, mug: int
) -> None:
    add_to_cart(shopper, mug)
    give_address(shopper)
    add_to_cart(shopper, mug)  # the cart changed: the holds must change too
    with write_lock_held_elsewhere(app):
        busy = shopper.get("/checkout/shipping")
    assert busy.status_code == 503 and "Retry-After" in busy.headers
    assert shopper.get("/checkout/shipping").status_code == 200
