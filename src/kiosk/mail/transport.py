"""How a message leaves the shop: as an .eml file (the default) or over SMTP."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

from kiosk.mail.models import OutboxMessage

log = logging.getLogger(__name__)


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


@contextmanager
def open_transport() -> Iterator[FileTransport | SMTPTransport]:
    transport = make_transport()
    try:
        yield transport
    finally:
        if isinstance(transport, SMTPTransport):
            transport.close()
