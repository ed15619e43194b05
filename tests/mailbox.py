"""Reading mail in tests: the outbox table, and a real SMTP server in-process (aiosmtpd)."""

from __future__ import annotations

import re
import socket
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from sqlalchemy import select

from kiosk.extensions import db
from kiosk.mail.models import OutboxMessage


def outbox(to: str | None = None) -> list[OutboxMessage]:
    """Messages in the outbox (call inside an app context), oldest first."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        stmt = stmt.where(OutboxMessage.to_address == to)
    return list(db.session.scalars(stmt))


def link_in(message: OutboxMessage, path_prefix: str) -> str:
    """The path of the first link in a mail that starts with `path_prefix`."""
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S+)", message.text_body)
    assert match, f"no {path_prefix} link in {message.subject!r}"
    return match.group(1)


class CapturingSMTP(MessageHandler):
    """An SMTP server that keeps what it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []
        self.port = 0
        self._controller: Controller | None = None

    def handle_message(self, message: Message) -> None:
        self.messages.append(message)

    def start(self, port: int | None = None) -> None:
        if port is None:  # aiosmtpd cannot start on port 0, so pick a free one first
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
        self.port = port
        self._controller = Controller(self, hostname="127.0.0.1", port=port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
