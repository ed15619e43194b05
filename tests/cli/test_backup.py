"""flask kiosk backup / restore, on SQLite and PostgreSQL.

The backup is taken while a real gunicorn takes orders, and restored into a
database that did not exist before: every order confirmed before the backup
began must be there, whole (its lines, and a stock ledger that adds up).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from bench.server import gunicorn
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.engine import make_url

from kiosk import create_app
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.inventory import services as inventory
from kiosk.operations import backup
from kiosk.operations.health import migration_heads
from kiosk.orders.models import Order, OrderLine
from kiosk.payments.models import Payment
from tests.conftest import settings_for
from tests.factories import make_product
from tests.live_gunicorn import Outcome, Shopper, server_env
from tests.postgres import ENV_URL, create_database

STOCK = 10_000
SHOPPERS = 4
ORDERS_BEFORE_BACKUP = 6
MAX_ORDERS_PER_SHOPPER = 40  # a bound, should the backup never end


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> str:
    """A database of the same kind that does not exist yet (an empty one on PostgreSQL)."""
    if database_url.startswith("sqlite"):
        (tmp_path / "restored").mkdir()
        return f"sqlite:///{tmp_path / 'restored' / 'kiosk.sqlite3'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return create_database(os.environ[ENV_URL], f"kiosk_restored_{worker}")


@pytest.fixture
def fresh_app(fresh_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(settings_for(fresh_url, tmp_path / "restored" / "media"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _backup(runner: FlaskCliRunner, directory: Path, *options: str) -> Path:
    result = runner.invoke(args=["kiosk", "backup", "--dir", str(directory), *options])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Backup written: "), result.output
    return Path(result.output.removeprefix("Backup written: ").split(" (")[0])


def _restore(app: Flask, archive: Path, *options: str) -> str:
    result = app.test_cli_runner().invoke(args=["kiosk", "restore", str(archive), *options])
    assert result.exit_code == 0, result.output
    return result.output


class OrderTaker:
    """Guests buying one unit at a time through gunicorn, each noting when the shop
    confirmed an order (the 303 after POST /checkout/place comes after its commit)."""

    def __init__(self, base_url: str, product_id: int) -> None:
        self.base_url, self.product_id = base_url, product_id
        self.confirmed: list[tuple[float, str]] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._shop) for _ in range(SHOPPERS)]

    def _shop(self) -> None:
        shopper = Shopper(self.base_url)
        try:
            for _ in range(MAX_ORDERS_PER_SHOPPER):
                if self.stop.is_set():
                    return
                shopper.add_to_cart(self.product_id)
                form = shopper.checkout()
                assert not isinstance(form, Outcome), form.page
                reply = shopper.place(form)
                confirmed_at = time.monotonic()
                outcome = shopper.outcome(reply)
                assert outcome.order_number, outcome.page
                with self._lock:
                    self.confirmed.append((confirmed_at, outcome.order_number))
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            shopper.close()

    def __enter__(self) -> OrderTaker:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()

    def wait_for(self, count: int) -> None:
        while len(self.confirmed) < count and not self.errors and self._running():
            time.sleep(0.05)
        assert not self.errors, self.errors

    def _running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def confirmed_before(self, moment: float) -> set[str]:
        with self._lock:
            return {number for at, number in self.confirmed if at < moment}


def test_a_backup_taken_while_orders_come_in_restores_every_order_confirmed_before_it(
    app: Flask, runner: FlaskCliRunner, database_url: str, fresh_app: Flask, tmp_path: Path
) -> None:
    with app.app_context():
        product_id = make_product(name="Tasse", stock_on_hand=STOCK).id
    env = server_env(database_url, tmp_path / "server", KIOSK_MAIL_FLUSH_AFTER_REQUEST="0")
    with (
        gunicorn(
            "kiosk:create_app()",
            env=env,
            log_file=tmp_path / "gunicorn.log",
            workers=2,
            worker_class="gthread",
            threads=2,
            ready_path="/healthz",
        ) as base_url,
        OrderTaker(base_url, product_id) as orders,
    ):
        orders.wait_for(ORDERS_BEFORE_BACKUP)
        backup_started = time.monotonic()
        archive = _backup(runner, tmp_path / "backups")
        orders.wait_for(len(orders.confirmed) + SHOPPERS)  # the shop went on taking orders
    assert not orders.errors, orders.errors
    before = orders.confirmed_before(backup_started)
    assert len(before) >= ORDERS_BEFORE_BACKUP

    output = _restore(fresh_app, archive)

    with fresh_app.app_context():
        restored = set(db.session.scalars(select(Order.number)))
        assert before <= restored
        assert restored <= {number for _, number in orders.confirmed}
        assert f"Restored the backup of {_manifest(archive)['created_at']}: " in output
        assert f": {len(restored)} orders" in output
        # No half order: every order has its line and its payment, and stock and ledger agree.
        sold = db.session.scalar(select(func.sum(OrderLine.quantity))) or 0
        lines = db.session.scalar(select(func.count(func.distinct(OrderLine.order_id))))
        payments = db.session.scalar(select(func.count(func.distinct(Payment.order_id))))
        assert (sold, lines, payments) == (len(restored),) * 3
        product = db.session.get(Product, product_id)
        assert product is not None and product.stock_on_hand == STOCK - sold
        counters = (product.stock_on_hand, product.stock_reserved)
        assert inventory.ledger_totals(product_id) == counters


def _manifest(archive: Path) -> dict[str, object]:
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(backup.MANIFEST)
        assert handle is not None
        manifest: dict[str, object] = json.load(handle)
        return manifest


def test_the_archive_holds_the_pictures_and_the_restore_puts_them_back(
    app: Flask, runner: FlaskCliRunner, fresh_app: Flask, tmp_path: Path
) -> None:
    picture = Path(app.config["KIOSK_MEDIA_DIR"]) / "shop" / "becher.webp"
    picture.parent.mkdir(parents=True)
    picture.write_bytes(b"RIFF-a picture")
    with app.app_context():
        make_product(name="Becher", stock_on_hand=3, images=1)
    archive = _backup(runner, tmp_path / "backups")
    assert archive.stat().st_mode & 0o777 == 0o600  # customers' data: the owner's eyes only

    _restore(fresh_app, archive)

    restored = Path(fresh_app.config["KIOSK_MEDIA_DIR"]) / "shop" / "becher.webp"
    assert restored.read_bytes() == b"RIFF-a picture"
    with fresh_app.app_context():
        assert db.session.scalars(select(Product.name)).all() == ["Becher"]
    assert _manifest(archive)["media_files"] == 1


def test_rotation_keeps_the_newest_archives(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup")
    made = [_backup(runner, folder, "--keep", "2") for _ in range(3)]
    assert backup.list_backups(folder) == made[1:]

    app.config["KIOSK_BACKUP_KEEP"] = 1  # the setting, when no --keep is given
    newest = _backup(runner, folder)
    assert backup.list_backups(folder) == [newest]

    kept_all = [_backup(runner, folder, "--keep", "0") for _ in range(2)]
    assert backup.list_backups(folder) == [newest, *kept_all]
    assert (folder / "notes.txt").exists()


def test_restore_refuses_a_database_that_holds_data_unless_told_yes(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    with app.app_context():
        product_id = make_product(name="Vorher", stock_on_hand=1).id
    archive = _backup(runner, tmp_path / "backups")
    with app.app_context():
        make_product(name="Danach")

    refused = runner.invoke(args=["kiosk", "restore", str(archive)])

    assert refused.exit_code == 1
    assert "already holds data" in refused.output and "--yes" in refused.output
    with app.app_context():
        assert sorted(db.session.scalars(select(Product.name))) == ["Danach", "Vorher"]

    _restore(app, archive, "--yes")

    with app.app_context():
        db.session.remove()
        assert db.session.scalars(select(Product.name)).all() == ["Vorher"]
        assert inventory.ledger_totals(product_id) == (1, 0)


def test_restore_refuses_a_picture_folder_that_is_not_empty(
    app: Flask, runner: FlaskCliRunner, fresh_app: Flask, tmp_path: Path
) -> None:
    archive = _backup(runner, tmp_path / "backups")
    stray = Path(fresh_app.config["KIOSK_MEDIA_DIR"]) / "other-shop.webp"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"RIFF")

    refused = fresh_app.test_cli_runner().invoke(args=["kiosk", "restore", str(archive)])

    assert refused.exit_code == 1
    assert "is not empty" in refused.output
    assert stray.exists()
    _restore(fresh_app, archive, "--yes")
    assert not stray.exists()


def _with_manifest(archive: Path, target: Path, **changes: object) -> Path:
    """A copy of the archive whose manifest says something else."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as copy:
        for member in source.getmembers():
            handle = source.extractfile(member)
            assert handle is not None
            data = handle.read()
            if member.name == backup.MANIFEST:
                data = json.dumps(json.loads(data) | changes).encode()
                member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return target


