"""The audit log's queries. Entries are added, never changed or deleted; the one update
is the retention job shortening an address, which the database's triggers let through."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kiosk.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

HEAD_ID = 1
VERIFY_BATCH = 1000


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: AuditEvent) -> AuditEvent:
        self.session.add(event)
        return event

    def lock_head(self) -> AuditChainHead:
        """The chain's head, locked until the transaction ends (FOR UPDATE on PostgreSQL;
        on SQLite the transaction already holds the database's one write lock). A head
        that is missing (an empty database) is made first, by whoever gets there."""
        values = {"id": HEAD_ID, "last_hash": GENESIS_HASH, "length": 0}
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            self.session.execute(
                postgresql.insert(AuditChainHead).values(values).on_conflict_do_nothing()
            )
        else:
            self.session.execute(
                sqlite.insert(AuditChainHead).values(values).on_conflict_do_nothing()
            )
        query = (
            select(AuditChainHead)
            .where(AuditChainHead.id == HEAD_ID)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(query).one()

    def read_snapshot(self) -> None:
        """Let every following query of this transaction see the same committed state:
        the walk takes many queries while others append (SQLite's read transaction is
        a snapshot already; PostgreSQL's default isolation is not)."""
        if self.session.in_transaction():
            self.session.rollback()
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    def head(self) -> AuditChainHead | None:
        return self.session.get(AuditChainHead, HEAD_ID)

    def in_order(self) -> Iterator[AuditEvent]:
        """Every entry by id, read in batches so a long log is not held in memory."""
        last = 0
        while True:
            batch = self.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.id > last)
                .order_by(AuditEvent.id)
                .limit(VERIFY_BATCH)
            ).all()
            if not batch:
                return
            yield from batch
            last = batch[-1].id
            self.session.expunge_all()

    def addresses_before(self, older_than: datetime) -> list[tuple[int, str]]:
        rows = self.session.execute(
            select(AuditEvent.id, AuditEvent.ip_address)
            .where(AuditEvent.occurred_at < older_than, AuditEvent.ip_address != "")
            .order_by(AuditEvent.id)
        )
        return [(entry_id, address) for entry_id, address in rows]

    def set_address(self, entry_ids: list[int], address: str) -> None:
        """One statement for all entries whose address shortens to the same network."""
        self.session.execute(
            update(AuditEvent)
            .where(AuditEvent.id.in_(entry_ids))
            .values(ip_address=address)
            .execution_options(synchronize_session=False)
        )

    def page(
        self,
        *,
        actor_ids: list[int] | None,
        subject_ids: list[int] | None,
        event: str,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[list[AuditEvent], int]:
        """Entries newest first, filtered; `None` id lists mean "anyone", an empty list
        "no one" (an email that matches no account)."""
        query = select(AuditEvent)
        if actor_ids is not None:
            query = query.where(AuditEvent.actor_id.in_(actor_ids))
        if subject_ids is not None:
            query = query.where(AuditEvent.subject_id.in_(subject_ids))
        if event:
            query = query.where(AuditEvent.event == event)
        if since is not None:
            query = query.where(AuditEvent.occurred_at >= since)
        if until is not None:
            query = query.where(AuditEvent.occurred_at < until)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(AuditEvent.id.desc()).offset(offset).limit(limit)
        ).all()
        return list(rows), total
