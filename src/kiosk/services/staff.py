"""Staff actions; each one is audited with the staff member who did it."""

from __future__ import annotations

from kiosk.accounts.models import User
from kiosk.audit import services as audit
from kiosk.mail.models import MailStatus, OutboxMessage
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work


def retry_mail(staff_id: int, message_id: int) -> bool:
    """A failed message gets a fresh set of attempts; False if it had not failed."""
    with unit_of_work() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None or message.status is not MailStatus.FAILED:
            return False
        message.status, message.attempts, message.next_attempt_at = MailStatus.PENDING, 0, utcnow()
        audit.record(session, "mail.retried", actor=session.get(User, staff_id), message=message_id)
        return True
