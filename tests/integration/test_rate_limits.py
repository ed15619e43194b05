"""With REDIS_URL, rate limits hold across every worker, not per process."""

import os
import uuid
from pathlib import Path

import pytest
from flask import Flask

from kiosk import create_app
from kiosk.extensions import db
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
