"""The analytics' queries: writing batches of raw events, and the day's salt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from kiosk.analytics.models import AnalyticsEvent, AnalyticsSalt


class RecordingRepository:
    """What the recorder writes; it never commits (the recorder's own transaction does)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_events(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """One INSERT for the whole batch (executemany): every row has every column."""
        if rows:
            self.session.execute(insert(AnalyticsEvent), list(rows))

    def salt(self, day: date) -> bytes | None:
        return self.session.scalar(select(AnalyticsSalt.salt).where(AnalyticsSalt.day == day))

    def add_salt(self, day: date, salt: bytes) -> None:
        """Insert the day's salt; raises IntegrityError if another process was first."""
        self.session.add(AnalyticsSalt(day=day, salt=salt))
        self.session.flush()

    def delete_salts_before(self, day: date) -> None:
        self.session.execute(delete(AnalyticsSalt).where(AnalyticsSalt.day < day))
