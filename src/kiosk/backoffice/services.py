"""Staff actions of the back office that no single domain owns; each one is audited with
the staff member who did it."""

from __future__ import annotations

from kiosk.accounts import services as accounts
from kiosk.audit import services as audit
from kiosk.mail import services as mail
from kiosk.uow import unit_of_work


def retry_mail(staff_id: int, message_id: int) -> bool:
    """A failed message gets a fresh set of attempts; False if it had not failed."""
    with unit_of_work() as session:
        if not mail.give_another_chance(session, message_id):
            return False
        audit.record(
            session, "mail.retried", actor=accounts.find_user(session, staff_id), message=message_id
        )
        return True
