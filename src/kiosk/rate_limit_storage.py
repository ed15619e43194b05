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
from typing import Any

from flask import current_app
from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from kiosk import rate_limit_repository as windows
from kiosk.database import WRITE_OPTION

SCHEME = "kiosk-db"
CLEANUP_EVERY_S = 60.0


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
                    windows.delete_expired(connection, now)

    def _read(self, key: str) -> Any:
        with self._engine().connect() as connection:
            return windows.read(connection, _hashed(key))

    # Fixed window ------------------------------------------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._write() as connection:
            row = windows.locked(connection, _hashed(key))
            count, expires_at = (row.count, row.expires_at) if row.expires_at > now else (0, 0.0)
            count += amount
            expires_at = expires_at or now + expiry
            windows.write(connection, row.key_hash, count=count, expires_at=expires_at)
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
            row = windows.locked(connection, _hashed(key))
            hits = [at for at in row.hits if at > now - expiry]
            if len(hits) + amount > limit:
                return False
            hits = ([now] * amount + hits)[:limit]
            windows.write(connection, row.key_hash, hits=hits, expires_at=now + expiry)
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
            windows.delete_key(connection, _hashed(key))

    def reset(self) -> int | None:
        with self._write() as connection:
            return windows.delete_all(connection)

    def check(self) -> bool:
        try:
            with self._engine().connect() as connection:
                windows.reachable(connection)
        except SQLAlchemyError:
            return False
        return True
