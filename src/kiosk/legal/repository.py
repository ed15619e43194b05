"""The queries of the legal texts: versions are added and read, never changed."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.legal.models import LegalTextVersion


class LegalTextRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def latest_number(self, kind: str) -> int | None:
        return self.session.scalar(
            select(func.max(LegalTextVersion.number)).where(LegalTextVersion.kind == kind)
        )

    def version(self, kind: str, number: int) -> dict[str, LegalTextVersion]:
        """The rows of one version, by language."""
        query = select(LegalTextVersion).where(
            LegalTextVersion.kind == kind, LegalTextVersion.number == number
        )
        return {row.language: row for row in self.session.scalars(query)}

    def number_from_digest(self, kind: str, digest: str) -> int | None:
        return self.session.scalar(
            select(func.min(LegalTextVersion.number)).where(
                LegalTextVersion.kind == kind, LegalTextVersion.source_digest == digest
            )
        )

    def history(self, kind: str) -> list[LegalTextVersion]:
        """One row per version (the first language's), newest first."""
        query = (
            select(LegalTextVersion)
            .where(LegalTextVersion.kind == kind)
            .order_by(LegalTextVersion.number.desc(), LegalTextVersion.language)
        )
        seen: set[int] = set()
        rows = []
        for row in self.session.scalars(query):
            if row.number not in seen:
                seen.add(row.number)
                rows.append(row)
        return rows

    def add(self, rows: list[LegalTextVersion]) -> list[LegalTextVersion]:
        self.session.add_all(rows)
        self.session.flush()
        return rows
