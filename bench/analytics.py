"""The dashboard and the recording of events, against issue 15's targets.

`bench/run.py --only dashboard` and `--only recording` run the two parts alone.

Dashboard: on SQLite and on PostgreSQL, the analytics bench shop (analytics_data.py:
100,000 orders with invoices, 2,000,000 events over 400 days), stored under
data/bench/analytics/ and reused while it is from today (the PostgreSQL cluster is
kept there too, so neither is rebuilt on every run). The events are rolled up
(`kiosk.analytics.rollup.roll_up`, timed), then the owner, signed in, asks for
`/staff/dashboard` in every range REQUESTS times after WARM_UP untimed requests; it
prints the median and the 95th percentile per range against TARGET_MS, and the time
of one CSV export.

Recording: on a small fresh database per backend, the same product page is asked
for by two apps that differ only in KIOSK_ANALYTICS, in alternating rounds so that
whatever else the machine does falls on both alike; it prints each one's median and
the difference per request against RECORD_TARGET_MS, and how long one `track()` call
takes on its own. It checks that the recording app did record (else the figure
would measure nothing).

The requests go through Flask's test client in this process (no gunicorn, no
network), so the figures are the shop's own time per request.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import analytics_data
import dataset
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kiosk.analytics.models import AnalyticsEvent
from kiosk.extensions import db

sys.path.insert(1, str(dataset.ROOT))  # for tests/: the throwaway PostgreSQL and sign-in

from tests.conftest import migrate, new_client
from tests.factories import PASSWORD, make_category, make_product
from tests.postgres import PostgresServer, _free_port, _pg_bin, create_database
from tests.shopping import sign_in

DATA = dataset.BENCH_DATA / "analytics"
PG_CLUSTER = DATA / "postgresql"  # owned by the postgres user where we run as root
PG_SHOP = DATA / "postgresql-shop"  # its stamp and media folder
TARGET_MS = 300.0
RECORD_TARGET_MS = 1.0
WARM_UP = 3
REQUESTS = 20
DASHBOARD = "/staff/dashboard"
# The dashboard's ranges as the page's own links and form ask for them.
RANGES = {
    "today": "range=today",
    "7 days": "range=7d",
    "30 days": "range=30d",
    "this month": "range=month",
    "last month": "range=lastmonth",
    "custom: a year": "range=custom&from={year_ago}&to={today}",
    # The longest range the page allows; the bench shop's history is 400 days of it.
    "custom: 3 years": "range=custom&from={three_years_ago}&to={today}",
}
# The heaviest export: a table of products over the year's range.
EXPORT = "/staff/dashboard/products-by-revenue.csv?range=custom&from={year_ago}&to={today}"
# A browser's user agent: the recording leaves out bots, and a test client's is not a browser's.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
RECORD_ROUNDS = 40
RECORD_REQUESTS = 30
TRACK_CALLS = 5_000  # under the recorder's queue capacity, so none is dropped


class AnalyticsBenchError(RuntimeError):
    """The analytics bench could not run, or a page did not answer as it should."""


@dataclass(frozen=True)
class Timing:
    name: str
    seconds: list[float]

    def percentile_ms(self, percent: float) -> float:
        ordered = sorted(self.seconds)
        index = min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))
        return 1000 * ordered[index]

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.seconds)

    @property
    def mean_ms(self) -> float:
        """The mean: it carries the cost of a batch written now and then, the median not."""
        return 1000 * statistics.fmean(self.seconds)


@dataclass(frozen=True)
class DashboardRun:
    backend: str
    build_s: float | None  # None: the stored copy was reused
    rollup_s: float
    ranges: list[Timing]
    export: Timing


@dataclass(frozen=True)
class RecordingRun:
    backend: str
    off: Timing
    on: Timing
    recorded: int
    track_us: float | None  # None: the recording has no track() to time
    round_differences_ms: list[float]  # per round: median on - median off

    @property
    def difference_ms(self) -> float:
        """The median of the rounds' differences: a round's two halves ran moments apart,
        so a change in the machine's load falls on both, which the overall medians of a
        busy machine do not promise."""
        return statistics.median(self.round_differences_ms)

    @property
    def mean_difference_ms(self) -> float:
        return self.on.mean_ms - self.off.mean_ms


# --- the stored databases ----------------------------------------------------------


def _fresh_or_reused(backend: str, url: str, root: Path) -> float | None:
    """Make `url` hold the bench shop of today; the seconds building took, None if reused."""
    wanted = analytics_data.wanted_stamp(datetime.now(UTC))
    media = root / "media"
    if analytics_data.Stamp.read(root / "stamp.json") == wanted:
        migrate(url, media)  # brings a stored copy to the newest schema; cheap when current
        counts = analytics_data.current_counts(analytics_data.app_for(url, media))
        if counts[0] >= wanted.orders and counts[1] >= wanted.events:
            print(f"  {backend}: reusing the bench shop in {root.relative_to(dataset.ROOT)}")
            return None
    raise _Rebuild


class _Rebuild(Exception):
    """The stored copy is missing, old or incomplete."""


def _build(backend: str, url: str, root: Path) -> float:
    print(f"  {backend}: building the bench shop in {root.relative_to(dataset.ROOT)} ...")
    started = time.perf_counter()
    media = root / "media"
    migrate(url, media)
    analytics_data.populate(analytics_data.app_for(url, media))
    analytics_data.wanted_stamp(datetime.now(UTC)).write(root / "stamp.json")
    return time.perf_counter() - started


def sqlite_shop() -> tuple[str, float | None]:
    """The stored SQLite bench shop: its URL and the build time (None: reused)."""
    root = DATA / "sqlite"
    root.mkdir(parents=True, exist_ok=True)
    path = root / "kiosk.sqlite3"
    url = f"sqlite:///{path}"
    try:
        return url, _fresh_or_reused("sqlite", url, root)
    except _Rebuild:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        (root / "stamp.json").unlink(missing_ok=True)
        return url, _build("sqlite", url, root)


class StoredPostgres(PostgresServer):
    """A PostgreSQL cluster kept under data/bench/analytics/, started on a free port;
    stopping it keeps its data for the next run."""

    def start(self) -> None:
        if not (self.root / "data" / "PG_VERSION").exists():
            super().start()
            return
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            *("-D", str(self.root / "data"), "-l", str(self.root / "log"), "-w"),
            *("-o", options, "start"),
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-w", "stop")


@contextlib.contextmanager
def postgres_cluster() -> Iterator[StoredPostgres | None]:
    """The stored cluster, running; None where PostgreSQL is not installed."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        yield None
        return
    root = PG_CLUSTER
    root.mkdir(parents=True, exist_ok=True)
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    server = StoredPostgres(bin_dir, root, _free_port(), run_as)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        raise AnalyticsBenchError(f"PostgreSQL did not start: {exc.stderr!r}") from exc
    try:
        yield server
    finally:
        server.stop()


