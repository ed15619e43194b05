"""Which database errors mean "busy, try again" (503) and which are faults (500).

The real lock timeouts of both databases are tested in functional/test_busy_database.py;
deadlocks and serialisation failures are PostgreSQL's own exception classes here.
"""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from kiosk.database import is_busy


@pytest.mark.parametrize(
    "driver_error",
    [
        psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        sqlite3.OperationalError("database is locked"),
    ],
)
def test_lock_conflicts_are_busy(driver_error: Exception) -> None:
    assert is_busy(OperationalError("UPDATE product SET …", {}, driver_error))


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: product")),
        OperationalError("SELECT 1", {}, psycopg.errors.QueryCanceled("canceling statement")),
        IntegrityError("INSERT …", {}, psycopg.errors.UniqueViolation("duplicate key")),
        ValueError("database is locked"),
    ],
)
def test_other_errors_are_faults(error: Exception) -> None:
    assert not is_busy(error)
