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
import os
import smtplib
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

from flask import current_app, g, render_template
from flask_babel import force_locale
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from kiosk.models import MailStatus, OutboxAttachment, OutboxMessage, Role, User
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
    domain = current_app.config["KIOSK_MAIL_FROM"].rpartition("@")[2].strip(">") or "kiosk.local"
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
    session.add(message)
    g.kiosk_mail_queued = True
    return message


def mail_user(session: Session, user: User, template: str, **context: Any) -> OutboxMessage:
    """Queue a mail to an account holder, in their language, with `user` in the template."""
    return queue_mail(session, user.email, template, user.locale, user=user, **context)


def mail_staff(session: Session, template: str, **context: Any) -> None:
    """Queue a mail to every active staff member and owner, each in their language."""
    staff = session.scalars(
        select(User)
        .where(User.is_active.is_(True), User.role.in_([Role.STAFF, Role.OWNER]))
        .order_by(User.id)
    )
    for member in staff:
        queue_mail(session, member.email, template, member.locale, user=member, **context)


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return email


class Transport(Protocol):
    def send(self, email: EmailMessage) -> None: ...


class FileTransport:
    """Writes each message as an .eml file: the default, so a shop runs without a mail server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, email: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}-{email['Message-ID'].strip('<>').split('@')[0]}.eml"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(email.as_bytes())
        os.replace(temporary, self.directory / name)  # never a half-written file
        log.info("mail to %s written to %s: %s", email["To"], name, email["Subject"])


class SMTPTransport:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        security = c["SMTP_SECURITY"]
        context = ssl.create_default_context()
        if security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                c["SMTP_HOST"], c["SMTP_PORT"], timeout=c["SMTP_TIMEOUT"], context=context
            )
        else:
            smtp = smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=c["SMTP_TIMEOUT"])
            if security == "starttls":
                smtp.starttls(context=context)
        if c["SMTP_USER"]:
            smtp.login(c["SMTP_USER"], c["SMTP_PASSWORD"])
        return smtp

    def send(self, email: EmailMessage) -> None:
        if self._connection is None:
            self._connection = self._connect()
        try:
            self._connection.send_message(email)
        except smtplib.SMTPServerDisconnected:
            self._connection = self._connect()
            self._connection.send_message(email)

    def close(self) -> None:
        if self._connection is not None:
            with suppress(smtplib.SMTPException, OSError):
                self._connection.quit()
            self._connection = None


def make_transport() -> FileTransport | SMTPTransport:
    config = current_app.config
    if config["KIOSK_MAIL_BACKEND"] == "smtp":
        return SMTPTransport(dict(config))
    return FileTransport(Path(config["KIOSK_MAIL_DIR"]))


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at one hour."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, LONGEST_RETRY)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _due(now: datetime) -> Any:
    return or_(
        (OutboxMessage.status == MailStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == MailStatus.SENDING) & (OutboxMessage.claimed_until < now),
    )


def _claim(message_id: int, now: datetime) -> bool:
    """Take one message for sending; False when another sender was quicker."""
    with unit_of_work() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due(now))
            .values(status=MailStatus.SENDING, claimed_until=now + CLAIM_FOR)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def _record(message_id: int, error: str | None) -> MailStatus:
    with unit_of_work() as session:
        message = session.get(OutboxMessage, message_id)
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


@contextmanager
def _transport() -> Iterator[FileTransport | SMTPTransport]:
    transport = make_transport()
    try:
        yield transport
    finally:
        if isinstance(transport, SMTPTransport):
            transport.close()


def deliver_due(limit: int = 100) -> DeliveryReport:
    """One pass over the outbox: send every message that is due."""
    now = utcnow()
    report = DeliveryReport()
    session = read_session()
    candidates = session.scalars(
        select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    ).all()
    session.rollback()
    sender = current_app.config["KIOSK_MAIL_FROM"]
    with _transport() as transport:
        for message_id in candidates:
            if not _claim(message_id, now):
                continue
            message = read_session().get(OutboxMessage, message_id)
            assert message is not None
            email = build_email(message, sender)
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
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status != MailStatus.SENT)
        .order_by(OutboxMessage.created_at.desc())
        .limit(limit)
    )
    return list(read_session().scalars(stmt))


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
