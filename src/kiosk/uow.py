"""The unit of work: the one way a service changes the database.

    with unit_of_work() as session:
        repo = ProductRepository(session)
        ...

It starts a fresh write transaction (BEGIN IMMEDIATE on SQLite, see
`kiosk.database`), commits when the block ends and rolls back on any error.
Services are the only code that opens one; views and repositories never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from kiosk.database import WRITE_OPTION
from kiosk.extensions import db


def read_session() -> Session:
    """The request's session, for use cases that only read."""
    return db.session()


class NestedUnitOfWork(RuntimeError):
    """A service opened a unit of work inside another one."""


@contextmanager
def unit_of_work(dry_run: bool = False) -> Iterator[Session]:
    """With `dry_run`, the block's work is rolled back at its end instead of committed: a
    job's `--dry-run` does everything it would and counts it, and changes nothing."""
    session: Session = db.session()
    if session.info.get("in_unit_of_work"):
        raise NestedUnitOfWork("units of work do not nest; pass the session down instead")
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("unsaved changes outside a unit of work")
    # End any read transaction the request had open, so the write transaction
    # starts from a fresh snapshot and takes the write lock up front.
    if session.in_transaction():
        session.rollback()
    session.info["in_unit_of_work"] = True
    try:
        session.connection(execution_options={WRITE_OPTION: True})
        yield session
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info["in_unit_of_work"] = False


def lock_for_writers(session: Session, table: str) -> None:
    """Keep other writers of `table` out until this transaction ends, readers not (a job
    that must not write the same rows twice when two of its runs meet). On SQLite the unit
    of work's BEGIN IMMEDIATE already holds the one write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
