"""The outbox: written with its cause, delivered over real SMTP, never lost."""

from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from kiosk.extensions import db
from kiosk.mail.models import MailStatus, OutboxMessage
from kiosk.mail.services import Attachment, deliver_due, queue_mail, retry_delay
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work
from tests.factories import make_user
from tests.mailbox import CapturingSMTP, outbox


def _queue(app: Flask, to: str = "jana@example.org", **extra: object) -> int:
    with app.app_context():
        user = make_user(email=to)
        with unit_of_work() as session:
            message = queue_mail(session, to, "password_changed", "de", user=user, **extra)
            session.flush()
            return message.id


def _make_due(app: Flask) -> None:
    """Skip the backoff wait, as if the retry time had come."""
    with app.app_context(), unit_of_work() as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))


def _body(message: Message) -> str:
    parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    return parts[0].get_payload(decode=True).decode()


def test_a_queued_mail_is_delivered_over_smtp_in_the_recipients_language(
    smtp_app: Flask, smtp: CapturingSMTP
) -> None:
    _queue(smtp_app)
    with smtp_app.app_context():
        report = deliver_due()
        assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
        assert outbox()[0].status is MailStatus.SENT
    [received] = smtp.messages
    assert received["To"] == "jana@example.org"
    assert received["From"] == "Kiosk <shop@kiosk.example>"
    assert str(make_header(decode_header(received["Subject"]))) == "Ihr Passwort wurde geändert"
    assert received["Message-ID"].endswith("@kiosk.example>")
    assert "Hallo" in _body(received)
    assert {p.get_content_type() for p in received.walk()} >= {"text/plain", "text/html"}


def test_attachments_are_sent(smtp_app: Flask, smtp: CapturingSMTP) -> None:
    pdf = Attachment("Rechnung-2026-0001.pdf", "application/pdf", b"%PDF-1.7 test")
    with smtp_app.app_context():
        user = make_user()
        with unit_of_work() as session:
            queue_mail(session, user.email, "password_changed", "en", attachments=[pdf], user=user)
        deliver_due()
    [received] = smtp.messages
    [part] = [p for p in received.walk() if p.get_filename()]
    assert part.get_filename() == "Rechnung-2026-0001.pdf"
    assert part.get_payload(decode=True) == b"%PDF-1.7 test"


def test_mail_exists_only_if_its_cause_does(app: Flask) -> None:
    with app.app_context():
        user = make_user()
        with pytest.raises(RuntimeError), unit_of_work() as session:
            queue_mail(session, user.email, "password_changed", "en", user=user)
            raise RuntimeError("the order could not be placed")
        assert outbox() == []


def test_the_outbox_survives_an_smtp_outage(smtp_app: Flask, smtp: CapturingSMTP) -> None:
    port = smtp.port
    smtp.stop()  # the mail server is down
    _queue(smtp_app)
    with smtp_app.app_context():
        assert deliver_due().retrying == 1
        [message] = outbox()
        assert (message.status, message.attempts) == (MailStatus.PENDING, 1)
        assert "Connection" in message.last_error or "refused" in message.last_error.lower()
        assert message.next_attempt_at > utcnow()
        assert deliver_due().sent == 0  # not due yet: backoff
    smtp.start(port)  # the server is back
    _make_due(smtp_app)
    with smtp_app.app_context():
        assert deliver_due().sent == 1
        assert deliver_due().sent == 0  # and only once
    assert len(smtp.messages) == 1


def test_after_the_last_attempt_the_mail_is_failed_and_staff_can_retry(
    smtp_app: Flask, smtp: CapturingSMTP
) -> None:
    from kiosk.backoffice.services import retry_mail

    smtp_app.config["KIOSK_MAIL_MAX_ATTEMPTS"] = 2
    port = smtp.port
    smtp.stop()
    _queue(smtp_app)
    with smtp_app.app_context():
        deliver_due()
    _make_due(smtp_app)
    with smtp_app.app_context():
        assert deliver_due().failed == 1
        [message] = outbox()
        assert message.status is MailStatus.FAILED
        staff = make_user(email="staff@example.org")
        assert retry_mail(staff.id, message.id) is True
        assert retry_mail(staff.id, message.id) is False  # no longer failed
    smtp.start(port)
    with smtp_app.app_context():
        assert deliver_due().sent == 1
    assert len(smtp.messages) == 1


def test_a_sender_killed_mid_way_leaves_the_mail_to_the_next_sender(
    smtp_app: Flask, smtp: CapturingSMTP
) -> None:
    message_id = _queue(smtp_app)
    with smtp_app.app_context(), unit_of_work() as session:  # claimed, then the process died
        session.execute(
            update(OutboxMessage).values(
                status=MailStatus.SENDING, claimed_until=utcnow() + timedelta(minutes=5)
            )
        )
    with smtp_app.app_context():
        assert deliver_due().sent == 0  # the claim still holds
    with smtp_app.app_context(), unit_of_work() as session:  # the claim runs out
        session.execute(update(OutboxMessage).values(claimed_until=utcnow() - timedelta(seconds=1)))
    with smtp_app.app_context():
        assert deliver_due().sent == 1
        assert db.session.get(OutboxMessage, message_id).status is MailStatus.SENT


def test_the_default_backend_writes_eml_files(app: Flask) -> None:
    _queue(app)
    with app.app_context():
        assert deliver_due().sent == 1
    files = list(Path(app.config["KIOSK_MAIL_DIR"]).glob("*.eml"))
    assert len(files) == 1
    assert b"Subject: =?utf-8?" in files[0].read_bytes() or b"Subject:" in files[0].read_bytes()


def test_retries_back_off_exponentially_up_to_an_hour() -> None:
    delays = [retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 3600


def test_a_mail_and_the_page_keep_their_own_languages_in_one_request(app: Flask) -> None:
    """A German mail queued while an English page renders: neither takes the other's language."""
    from flask import render_template_string

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        user = make_user(locale="de")
        assert render_template_string("{{ _('Sign in') }}") == "Sign in"
        with unit_of_work() as session:
            message = queue_mail(session, user.email, "password_changed", user.locale, user=user)
        assert message.subject == "Ihr Passwort wurde geändert"
        assert render_template_string("{{ _('Sign in') }}") == "Sign in"
