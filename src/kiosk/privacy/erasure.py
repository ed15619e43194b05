"""Erasure (Art. 17 GDPR): the engine that erases one person, and the two-step request.

The engine knows no table by name. It reads the personal-data map: each table's owners say
how to find the person's rows (their account id, their email, the parent row, or a mention
of their email), `rows_on_erasure` says whether the rows go or stay, and each personal
column's `erasure` says whether a kept value is anonymised (to its `anonymised` value, with
{id}) or retained until its retention ends (Art. 17(3)(b) GDPR: §147 AO, §257 HGB). The
retention job (`privacy.retention`) removes retained values when that time has come.

A request goes: asked (from the account, or by a guest with an email address) → the
confirmation link from the mail → run, or postponed while an order of the person is still
open (its contract is being fulfilled: Art. 17(3)(b), Art. 6(1)(b) GDPR) → done, with a
final mail. The daily job retries postponed requests.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from kiosk.accounts import services as accounts
from kiosk.audit import services as audit
from kiosk.mail.services import queue_mail
from kiosk.orders.models import OrderStatus
from kiosk.orm import utcnow
from kiosk.payments.models import PaymentStatus
from kiosk.privacy.data_map import (
    ERASURE_NOTICE_TEMPLATE,
    Erasure,
    Personal,
    Table,
    about_persons,
)
from kiosk.privacy.models import ErasureRequest, ErasureState
from kiosk.privacy.queries import (
    ErasureRequestRepository,
    PersonalDataRepository,
    fitting,
    table,
)
from kiosk.privacy.repository import Person as Whose
from kiosk.privacy.repository import rows_of
from kiosk.uow import read_session, unit_of_work
from kiosk.urls import external_url

LINK_VALID = timedelta(hours=24)

# Orders whose contract is over: nothing more will be shipped, paid or refunded.
_FINISHED = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
_SENT = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


@dataclass(frozen=True)
class Person:
    """Whose data: an account (with its email), or a guest known by an email address."""

    user_id: int | None
    email: str


@dataclass
class ErasureReport:
    """What erasure did, per table: rows deleted, rows anonymised, rows retained."""

    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    retained: dict[str, set[int]] = field(default_factory=dict)


def find_rows(session: Session, person: Person) -> dict[str, set[int]]:
    """The ids of the person's rows in every table the map says holds someone's rows: the
    same question export asks, answered by the same query (`repository.rows_of`)."""
    rows = rows_of(session, Whose(account_id=person.user_id, email=person.email), ids_only=True)
    return {name: {row["id"] for row in found} for name, found in rows.items()}


def anonymised(declared: Table, personal: Personal, row_id: int) -> Any:
    value = personal.anonymised
    if isinstance(value, str):
        value = value.format(id=row_id)
    return fitting(table(declared.name), personal.column, value)


def _split(session: Session, declared: Table, ids: set[int]) -> tuple[set[int], set[int]]:
    """The rows that stay (as the table's rows do) and those that get `otherwise`."""
    rule = declared.retain_if
    if rule is None:
        return ids, set()
    values = PersonalDataRepository(session).values(declared.name, rule.column, ids)
    kept = {row_id for row_id, value in values.items() if value in rule.values}
    return kept, ids - kept


def erase(session: Session, person: Person) -> ErasureReport:
    """Delete, anonymise or retain every personal value of the person, as the map says, in
    the caller's transaction. Children go before their parents."""
    repo = PersonalDataRepository(session)
    found = find_rows(session, person)
    report = ErasureReport()
    for declared in reversed(about_persons()):
        ids = found[declared.name]
        if not ids:
            continue
        kept, other = _split(session, declared, ids)
        how = declared.rows_on_erasure
        if how is Erasure.DELETE:
            kept, other = set(), ids
        elif declared.retain_if and declared.retain_if.otherwise is not Erasure.DELETE:
            kept, other = ids, set()
        if other:
            report.deleted[declared.name] = repo.delete_rows(declared.name, other)
        changing = [p for p in declared.personal if p.erasure is not Erasure.RETAIN]
        for row_id in sorted(kept):
            if changing:
                repo.write(
                    declared.name,
                    row_id,
                    {p.column: anonymised(declared, p, row_id) for p in changing},
                )
        if kept and changing:
            report.anonymised[declared.name] = len(kept)
        if kept and len(changing) < len(declared.personal):
            report.retained[declared.name] = kept
    return report


def erase_person(session: Session, person: Person) -> ErasureReport:
    """Erase, and leave an account as a tombstone nobody can sign in to."""
    report = erase(session, person)
    if person.user_id is not None:
        accounts.close_erased_account(session, person.user_id)
    return report


def open_order_ids(session: Session, person: Person) -> list[int]:
    """The person's orders whose contract is not over: not cancelled or refunded, and not
    both sent and paid. Erasure waits for them (their delivery and invoice need the data)."""
    orders = find_rows(session, person).get("customer_order", set())
    if not orders:
        return []
    order, payment = table("customer_order"), table("payment")
    paid = exists().where(
        and_(payment.c.order_id == order.c.id, payment.c.status == PaymentStatus.PAID.value)
    )
    settled = and_(order.c.status.in_([s.value for s in _SENT]), paid)
    closed = order.c.status.in_([s.value for s in _FINISHED]) | settled
    query = select(order.c.id).where(order.c.id.in_(sorted(orders)), ~closed)
    return sorted(session.scalars(query))


# --- the two-step request -----------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _queue_confirmation(session: Session, request: ErasureRequest) -> None:
    token = secrets.token_urlsafe(32)
    request.token_hash = _hash(token)
    request.token_expires_at = utcnow() + LINK_VALID
    queue_mail(
        session,
        request.email,
        "privacy_erasure_confirm",
        request.locale,
        confirm_url=external_url("privacy.confirm_erasure", token=token),
        hours=int(LINK_VALID.total_seconds() // 3600),
    )


class StaffAccount(Exception):
    """Staff accounts are not erased from the account page: an owner first takes them off
    the team (the shop must keep an owner, and staff's actions stay attributable)."""


def request_for_account(user_id: int, staff_id: int | None = None) -> ErasureRequest:
    """Step one from the account: mail the confirmation link to the account's address.
    Staff may start it for a customer who asked them (`staff_id`): the customer still
    confirms by the mailed link, so no one erases another person's data.

    Asking again while a request is open sends a fresh link (the old one stops working)."""
    with unit_of_work() as session:
        user = accounts.find_user(session, user_id)
        if user is None:
            raise LookupError(user_id)
        if user.is_staff:
            raise StaffAccount(user_id)
        repo = ErasureRequestRepository(session)
        request = repo.open_for_user(user_id)
        if request is None or request.state is not ErasureState.REQUESTED:
            if request is not None:
                return request  # confirmed or postponed: nothing to confirm again
            request = repo.add(
                ErasureRequest(user_id=user.id, email=user.email, locale=user.locale)
            )
        _queue_confirmation(session, request)
        audit.record(
            session,
            "privacy.erasure_requested",
            actor=audit.Account(staff_id) if staff_id is not None else user,
            subject=user,
            request_id=request.id,
            by="staff" if staff_id is not None else "account",
        )
        return request


def request_for_guest(email: str, locale: str) -> None:
    """Step one for a guest: the link goes to the address given, so only whoever reads its
    mail can erase its data. The answer is the same whether the address is known."""
    with unit_of_work() as session:
        request = ErasureRequestRepository(session).add(
            ErasureRequest(user_id=None, email=email.strip().lower(), locale=locale)
        )
        _queue_confirmation(session, request)
        audit.record(session, "privacy.erasure_requested", request_id=request.id, by="guest")


class LinkProblem(Exception):
    """The confirmation link is unknown, used or expired."""


@dataclass(frozen=True)
class Outcome:
    state: ErasureState
    open_orders: int = 0


def open_request(token: str) -> ErasureRequest:
    """The request a confirmation link is for, while it may still be confirmed (a read)."""
    request = (
        read_session()
        .scalars(select(ErasureRequest).where(ErasureRequest.token_hash == _hash(token)))
        .first()
    )
    if request is None or not _usable(request):
        raise LinkProblem
    return request


def _usable(request: ErasureRequest) -> bool:
    return (
        request.state is ErasureState.REQUESTED
        and request.token_expires_at is not None
        and request.token_expires_at > utcnow()
    )


def confirm(token: str) -> Outcome:
    """Step two: the link from the mail. Runs the erasure now, or postpones it while an
    order is open. The link works once."""
    with unit_of_work() as session:
        request = ErasureRequestRepository(session).by_token_hash(_hash(token))
        if request is None or not _usable(request):
            raise LinkProblem
        request.token_hash = None
        request.confirmed_at = utcnow()
        request.state = ErasureState.CONFIRMED
        audit.record(
            session,
            "privacy.erasure_confirmed",
            subject=_subject(request),
            request_id=request.id,
        )
        return _run_or_postpone(session, request, utcnow())


def _subject(request: ErasureRequest) -> audit.Account | None:
    return audit.Account(request.user_id) if request.user_id is not None else None


def _run_or_postpone(session: Session, request: ErasureRequest, now: datetime) -> Outcome:
    person = Person(request.user_id, request.email)
    waiting = open_order_ids(session, person)
    if waiting:
        if request.state is not ErasureState.POSTPONED:
            request.state = ErasureState.POSTPONED
            request.postponed_at = now
            audit.record(
                session,
                "privacy.erasure_postponed",
                subject=_subject(request),
                request_id=request.id,
                open_orders=waiting,
            )
        return Outcome(ErasureState.POSTPONED, len(waiting))
    email, locale = request.email, request.locale
    report = erase_person(session, person)
    request.state = ErasureState.DONE
    request.done_at = now
    audit.record(
        session,
        "privacy.erasure_done",
        subject=_subject(request),
        request_id=request.id,
        deleted=report.deleted,
        anonymised=report.anonymised,
        retained={name: len(ids) for name, ids in report.retained.items()},
    )
    # The last mail to the person (Art. 12(3) GDPR); after it, no row names them but the
    # documents the law makes us keep, so nothing more can be sent to them.
    queue_mail(session, email, ERASURE_NOTICE_TEMPLATE, locale, kept_years=_kept_years())
    return Outcome(ErasureState.DONE)


def _kept_years() -> int:
    return int(current_app.config["KIOSK_RETENTION_INVOICE_YEARS"])


def retry_postponed(session: Session, now: datetime, dry_run: bool = False) -> int:
    """Run the postponed erasures whose orders have closed; the count of those done."""
    done = 0
    for request in ErasureRequestRepository(session).postponed():
        if open_order_ids(session, Person(request.user_id, request.email)):
            continue
        done += 1
        if not dry_run:
            _run_or_postpone(session, request, now)
    return done


def open_for_account(user_id: int) -> ErasureRequest | None:
    """The account's request that is not done yet, for its privacy page."""
    return ErasureRequestRepository(read_session()).open_for_user(user_id)


def requests_for_staff(state: ErasureState | None = None) -> list[ErasureRequest]:
    return ErasureRequestRepository(read_session()).latest(state=state)


def pending_count() -> int:
    """Requests confirmed but not done (postponed for an open order), for the overview."""
    return ErasureRequestRepository(read_session()).count_pending()