def test_restore_refuses_a_backup_from_a_newer_version_of_the_code(
    app: Flask, runner: FlaskCliRunner, fresh_app: Flask, tmp_path: Path
) -> None:
    archive = _backup(runner, tmp_path / "backups")
    newer = _with_manifest(archive, tmp_path / "newer.tar.gz", revision=["0099_future"])

    refused = fresh_app.test_cli_runner().invoke(args=["kiosk", "restore", str(newer)])

    assert refused.exit_code == 1
    assert "revision 0099_future, which this version of Kiosk does not know" in refused.output


def test_restore_refuses_a_backup_of_the_other_kind_of_database(
    app: Flask, runner: FlaskCliRunner, fresh_app: Flask, tmp_path: Path
) -> None:
    archive = _backup(runner, tmp_path / "backups")
    other = "postgresql" if _manifest(archive)["backend"] == "sqlite" else "sqlite"
    foreign = _with_manifest(archive, tmp_path / "foreign.tar.gz", backend=other)

    refused = fresh_app.test_cli_runner().invoke(args=["kiosk", "restore", str(foreign)])

    assert refused.exit_code == 1
    assert f"this is a backup of a {other} database" in refused.output


# A product row as of migration 0007; the columns the table had then are taken from it, so
# columns later migrations add do not break the old schema's insert.
OLD_PRODUCT = {
    "slug": "alt",
    "sku": "ALT-1",
    "name": "Alt",
    "description": "",
    "price_cents": 990,
    "currency": "EUR",
    "vat_class": "standard",
    "delivery_time": "",
    "weight_grams": 0,
    "is_active": True,
    "is_featured": False,
    "stock_on_hand": 2,
    "stock_reserved": 0,
    "reorder_level": 0,
    "search_text": "alt",
    "created_at": datetime(2026, 1, 5, tzinfo=UTC).replace(tzinfo=None),
    "updated_at": datetime(2026, 1, 5, tzinfo=UTC).replace(tzinfo=None),
}


