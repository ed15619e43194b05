"""The audit log for the owner: entries filtered by who acted, whom it concerned, the
event and the day, with the accounts' email addresses beside their ids.

The log itself holds ids only (it outlives erasure); the addresses come from the accounts
there still are, so an erased account shows as its bare id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from kiosk.accounts import customers as accounts
from kiosk.audit import services as audit
from kiosk.audit.models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""  # part of the acting account's email
    subject: str = ""  # part of the concerned account's email
    event: str = ""
    since: date | None = None
    until: date | None = None  # inclusive


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEvent
    actor_email: str | None
    subject_email: str | None


def events() -> list[str]:
    return sorted(audit.EVENTS)


def _day_start(day: date) -> datetime:
    """Midnight of the day where the shop is (the days staff mean)."""
    return datetime.combine(day, time.min, ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def log_page(filters: AuditFilter, page: int, per_page: int) -> tuple[list[AuditRow], int]:
    """One page of matching entries, newest first, and how many match."""
    entries, total = audit.log_page(
        actor_ids=accounts.ids_with_email(filters.actor) if filters.actor else None,
        subject_ids=accounts.ids_with_email(filters.subject) if filters.subject else None,
        event=filters.event if filters.event in audit.EVENTS else "",
        since=_day_start(filters.since) if filters.since else None,
        until=_day_start(filters.until + timedelta(days=1)) if filters.until else None,
        page=page,
        per_page=per_page,
    )
    people = {e.actor_id for e in entries} | {e.subject_id for e in entries}
    emails = accounts.emails_of({person for person in people if person is not None})
    rows = [
        AuditRow(
            entry,
            emails.get(entry.actor_id) if entry.actor_id else None,
            emails.get(entry.subject_id) if entry.subject_id else None,
        )
        for entry in entries
    ]
    return rows, total