def postgres_shop(server: StoredPostgres) -> tuple[str, float | None]:
    """The bench shop in the stored cluster: its URL and the build time (None: reused)."""
    name = "kiosk_bench_analytics"
    PG_SHOP.mkdir(parents=True, exist_ok=True)
    url = f"{server.url}/{name}"
    try:
        return url, _fresh_or_reused("postgresql", url, PG_SHOP)
    except _Rebuild:
        (PG_SHOP / "stamp.json").unlink(missing_ok=True)
        url = create_database(server.url, name)
        return url, _build("postgresql", url, PG_SHOP)


# --- the dashboard -----------------------------------------------------------------


def roll_up(app: Flask) -> float:
    """Roll every raw event and every closed day's sales up, as the shop's job does; its
    seconds."""
    try:
        rollup = importlib.import_module("kiosk.analytics.rollup")
        sales = importlib.import_module("kiosk.backoffice.sales")
    except ModuleNotFoundError as exc:
        raise AnalyticsBenchError("the shop has no analytics or sales rollup yet") from exc
    started = time.perf_counter()
    with app.app_context():
        rollup.roll_up()
        sales.roll_up()
        db.session.remove()
    return time.perf_counter() - started


def browser(app: Flask) -> FlaskClient:
    client = new_client(app)
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    return client


