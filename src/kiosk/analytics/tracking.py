"""What the shop's pages call to count what a visitor does: `track(kind, ...)`.

A visitor is the first 32 hex digits of SHA-256(salt of the day, IP address, user agent):
the same browser on the same connection is one visitor within a day, and no one can tell
who it was, nor link two days, once the salt is deleted. The address is the one the app
sees after ProxyFix (`request.remote_addr`). Neither address nor user agent is kept, and
nothing is stored in the browser: no cookie, no storage, no script.

`track` costs a hash and an append to the recorder's queue (whose thread leaves out bots
by their user agent before writing); it never raises, so analytics can neither slow a
page down nor break it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime
from functools import cache
from typing import Unpack
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request
from flask_login import current_user

from kiosk.analytics.models import EventKind
from kiosk.analytics.recorder import EventFields, event_row, recorder

log = logging.getLogger(__name__)

QUERY_LENGTH = 100  # AnalyticsEvent.query


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def today() -> date:
    """The shop's date (KIOSK_TIMEZONE): a visitor's day starts at the shop's midnight."""
    return datetime.now(_zone(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def visitor_hash(salt: bytes, ip: str, user_agent: str) -> str:
    # A NUL between address and user agent, so no two pairs run together alike.
    digest = hashlib.sha256(salt + ip.encode() + b"\0" + user_agent.encode())
    return digest.hexdigest()[:32]


def visitor_of(day: date, ip: str, user_agent: str) -> str:
    """The visitor hash of an address and user agent on `day`, with that day's salt."""
    return visitor_hash(recorder().salt(day), ip, user_agent)


def normalise_query(text: str) -> str:
    """Search words as counted: case folded, whitespace collapsed, at most 100 characters."""
    return " ".join(text.casefold().split())[:QUERY_LENGTH].rstrip()


def track(kind: EventKind, **fields: Unpack[EventFields]) -> None:
    """Count what the visitor of this request did; nothing outside a request, for bots
    (left out by the recorder before writing), for the shop's own staff (checking the shop
    is not shopping), or with KIOSK_ANALYTICS off. A failure is logged, never raised."""
    if not has_request_context() or not current_app.config["KIOSK_ANALYTICS"]:
        return
    if getattr(current_user, "is_staff", False):
        return
    user_agent = request.headers.get("User-Agent", "")
    if not user_agent.strip():
        return  # a bot (`bots.is_bot`): the recorder's thread checks the others
    if "query" in fields:
        fields["query"] = normalise_query(fields["query"])
    try:
        visitor = visitor_of(today(), request.remote_addr or "", user_agent)
        recorder().add(event_row(kind, visitor, **fields), user_agent)
    except Exception:
        log.exception("an analytics event (%s) was not recorded", kind.value)
