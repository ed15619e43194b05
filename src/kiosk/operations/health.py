"""Readiness: the database is reachable and migrated to the newest revision."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from kiosk.config import PROJECT_ROOT
from kiosk.extensions import db
from kiosk.operations import queries


@dataclass(frozen=True)
class Readiness:
    database: bool
    migrations: bool
    detail: str = ""

    @property
    def ready(self) -> bool:
        return self.database and self.migrations

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ready else "unavailable",
            "database": self.database,
            "migrations_at_head": self.migrations,
            "detail": self.detail,
        }


@cache
def migration_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_heads())


def readiness() -> Readiness:
    try:
        with db.engine.connect() as conn:
            queries.ping(conn)
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        return Readiness(False, False, type(exc).__name__)
    heads = migration_heads()
    if current != heads:
        return Readiness(True, False, f"database at {sorted(current)}, code at {sorted(heads)}")
    return Readiness(True, True)
