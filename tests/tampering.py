"""What only someone with the database owner's rights can do: edit the audit log behind
its triggers' back. Tests use it to prove that the hash chain notices."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text

from kiosk.extensions import db


@contextmanager
def triggers_off(connection: Connection) -> Iterator[None]:
    """What only someone with the database owner's rights can do: edit behind the triggers."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"
        )
        yield
        connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
        return
    triggers = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"
    ).all()
    assert len(triggers) == 2
    for name, _sql in triggers:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for _name, sql in triggers:
        connection.exec_driver_sql(sql)


def tamper(sql: str, **params: Any) -> None:
    with db.engine.begin() as connection, triggers_off(connection):
        connection.execute(text(sql), params)
