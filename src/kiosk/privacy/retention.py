"""The retention job (`flask kiosk privacy-jobs`): removes what the personal-data map says
may no longer be kept, safe to run daily (each rule only touches what is due, so a second
run the same day finds nothing).

The rules read the map: which table, its `age_column` (the time a period counts from), the
retention's period (days, or years from the end of the calendar year for documents under
§147(4) AO and §257(5) HGB) and, for kept values, the `anonymised` value erasure writes.
`dry_run` counts what each rule would do and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, false, or_
from sqlalchemy.orm import Session

from kiosk.audit import services as audit
from kiosk.privacy import erasure
from kiosk.privacy.data_map import (
    AUDIT_IP,
    GUEST_CART,
    INVITATION,
    SESSION,
    STOCK_ALERT,
    TABLES,
    UNVERIFIED_ACCOUNT,
    ByParent,
    Erasure,
    Personal,
    Retention,
    about_persons,
)
from kiosk.privacy.models import ErasureRequest
from kiosk.privacy.queries import PersonalDataRepository, table
from kiosk.uow import read_session, unit_of_work


@dataclass(frozen=True)
class RuleResult:
    rule: str
    count: int


def period(retention: Retention) -> timedelta:
    """A retention in days, as configured (`setting` overrides `days`)."""
    days = retention.days or 0
    if retention.setting and retention.years is None:
        days = int(current_app.config.get(retention.setting, days))
    return timedelta(days=days)


def years(retention: Retention) -> int:
    assert retention.years is not None
    if retention.setting:
        return int(current_app.config.get(retention.setting, retention.years))
    return retention.years


def kept_until_year_end(retention: Retention, now: datetime) -> datetime:
    """Values dated before this have seen their retention end: issued in year Y, they are
    kept until the end of year Y + years (§147(4) AO, §257(5) HGB)."""
    return datetime(now.year - years(retention), 1, 1, tzinfo=UTC)


def _cutoff(retention: Retention, now: datetime) -> datetime:
    if retention.years is not None:
        return kept_until_year_end(retention, now)
    return now - period(retention)


def _delete_with_children(repo: PersonalDataRepository, name: str, ids: set[int]) -> int:
    """Delete rows and, first, the rows the map says belong to them."""
    for child in reversed(about_persons()):
        for owner in child.owners:
            if isinstance(owner, ByParent) and owner.parent == name:
                _delete_with_children(
                    repo, child.name, repo.ids_of_children(child.name, owner.column, ids)
                )
    return repo.delete_rows(name, ids)


Rule = Callable[[Session, datetime, bool], int]


def _old_rows(name: str, retention: Retention, extra: object = None) -> Rule:
    """Rows of `name` older than the retention (counted from the map's age column) go."""

    def rule(session: Session, now: datetime, apply: bool) -> int:
        declared = TABLES[name]
        assert declared.age_column
        repo = PersonalDataRepository(session)
        condition = extra(table(name)) if callable(extra) else None
        ids = repo.ids_older_than(name, declared.age_column, _cutoff(retention, now), condition)
        if apply:
            _delete_with_children(repo, name, ids)
        return len(ids)

    return rule


def guest_carts(session: Session, now: datetime, apply: bool) -> int:
    return _old_rows("cart", GUEST_CART, lambda t: t.c.user_id.is_(None))(session, now, apply)


def unverified_accounts(session: Session, now: datetime, apply: bool) -> int:
    """Accounts whose address was never confirmed are erased as if they had asked."""
    accounts = table("user_account")
    repo = PersonalDataRepository(session)
    ids = repo.ids_older_than(
        "user_account",
        "created_at",
        now - period(UNVERIFIED_ACCOUNT),
        and_(
            accounts.c.email_verified_at.is_(None),
            accounts.c.is_active.is_(True),
            accounts.c.role == "customer",
        ),
    )
    if apply:
        emails = repo.values("user_account", "email", ids)
        for user_id in sorted(ids):
            person = erasure.Person(user_id, emails[user_id])
            if erasure.open_order_ids(session, person):
                continue
            erasure.erase_person(session, person)
    return len(ids)


def stock_alerts(session: Session, now: datetime, apply: bool) -> int:
    """Until the mail is sent (then at once), at most the retention."""
    alerts = table("stock_alert")
    repo = PersonalDataRepository(session)
    ids = repo.ids_where(
        "stock_alert",
        or_(alerts.c.notified_at.is_not(None), alerts.c.created_at < now - period(STOCK_ALERT)),
    )
    if apply:
        repo.delete_rows("stock_alert", ids)
    return len(ids)


def unconfirmed_erasure_requests(session: Session, now: datetime, apply: bool) -> int:
    declared = TABLES["erasure_request"]
    retention = declared.column("email").retention
    repo = PersonalDataRepository(session)
    ids = repo.ids_where(
        "erasure_request",
        and_(
            ErasureRequest.__table__.c.state == "requested",
            ErasureRequest.__table__.c.requested_at < now - period(retention),
        ),
    )
    if apply:
        repo.delete_rows("erasure_request", ids)
    return len(ids)


def expired_rate_limits(session: Session, now: datetime, apply: bool) -> int:
    windows = table("rate_limit_window")
    repo = PersonalDataRepository(session)
    condition = windows.c.expires_at < now.timestamp()  # seconds since the epoch
    count = repo.count_where("rate_limit_window", condition)
    if apply:
        repo.delete_where("rate_limit_window", condition)
    return count


def sent_mails(session: Session, now: datetime, apply: bool) -> int:
    """Mails after sending: each template as long as the map keeps it (business letters,
    the erasure notice), every other one `after` its sending."""
    declared = TABLES["outbox_message"]
    rule = declared.retain_if
    assert rule is not None and declared.age_column
    messages = table("outbox_message")
    # Retentions are grouped by key: their descriptions are lazy texts, unhashable outside
    # a request.
    kept_kinds: dict[str, tuple[Retention, list[str]]] = {}
    for template, retention in rule.values.items():
        kept_kinds.setdefault(retention.key, (retention, []))[1].append(template)
    sent = messages.c.status == "sent"
    due = [
        and_(
            sent,
            ~messages.c.template.in_(sorted(rule.values)),
            messages.c[declared.age_column] < _cutoff(rule.after, now),
        )
    ]
    for retention, templates in kept_kinds.values():
        due.append(
            and_(
                sent,
                messages.c.template.in_(sorted(templates)),
                messages.c[declared.age_column] <= _cutoff(retention, now),
            )
        )
    repo = PersonalDataRepository(session)
    ids = repo.ids_where("outbox_message", or_(false(), *due))
    if apply:
        _delete_with_children(repo, "outbox_message", ids)
    return len(ids)


def ended_documents(session: Session, now: datetime, apply: bool) -> int:
    """Values retained for tax or commercial law (invoice PDFs, payment references,
    withdrawal statements) once their period has ended: replaced by the map's anonymised
    value. The rows (amounts, numbers) stay; they name no one."""
    repo = PersonalDataRepository(session)
    count = 0
    for declared in about_persons():
        if declared.retain_if or not declared.age_column:
            continue  # mails go whole, by `sent_mails`
        by_retention: dict[str, tuple[Retention, list[Personal]]] = {}
        for personal in declared.personal:
            if personal.erasure is Erasure.RETAIN and personal.retention.years is not None:
                by_retention.setdefault(personal.retention.key, (personal.retention, []))[1].append(
                    personal
                )
        for retention, columns in by_retention.values():
            ids = repo.ids_older_than(
                declared.name, declared.age_column, kept_until_year_end(retention, now)
            )
            stored = {p.column: repo.values(declared.name, p.column, ids) for p in columns}
            for row_id in sorted(ids):
                values = {p.column: erasure.anonymised(declared, p, row_id) for p in columns}
                if all(stored[column][row_id] == value for column, value in values.items()):
                    continue
                count += 1
                if apply:
                    repo.write(declared.name, row_id, values)
    return count


def audit_ip_addresses(session: Session, now: datetime, apply: bool) -> int:
    """IP addresses in the audit log, shortened after the configured days, by the audit
    log itself: its append-only triggers let only this update through, and its hash chain
    was made over the shortened form."""
    return audit.shorten_ip_addresses(session, now - period(AUDIT_IP), apply=apply)


def postponed_erasures(session: Session, now: datetime, apply: bool) -> int:
    return erasure.retry_postponed(session, now, dry_run=not apply)


RULES: tuple[tuple[str, Rule], ...] = (
    ("postponed erasures", postponed_erasures),
    ("guest carts", guest_carts),
    ("unverified accounts", unverified_accounts),
    ("expired sessions", _old_rows("user_session", SESSION)),
    ("expired invitations", _old_rows("staff_invitation", INVITATION)),
    ("unconfirmed erasure requests", unconfirmed_erasure_requests),
    ("expired rate-limit windows", expired_rate_limits),
    ("sent mails", sent_mails),
    ("stock-alert requests", stock_alerts),
    ("documents whose retention ended", ended_documents),
    ("audit IP addresses", audit_ip_addresses),
)


def run(now: datetime | None = None, dry_run: bool = False) -> list[RuleResult]:
    """Apply every rule, each in its own transaction (or count, for a dry run)."""
    now = now or datetime.now(UTC)
    results = []
    for name, rule in RULES:
        if dry_run:
            count = rule(read_session(), now, False)
            read_session().rollback()
        else:
            with unit_of_work() as session:
                count = rule(session, now, True)
                if count:
                    audit.record(session, "privacy.retention_applied", rule=name, count=count)
        results.append(RuleResult(name, count))
    return results
