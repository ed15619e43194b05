"""The SQL that backups and health checks send to the database as a whole, not to a domain's
tables: is it reachable, what a snapshot holds, which tables hold rows, and the SQLite
settings of a backup copy. Domains keep their own queries in their repositories."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from sqlalchemy import Connection, Table, select, text

ALEMBIC_TABLE = "alembic_version"


def ping(connection: Connection) -> None:
    connection.execute(text("SELECT 1"))


def revision(connection: Connection) -> tuple[str, ...]:
    """The schema revision(s) the database is at."""
    return tuple(connection.scalars(text("SELECT version_num FROM alembic_version")))


def count(connection: Connection, table: str) -> int:
    """The rows of one of the shop's tables (the manifest counts orders, products, accounts)."""
    return int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608


def export_snapshot(connection: Connection) -> str:
    """PostgreSQL: the id of this transaction's snapshot, for pg_dump --snapshot."""
    return str(connection.scalar(text("SELECT pg_export_snapshot()")))


def holding_rows(connection: Connection, tables: Iterable[Table]) -> list[str]:
    """The names of those tables that hold at least one row."""
    return [table.name for table in tables if connection.execute(select(table).limit(1)).first()]


def stand_alone(copy: sqlite3.Connection) -> str:
    """Make a SQLite copy a file that stands alone (no WAL beside it) and check it: "ok", or
    what is damaged."""
    copy.execute("PRAGMA journal_mode = DELETE")
    return str(copy.execute("PRAGMA quick_check").fetchone()[0])


def write_ahead(database: sqlite3.Connection) -> None:
    """A restored SQLite database goes back to the journal mode the shop runs with."""
    database.execute("PRAGMA journal_mode = WAL")
