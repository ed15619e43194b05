"""Rate-limit counters in the shop's own database: `RATELIMIT_STORAGE_URI = "kiosk-db://"`.

Flask-Limiter keeps its counters wherever `limits` has a storage for the URI.
In memory, every gunicorn worker counts alone, so a limit of 5 let 15 password
guesses through with 3 workers. This storage counts in the database every
worker and instance already shares, so without Redis the limits still hold.

Each hit is one short write transaction of its own, on its own connection,
outside the request's session: BEGIN IMMEDIATE on SQLite (one writer at a
time), and on PostgreSQL the key's row locked with SELECT … FOR UPDATE. So no
two workers can both see "4 of 5" and both let a fifth attempt through. Rows
past their window are deleted at most once a minute per process.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from flask import current_app
from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import Connection, Engine, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from kiosk.database import WRITE_OPTION
from kiosk.models.rate_limit import RateLimitWindow

SCHEME = "kiosk-db"
CLEANUP_EVERY_S = 60.0

_window = cast(Table, RateLimitWindow.__table__)


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage, MovingWindowSupport):
    """A `limits` storage over the current app's SQLAlchemy engine (fixed and moving window)."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012  (the attribute `limits` registers by)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_cleanup = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def _engine(self) -> Engine:
        # Looked up per call: one Limiter object serves every app made in a process.
        engine: Engine = current_app.extensions["sqlalchemy"].engine
        return engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A short write transaction of its own (BEGIN IMMEDIATE on SQLite)."""
        with self._engine().connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                yield connection
                now = time.time()
                if now >= self._next_cleanup:
                    self._next_cleanup = now + CLEANUP_EVERY_S
                    connection.execute(delete(_window).where(_window.c.expires_at < now))

    def _locked(self, connection: Connection, key: str) -> Any:
        """The key's row, created if missing, locked until the transaction ends."""
        key_hash = _hashed(key)
        query = select(_window).where(_window.c.key_hash == key_hash).with_for_update()
        row = connection.execute(query).one_or_none()
        if row is None:
            insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
            connection.execute(
                insert(_window)
                .values(key_hash=key_hash, hits=[], count=0, expires_at=0.0)
                .on_conflict_do_nothing(index_elements=["key_hash"])
            )
            row = connection.execute(query).one()
        return row

    def _read(self, key: str) -> Any:
        with self._engine().connect() as connection:
            query = select(_window).where(_window.c.key_hash == _hashed(key))
            return connection.execute(query).one_or_none()

    # Fixed window ------------------------------------------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._write() as connection:
            row = self._locked(connection, key)
            count, expires_at = (row.count, row.expires_at) if row.expires_at > now else (0, 0.0)
            count += amount
            expires_at = expires_at or now + expiry
            connection.execute(
                update(_window)
                .where(_window.c.key_hash == row.key_hash)
                .values(count=count, expires_at=expires_at)
            )
        return int(count)

    def get(self, key: str) -> int:
        row = self._read(key)
        return int(row.count) if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._read(key)
        now = time.time()
        return float(row.expires_at) if row is not None and row.expires_at > now else now

    # Moving window -----------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._write() as connection:
            row = self._locked(connection, key)
            hits = [at for at in row.hits if at > now - expiry]
            if len(hits) + amount > limit:
                return False
            hits = ([now] * amount + hits)[:limit]
            connection.execute(
                update(_window)
                .where(_window.c.key_hash == row.key_hash)
                .values(hits=hits, expires_at=now + expiry)
            )
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The oldest hit still in the window and how many hits it holds."""
        row = self._read(key)
        now = time.time()
        hits = [at for at in (row.hits if row is not None else []) if at > now - expiry]
        return (min(hits), len(hits)) if hits else (now, 0)

    # Housekeeping ------------------------------------------------------------------

    def clear(self, key: str) -> None:
        with self._write() as connection:
            connection.execute(delete(_window).where(_window.c.key_hash == _hashed(key)))

    def reset(self) -> int | None:
        with self._write() as connection:
            count = connection.execute(select(func.count()).select_from(_window)).scalar_one()
            connection.execute(delete(_window))
        return int(count)

    def check(self) -> bool:
        try:
            with self._engine().connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True
