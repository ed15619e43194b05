"""Real shoppers race for the last units through a real gunicorn, on SQLite and PostgreSQL.

The in-process race in test_inventory.py shares one Python; here several
gunicorn workers (processes, with threads) each hold their own database
connections, and every shopper has its own cookies and connection, as in
production. The server runs once per backend for this module (`--dist loadfile` keeps
the module on one worker).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from bench.server import gunicorn

from tests.conftest import BACKENDS
from tests.live_gunicorn import Outcome, Reply, ShopDatabase, Shopper, server_env
from tests.postgres import ENV_URL, create_database

WORKERS = 3
THREADS = 4  # per worker: twelve requests at once, in three processes
SHOPPERS = 20
UNITS = 5
NAME = "Espressotasse Hafen"
SOLD_OUT = f"Sorry, not enough left of: {NAME}. Please change your cart."
T = TypeVar("T")


@dataclass
class LiveShop:
    """The shop served by gunicorn, its database, and every shopper a test sent to it."""

    base_url: str
    database: ShopDatabase
    log_file: Path
    shoppers: list[Shopper] = field(default_factory=list)

    def shopper(self) -> Shopper:
        shopper = Shopper(self.base_url)
        self.shoppers.append(shopper)
        return shopper

    def twin(self, shopper: Shopper) -> Shopper:
        twin = shopper.twin()
        self.shoppers.append(twin)
        return twin

    def product(self, stock: int) -> int:
        return self.database.product(NAME, stock)

    def stock(self, product_id: int) -> tuple[int, int]:
        """On hand and reserved, after checking that the ledger adds up to the same."""
        counters = self.database.stock(product_id)
        assert self.database.ledger(product_id) == counters, "the ledger does not add up"
        return counters

    def server_errors(self) -> list[Reply]:
        replies = [reply for shopper in self.shoppers for reply in shopper.replies]
        return [reply for reply in replies if reply.status >= 500]

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module", params=BACKENDS)
def live_shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveShop]:
    backend: str = request.param
    root = tmp_path_factory.mktemp(f"live-gunicorn-{backend}")
    if backend == "sqlite":
        database_url = f"sqlite:///{root / 'kiosk.sqlite3'}"
    elif server := os.environ.get(ENV_URL):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        database_url = create_database(server, f"kiosk_gunicorn_{worker}")
    else:
        pytest.skip("PostgreSQL is not installed")
    database = ShopDatabase(database_url)
    log_file = root / "gunicorn.log"
    with gunicorn(
        "kiosk:create_app()",
        env=server_env(database_url, root, KIOSK_MAIL_FLUSH_AFTER_REQUEST="0"),
        log_file=log_file,
        workers=WORKERS,
        worker_class="gthread",
        threads=THREADS,
        ready_path="/healthz",
    ) as base_url:
        shop = LiveShop(base_url, database, log_file)
        yield shop
        for shopper in shop.shoppers:
            shopper.close()
    database.close()


def _all_at_once(
    shoppers: list[Shopper], work: Callable[[Shopper, threading.Barrier], T]
) -> list[T]:
    """Run `work` for every shopper in a thread of its own; they meet at the barrier they share."""
    together = threading.Barrier(len(shoppers), timeout=60)

    def guarded(shopper: Shopper) -> T:
        try:
            return work(shopper, together)
        except BaseException:
            together.abort()  # the others stop waiting at once
            raise

    with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
        return list(pool.map(guarded, shoppers))


def _assert_the_server_kept_calm(shop: LiveShop) -> None:
    assert shop.server_errors() == [], "server errors"
    log = shop.log()
    assert "database is locked" not in log, log
    assert "Traceback" not in log, log


def test_twenty_shoppers_race_for_five_units_and_exactly_five_buy(live_shop: LiveShop) -> None:
    product_id = live_shop.product(stock=UNITS)

    def buy_one(shopper: Shopper, together: threading.Barrier) -> Outcome:
        token = shopper.csrf_token(shopper.get("/cart"))
        together.wait()
        shopper.add_to_cart(product_id, token=token)
        together.wait()  # every cart holds the product before anyone checks out
        form = shopper.checkout()
        together.wait()
        return form if isinstance(form, Outcome) else shopper.outcome(shopper.place(form))

    shoppers = [live_shop.shopper() for _ in range(SHOPPERS)]
    outcomes = _all_at_once(shoppers, buy_one)

    orders = live_shop.database.orders_of(product_id)
    assert sorted(o.order_number for o in outcomes if o.order_number) == sorted(orders)
    assert list(orders.values()) == [1] * UNITS
    ends = [(o.page.status, o.page.path, SOLD_OUT in o.page.body) for o in outcomes if not o.placed]
    assert ends == [(200, "/cart", True)] * (SHOPPERS - UNITS)
    assert live_shop.stock(product_id) == (0, 0)
    _assert_the_server_kept_calm(live_shop)


def test_a_double_submitted_order_form_places_one_order(live_shop: LiveShop) -> None:
    product_id = live_shop.product(stock=3)
    shopper = live_shop.shopper()
    shopper.add_to_cart(product_id)
    form = shopper.checkout()
    assert not isinstance(form, Outcome), form
    tabs = [shopper, live_shop.twin(shopper)]  # the same cookies, two connections

    def press(tab: Shopper, together: threading.Barrier) -> Reply:
        together.wait()
        return tab.place(form)

    replies = _all_at_once(tabs, press)

    orders = live_shop.database.orders_of(product_id)
    assert len(orders) == 1
    (number,) = orders
    assert [(r.status, r.location) for r in replies] == [(303, f"/orders/{number}?placed=1")] * 2
    pages = [tab.follow(reply) for tab, reply in zip(tabs, replies, strict=True)]
    assert [(page.status, number in page.body) for page in pages] == [(200, True)] * 2
    assert live_shop.stock(product_id) == (2, 0)
    _assert_the_server_kept_calm(live_shop)
