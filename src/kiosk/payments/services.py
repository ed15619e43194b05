"""What happens to payment rows, as steps of the order use cases that move money
(`orders.settlement`, `orders.card_payment`): each takes the caller's session, except
the reads that end their transaction before a provider is asked anything."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.money import Money
from kiosk.orm import utcnow
from kiosk.payments.models import Payment, PaymentEvent, PaymentStatus
from kiosk.payments.repository import PaymentRepository
from kiosk.uow import read_session


def mark_paid(payment: Payment, intent_id: str | None = None) -> None:
    """The money arrived (`intent_id`: the provider's id of it, needed for refunds)."""
    payment.status, payment.paid_at = PaymentStatus.PAID, utcnow()
    if intent_id is not None:
        payment.intent_id = intent_id


def add_refund(session: Session, payment: Payment, before: int, amount: Money) -> bool:
    """Count a refund, if what was refunded is still `before` (else another refund came
    first and nothing changes); never more than was paid (a CHECK constraint)."""
    if not PaymentRepository(session).add_refunded(payment.id, before, amount.cents):
        return False
    session.refresh(payment)
    return True


def seen_before(provider: str, event_id: str) -> bool:
    """Whether a notification was stored before; ends the read, so no transaction stays
    open while the provider is asked."""
    session = read_session()
    seen = PaymentRepository(session).event_id_seen(provider, event_id)
    session.rollback()
    return seen


def store_event(session: Session, provider: str, event_id: str, kind: str) -> PaymentEvent | None:
    """Store a notification's id; None if it was stored before (a duplicate delivery, maybe
    a concurrent one: the unique key decides)."""
    stored = PaymentEvent(provider=provider, event_id=event_id, type=kind)
    try:
        with session.begin_nested():
            PaymentRepository(session).add_event(stored)
        return stored
    except IntegrityError:
        return None


def by_page(session: Session, provider: str, external_id: str) -> Payment | None:
    return PaymentRepository(session).by_external_id(provider, external_id)


def by_intent(session: Session, provider: str, intent_id: str) -> Payment | None:
    return PaymentRepository(session).by_intent(provider, intent_id)


def keep_page(session: Session, payment: Payment, external_id: str, url: str) -> None:
    """The provider's payment page of this attempt, kept once."""
    PaymentRepository(session).set_page(payment.id, external_id, url)


def open_pages(provider: str) -> list[str]:
    """The provider's page ids of payments still pending (read, then ended)."""
    session = read_session()
    pages = PaymentRepository(session).open_sessions(provider)
    session.rollback()
    return pages


def notifications(order_id: int) -> list[PaymentEvent]:
    """The provider notifications that concerned an order, oldest first (staff page)."""
    return PaymentRepository(read_session()).events_of_order(order_id)
