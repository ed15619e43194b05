"""Checkout under load: add-to-cart and place-order throughput, and no overselling.

`bench/run.py --only checkout` runs this part alone; `make bench` runs it after
the page benchmarks. Once on SQLite (a file) and once on PostgreSQL (a
throwaway server started the way the test suite starts it, tests/postgres.py;
skipped where PostgreSQL is not installed), on a fresh, migrated database:

1. gunicorn serves the shop with 2 sync workers in production mode, as for the
   page benchmarks; mail goes to .eml files after each request (the default).
2. Add to cart: SHOPPERS guests POST /cart/add again and again (a new guest
   with a new cart every ADDS_PER_CART adds).
3. Place order: SHOPPERS guests buy one unit of a product in plenty, checkout
   after checkout: cart, address, shipping, payment, review, the order button
   and the order page (11 requests an order).
4. Oversell: RACERS guests, more than there are units, buy one unit each of a
   product with UNITS units, checkout after checkout, for the same time. The
   orders may hold no more than UNITS of it, and its stock counters must agree
   with what was sold and with the inventory ledger.

wrk cannot follow a checkout's cookies and forms, so the shoppers are Python
threads with their own cookies and connections (tests/live_gunicorn.py, shared
with the concurrency tests). They share the machine with the server, so the
figures are lower than wrk would measure for the same requests.
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dataset
import server

sys.path.insert(1, str(dataset.ROOT))  # for tests/: the shoppers and the throwaway PostgreSQL

from tests.live_gunicorn import ShopDatabase, Shopper, UnexpectedReply, server_env
from tests.postgres import create_database, start_server

WORKERS = 2
SHOPPERS = 8
ADDS_PER_CART = 20
UNITS = 20
RACERS = 32
PLENTY = 1_000_000
CHECKOUT_DATA = dataset.BENCH_DATA / "checkout"
ADD = "POST /cart/add"
PLACE = "POST /checkout/place"


class CheckoutBenchError(RuntimeError):
    """The checkout benchmark could not run."""


@dataclass
class Tally:
    """What one shopper did: requests, the latencies of the measured endpoint, orders."""

    endpoint: str
    requests: int = 0
    orders: int = 0
    stopped: int = 0  # checkouts that ended elsewhere than on an order page
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def take_replies(self, shopper: Shopper) -> None:
        for reply in shopper.replies:
            self.requests += 1
            if f"{reply.method} {reply.path}" == self.endpoint:
                self.latencies_s.append(reply.seconds)
            if reply.status >= 500:
                self.errors.append(str(reply))
        shopper.replies.clear()


@dataclass(frozen=True)
class PhaseResult:
    backend: str
    phase: str
    endpoint: str
    seconds: float
    tallies: list[Tally]

    @property
    def requests_per_s(self) -> float:
        return sum(t.requests for t in self.tallies) / self.seconds

    @property
    def orders(self) -> int:
        return sum(t.orders for t in self.tallies)

    @property
    def stopped(self) -> int:
        return sum(t.stopped for t in self.tallies)

    @property
    def latencies_s(self) -> list[float]:
        return sorted(s for t in self.tallies for s in t.latencies_s)

    @property
    def endpoint_per_s(self) -> float:
        return len(self.latencies_s) / self.seconds

    @property
    def errors(self) -> list[str]:
        return [error for t in self.tallies for error in t.errors]

    def percentile_ms(self, percent: float) -> float:
        """Nearest rank: the latency that `percent` % of the requests did not exceed."""
        latencies = self.latencies_s
        if not latencies:
            return float("nan")
        rank = max(1, round(percent / 100 * len(latencies)))
        return 1000 * latencies[rank - 1]


@dataclass(frozen=True)
class OversellCheck:
    backend: str
    sold: int
    orders: int
    orders_seen_by_shoppers: int
    stopped: int
    stock: tuple[int, int]  # on hand, reserved
    ledger: tuple[int, int]

    @property
    def oversold(self) -> int:
        return max(0, self.sold - UNITS)

    @property
    def passed(self) -> bool:
        on_hand, reserved = self.stock
        return (
            self.oversold == 0
            and on_hand == UNITS - self.sold
            and 0 <= reserved <= on_hand
            and self.ledger == self.stock
            and self.orders == self.orders_seen_by_shoppers
        )


Work = Callable[[Shopper, float, Tally], None]


def _adding(product_id: int) -> Work:
    def work(shopper: Shopper, deadline: float, tally: Tally) -> None:
        while time.monotonic() < deadline:
            shopper.forget_cookies()  # a new guest, a new cart
            token = shopper.csrf_token(shopper.get("/cart"))
            for _ in range(ADDS_PER_CART):
                shopper.add_to_cart(product_id, token=token)
                if time.monotonic() >= deadline:
                    break

    return work


def _buying(product_id: int) -> Work:
    def work(shopper: Shopper, deadline: float, tally: Tally) -> None:
        while time.monotonic() < deadline:
            outcome = shopper.buy(product_id)
            if outcome.placed:
                tally.orders += 1
            else:
                tally.stopped += 1
                shopper.forget_cookies()  # give up this cart, come back as a new guest

    return work


def _load(
    base_url: str, shoppers: int, duration_s: float, endpoint: str, work: Work
) -> list[Tally]:
    """Run `work` in `shoppers` threads, each its own shopper, until the time is up."""
    deadline = time.monotonic() + duration_s

    def shop(_: int) -> Tally:
        shopper, tally = Shopper(base_url), Tally(endpoint)
        while time.monotonic() < deadline:
            try:
                work(shopper, deadline, tally)
            except (UnexpectedReply, OSError, http.client.HTTPException) as exc:
                tally.errors.append(f"{type(exc).__name__}: {exc}")
                shopper.forget_cookies()
                shopper.close()
            finally:
                tally.take_replies(shopper)
        shopper.close()
        return tally

    with ThreadPoolExecutor(max_workers=shoppers) as pool:
        return list(pool.map(shop, range(shoppers)))


@dataclass(frozen=True)
class Phase:
    name: str
    shoppers: int
    endpoint: str
    work: Work


@dataclass(frozen=True)
class BackendRun:
    backend: str
    results: list[PhaseResult]
    oversell: OversellCheck
    log_problems: list[str]


LOG_PROBLEMS = ("Traceback", "database is locked", "WORKER TIMEOUT", "Error handling request")


def bench_backend(backend: str, database_url: str, root: Path, duration_s: float) -> BackendRun:
    """The three phases against a fresh database, then the oversell check."""
    database = ShopDatabase(database_url)
    try:
        plenty = database.product("Kaffeebecher „Hafen“", PLENTY)
        scarce = database.product("Teekanne „Linde“", UNITS)
        phases = [
            Phase("add to cart", SHOPPERS, ADD, _adding(plenty)),
            Phase("place order", SHOPPERS, PLACE, _buying(plenty)),
            Phase("oversell race", RACERS, PLACE, _buying(scarce)),
        ]
        print(f"Starting gunicorn for the checkout on {backend} ({WORKERS} sync workers) ...")
        log_file = root / "gunicorn.log"
        with server.gunicorn(
            "kiosk:create_app()",
            env=server_env(database_url, root),
            log_file=log_file,
            workers=WORKERS,
            ready_path="/healthz",
        ) as base_url:
            _warm_up(base_url, plenty)
            results = []
            for phase in phases:
                print(f"  {duration_s} s: {phase.name}, {phase.shoppers} shoppers")
                started = time.monotonic()
                tallies = _load(base_url, phase.shoppers, duration_s, phase.endpoint, phase.work)
                seconds = time.monotonic() - started
                results.append(PhaseResult(backend, phase.name, phase.endpoint, seconds, tallies))
        orders = database.orders_of(scarce)
        oversell = OversellCheck(
            backend,
            sold=sum(orders.values()),
            orders=len(orders),
            orders_seen_by_shoppers=results[-1].orders,
            stopped=results[-1].stopped,
            stock=database.stock(scarce),
            ledger=database.ledger(scarce),
        )
    finally:
        database.close()
    log = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    problems = [line for line in log if any(problem in line for problem in LOG_PROBLEMS)]
    return BackendRun(backend, results, oversell, problems)


def _warm_up(base_url: str, product_id: int, checkouts: int = 2 * WORKERS) -> None:
    """A few whole checkouts at once, so every worker has compiled its templates."""

    def buy(_: int) -> None:
        shopper = Shopper(base_url)
        try:
            if not shopper.buy(product_id).placed:
                steps = ", ".join(map(str, shopper.replies))
                raise CheckoutBenchError(f"a warm-up checkout did not end with an order: {steps}")
        finally:
            shopper.close()

    with ThreadPoolExecutor(max_workers=checkouts) as pool:
        list(pool.map(buy, range(checkouts)))


def run(duration_s: int) -> list[BackendRun]:
    """Bench SQLite, then PostgreSQL where it is installed; each on a fresh database."""
    print(
        f"Checkout: gunicorn with {WORKERS} sync workers; {SHOPPERS} shoppers"
        f" ({RACERS} racing for {UNITS} units); {duration_s} s per phase"
    )
    shutil.rmtree(CHECKOUT_DATA, ignore_errors=True)
    root = CHECKOUT_DATA / "sqlite"
    root.mkdir(parents=True)
    runs = [bench_backend("sqlite", f"sqlite:///{root / 'kiosk.sqlite3'}", root, duration_s)]
    print("Starting a throwaway PostgreSQL ...")
    try:
        postgres = start_server()
    except subprocess.CalledProcessError as exc:
        raise CheckoutBenchError(f"PostgreSQL did not start: {exc.stderr}") from exc
    if postgres is None:
        print("PostgreSQL is not installed: the checkout on PostgreSQL is skipped.")
        return runs
    try:
        url = create_database(postgres.url, "kiosk_bench_checkout")
        root = CHECKOUT_DATA / "postgresql"
        runs.append(bench_backend("postgresql", url, root, duration_s))
    finally:
        postgres.stop()
    return runs


def report(runs: Sequence[BackendRun]) -> int:
    """Print the figures; 1 if a response was a server error or stock was oversold, else 0."""
    print()
    header = ("backend", "phase", "req/s", "orders/s", "endpoint", "per s", "p50 ms", "p99 ms")
    print("{:<11} {:<14} {:>7} {:>8}  {:<20} {:>6} {:>7} {:>7} errors".format(*header))
    for run_ in runs:
        for result in run_.results:
            orders = f"{result.orders / result.seconds:8.1f}" if result.orders else f"{'-':>8}"
            print(
                f"{result.backend:<11} {result.phase:<14} {result.requests_per_s:>7.1f} {orders}"
                f"  {result.endpoint:<20} {result.endpoint_per_s:>6.1f}"
                f" {result.percentile_ms(50):>7.1f} {result.percentile_ms(99):>7.1f}"
                f" {len(result.errors):>6}"
            )
    print()
    print(f"Oversell ({UNITS} units, {RACERS} shoppers racing for them):")
    for run_ in runs:
        check = run_.oversell
        on_hand, reserved = check.stock
        print(
            f"  {check.backend:<11} sold {check.sold} of {UNITS} in {check.orders} orders"
            f" ({check.orders_seen_by_shoppers} seen by shoppers, {check.stopped} sent back to"
            f" the cart), oversold {check.oversold};"
            f" stock {on_hand} on hand, {reserved} reserved; ledger {check.ledger}"
            f"  {'PASS' if check.passed else 'FAIL'}"
        )
    status = 0
    for run_ in runs:
        errors = [error for result in run_.results for error in result.errors]
        for problem in [*errors, *run_.log_problems][:10]:
            print(f"bench: {run_.backend}: {problem}", file=sys.stderr)
        if errors or run_.log_problems or not run_.oversell.passed:
            status = 1
    return status
