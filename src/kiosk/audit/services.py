"""The one call that records a security event: `audit.record(session, "signin.ok", …)`.

Events belong to the caller's transaction, so an event exists exactly when the change
it describes does. They are chained (see `kiosk.audit.models`) when that transaction
commits: the chain's head row is locked last, for the moment of the commit only, so
writers that lock orders or stock first never wait on each other through the audit log,
and the entries of concurrent transactions follow one another in id order.

Details name things by id, code and amount only, never by a person's email, name,
address or phone number: the log outlives the erasure of an account (Art. 17(3)(b)
GDPR: kept for a legal obligation), so it must not hold what erasure removes.
`record` refuses a value that looks like an email address as the simplest guard.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask import has_request_context, request
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from kiosk.audit.models import GENESIS_HASH, AuditEvent, canonical_json, shorten_ip
from kiosk.audit.repository import AuditRepository
from kiosk.orm import utcnow
from kiosk.uow import read_session

_PENDING = "kiosk_audit_pending"
EMAIL_LIKE = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+")


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


class PersonalValueInDetails(ValueError):
    """An audit detail looked like personal data (an email address); ids only."""


def record(
    session: Session,
    event: str,
    actor: Person | None = None,
    subject: Person | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an event to the session's transaction; it is chained and written at commit.

    The entry returned has no id nor hash until then. Details must be JSON values
    (they are stored as the JSON they give, which is what the hash covers).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    plain = json.loads(canonical_json(details))
    _refuse_personal_values(plain)
    concerned = subject or actor
    entry = AuditEvent(
        occurred_at=utcnow(),
        event=event,
        actor_id=actor.id if actor else None,
        subject_id=concerned.id if concerned else None,
        ip_address=(request.remote_addr or "") if has_request_context() else "",
        details=plain,
    )
    pending: list[AuditEvent] = session.info.setdefault(_PENDING, [])
    pending.append(entry)
    if not orm_event.contains(session, "before_commit", _chain_pending):
        orm_event.listen(session, "before_commit", _chain_pending)
        orm_event.listen(session, "after_transaction_end", _forget_pending)
    return entry


def _refuse_personal_values(value: Any, path: str = "details") -> None:
    if isinstance(value, str) and EMAIL_LIKE.search(value):
        raise PersonalValueInDetails(f"{path} looks like an email address; record ids only")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_personal_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_personal_values(item, f"{path}[{index}]")


def _chain_pending(session: Session) -> None:
    """Lock the chain's head, link this transaction's entries to it in order, write them."""
    if session.in_nested_transaction():
        return  # a savepoint's release: the transaction's own commit comes later
    pending: list[AuditEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return
    audit = AuditRepository(session)
    head = audit.lock_head()
    last_hash = head.last_hash
    for entry in pending:
        entry.prev_hash = last_hash
        entry.hash = last_hash = entry.content_hash()
        audit.add(entry)
        session.flush()  # one at a time: ids in chain order
    head.last_hash = last_hash
    head.length += len(pending)
    session.flush()


def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """A rolled-back transaction's events never happened."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def shorten_ip_addresses(session: Session, older_than: datetime, apply: bool = True) -> int:
    """Shorten the IP addresses of events older than `older_than` (IPv4 to /24, IPv6 to
    /48, see `models.shorten_ip`); how many entries changed (or would, without `apply`:
    the retention job's dry run). The retention job calls it in its own transaction. The
    chain stays valid: it was made over the shortened form, and the append-only triggers
    let exactly this update through."""
    audit = AuditRepository(session)
    by_network: dict[str, list[int]] = {}
    for entry_id, address in audit.addresses_before(older_than):
        short = shorten_ip(address)
        if short != address:
            by_network.setdefault(short, []).append(entry_id)
    if apply:
        for short, entry_ids in by_network.items():
            for start in range(0, len(entry_ids), 500):  # within SQLite's bound parameters
                audit.set_address(entry_ids[start : start + 500], short)
    return sum(map(len, by_network.values()))


@dataclass(frozen=True)
class BrokenLink:
    """The first entry at which the chain does not hold, and why."""

    entry_id: int | None
    problem: str


@dataclass(frozen=True)
class Verification:
    entries: int
    broken: BrokenLink | None
    last_hash: str = GENESIS_HASH  # of the last entry checked

    @property
    def intact(self) -> bool:
        return self.broken is None


def log_page(
    *,
    actor_ids: list[int] | None,
    subject_ids: list[int] | None,
    event: str,
    since: datetime | None,
    until: datetime | None,
    page: int,
    per_page: int,
) -> tuple[list[AuditEvent], int]:
    """One page of the log, newest first, and how many entries match. An id list of
    `None` matches anyone, an empty one no one."""
    return AuditRepository(read_session()).page(
        actor_ids=actor_ids,
        subject_ids=subject_ids,
        event=event,
        since=since,
        until=until,
        offset=(page - 1) * per_page,
        limit=per_page,
    )


def verify_log() -> Verification:
    """`flask kiosk audit-verify`: the whole log, as one consistent snapshot."""
    session = read_session()
    AuditRepository(session).read_snapshot()
    try:
        return verify_chain(session)
    finally:
        session.rollback()


def verify_chain(session: Session) -> Verification:
    """Walk the log in id order and recompute every link; stop at the first broken one.

    An edited entry no longer matches its own hash; a removed or inserted entry breaks
    the next entry's `prev_hash`; entries cut off at the end leave the chain's head
    pointing past the last entry.
    """
    audit = AuditRepository(session)
    expected_prev = GENESIS_HASH
    count = 0
    last_id: int | None = None
    for entry in audit.in_order():
        count += 1
        if entry.prev_hash != expected_prev:
            before = f"entry {last_id}" if last_id is not None else "the start of the log"
            return Verification(
                count,
                BrokenLink(
                    entry.id,
                    f"its prev_hash does not match the hash of {before}: "
                    "an entry was removed or inserted before it",
                ),
            )
        if entry.content_hash() != entry.hash:
            return Verification(
                count,
                BrokenLink(entry.id, "its content does not match its hash: the entry was edited"),
            )
        expected_prev = entry.hash
        last_id = entry.id
    head = audit.head()
    if count and head is None:
        return Verification(count, BrokenLink(None, "the chain head is missing"))
    if head is not None and (head.last_hash != expected_prev or head.length != count):
        after = f"entry {last_id}" if last_id is not None else "the start of the log"
        return Verification(
            count,
            BrokenLink(
                None,
                f"the chain head records {head.length} entries, the log ends after {count} "
                f"at {after}: entries at the end were removed",
            ),
        )
    return Verification(count, None, expected_prev)