def owner_client(app: Flask) -> FlaskClient:
    client = browser(app)
    reply = sign_in(client, analytics_data.OWNER_EMAIL, PASSWORD)
    if reply.status_code != 303:
        raise AnalyticsBenchError(f"the owner could not sign in ({reply.status_code})")
    return client


def time_get(client: FlaskClient, url: str, times: int, warm_up: int = WARM_UP) -> list[float]:
    """Seconds of `times` GETs of `url` after `warm_up` untimed ones; each must be a 200."""
    seconds = []
    for number in range(warm_up + times):
        started = time.perf_counter()
        reply = client.get(url)
        elapsed = time.perf_counter() - started
        if reply.status_code != 200:
            raise AnalyticsBenchError(f"{url} answered {reply.status_code}")
        if number >= warm_up:
            seconds.append(elapsed)
    return seconds


def _dated(url: str, now: datetime) -> str:
    today = now.date()
    year_ago = today - timedelta(days=365)
    three_years_ago = today - timedelta(days=3 * 365)
    return url.format(
        today=today.isoformat(),
        year_ago=year_ago.isoformat(),
        three_years_ago=three_years_ago.isoformat(),
    )


def range_urls(now: datetime) -> dict[str, str]:
    return {name: _dated(f"{DASHBOARD}?{query}", now) for name, query in RANGES.items()}


def bench_dashboard(backend: str, url: str, root: Path, build_s: float | None) -> DashboardRun:
    app = analytics_data.app_for(url, root / "media")
    print(f"  {backend}: rolling up ...")
    rollup_s = roll_up(app)
    client = owner_client(app)
    timings = []
    for name, page in range_urls(datetime.now(UTC)).items():
        print(f"  {backend}: {name} ({page})")
        timings.append(Timing(name, time_get(client, page, REQUESTS)))
    export = Timing("CSV export", time_get(client, _dated(EXPORT, datetime.now(UTC)), 5, warm_up=1))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return DashboardRun(backend, build_s, rollup_s, timings, export)


def forget_shops() -> None:
    """Make the next run build the bench shops again (`--fresh`)."""
    for root in (DATA / "sqlite", PG_SHOP):
        (root / "stamp.json").unlink(missing_ok=True)


def run_dashboard() -> list[DashboardRun]:
    print(
        f"Dashboard: {analytics_data.ORDERS:,} orders and {analytics_data.EVENTS:,} events;"
        f" {REQUESTS} requests per range after {WARM_UP} to warm up"
    )
    url, build_s = sqlite_shop()
    runs = [bench_dashboard("sqlite", url, DATA / "sqlite", build_s)]
    with postgres_cluster() as server:
        if server is None:
            print("PostgreSQL is not installed: the run on PostgreSQL is skipped.")
            return runs
        url, build_s = postgres_shop(server)
        runs.append(bench_dashboard("postgresql", url, PG_SHOP, build_s))
    return runs


def report_dashboard(runs: list[DashboardRun]) -> int:
    print()
    print(
        f"{'backend':<11} {'range':<16} {'median ms':>9} {'p95 ms':>8}  target < {TARGET_MS:.0f} ms"
    )
    for run in runs:
        built = "reused" if run.build_s is None else f"built in {run.build_s:.0f} s"
        print(f"{run.backend:<11} data {built}; roll-up of every event {run.rollup_s:.1f} s")
        for timing in [*run.ranges, run.export]:
            passed = timing.percentile_ms(95) < TARGET_MS
            verdict = "PASS" if passed else "FAIL"
            if timing is run.export:
                verdict = ""
            print(
                f"{'':<11} {timing.name:<16} {timing.median_ms:>9.1f}"
                f" {timing.percentile_ms(95):>8.1f}  {verdict}"
            )
    return 0


# --- the recording -----------------------------------------------------------------


def _recording_apps(url: str, root: Path) -> tuple[Flask, Flask, str]:
    media = root / "media"
    migrate(url, media)
    on = analytics_data.app_for(url, media, KIOSK_ANALYTICS=True)
    off = analytics_data.app_for(url, media, KIOSK_ANALYTICS=False)
    with on.app_context():
        product = make_product(category=make_category())
        page = f"/p/{product.slug}"
        db.session.remove()
    return on, off, page


def _events(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(AnalyticsEvent.id))) or 0
        db.session.remove()
    return count


