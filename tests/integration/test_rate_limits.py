"""Rate limits hold across every worker, not per process: in Redis with REDIS_URL, else
in the shop's database (`kiosk.rate_limit_storage`), on SQLite and PostgreSQL."""

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from limits.storage import storage_from_string
from sqlalchemy import select, update

from kiosk import create_app
from kiosk.config import load_settings
from kiosk.extensions import db
from kiosk.rate_limit_repository import RateLimitWindow
from kiosk.rate_limit_storage import DatabaseStorage
from tests.conftest import csrf_token, settings_for
from tests.factories import make_user
from tests.redis_server import ENV_URL


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(ENV_URL)
    if not url:
        pytest.skip("Redis is not installed")
    return url


def test_sign_in_limits_are_shared_by_workers_through_redis(
    app: Flask, redis_url: str, tmp_path: Path
) -> None:
    # Redis outlives the test, so this run uses an account and address of its own.
    email, address = f"{uuid.uuid4().hex}@example.org", f"10.{uuid.uuid4().int % 250}.0.1"
    with app.app_context():
        make_user(email=email)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    workers = [
        create_app(settings_for(url, tmp_path, RATELIMIT_STORAGE_URI=redis_url)) for _ in range(2)
    ]
    statuses = []
    for attempt in range(6):
        client = workers[attempt % 2].test_client()  # requests alternate between the workers
        client.environ_base["REMOTE_ADDR"] = address
        data = {"csrf_token": csrf_token(client, "/signin"), "email": email, "password": "wrong"}
        statuses.append(client.post("/signin", data=data).status_code)
    for worker in workers:
        with worker.app_context():
            db.engine.dispose()
    assert statuses == [422] * 5 + [429]


# Without Redis: the counts live in the shop's database ------------------------------------


def test_without_redis_the_limits_are_counted_in_the_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert load_settings(tmp_path, {})["RATELIMIT_STORAGE_URI"] == "kiosk-db://"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert load_settings(tmp_path, {})["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert isinstance(storage_from_string("kiosk-db://"), DatabaseStorage)


def test_sign_in_limits_are_shared_by_workers_through_the_database(
    app: Flask, tmp_path: Path
) -> None:
    with app.app_context():
        make_user(email="jana@example.org")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    workers = [
        create_app(settings_for(url, tmp_path, RATELIMIT_STORAGE_URI="kiosk-db://"))
        for _ in range(2)
    ]
    statuses = []
    for attempt in range(6):
        client = workers[attempt % 2].test_client()  # requests alternate between the workers
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{attempt}"
        data = {
            "csrf_token": csrf_token(client, "/signin"),
            "email": "jana@example.org",
            "password": "wrong",
        }
        statuses.append(client.post("/signin", data=data).status_code)
    for worker in workers:
        with worker.app_context():
            db.engine.dispose()
    assert statuses == [422] * 5 + [429]


@pytest.fixture
def storage(app: Flask) -> Iterator[DatabaseStorage]:
    with app.app_context():
        yield DatabaseStorage("kiosk-db://")


def _rows() -> dict[str, tuple[list[float], int, float]]:
    rows = db.session.execute(select(RateLimitWindow.__table__)).all()
    db.session.rollback()
    return {row.key_hash: (row.hits, row.count, row.expires_at) for row in rows}


def test_a_moving_window_lets_the_limit_through_and_no_more(storage: DatabaseStorage) -> None:
    assert [storage.acquire_entry("signin/a", 5, 60) for _ in range(6)] == [True] * 5 + [False]
    assert storage.acquire_entry("signin/b", 5, 60)  # another key counts on its own
    start, count = storage.get_moving_window("signin/a", 5, 60)
    assert count == 5 and time.time() - 60 < start <= time.time()
    assert storage.get_moving_window("signin/unknown", 5, 60)[1] == 0
    assert not storage.acquire_entry("signin/c", 2, 60, amount=3)
    storage.clear("signin/a")
    assert storage.acquire_entry("signin/a", 5, 60)


def test_hits_that_left_the_window_no_longer_count(storage: DatabaseStorage) -> None:
    assert [storage.acquire_entry("k", 2, 60) for _ in range(3)] == [True, True, False]
    with db.session.begin():  # both hits were a minute and a half ago
        old = time.time() - 90
        db.session.execute(update(RateLimitWindow).values(hits=[old, old], expires_at=old + 60))
    assert storage.get_moving_window("k", 2, 60)[1] == 0
    assert storage.acquire_entry("k", 2, 60)


def test_the_key_is_stored_hashed_and_expired_rows_are_deleted(
    storage: DatabaseStorage,
) -> None:
    key = "LIMITER/account:jana@example.org/auth.signin/5/1/minute"
    storage.acquire_entry(key, 5, 60)
    storage.acquire_entry("gone", 5, 60)
    with db.session.begin():
        db.session.execute(
            update(RateLimitWindow)
            .where(RateLimitWindow.key_hash == hashlib.sha256(b"gone").hexdigest())
            .values(expires_at=time.time() - 1)
        )
    storage._next_cleanup = 0.0  # the once-a-minute cleanup is due
    storage.acquire_entry(key, 5, 60)
    assert list(_rows()) == [hashlib.sha256(key.encode()).hexdigest()]
    assert "jana" not in str(_rows())


def test_a_fixed_window_counts_up_until_it_expires(storage: DatabaseStorage) -> None:
    assert [storage.incr("f", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("f") == 3 and storage.get("other") == 0
    assert time.time() < storage.get_expiry("f") <= time.time() + 60
    with db.session.begin():
        db.session.execute(update(RateLimitWindow).values(expires_at=time.time() - 1))
    assert storage.get("f") == 0
    assert storage.incr("f", 60, amount=2) == 2
    assert storage.check()
    assert storage.reset() == 1 and _rows() == {}


def test_concurrent_hits_from_many_connections_never_exceed_the_limit(
    app: Flask, storage: DatabaseStorage
) -> None:
    together = threading.Barrier(12, timeout=30)

    def hit(_: int) -> bool:
        with app.app_context():
            together.wait()
            return storage.acquire_entry("race", 5, 60)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(hit, range(12)))
    assert results.count(True) == 5
    assert storage.get_moving_window("race", 5, 60)[1] == 5
