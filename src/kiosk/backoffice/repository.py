"""Queries of the back office's own tables (import jobs, shop settings); never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from kiosk.backoffice.models import ImportJob, ImportStatus, ShopSetting

RUNNING = (ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.APPLYING)


class ImportJobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, job: ImportJob) -> ImportJob:
        self.session.add(job)
        self.session.flush()
        return job

    def get(self, job_id: int) -> ImportJob | None:
        return self.session.get(ImportJob, job_id)

    def recent(self, limit: int) -> Sequence[ImportJob]:
        return self.session.scalars(
            select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)
        ).all()

    def claim(self, job_id: int, now: datetime, until: datetime) -> bool:
        """Take a running job whose lease is free or ran out; False if another runner has it."""
        result = self.session.execute(
            update(ImportJob)
            .where(
                ImportJob.id == job_id,
                ImportJob.status.in_(RUNNING),
                or_(ImportJob.lease_until.is_(None), ImportJob.lease_until < now),
            )
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def start_applying(self, job_id: int, staff_id: int) -> bool:
        """Checked without problems -> applying, once: a second submit finds it applying."""
        result = self.session.execute(
            update(ImportJob)
            .where(
                ImportJob.id == job_id,
                ImportJob.status == ImportStatus.CHECKED,
                ImportJob.problem_count == 0,
            )
            .values(status=ImportStatus.APPLYING, rows_done=0, applied_by_id=staff_id)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def stalled(self, now: datetime) -> list[int]:
        """Running jobs that no runner holds: new ones, and those whose runner died."""
        return list(
            self.session.scalars(
                select(ImportJob.id)
                .where(
                    ImportJob.status.in_(RUNNING),
                    or_(ImportJob.lease_until.is_(None), ImportJob.lease_until < now),
                )
                .order_by(ImportJob.id)
            )
        )


class ShopSettingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def values(self) -> dict[str, str]:
        return {row.key: row.value for row in self.session.scalars(select(ShopSetting))}

    def put(self, key: str, value: str, author_id: int) -> None:
        row = self.session.get(ShopSetting, key)
        if row is None:
            self.session.add(ShopSetting(key=key, value=value, updated_by_id=author_id))
        else:
            row.value, row.updated_by_id = value, author_id
        self.session.flush()
