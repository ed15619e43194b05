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

The race (`--only race`): RACE_SHOPPERS new guests start at once and buy one
unit each of a product with RACE_UNITS units, checkout after checkout, until a
checkout ends back at the cart (sold out); RACE_ROUNDS rounds, each for a new
product. gunicorn runs RACE_WORKERS gthread workers of RACE_THREADS threads,
the set-up that once gave one "database is locked" 500 in about 5,200
requests. It reports orders, units sold, oversold units, 5xx replies and other
non-2xx/3xx replies per database, and checks stock and ledger per round.

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
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

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
RACE_SHOPPERS = 200
RACE_UNITS = 100
RACE_ROUNDS = 3
RACE_WORKERS = 3
RACE_THREADS = 4
CHECKOUT_DATA = dataset.BENCH_DATA / "checkout"
RACE_DATA = dataset.BENCH_DATA / "race"
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
    """A product of `units` units after shoppers raced for it: no more sold than there
    were, and the counters, the ledger and the shoppers' order pages agree."""

    backend: str
    units: int
    sold: int
    orders: int
    orders_seen_by_shoppers: int
    stopped: int
    stock: tuple[int, int]  # on hand, reserved
    ledger: tuple[int, int]

    @property
    def oversold(self) -> int:
        return max(0, self.sold - self.units)

    @property
    def passed(self) -> bool:
        on_hand, reserved = self.stock
        return (
            self.oversold == 0
            and on_hand == self.units - self.sold
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
            units=UNITS,
            sold=sum(orders.values()),
            orders=len(orders),
            orders_seen_by_shoppers=results[-1].orders,
            stopped=results[-1].stopped,
            stock=database.stock(scarce),
            ledger=database.ledger(scarce),
        )
    finally:
        database.close()
    return BackendRun(backend, results, oversell, _log_problems(log_file))


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


T = TypeVar("T")


def _on_each_backend(root: Path, bench: Callable[[str, str, Path], T]) -> list[T]:
    """`bench(backend, database url, folder)` on a fresh SQLite file, then on a throwaway
    PostgreSQL where it is installed."""
    shutil.rmtree(root, ignore_errors=True)
    folder = root / "sqlite"
    folder.mkdir(parents=True)
    runs = [bench("sqlite", f"sqlite:///{folder / 'kiosk.sqlite3'}", folder)]
    print("Starting a throwaway PostgreSQL ...")
    try:
        postgres = start_server()
    except subprocess.CalledProcessError as exc:
        raise CheckoutBenchError(f"PostgreSQL did not start: {exc.stderr}") from exc
    if postgres is None:
        print("PostgreSQL is not installed: the run on PostgreSQL is skipped.")
        return runs
    try:
        url = create_database(postgres.url, f"kiosk_bench_{root.name}")
        runs.append(bench("postgresql", url, root / "postgresql"))
    finally:
        postgres.stop()
    return runs


def run(duration_s: int) -> list[BackendRun]:
    """Bench SQLite, then PostgreSQL where it is installed; each on a fresh database."""
    print(
        f"Checkout: gunicorn with {WORKERS} sync workers; {SHOPPERS} shoppers"
        f" ({RACERS} racing for {UNITS} units); {duration_s} s per phase"
    )

    def bench(backend: str, url: str, root: Path) -> BackendRun:
        return bench_backend(backend, url, root, duration_s)

    return _on_each_backend(CHECKOUT_DATA, bench)


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


@dataclass(frozen=True)
class RaceRun:
    """What the race's rounds left behind on one database."""

    backend: str
    seconds: float
    replies: int
    rounds: list[OversellCheck]  # one per round
    server_errors: list[str]  # 5xx replies
    other_refusals: list[str]  # other replies that were neither 2xx nor 3xx
    failures: list[str]  # no reply, or one no browser would have been shown
    log_problems: list[str]

    @property
    def orders(self) -> int:
        return sum(r.orders for r in self.rounds)

    @property
    def units_sold(self) -> int:
        return sum(r.sold for r in self.rounds)

    @property
    def oversold(self) -> int:
        return sum(r.oversold for r in self.rounds)

    @property
    def passed(self) -> bool:
        return (
            self.oversold == 0
            and not self.server_errors
            and not self.failures
            and not self.log_problems
            and all(r.passed for r in self.rounds)
        )


@dataclass
class RaceTally:
    orders: int = 0
    sent_back: int = 0
    replies: list[tuple[str, int]] = field(default_factory=list)  # ("METHOD path: …", status)
    failures: list[str] = field(default_factory=list)


def _race_shopper(base_url: str, product_id: int, start: threading.Barrier) -> RaceTally:
    """One guest: wait for the start, then buy one unit after the other until sent back."""
    tally = RaceTally()
    shopper = Shopper(base_url, timeout_s=60.0)
    try:
        start.wait()
        while True:
            outcome = shopper.buy(product_id)
            if not outcome.placed:
                tally.sent_back += 1
                break
            tally.orders += 1
    except (
        UnexpectedReply,
        OSError,
        http.client.HTTPException,
        threading.BrokenBarrierError,
    ) as exc:
        tally.failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        shopper.close()
        tally.replies = [(str(reply), reply.status) for reply in shopper.replies]
    return tally