def _flush(app: Flask) -> None:
    """Write what the recorder still buffers, where it buffers."""
    with contextlib.suppress(ModuleNotFoundError):
        recorder = importlib.import_module("kiosk.analytics.recorder")
        flush: Callable[..., Any] | None = getattr(recorder, "flush", None)
        if flush is not None:
            with app.app_context():
                flush(app)


def bench_recording(backend: str, url: str, root: Path) -> RecordingRun:
    on, off, page = _recording_apps(url, root)
    clients = {"on": browser(on), "off": browser(off)}
    seconds: dict[str, list[float]] = {"on": [], "off": []}
    before = _events(on)
    for client in clients.values():
        time_get(client, page, 0, warm_up=20)
    differences = []
    for round_ in range(RECORD_ROUNDS):
        order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
        medians = {}
        for name in order:
            times = time_get(clients[name], page, RECORD_REQUESTS, warm_up=0)
            seconds[name] += times
            medians[name] = statistics.median(times)
        differences.append(1000 * (medians["on"] - medians["off"]))
    _flush(on)
    recorded = _events(on) - before
    if recorded == 0:
        raise AnalyticsBenchError(f"{backend}: KIOSK_ANALYTICS=1 recorded no event")
    run = RecordingRun(
        backend,
        Timing("KIOSK_ANALYTICS=0", seconds["off"]),
        Timing("KIOSK_ANALYTICS=1", seconds["on"]),
        recorded,
        time_track(on, page),
        differences,
    )
    for app in (on, off):
        with app.app_context():
            db.engine.dispose()
    return run


def time_track(app: Flask, page: str) -> float | None:
    """Microseconds of one `track()` call in a request for `page`; None if there is none."""
    try:
        tracking = importlib.import_module("kiosk.analytics.tracking")
    except ModuleNotFoundError:
        return None
    from kiosk.analytics.models import EventKind

    with app.test_request_context(page, headers={"User-Agent": BROWSER}):
        tracking.track(EventKind.PRODUCT_VIEW, product_id=1)  # the first call may set up the day
        started = time.perf_counter()
        for _ in range(TRACK_CALLS):
            tracking.track(EventKind.PRODUCT_VIEW, product_id=1)
        elapsed = time.perf_counter() - started
    _flush(app)
    return 1e6 * elapsed / TRACK_CALLS


def run_recording() -> list[RecordingRun]:
    print(
        f"Recording: a product page, KIOSK_ANALYTICS=1 against 0, {RECORD_ROUNDS} alternating"
        f" rounds of {RECORD_REQUESTS} requests each"
    )
    root = DATA / "recording"
    shutil.rmtree(root, ignore_errors=True)
    folder = root / "sqlite"
    folder.mkdir(parents=True)
    runs = [bench_recording("sqlite", f"sqlite:///{folder / 'kiosk.sqlite3'}", folder)]
    with postgres_cluster() as server:
        if server is not None:
            url = create_database(server.url, "kiosk_bench_recording")
            runs.append(bench_recording("postgresql", url, root / "postgresql"))
    return runs


def report_recording(runs: list[RecordingRun]) -> int:
    print()
    header = ("backend", "off p50", "on p50", "diff", "off mean", "on mean", "mean diff")
    print("{:<11} {:>8} {:>8} {:>9} {:>9} {:>8} {:>10}  events track()".format(*header))
    for run in runs:
        track = "-" if run.track_us is None else f"{run.track_us:.1f} µs"
        print(
            f"{run.backend:<11} {run.off.median_ms:>8.2f} {run.on.median_ms:>8.2f}"
            f" {run.difference_ms:>9.3f} {run.off.mean_ms:>9.2f} {run.on.mean_ms:>8.2f}"
            f" {run.mean_difference_ms:>10.3f}  {run.recorded:>6} {track}"
        )
    print(
        "(milliseconds per request; diff: the median of the rounds' differences of medians;"
        f" target: both differences < {RECORD_TARGET_MS:.0f} ms)"
    )
    for run in runs:
        passed = max(run.difference_ms, run.mean_difference_ms) < RECORD_TARGET_MS
        print(f"  {run.backend:<11} recording overhead  {'PASS' if passed else 'FAIL'}")
    return 0
