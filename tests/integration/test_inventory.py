"""Inventory on a real database: holds, sales, expiry, the ledger, and no overselling."""

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.inventory import services as inventory
from kiosk.inventory.models import ReservationStatus, StockReservation
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work
from tests.factories import make_product


def _stock(product_id: int) -> tuple[int, int]:
    db.session.expire_all()
    product = db.session.get(Product, product_id)
    assert product is not None
    return product.stock_on_hand, product.stock_reserved


def _ledger_agrees(product_id: int) -> bool:
    return inventory.ledger_totals(product_id) == _stock(product_id)


def test_reserving_holds_stock_and_selling_takes_it(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=5).id
        with unit_of_work() as session:
            inventory.reserve(session, "checkout-1", {mug: 2}, minutes=15)
        assert _stock(mug) == (5, 2)
        with unit_of_work() as session:
            assert inventory.sell(session, "checkout-1", "order 1") == {mug: 2}
        assert _stock(mug) == (3, 0)
        assert _ledger_agrees(mug)


def test_a_reservation_is_all_lines_or_none(app: Flask) -> None:
    with app.app_context():
        plenty, scarce = make_product(stock_on_hand=10).id, make_product(stock_on_hand=1).id
        with pytest.raises(inventory.OutOfStock) as refused, unit_of_work() as session:
            inventory.reserve(session, "checkout-1", {plenty: 3, scarce: 2}, minutes=15)
        assert refused.value.product_ids == [scarce]
        assert _stock(plenty) == (10, 0) and _stock(scarce) == (1, 0)


def test_released_stock_is_available_again(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=2).id
        with unit_of_work() as session:
            inventory.reserve(session, "checkout-1", {mug: 2}, minutes=15)
        with pytest.raises(inventory.OutOfStock), unit_of_work() as session:
            inventory.reserve(session, "checkout-2", {mug: 1}, minutes=15)
        with unit_of_work() as session:
            assert inventory.release(session, "checkout-1", "payment failed") == 1
        with unit_of_work() as session:
            inventory.reserve(session, "checkout-2", {mug: 1}, minutes=15)
        assert _stock(mug) == (2, 1)
        assert _ledger_agrees(mug)


def test_expired_reservations_are_released_by_the_job_and_lazily(app: Flask) -> None:
    with app.app_context():
        a, b = make_product(stock_on_hand=1).id, make_product(stock_on_hand=1).id
        past = utcnow() - timedelta(minutes=30)
        with unit_of_work() as session:
            inventory.reserve(session, "old-a", {a: 1}, minutes=15, now=past)
            inventory.reserve(session, "old-b", {b: 1}, minutes=15, now=past)
        with unit_of_work() as session:  # a new checkout finds a's stock free again
            inventory.reserve(session, "new-a", {a: 1}, minutes=15)
        assert _stock(a) == (1, 1)
        assert inventory.release_expired() == 1  # only b's hold is left to the job
        assert _stock(b) == (1, 0)
        statuses = dict(
            db.session.execute(select(StockReservation.holder, StockReservation.status)).all()
        )
        assert statuses["old-a"] == statuses["old-b"] == ReservationStatus.RELEASED
        assert _ledger_agrees(a) and _ledger_agrees(b)


def test_an_expired_hold_cannot_be_both_sold_and_released(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=3).id
        with unit_of_work() as session:
            inventory.reserve(
                session, "checkout-1", {mug: 1}, minutes=15, now=utcnow() - timedelta(hours=1)
            )
        assert inventory.release_expired() == 1
        with unit_of_work() as session:
            assert inventory.sell(session, "checkout-1", "late order") == {}
        assert _stock(mug) == (3, 0)


def test_the_database_refuses_to_reserve_more_than_on_hand(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=1).id
        with pytest.raises(IntegrityError), unit_of_work() as session:
            session.execute(
                text("UPDATE product SET stock_reserved = 2 WHERE id = :id"), {"id": mug}
            )


def test_stock_counts_and_restocks_are_in_the_ledger(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=4).id
        inventory.restock(mug, 6, "delivery 17")
        with unit_of_work() as session:
            assert inventory.set_stock(session, mug, 8, "stocktaking") == -2
        assert _stock(mug) == (8, 0)
        assert _ledger_agrees(mug)
        with unit_of_work() as session:
            inventory.reserve(session, "checkout-1", {mug: 5}, minutes=15)
        with pytest.raises(inventory.StockBelowReserved), unit_of_work() as session:
            inventory.set_stock(session, mug, 4, "miscount")


def test_twenty_parallel_checkouts_for_five_units_sell_exactly_five(app: Flask) -> None:
    """Separate connections race for the last units: five win, fifteen hear "sold out"."""
    with app.app_context():
        mug = make_product(stock_on_hand=5).id
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def checkout(number: int) -> None:
        start.wait()
        with app.app_context():
            try:
                with unit_of_work() as session:
                    inventory.reserve(session, f"checkout-{number}", {mug: 1}, minutes=15)
                    inventory.sell(session, f"checkout-{number}", f"order {number}")
                result = "sold"
            except inventory.OutOfStock:
                result = "sold out"
            except Exception as exc:  # any other failure ("database is locked") fails the test
                result = f"error: {exc}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=checkout, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sold"] * 5 + ["sold out"] * 15
    with app.app_context():
        assert _stock(mug) == (0, 0)
        assert _ledger_agrees(mug)