def test_a_backup_of_an_older_schema_is_restored_and_upgraded(
    app: Flask, fresh_app: Flask, tmp_path: Path
) -> None:
    with fresh_app.app_context():
        upgrade(revision="0007")  # the shop before invoices
        with db.engine.begin() as connection:  # a product as the table was then
            product = Table("product", MetaData(), autoload_with=connection)
            connection.execute(
                product.insert().values(
                    **{name: value for name, value in OLD_PRODUCT.items() if name in product.c}
                )
            )
    archive = _backup(fresh_app.test_cli_runner(), tmp_path / "backups")
    assert _manifest(archive)["revision"] == ["0007"]

    output = _restore(app, archive)  # into a database migrated to the newest schema

    assert "Its schema was upgraded from 0007." in output
    with app.app_context():
        db.session.remove()
        assert db.session.scalars(select(Product.name)).all() == ["Alt"]
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
        assert frozenset(current) == migration_heads()


def test_the_postgresql_password_stays_off_the_command_line() -> None:
    url = make_url("postgresql+psycopg://shop:s%40cret@db.example:5433/kiosk?sslmode=require")

    dsn, env = backup.pg_connection(url)

    assert dsn == "postgresql://shop@db.example:5433/kiosk?sslmode=require"
    assert env["PGPASSWORD"] == "s@cret"
