"""Rate-limit counters kept in the shop's database, shared by every worker and instance:
the table and its queries.

One row per limit and key (`kiosk.rate_limit_storage`): the moving window's
recent hits, or the fixed window's count. The key is stored as a SHA-256,
because it holds email and IP addresses and nothing needs to read it back.
Every query runs on a connection of its own, outside the request's session.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import JSON, Connection, Double, String, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base


class RateLimitWindow(Base):
    __tablename__ = "rate_limit_window"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Moving window: the times (Unix seconds) of the hits still inside it, newest first.
    hits: Mapped[list[float]] = mapped_column(JSON, default=list)
    # Fixed window: the hits counted since the window began.
    count: Mapped[int] = mapped_column(default=0)
    # When the row means nothing any more (Unix seconds); older rows are deleted.
    expires_at: Mapped[float] = mapped_column(Double, index=True)


_window = cast(Table, RateLimitWindow.__table__)


def delete_expired(connection: Connection, now: float) -> None:
    connection.execute(delete(_window).where(_window.c.expires_at < now))


def locked(connection: Connection, key_hash: str) -> Any:
    """The key's row, created if missing, locked until the transaction ends."""
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


def read(connection: Connection, key_hash: str) -> Any:
    return connection.execute(select(_window).where(_window.c.key_hash == key_hash)).one_or_none()


def write(connection: Connection, key_hash: str, **values: Any) -> None:
    """Change the key's row: `count` and `expires_at` (fixed window), `hits` (moving)."""
    connection.execute(update(_window).where(_window.c.key_hash == key_hash).values(**values))


def delete_key(connection: Connection, key_hash: str) -> None:
    connection.execute(delete(_window).where(_window.c.key_hash == key_hash))


def delete_all(connection: Connection) -> int:
    count = connection.execute(select(func.count()).select_from(_window)).scalar_one()
    connection.execute(delete(_window))
    return int(count)


def reachable(connection: Connection) -> None:
    connection.execute(select(1))