def _race_round(
    backend: str, base_url: str, database: ShopDatabase, number: int
) -> tuple[OversellCheck, list[RaceTally]]:
    product_id = database.product(f"Teekanne „Linde“ {number}", RACE_UNITS)
    start = threading.Barrier(RACE_SHOPPERS, timeout=60)
    with ThreadPoolExecutor(max_workers=RACE_SHOPPERS) as pool:
        tallies = list(
            pool.map(lambda _: _race_shopper(base_url, product_id, start), range(RACE_SHOPPERS))
        )
    orders = database.orders_of(product_id)
    round_ = OversellCheck(
        backend,
        units=RACE_UNITS,
        sold=sum(orders.values()),
        orders=len(orders),
        orders_seen_by_shoppers=sum(t.orders for t in tallies),
        stopped=sum(t.sent_back for t in tallies),
        stock=database.stock(product_id),
        ledger=database.ledger(product_id),
    )
    return round_, tallies


def race_backend(backend: str, database_url: str, root: Path) -> RaceRun:
    """RACE_ROUNDS races of RACE_SHOPPERS guests for RACE_UNITS units, on one fresh database."""
    database = ShopDatabase(database_url)
    rounds, tallies = [], []
    try:
        plenty = database.product("Kaffeebecher „Hafen“", PLENTY)
        print(
            f"Starting gunicorn for the race on {backend}"
            f" ({RACE_WORKERS} gthread workers, {RACE_THREADS} threads each) ..."
        )
        log_file = root / "gunicorn.log"
        with server.gunicorn(
            "kiosk:create_app()",
            env=server_env(database_url, root),
            log_file=log_file,
            workers=RACE_WORKERS,
            worker_class="gthread",
            threads=RACE_THREADS,
            ready_path="/healthz",
        ) as base_url:
            _warm_up(base_url, plenty, checkouts=2 * RACE_WORKERS * RACE_THREADS)
            started = time.monotonic()
            for number in range(1, RACE_ROUNDS + 1):
                print(f"  round {number}: {RACE_SHOPPERS} shoppers racing for {RACE_UNITS} units")
                round_, shoppers = _race_round(backend, base_url, database, number)
                rounds.append(round_)
                tallies.extend(shoppers)
            seconds = time.monotonic() - started
    finally:
        database.close()
    replies = [reply for tally in tallies for reply in tally.replies]
    return RaceRun(
        backend,
        seconds,
        replies=len(replies),
        rounds=rounds,
        server_errors=[reply for reply, status in replies if status >= 500],
        other_refusals=[
            reply for reply, status in replies if status < 500 and not 200 <= status < 400
        ],
        failures=[failure for t in tallies for failure in t.failures],
        log_problems=_log_problems(log_file),
    )


def _log_problems(log_file: Path) -> list[str]:
    log = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in log if any(problem in line for problem in LOG_PROBLEMS)]


def run_race() -> list[RaceRun]:
    print(
        f"Race: {RACE_ROUNDS} rounds of {RACE_SHOPPERS} shoppers for {RACE_UNITS} units;"
        f" gunicorn with {RACE_WORKERS} gthread workers of {RACE_THREADS} threads"
    )
    return _on_each_backend(RACE_DATA, race_backend)


def report_race(runs: Sequence[RaceRun]) -> int:
    """Print the race's figures; 1 if a reply was a 5xx, stock was oversold or the counters
    disagree, else 0."""
    print()
    print(f"Race ({RACE_ROUNDS} rounds of {RACE_SHOPPERS} shoppers for {RACE_UNITS} units):")
    header = ("backend", "seconds", "replies", "orders", "units sold", "oversold", "5xx",
              "other", "failures")  # fmt: skip
    print("  {:<11} {:>7} {:>7} {:>6} {:>10} {:>8} {:>5} {:>5} {:>8}".format(*header))
    for run_ in runs:
        print(
            f"  {run_.backend:<11} {run_.seconds:>7.1f} {run_.replies:>7} {run_.orders:>6}"
            f" {run_.units_sold:>10} {run_.oversold:>8} {len(run_.server_errors):>5}"
            f" {len(run_.other_refusals):>5} {len(run_.failures):>8}"
            f"  {'PASS' if run_.passed else 'FAIL'}"
        )
    print("  (other: replies neither 2xx, 3xx nor 5xx; failures: no reply, or an unexpected one)")
    status = 0
    for run_ in runs:
        for number, round_ in enumerate(run_.rounds, 1):
            on_hand, reserved = round_.stock
            print(
                f"  {run_.backend} round {number}: {round_.orders} orders"
                f" ({round_.orders_seen_by_shoppers} seen by shoppers),"
                f" {round_.stopped} checkouts sent back to the cart;"
                f" stock {on_hand} on hand, {reserved} reserved; ledger {round_.ledger}"
                f"  {'ok' if round_.passed else 'INCONSISTENT'}"
            )
        problems = [*run_.server_errors, *run_.other_refusals, *run_.failures, *run_.log_problems]
        for problem in problems[:10]:
            print(f"bench: {run_.backend}: {problem}", file=sys.stderr)
        if not run_.passed:
            status = 1
    return status
