"""The audit log is append-only: events are added, never changed or deleted."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kiosk.audit.models import AuditEvent


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: AuditEvent) -> AuditEvent:
        self.session.add(event)
        return event
