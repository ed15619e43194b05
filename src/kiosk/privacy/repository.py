"""The privacy domain's queries; never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.privacy.models import ConsentCategory, ConsentRecord


class ConsentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: ConsentRecord) -> ConsentRecord:
        self.session.add(record)
        self.session.flush()
        return record

    def latest(self, consent_id: str) -> ConsentRecord | None:
        stmt = (
            select(ConsentRecord)
            .where(ConsentRecord.consent_id == consent_id)
            .order_by(ConsentRecord.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def history(self, consent_id: str) -> list[ConsentRecord]:
        stmt = (
            select(ConsentRecord)
            .where(ConsentRecord.consent_id == consent_id)
            .order_by(ConsentRecord.id)
        )
        return list(self.session.scalars(stmt))

    def categories_in_use(self) -> set[str]:
        stmt = select(ConsentCategory.name).where(ConsentCategory.in_use.is_(True))
        return set(self.session.scalars(stmt))

    def set_in_use(self, name: str, in_use: bool, staff_id: int | None) -> None:
        row = self.session.get(ConsentCategory, name)
        if row is None:
            self.session.add(ConsentCategory(name=name, in_use=in_use, updated_by_id=staff_id))
        else:
            row.in_use, row.updated_by_id = in_use, staff_id
        self.session.flush()
