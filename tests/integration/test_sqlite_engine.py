"""SQLite is configured for concurrent workers: WAL, busy timeout, foreign keys, BEGIN IMMEDIATE."""

import threading

import pytest
from flask import Flask
from sqlalchemy import text

from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.uow import unit_of_work
from tests.factories import make_product

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def sqlite_app(app: Flask) -> Flask:
    return app


def test_pragmas_are_set_on_every_connection(sqlite_app: Flask) -> None:
    with sqlite_app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_concurrent_read_modify_write_transactions_never_see_a_locked_database(
    sqlite_app: Flask,
) -> None:
    """Each writer reads the stock, then writes it: with BEGIN IMMEDIATE they queue
    instead of failing with "database is locked", and no update is lost."""
    with sqlite_app.app_context():
        product_id = make_product(stock_on_hand=0).id
    errors: list[BaseException] = []
    writers, rounds = 8, 10

    def writer() -> None:
        try:
            for _ in range(rounds):
                with sqlite_app.app_context(), unit_of_work() as session:
                    product = session.get(Product, product_id)
                    assert product is not None
                    product.stock_on_hand = product.stock_on_hand + 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite_app.app_context():
        stock = db.session.execute(
            text("SELECT stock_on_hand FROM product WHERE id = :id"), {"id": product_id}
        )
        assert stock.scalar() == writers * rounds
