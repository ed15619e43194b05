"""Shared fixtures: the app on SQLite and PostgreSQL, clients, factories.

Every test that takes `app` (or `client`) runs once per database backend. The
schema comes from the Alembic migrations, applied once per backend and xdist
worker; after each test, all rows are deleted again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import Engine

from kiosk import create_app
from kiosk.analytics.recorder import discard_every_recorder
from kiosk.extensions import db
from kiosk.orm import Base
from tests import redis_server
from tests.mailbox import CapturingSMTP
from tests.postgres import ENV_URL, create_database, start_server

REQUIRE_ALL = os.environ.get("KIOSK_REQUIRE_ALL") == "1"
BACKENDS = ("sqlite", "postgresql")


_servers_key = pytest.StashKey[list[Any]]()


def pytest_configure(config: pytest.Config) -> None:
    """Start PostgreSQL and Redis once, in the controlling process; xdist workers
    find them through the environment."""
    if hasattr(config, "workerinput"):
        return
    config.stash[_servers_key] = []
    for name, env_url, start in (
        ("PostgreSQL", ENV_URL, start_server),
        ("Redis", redis_server.ENV_URL, redis_server.start_server),
    ):
        if os.environ.get(env_url):
            continue
        server = start()
        if server is None:
            if REQUIRE_ALL:
                raise pytest.UsageError(f"KIOSK_REQUIRE_ALL=1 but {name} is not installed")
            continue
        os.environ[env_url] = server.url
        config.stash[_servers_key].append(server)


# The longest modules (measured with --durations), started first: `make test` hands whole
# modules to the two workers in collection order, so a long one left for the end would
# keep one worker busy while the other idles.
SLOWEST_FIRST = (
    "browser/test_accessibility.py",  # the axe tour, ~90 s per JavaScript mode
    "functional/test_every_input.py",  # the fuzzer, 75-100 s per database
    "browser/test_staff_back_office.py",
    "browser/test_consent.py",
    "integration/test_checkout_concurrency.py",
    "browser/test_owner_journey.py",
    "browser/test_staff_products.py",
    "integration/test_brute_force_live.py",
    "integration/test_invoices.py",
    "cli/test_backup.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.path.relative_to(Path(__file__).parent).as_posix()
        return SLOWEST_FIRST.index(module) if module in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


def pytest_unconfigure(config: pytest.Config) -> None:
    for server in config.stash.get(_servers_key, []):
        server.stop()


def settings_for(database_url: str, media_dir: Path, **extra: Any) -> dict[str, Any]:
    return {
        "KIOSK_ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "KIOSK_MEDIA_DIR": str(media_dir),
        "KIOSK_MAIL_DIR": str(media_dir.parent / "outbox"),
        "KIOSK_MAIL_FLUSH_AFTER_REQUEST": False,  # tests send the outbox when they mean to
        # Cheap Argon2 for speed; the production parameters are tested on their own.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_PARALLELISM": 1,
        **extra,
    }


def migrate(database_url: str, media_dir: Path) -> None:
    app = create_app(settings_for(database_url, media_dir))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def wipe(engine: Engine) -> None:
    """Delete every row, children first, keeping the migrated schema."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # TRUNCATE gives each table and index new files, so only the tables the test
            # touched: those with a row, or whose id sequence handed out an id since the
            # last RESTART IDENTITY (its last_value is NULL until then).
            exists = "SELECT '{0}' WHERE EXISTS (SELECT FROM {0})"  # our own table names
            with_rows = " UNION ALL ".join(exists.format(table) for table in tables)
            used = set(conn.exec_driver_sql(with_rows).scalars()) | {
                name.removesuffix("_id_seq")
                for name in conn.exec_driver_sql(
                    "SELECT sequencename FROM pg_sequences WHERE last_value IS NOT NULL"
                ).scalars()
            }
            if touched := [table for table in tables if table in used]:
                conn.exec_driver_sql(f"TRUNCATE {', '.join(touched)} RESTART IDENTITY CASCADE")
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # categories refer to categories
            # The audit log's triggers refuse DELETE: set them aside for the wipe (TRUNCATE,
            # PostgreSQL's way above, fires no row triggers).
            triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).all()
            for name, _sql in triggers:
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            for table in tables:
                conn.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608  (our own table names)
            for _name, sql in triggers:
                conn.exec_driver_sql(sql)


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One migrated database per backend for this worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    root = tmp_path_factory.mktemp("databases")
    urls = {"sqlite": f"sqlite:///{root / 'kiosk.sqlite3'}"}
    if server := os.environ.get(ENV_URL):
        urls["postgresql"] = create_database(server, f"kiosk_{worker}")
    for url in urls.values():
        migrate(url, root / "media")
    return urls


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    if request.param not in database_urls:
        pytest.skip("PostgreSQL is not installed")
    return database_urls[request.param]


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(settings_for(database_url, tmp_path / "media"))
    yield app
    discard_every_recorder()  # before the wipe: no test's events land in the next test
    with app.app_context():
        db.session.remove()
        wipe(db.engine)
        db.engine.dispose()


def new_client(app: Flask) -> FlaskClient:
    """A browser that prefers English; tests of German pages ask for it."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def smtp() -> Iterator[CapturingSMTP]:
    """A real SMTP server in this process that keeps what it receives."""
    server = CapturingSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_app(app: Flask, smtp: CapturingSMTP) -> Flask:
    """The app delivering its outbox to `smtp`."""
    app.config.update(
        KIOSK_MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp.port,
        SMTP_SECURITY="none",
        KIOSK_MAIL_FROM="Kiosk <shop@kiosk.example>",
    )
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return new_client(app)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


# Either attribute order: our own inputs write name then value, WTForms' name, type, value.
CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str = "/") -> str:
    """The CSRF token of a page's form, as a browser would submit it."""
    match = CSRF_INPUT.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)
