"""What staff do with customer accounts: find them, write notes, resend the verification
mail, disable and enable sign-in. Each change is audited with the staff member who made it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kiosk.accounts import services as accounts
from kiosk.accounts import user_sessions
from kiosk.accounts.models import CustomerNote, Role, User
from kiosk.accounts.repository import CustomerNoteRepository, UserRepository
from kiosk.accounts.services import AccountError
from kiosk.audit import services as audit
from kiosk.uow import read_session, unit_of_work


def search(text: str, page: int, per_page: int) -> tuple[list[User], int]:
    """One page of accounts whose email or name contains `text`, and how many match."""
    return UserRepository(read_session()).search(text, (page - 1) * per_page, per_page)


def get(user_id: int) -> User | None:
    return UserRepository(read_session()).get(user_id)


def ids_with_email(text: str, limit: int = 1000) -> list[int]:
    """The ids of the accounts whose email contains `text` (the first `limit` of them)."""
    return UserRepository(read_session()).ids_with_email_containing(text, limit)


def emails_of(user_ids: set[int]) -> dict[int, str]:
    """id -> email of the accounts there still are among `user_ids`."""
    return UserRepository(read_session()).emails_of(user_ids) if user_ids else {}


def notes(user_id: int) -> list[CustomerNote]:
    """Staff notes about the customer, the newest first."""
    return CustomerNoteRepository(read_session()).of_user(user_id)


def _staff_and_customer(session: Session, staff_id: int, user_id: int) -> tuple[User, User]:
    users = UserRepository(session)
    staff, customer = users.get(staff_id), users.get(user_id)
    if customer is None:
        raise LookupError(user_id)
    if staff is None or not staff.is_staff:
        raise AccountError("not_allowed")
    return staff, customer


def add_note(staff_id: int, user_id: int, body: str) -> None:
    with unit_of_work() as session:
        staff, customer = _staff_and_customer(session, staff_id, user_id)
        note = CustomerNoteRepository(session).add(
            CustomerNote(user_id=customer.id, author_id=staff.id, body=body)
        )
        session.flush()
        audit.record(session, "customer.note_added", actor=staff, subject=customer, note=note.id)


def resend_verification(staff_id: int, user_id: int) -> bool:
    """Mail a fresh verification link; False if the address is confirmed already."""
    with unit_of_work() as session:
        staff, customer = _staff_and_customer(session, staff_id, user_id)
        if customer.is_verified:
            return False
        accounts.queue_verification(session, customer)
        audit.record(session, "customer.verification_resent", actor=staff, subject=customer)
        return True


def may_disable(staff_id: int, customer: User) -> bool:
    """Staff may not lock out an owner, nor themselves."""
    return customer.role is not Role.OWNER and customer.id != staff_id


def disable(staff_id: int, user_id: int) -> bool:
    """Stop the account from signing in and end all its sessions at once (as a password
    reset does). False if it was disabled already. A password reset does not undo it."""
    with unit_of_work() as session:
        staff, customer = _staff_and_customer(session, staff_id, user_id)
        if not may_disable(staff.id, customer):
            raise AccountError("not_allowed")
        if not customer.is_active:
            return False
        customer.is_active = False
        customer.session_version += 1
        user_sessions.end_all(session, customer.id)
        audit.record(
            session, "customer.disabled", actor=staff, subject=customer, before=True, after=False
        )
        return True


def enable(staff_id: int, user_id: int) -> bool:
    """Let the account sign in again; False if it could already."""
    with unit_of_work() as session:
        staff, customer = _staff_and_customer(session, staff_id, user_id)
        if customer.is_active:
            return False
        customer.is_active = True
        audit.record(
            session, "customer.enabled", actor=staff, subject=customer, before=False, after=True
        )
        return True
