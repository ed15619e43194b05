"""Thirty wrong passwords for one account, sent at once through a real gunicorn of several
workers: the per-account limit (5 per minute) holds across the workers, whether the counts
live in the shop's database (the default) or in Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bench.server import gunicorn
from sqlalchemy import func, select

from kiosk.accounts.models import User
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from tests.factories import make_user
from tests.live_gunicorn import ShopDatabase, Shopper, server_env
from tests.redis_server import ENV_URL as REDIS_ENV_URL

ATTEMPTS = 30
ACCOUNT_LIMIT = 5  # "5 per minute" for the account named in the form
# What is counted here is checks, not their cost: cheap Argon2 keeps the test fast.
CHEAP_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}


def _redis_url() -> str:
    url = os.environ.get(REDIS_ENV_URL)
    if not url:
        pytest.skip("Redis is not installed")
    return url


def _failed_checks(database: ShopDatabase, email: str) -> int:
    """Password checks the server made for this account: its `signin.failed` audit rows."""
    with database.app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        count = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.event == "signin.failed", AuditEvent.subject_id == user_id)
        )
        return int(count or 0)


def _guess(base_url: str, email: str, address: str) -> list[int]:
    """ATTEMPTS browsers, four at a time, each fetch the sign-in form and post a wrong
    password on a new connection, which whichever worker is free accepts."""

    def guess(attempt: int) -> int:
        shopper = Shopper(base_url)
        shopper.headers["X-Forwarded-For"] = address
        try:
            token = shopper.csrf_token(shopper.get("/signin"))
            shopper.close()
            form = {"csrf_token": token, "email": email, "password": f"wrong guess {attempt}"}
            return shopper.post("/signin", form).status
        finally:
            shopper.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(guess, range(ATTEMPTS)))


@pytest.fixture
def shop_database(tmp_path: Path) -> Iterator[ShopDatabase]:
    database = ShopDatabase(f"sqlite:///{tmp_path / 'kiosk.sqlite3'}")
    yield database
    database.close()


@pytest.mark.parametrize(
    ("worker_class", "workers", "threads"), [("gthread", 3, 4)], ids=["3-gthread"]
)
@pytest.mark.parametrize("storage", ["database", "redis"])
def test_thirty_wrong_passwords_get_at_most_five_checks_across_workers(
    shop_database: ShopDatabase,
    tmp_path: Path,
    storage: str,
    worker_class: str,
    workers: int,
    threads: int,
) -> None:
    redis_url = _redis_url() if storage == "redis" else ""
    # Redis outlives the test: this run's account and address are its own.
    email, address = f"{uuid.uuid4().hex}@example.org", f"10.{uuid.uuid4().int % 250}.1.2"
    with shop_database.app.app_context():
        shop_database.app.config.update(CHEAP_ARGON2)
        make_user(email=email)
    env = server_env(
        f"sqlite:///{tmp_path / 'kiosk.sqlite3'}",
        tmp_path,
        REDIS_URL=redis_url,
        KIOSK_PROXY_FIX="1",  # the address comes from X-Forwarded-For, as behind nginx
        KIOSK_MAIL_FLUSH_AFTER_REQUEST="0",
        **{name: str(value) for name, value in CHEAP_ARGON2.items()},
    )
    log_file = tmp_path / "gunicorn.log"
    with gunicorn(
        "kiosk:create_app()",
        env=env,
        log_file=log_file,
        workers=workers,
        worker_class=worker_class,
        threads=threads,
        ready_path="/healthz",
    ) as base_url:
        statuses = _guess(base_url, email, address)

    checks = _failed_checks(shop_database, email)
    log = log_file.read_text(encoding="utf-8", errors="replace")
    print(f"{storage}, {workers} {worker_class} workers: {checks} of {ATTEMPTS} checked")
    assert sorted(set(statuses)) == [422, 429], (statuses, log)
    assert statuses.count(422) == checks
    assert checks == ACCOUNT_LIMIT, log
    assert "Traceback" not in log, log
