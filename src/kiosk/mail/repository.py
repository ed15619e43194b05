"""The outbox: messages due for sending, claimed one at a time, and those staff should see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from kiosk.mail.models import MailStatus, OutboxMessage


def _due(now: datetime) -> Any:
    return or_(
        (OutboxMessage.status == MailStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == MailStatus.SENDING) & (OutboxMessage.claimed_until < now),
    )


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, message_id: int) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, message_id)

    def add(self, message: OutboxMessage) -> OutboxMessage:
        self.session.add(message)
        return message

    def due_ids(self, now: datetime, limit: int) -> list[int]:
        """Messages waiting to be sent, and claims that ran out, oldest first."""
        query = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
        return list(self.session.scalars(query))

    def claim(self, message_id: int, now: datetime, until: datetime) -> bool:
        """Take one message for sending; False when another sender was quicker."""
        result = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due(now))
            .values(status=MailStatus.SENDING, claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]

    def unsent(self, limit: int) -> list[OutboxMessage]:
        """Unsent and failed messages, newest first."""
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status != MailStatus.SENT)
            .order_by(OutboxMessage.created_at.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def failed_count(self) -> int:
        """Messages given up on, waiting for staff to send them again."""
        query = select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status == MailStatus.FAILED
        )
        return int(self.session.scalar(query) or 0)
