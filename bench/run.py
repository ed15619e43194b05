"""`make bench`: how fast the shop's pages are, next to a hello-world Flask app.

1. Build (or reuse) a catalog of 10,000 products in data/bench/ (see dataset.py).
2. Serve a minimal Flask app (hello.py) with gunicorn, 2 sync workers, and load
   it with wrk: the ceiling for this machine.
3. Serve the shop the same way and load each page the same way.
4. Print req/s, p50, p99 and errors per page, each page's throughput as a
   percentage of hello world, and whether the targets are met.
5. Checkout (checkout.py): add-to-cart and place-order throughput on SQLite and
   PostgreSQL, and whether stock was oversold.
6. Race (checkout.py): 200 shoppers for 100 units through 3 gthread workers, on
   SQLite and PostgreSQL: orders, units sold, oversold units, 5xx and other
   refusals.
7. Imports (imports.py): 10,000 products uploaded, checked and applied through the
   back office's pages, on SQLite and PostgreSQL.
8. Dashboard (analytics.py): /staff/dashboard in every range with 100,000 orders and
   2,000,000 events (analytics_data.py), on SQLite and PostgreSQL; and one CSV export.
9. Recording (analytics.py): what recording events adds to a product page, and one
   track() call. `--only pages`, `--only checkout`, `--only race`, `--only imports`,
   `--only dashboard` or `--only recording` runs one part.

The exit code is 0 whether or not the targets are met (this is a benchmark, not
a test); it is 1 when the harness itself failed, the checkout oversold or the
race got a server error, and 2 when wrk is missing.

    make bench BENCH_ARGS="--duration 5"
    .venv/bin/python bench/run.py --fresh
    .venv/bin/python bench/run.py --only checkout
    make bench BENCH_ARGS="--only race"
    make bench BENCH_ARGS="--only dashboard"
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import analytics
import checkout
import dataset
import imports
import loadgen
import server
from loadgen import LoadResult, LoadSettings

HERE = Path(__file__).resolve().parent
WORKERS = 2
HELLO = "hello world"
PARTS = ("pages", "checkout", "race", "imports", "dashboard", "recording")


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str


@dataclass(frozen=True)
class Target:
    endpoint: str
    min_percent_of_hello: float


TARGETS = (Target("listing page 1", 10.0), Target("product page", 15.0))
MAX_P99_MS = 150.0
BUSY_LOAD = 1.0  # a 1-minute load average above this means something else is running


def shop_endpoints(product_slug: str) -> list[Endpoint]:
    return [
        Endpoint("home", "/"),
        Endpoint("listing page 1", "/products"),
        Endpoint("listing filtered", "/products?min_price=10&max_price=50&in_stock=1"),
        Endpoint("listing page 200", "/products?page=200"),
        Endpoint("product page", f"/p/{product_slug}"),
        Endpoint("search", f"/products?q={dataset.SEARCH_WORD}"),
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page (10)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench data first")
    parser.add_argument("--only", choices=PARTS, help="run one part only (default: all of them)")
    return parser.parse_args(argv)


def measure(
    app: str,
    endpoints: Sequence[Endpoint],
    settings: LoadSettings,
    *,
    ready_path: str,
    pythonpath: Path | None = None,
) -> dict[str, LoadResult]:
    """Serve `app`, check and warm up every endpoint, then load them one after the other."""
    log_file = dataset.BENCH_DATA / f"gunicorn-{app.partition(':')[0]}.log"
    print(f"Starting gunicorn for {app} ({WORKERS} sync workers) ...")
    with server.gunicorn(
        app,
        env=dataset.bench_env(),
        log_file=log_file,
        workers=WORKERS,
        ready_path=ready_path,
        pythonpath=pythonpath,
    ) as base_url:
        for endpoint in endpoints:
            server.check_and_warm_up(base_url + endpoint.path)
        results = {}
        for endpoint in endpoints:
            print(f"  wrk {settings.duration_s} s: {endpoint.name} ({endpoint.path})")
            results[endpoint.name] = loadgen.run_wrk(base_url + endpoint.path, settings)
    return results


def print_table(endpoints: Sequence[Endpoint], results: dict[str, LoadResult]) -> None:
    hello_rate = results[HELLO].requests_per_s
    print()
    header = ("endpoint", "req/s", "p50 ms", "p99 ms", "% hello", "errors", "path")
    print("{:<18} {:>8} {:>8} {:>8} {:>8} {:>7}  {}".format(*header))
    for endpoint in endpoints:
        result = results[endpoint.name]
        percent = 100 * result.requests_per_s / hello_rate
        print(
            f"{endpoint.name:<18} {result.requests_per_s:>8.1f} {result.p50_ms:>8.1f}"
            f" {result.p99_ms:>8.1f} {percent:>7.1f}% {result.errors:>7}  {endpoint.path}"
        )


def print_targets(results: dict[str, LoadResult]) -> None:
    hello_rate = results[HELLO].requests_per_s
    print()
    print(f"Targets (hello world: {hello_rate:.0f} req/s):")
    for target in TARGETS:
        result = results[target.endpoint]
        percent = 100 * result.requests_per_s / hello_rate
        minimum = target.min_percent_of_hello
        throughput = f"throughput {percent:5.1f} % of hello world (>= {minimum:.0f} %)"
        p99 = f"p99 {result.p99_ms:7.1f} ms (<= {MAX_P99_MS:.0f} ms)"
        _print_check(target.endpoint, throughput, percent >= minimum)
        _print_check(target.endpoint, p99, result.p99_ms <= MAX_P99_MS)


def _print_check(endpoint: str, text: str, passed: bool) -> None:
    print(f"  {endpoint:<16} {text:<44} {'PASS' if passed else 'FAIL'}")


def run_pages(args: argparse.Namespace) -> int:
    """Hello world and the shop's pages under wrk; 1 if a page answered with errors."""
    settings = LoadSettings(args.duration, args.connections, args.threads)
    print(
        f"wrk: {settings.connections} connections, {settings.threads} threads,"
        f" {settings.duration_s} s per page; gunicorn: {WORKERS} sync workers"
    )
    dataset.prepare(fresh=args.fresh)
    hello = [Endpoint(HELLO, "/")]
    shop = shop_endpoints(dataset.sample_product_slug())
    results = measure("hello:create_app()", hello, settings, ready_path="/", pythonpath=HERE)
    results |= measure("kiosk:create_app()", shop, settings, ready_path="/healthz")

    print_table([*hello, *shop], results)
    print_targets(results)
    failed = [name for name, result in results.items() if result.non_2xx_3xx]
    if failed:
        # Error pages are not what we meant to measure: the figures above do not count.
        print(f"\nbench: error responses under load from: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def run_part(part: str, args: argparse.Namespace) -> int:
    """Run one of the parts after the pages and print its report; its exit status."""
    if part == "checkout":
        return checkout.report(checkout.run(args.duration))
    if part == "race":
        return checkout.report_race(checkout.run_race())
    if part == "imports":
        return imports.report(imports.run())
    if part == "dashboard":
        if args.fresh:
            analytics.forget_shops()
        return analytics.report_dashboard(analytics.run_dashboard())
    return analytics.report_recording(analytics.run_recording())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # `kill` (SIGTERM) unwinds like Ctrl-C does, so the servers are stopped either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # show progress as it happens, even in a pipe
    parts = [args.only] if args.only else list(PARTS)
    if "pages" in parts and loadgen.wrk_path() is None:
        print("bench: wrk is not installed (apt-get install wrk).", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    if load > BUSY_LOAD:
        print(f"Warning: the machine is busy (load average {load:.1f}); expect low, noisy figures.")
    status = 0
    try:
        if "pages" in parts:
            status = run_pages(args)
        for part in parts:
            if part != "pages":
                print()
                status = max(status, run_part(part, args))
    except (
        dataset.DatasetError,
        server.ServerError,
        loadgen.LoadError,
        checkout.CheckoutBenchError,
        imports.ImportBenchError,
        analytics.AnalyticsBenchError,
    ) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
