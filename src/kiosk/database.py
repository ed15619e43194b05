"""Engine set-up per database, so concurrent workers wait for each other a bounded time.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys on,
and write transactions that take the write lock up front with BEGIN IMMEDIATE.
A deferred transaction that reads and then writes can fail at once with
"database is locked" when another connection wrote in between; an immediate
one waits its turn (busy_timeout) instead. Read-only transactions stay
deferred, so they run in parallel.

PostgreSQL: `lock_timeout`, so a statement that waits for a row or table lock
gives up after the same time instead of holding a worker until gunicorn kills it.

Either way a write that cannot get its lock in time raises an error that
`is_busy` recognises, and the shop answers 503 with Retry-After (`errors.py`):
the request changed nothing and may simply be sent again.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any

import psycopg.errors
from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError

WRITE_OPTION = "kiosk_write"
DEFAULT_LOCK_TIMEOUT_MS = 15_000

# PostgreSQL's answers that mean "others hold what you need; try again":
# lock_timeout expired (55P03), chosen as a deadlock's victim (40P01), or a
# concurrent update made this transaction impossible to serialise (40001).
_POSTGRESQL_BUSY = (
    psycopg.errors.LockNotAvailable,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
)
_SQLITE_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def configure_engine(engine: Engine, lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", partial(_sqlite_on_connect, lock_timeout_ms))
        event.listen(engine, "begin", _sqlite_on_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", partial(_postgresql_on_connect, lock_timeout_ms))


def _sqlite_on_connect(lock_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from the sqlite3 module, so we emit BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(lock_timeout_ms)}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgresql_on_connect(lock_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Outside a transaction, so the setting outlives the pool's rollback on check-in.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
    dbapi_connection.autocommit = autocommit


def is_busy(error: BaseException) -> bool:
    """Whether a database error means the data was locked by others for too long (or a
    deadlock or serialisation conflict chose this transaction): nothing was changed,
    and the same request may succeed a moment later."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if isinstance(original, _POSTGRESQL_BUSY):
        return True
    if isinstance(original, sqlite3.OperationalError):
        code = getattr(original, "sqlite_errorcode", 0) & 0xFF  # the primary of an extended code
        return code in _SQLITE_BUSY or "database is locked" in str(original)
    return False
