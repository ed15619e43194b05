"""Mail: queued in the outbox with the change that caused it, delivered later.

`queue_mail` renders a message in the recipient's language and adds it to the
caller's unit of work, so a message exists exactly when its cause does.
`deliver_due` sends what is due: it claims each message in a short
transaction, sends it outside any transaction, then records the outcome.
A sender killed mid-way leaves a claim that expires, and the message is sent
again with the same Message-ID (at least once, never lost). Failures are
retried with exponential backoff until `KIOSK_MAIL_MAX_ATTEMPTS`, then the
message is marked failed for staff to see and retry.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from flask import current_app, g, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from kiosk.mail.models import MailStatus, OutboxAttachment, OutboxMessage
from kiosk.mail.repository import OutboxRepository
from kiosk.mail.transport import build_email, open_transport
from kiosk.orm import utcnow
from kiosk.uow import read_session, unit_of_work
from kiosk.validation import without_control

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


SENDER = "kiosk.mail_sender"


def sender() -> str:
    """The From address: what the owner set in the back office (the app hands the reader
    in as `app.extensions["kiosk.mail_sender"]`, since mail knows no other domain), else
    `KIOSK_MAIL_FROM`."""
    configured = current_app.extensions.get(SENDER)
    return str(configured()) if configured else str(current_app.config["KIOSK_MAIL_FROM"])


def queue_mail(
    session: Session,
    to: str,
    template: str,
    locale: str,
    attachments: Iterable[Attachment] = (),
    **context: Any,
) -> OutboxMessage:
    """Render `mail/<template>.txt` (and `.html`) in `locale` and add it to the outbox.

    The text template sets the subject with `{% set subject = … %}`. Control characters
    are dropped from what it renders: a value stored before the edge refused them (an
    address with a NUL) must not stop the order it belongs to, and PostgreSQL would
    refuse the message.
    """
    with force_locale(locale):
        text_template = current_app.jinja_env.get_template(f"mail/{template}.txt")
        module = text_template.make_module({"config": current_app.config, **context})
        subject = " ".join(without_control(str(getattr(module, "subject", ""))).split())
        text_body = without_control(str(module), multiline=True).strip() + "\n"
        html_body = without_control(
            render_template(f"mail/{template}.html", subject=subject, **context), multiline=True
        )
    domain = sender().rpartition("@")[2].strip(">") or "kiosk.local"
    message = OutboxMessage(
        message_id=make_msgid(domain=domain),
        to_address=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        template=template,
        attachments=[
            OutboxAttachment(filename=a.filename, content_type=a.content_type, data=a.data)
            for a in attachments
        ],
    )
    OutboxRepository(session).add(message)
    g.kiosk_mail_queued = True
    return message


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at one hour."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, LONGEST_RETRY)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _claim(message_id: int, now: datetime) -> bool:
    """Take one message for sending; False when another sender was quicker."""
    with unit_of_work() as session:
        return OutboxRepository(session).claim(message_id, now, now + CLAIM_FOR)


def _record(message_id: int, error: str | None) -> MailStatus:
    with unit_of_work() as session:
        message = OutboxRepository(session).get(message_id)
        assert message is not None
        message.attempts += 1
        message.claimed_until = None
        if error is None:
            message.status, message.sent_at, message.last_error = MailStatus.SENT, utcnow(), ""
        elif message.attempts >= current_app.config["KIOSK_MAIL_MAX_ATTEMPTS"]:
            message.status, message.last_error = MailStatus.FAILED, error
        else:
            message.status, message.last_error = MailStatus.PENDING, error
            message.next_attempt_at = utcnow() + retry_delay(message.attempts)
        return message.status


def deliver_due(limit: int = 100) -> DeliveryReport:
    """One pass over the outbox: send every message that is due."""
    now = utcnow()
    report = DeliveryReport()
    session = read_session()
    candidates = OutboxRepository(session).due_ids(now, limit)
    session.rollback()
    from_address = sender()
    with open_transport() as transport:
        for message_id in candidates:
            if not _claim(message_id, now):
                continue
            message = OutboxRepository(read_session()).get(message_id)
            assert message is not None
            email = build_email(message, from_address)
            read_session().rollback()
            try:
                transport.send(email)
                error = None
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("mail %s to %s not sent: %s", message_id, email["To"], error)
            status = _record(message_id, error)
            if status is MailStatus.SENT:
                report.sent += 1
            elif status is MailStatus.FAILED:
                report.failed += 1
            else:
                report.retrying += 1
    return report


def outbox_overview(limit: int = 100) -> list[OutboxMessage]:
    """Unsent and failed messages first, newest first, for the staff page."""
    return OutboxRepository(read_session()).unsent(limit)


def failed_count() -> int:
    """How many messages failed for good and wait for staff (the overview)."""
    return OutboxRepository(read_session()).failed_count()


def give_another_chance(session: Session, message_id: int) -> bool:
    """A failed message gets a fresh set of attempts; False if it had not failed."""
    message = OutboxRepository(session).get(message_id)
    if message is None or message.status is not MailStatus.FAILED:
        return False
    message.status, message.attempts, message.next_attempt_at = MailStatus.PENDING, 0, utcnow()
    return True


def flush_after_request(response: Any) -> Any:
    """After a request that queued mail, send it once the response is out (small shops)."""
    if g.get("kiosk_mail_queued") and current_app.config["KIOSK_MAIL_FLUSH_AFTER_REQUEST"]:
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        def flush() -> None:
            with app.app_context():
                try:
                    deliver_due()
                except Exception:  # the outbox keeps the mail; the worker sends it later
                    log.exception("sending mail after the request failed")

        response.call_on_close(flush)
    return response
