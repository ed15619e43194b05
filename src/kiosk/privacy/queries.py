"""The privacy centre's writes across the schema. Erasure and retention act on every table
alike, so they work on `kiosk.orm.Base.metadata` tables with SQLAlchemy Core, steered by the
personal-data map, instead of asking each domain's repository. Finding a person's rows is
`repository.rows_of`, which export uses too."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, Table, and_, delete, func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from kiosk.orm import Base
from kiosk.privacy.models import ErasureRequest, ErasureState


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def fitting(sql_table: Table, column: str, value: Any) -> Any:
    """A map's anonymised value as the column stores it: binary columns take bytes."""
    if isinstance(value, str) and isinstance(sql_table.columns[column].type, LargeBinary):
        return value.encode()
    return value


class PersonalDataRepository:
    """Generic reads and writes of rows by id, for erasure and retention."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ids_where(self, name: str, condition: ColumnElement[bool]) -> set[int]:
        sql_table = table(name)
        return set(self.session.scalars(select(sql_table.c.id).where(condition)))

    def ids_of_children(self, name: str, column: str, parents: Collection[int]) -> set[int]:
        if not parents:
            return set()
        return self.ids_where(name, table(name).c[column].in_(sorted(parents)))

    def values(self, name: str, column: str, ids: Collection[int]) -> dict[int, Any]:
        if not ids:
            return {}
        sql_table = table(name)
        rows = self.session.execute(
            select(sql_table.c.id, sql_table.c[column]).where(sql_table.c.id.in_(sorted(ids)))
        )
        return {row[0]: row[1] for row in rows}

    def delete_rows(self, name: str, ids: Collection[int]) -> int:
        if not ids:
            return 0
        sql_table = table(name)
        self.session.execute(delete(sql_table).where(sql_table.c.id.in_(sorted(ids))))
        return len(ids)

    def write(self, name: str, row_id: int, values: dict[str, Any]) -> None:
        sql_table = table(name)
        self.session.execute(sql_update(sql_table).where(sql_table.c.id == row_id).values(**values))

    def ids_older_than(
        self, name: str, column: str, before: datetime, extra: ColumnElement[bool] | None = None
    ) -> set[int]:
        sql_table = table(name)
        condition = and_(sql_table.c[column].is_not(None), sql_table.c[column] < before)
        return self.ids_where(name, condition if extra is None else and_(condition, extra))

    def count_where(self, name: str, condition: ColumnElement[bool]) -> int:
        sql_table = table(name)
        return int(
            self.session.scalar(select(func.count()).select_from(sql_table).where(condition)) or 0
        )

    def delete_where(self, name: str, condition: ColumnElement[bool]) -> int:
        sql_table = table(name)
        return int(self.session.execute(delete(sql_table).where(condition)).rowcount or 0)  # type: ignore[attr-defined]


class ErasureRequestRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: ErasureRequest) -> ErasureRequest:
        self.session.add(request)
        self.session.flush()
        return request

    def get(self, request_id: int) -> ErasureRequest | None:
        return self.session.get(ErasureRequest, request_id)

    def by_token_hash(self, token_hash: str) -> ErasureRequest | None:
        return self.session.scalars(
            select(ErasureRequest).where(ErasureRequest.token_hash == token_hash).with_for_update()
        ).first()

    def open_for_user(self, user_id: int) -> ErasureRequest | None:
        return self.session.scalars(
            select(ErasureRequest)
            .where(
                ErasureRequest.user_id == user_id,
                ErasureRequest.state != ErasureState.DONE,
            )
            .order_by(ErasureRequest.id.desc())
        ).first()

    def postponed(self) -> list[ErasureRequest]:
        return list(
            self.session.scalars(
                select(ErasureRequest)
                .where(ErasureRequest.state == ErasureState.POSTPONED)
                .order_by(ErasureRequest.id)
            )
        )

    def latest(self, limit: int = 200, state: ErasureState | None = None) -> list[ErasureRequest]:
        query = select(ErasureRequest).order_by(ErasureRequest.requested_at.desc()).limit(limit)
        if state is not None:
            query = query.where(ErasureRequest.state == state)
        return list(self.session.scalars(query))

    def count_pending(self) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(ErasureRequest)
                .where(ErasureRequest.state.in_([ErasureState.CONFIRMED, ErasureState.POSTPONED]))
            )
            or 0
        )
