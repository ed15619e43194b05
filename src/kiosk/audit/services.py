"""The one call that records a security event: `audit.record(session, "signin.ok", …)`.

Events are appended in the caller's transaction, so an event exists exactly
when the change it describes does. Nothing here updates or deletes events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from flask import has_request_context, request
from sqlalchemy.orm import Session

from kiosk.audit.models import AuditEvent
from kiosk.audit.repository import AuditRepository


class Person(Protocol):
    """Whoever acts or is concerned: an account (the audit log keeps only its id, so it
    needs nothing else of the accounts domain, which records its own events here)."""

    @property
    def id(self) -> int: ...


@dataclass(frozen=True)
class Account:
    """A person known by their account id only: what a use case that was handed the
    signed-in staff member's id records as the actor."""

    id: int


# Every event the shop records, so a typo cannot create a new kind silently.
EVENTS = frozenset(
    {
        "signin.ok",
        "signin.failed",
        "signin.2fa_failed",
        "signout",
        "session.ended",
        "session.others_ended",
        "account.registered",
        "account.verified",
        "password.changed",
        "password.reset",
        "password.reset_requested",
        "email.change_requested",
        "email.changed",
        "2fa.enabled",
        "2fa.disabled",
        "2fa.recovery_used",
        "2fa.recovery_regenerated",
        "role.changed",
        "marketing.opted_in",
        "marketing.opted_out",
        "mail.retried",
        "payment.marked_paid",
        "payment.refunded",
        "payment.repaired",
        "order.status_changed",
        "product.created",
        "product.updated",
        "product.duplicated",
        "product.deleted",
        "product.archived",
        "product.restored",
        "product.bulk_activated",
        "product.bulk_deactivated",
        "product.bulk_moved",
        "product.bulk_repriced",
        "customer.note_added",
        "customer.disabled",
        "customer.enabled",
        "customer.verification_resent",
        "staff.invited",
        "staff.invitation_revoked",
        "staff.invitation_accepted",
        "staff.role_changed",
        "staff.removed",
        "category.created",
        "category.updated",
        "category.moved",
        "category.reordered",
        "category.deactivated",
        "category.activated",
        "category.deleted",
        "stock.adjusted",
        "order.bulk_shipped",
        "order.returned",
        "order.invoice_cancelled",
        "order.reminder_sent",
        "import.checked",
        "import.applied",
        "settings.seller_changed",
        "settings.shipping_changed",
        "settings.carrier_created",
        "settings.carrier_changed",
        "settings.shop_changed",
        "coupon.created",
        "coupon.updated",
        "coupon.deactivated",
        "coupon.activated",
        "picture.added",
        "picture.removed",
        "picture.reordered",
        "picture.alt_changed",
        "privacy.export_requested",
        "privacy.exported",
        "consent.recorded",
        "consent.withdrawn",
        "settings.consent_changed",
        "privacy.erasure_requested",
        "privacy.erasure_confirmed",
        "privacy.erasure_postponed",
        "privacy.erasure_done",
        "privacy.retention_applied",
        "legal.text_saved",
    }
)


def record(
    session: Session,
    event: str,
    actor: Person | None = None,
    subject: Person | None = None,
    **details: Any,
) -> AuditEvent:
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    concerned = subject or actor
    entry = AuditEvent(
        event=event,
        actor_id=actor.id if actor else None,
        subject_id=concerned.id if concerned else None,
        ip_address=(request.remote_addr or "") if has_request_context() else "",
        details=details,
    )
    return AuditRepository(session).add(entry)
