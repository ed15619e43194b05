"""Payments and provider notifications: by the provider's ids, the open card sessions, and
the refunded amount moved on by one conditional UPDATE."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk.payments.models import Payment, PaymentEvent, PaymentStatus


class PaymentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, payment: Payment) -> Payment:
        self.session.add(payment)
        return payment

    def by_external_id(self, provider: str, external_id: str) -> Payment | None:
        query = select(Payment).where(
            Payment.provider == provider, Payment.external_id == external_id
        )
        return self.session.scalar(query)

    def by_intent(self, provider: str, intent_id: str) -> Payment | None:
        query = select(Payment).where(Payment.provider == provider, Payment.intent_id == intent_id)
        return self.session.scalar(query)

    def open_sessions(self, provider: str) -> list[str]:
        """The provider's page ids of payments still pending."""
        query = select(Payment.external_id).where(
            Payment.provider == provider,
            Payment.status == PaymentStatus.PENDING,
            Payment.external_id.is_not(None),
        )
        return [str(external_id) for external_id in self.session.scalars(query)]

    def set_page(self, payment_id: int, external_id: str, url: str) -> None:
        """Keep the provider's page of a payment, unless one was kept already."""
        self.session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.redirect_url.is_(None))
            .values(external_id=external_id, redirect_url=url)
            .execution_options(synchronize_session=False)
        )

    def add_refunded(self, payment_id: int, before: int, amount: int) -> bool:
        """Move the refunded amount from `before` on by `amount`; False if it is no longer
        `before` (another refund came first)."""
        result = self.session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.refunded_cents == before)
            .values(refunded_cents=before + amount)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]

    def event_id_seen(self, provider: str, event_id: str) -> bool:
        query = select(PaymentEvent.id).where(
            PaymentEvent.provider == provider, PaymentEvent.event_id == event_id
        )
        return self.session.scalar(query) is not None

    def add_event(self, event: PaymentEvent) -> PaymentEvent:
        self.session.add(event)
        return event

    def events_of_order(self, order_id: int) -> list[PaymentEvent]:
        query = (
            select(PaymentEvent).where(PaymentEvent.order_id == order_id).order_by(PaymentEvent.id)
        )
        return list(self.session.scalars(query))
