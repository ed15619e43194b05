"""A 10,000-row product import through the browser's path, on SQLite and PostgreSQL.

`bench/run.py --only imports` runs this part alone; `make bench` runs it last. On a
fresh, migrated database per backend (the checkout part's set-up: a SQLite file, then a
throwaway PostgreSQL where it is installed), with the demo categories and the bench's
10,000 generated products (`dataset.generate_products`, every third with a picture):

1. A staff member uploads the file: `POST /staff/imports` (the request only stores it).
2. The job's thread checks every row (the dry run), as in a web process; meanwhile the
   progress region is polled as htmx does (`GET /staff/imports/<id>` with HX-Request)
   every POLL_S, until the reply says the job finished (286).
3. `POST /staff/imports/<id>/apply`, and the same polling until the file is written.

It prints the upload request's time, the check's and the write's wall time, and the
polls' median and slowest answer: a poll that answers quickly while the job runs shows
that the job does not hold the web worker. The requests go through Flask's test client
in this process (no gunicorn), with the job in a thread of the same process, as the
web process runs it.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dataset
from checkout import _on_each_backend
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kiosk import create_app
from kiosk.accounts.models import Role
from kiosk.catalog.models import Product
from kiosk.catalog.product_csv import import_categories
from kiosk.extensions import db

sys.path.insert(1, str(dataset.ROOT))  # for tests/: the shared test settings and helpers

from tests.conftest import csrf_token, migrate, new_client, settings_for
from tests.factories import PASSWORD, make_user
from tests.shopping import sign_in

ROWS = dataset.PRODUCT_COUNT
POLL_S = 0.5
TIMEOUT_S = 900
IMPORT_DATA = dataset.BENCH_DATA / "imports"


class ImportBenchError(RuntimeError):
    """The import benchmark could not run, or the import did not end as it should."""


@dataclass(frozen=True)
class ImportRun:
    backend: str
    rows: int
    upload_s: float
    check_s: float
    apply_s: float
    polls: list[float]
    products: int

    @property
    def total_s(self) -> float:
        return self.upload_s + self.check_s + self.apply_s


def run() -> list[ImportRun]:
    print(f"Import: {ROWS:,} products through /staff/imports (check, then apply) per database")
    return _on_each_backend(IMPORT_DATA, bench_backend)


def bench_backend(backend: str, url: str, root: Path) -> ImportRun:
    media = root / "media"
    media.mkdir(parents=True, exist_ok=True)
    images = dataset.draw_images(media)
    csv_path = root / "products.csv"
    dataset.write_products_csv(csv_path, dataset.category_slugs(dataset.CATEGORIES_CSV), images)
    migrate(url, media)
    app: Flask = create_app(
        settings_for(
            url,
            media,
            KIOSK_IMPORT_IN_BACKGROUND=True,
            KIOSK_STAFF_REQUIRE_2FA=False,
            KIOSK_LOG_LEVEL="WARNING",
        )
    )
    with app.app_context():
        with dataset.CATEGORIES_CSV.open(encoding="utf-8-sig", newline="") as handle:
            import_categories(handle)
        make_user("bench-staff@example.org", role=Role.STAFF)
        db.session.remove()
    client = new_client(app)
    sign_in(client, "bench-staff@example.org", PASSWORD)

    print(f"  {backend}: upload ...")
    token = csrf_token(client, "/staff/imports")
    started = time.perf_counter()
    with csv_path.open("rb") as handle:
        reply = client.post(
            "/staff/imports",
            data={"csrf_token": token, "kind": "products", "file": (handle, "products.csv")},
            content_type="multipart/form-data",
        )
    upload_s = time.perf_counter() - started
    if reply.status_code != 303:
        raise ImportBenchError(f"{backend}: the upload answered {reply.status_code}")
    job_url = reply.headers["Location"]
    polls: list[float] = []
    check_s = _wait(client, job_url, polls, backend, "check")
    page = client.get(job_url).get_data(as_text=True)
    if "The check found no problems" not in page:
        raise ImportBenchError(f"{backend}: the check found problems in the bench file")
    print(f"  {backend}: checked in {check_s:.1f} s; apply ...")
    token = csrf_token(client, job_url)
    started = time.perf_counter()
    reply = client.post(f"{job_url}/apply", data={"csrf_token": token})
    if reply.status_code != 303:
        raise ImportBenchError(f"{backend}: apply answered {reply.status_code}")
    apply_s = time.perf_counter() - started + _wait(client, job_url, polls, backend, "apply")
    if "rows written" not in client.get(job_url).get_data(as_text=True):
        raise ImportBenchError(f"{backend}: the import did not finish")
    with app.app_context():
        products = db.session.scalar(select(func.count(Product.id))) or 0
        db.session.remove()
        db.engine.dispose()
    client.get("/signout")
    return ImportRun(backend, ROWS, upload_s, check_s, apply_s, polls, products)


def _wait(client: FlaskClient, job_url: str, polls: list[float], backend: str, step: str) -> float:
    """Poll the progress region as htmx does until the job's step ends; its wall time."""
    started = time.perf_counter()
    while time.perf_counter() - started < TIMEOUT_S:
        asked = time.perf_counter()
        reply = client.get(job_url, headers={"HX-Request": "true"})
        polls.append(time.perf_counter() - asked)
        if reply.status_code == 286:
            return time.perf_counter() - started
        if reply.status_code != 200:
            raise ImportBenchError(f"{backend}: the progress answered {reply.status_code}")
        time.sleep(POLL_S)
    raise ImportBenchError(f"{backend}: the {step} took longer than {TIMEOUT_S} s")


def report(runs: list[ImportRun]) -> int:
    """Print the figures; 1 if a backend did not end with every product, else 0."""
    print()
    header = ("backend", "rows", "upload s", "check s", "apply s", "total s", "poll p50", "max")
    print("{:<11} {:>6} {:>9} {:>8} {:>8} {:>8} {:>9} {:>7}".format(*header))
    status = 0
    for result in runs:
        median = 1000 * statistics.median(result.polls)
        slowest = 1000 * max(result.polls)
        print(
            f"{result.backend:<11} {result.rows:>6} {result.upload_s:>9.2f} {result.check_s:>8.1f}"
            f" {result.apply_s:>8.1f} {result.total_s:>8.1f} {median:>7.0f}ms {slowest:>5.0f}ms"
        )
        if result.products != result.rows:
            print(
                f"bench: {result.backend}: {result.products} products, not {result.rows}",
                file=sys.stderr,
            )
            status = 1
    return status
