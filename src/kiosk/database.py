"""Engine set-up per database, so SQLite behaves well under concurrent workers.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys on,
and write transactions that take the write lock up front with BEGIN IMMEDIATE.
A deferred transaction that reads and then writes can fail at once with
"database is locked" when another connection wrote in between; an immediate
one waits its turn (busy_timeout) instead. Read-only transactions stay
deferred, so they run in parallel.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

WRITE_OPTION = "kiosk_write"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from the sqlite3 module, so we emit BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
