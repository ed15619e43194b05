"""Export of a person's data (Art. 15 GDPR access, Art. 20 GDPR portability) as one ZIP.

What goes in is decided by the personal-data map alone: every table of `about_persons()`,
every row of the person there (`repository.rows_of`), every column of those rows except
the ones the map files under `Category.SECURITY`. Those are withheld, by name, because
they describe no one: a password hash, a second-factor secret or a sign-in token hash
only lets whoever holds them attack the account (a hash can be cracked offline, a TOTP
secret clones the authenticator app), and a ZIP ends up in mailboxes and download
folders. Art. 15(4) GDPR: the copy must not adversely affect the rights of others, and
the person's own security counts no less. The ZIP lists the withheld columns.

The format is documented in docs/EXPORT.md; its keys are stable, and a change that is
not additive raises `FORMAT`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from kiosk.accounts import services as accounts
from kiosk.accounts.tokens import TokenError, TokenProblem
from kiosk.audit import services as audit
from kiosk.mail.services import queue_mail
from kiosk.orm import utcnow
from kiosk.privacy.data_map import Category, Table, about_persons
from kiosk.privacy.models import ExportLink
from kiosk.privacy.repository import ExportLinkRepository, Person, Row, rows_of
from kiosk.uow import read_session, unit_of_work
from kiosk.urls import external_url

FORMAT = "kiosk-export/1"
LINK_VALID = timedelta(hours=24)
LOCALES = ("de", "en")

# Headings of the readable summary; a table the map gains later shows its name until
# it gets one here (the JSON needs none).
TITLES = {
    "user_account": _l("Your account"),
    "address": _l("Addresses"),
    "user_session": _l("Where you are signed in"),
    "recovery_code": _l("Recovery codes (used or not; the codes themselves are withheld)"),
    "customer_note": _l("Notes our staff wrote about you"),
    "cart": _l("Carts"),
    "cart_line": _l("Items in your carts"),
    "customer_order": _l("Orders"),
    "order_line": _l("Order lines"),
    "order_event": _l("Order history"),
    "invoice": _l("Invoices and credit notes"),
    "payment": _l("Payments (Kiosk never sees card data)"),
    "coupon_redemption": _l("Coupons you used"),
    "stock_alert": _l("Back-in-stock requests"),
    "outbox_message": _l("Mails we sent you"),
    "outbox_attachment": _l("Attachments of those mails"),
    "staff_invitation": _l("Staff invitations"),
    "audit_event": _l("Security and privacy events about you"),
}


@dataclass(frozen=True)
class Export:
    """The ZIP, ready to send."""

    filename: str
    data: bytes


# Turning rows into JSON and files -------------------------------------------------


def _json_safe(value: Any) -> Any:
    """JSON has no times, decimals or enums: ISO 8601 in UTC, text, and the enum's value."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _json_safe(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _file_path(table: str, row: Row, column: str, data: bytes) -> str:
    """Where a binary value goes in the ZIP: `<table>s/<number or id-filename>.<ext>`,
    so an invoice's PDF is `invoices/<number>.pdf`."""
    if row.get("number"):
        stem = str(row["number"])
    elif row.get("filename"):
        stem = f"{row['id']}-{row['filename']}"
    else:
        stem = f"{row.get('id', '')}-{column}"
    stem = _UNSAFE.sub("_", stem).strip("._") or column
    if "." not in stem[-6:]:
        stem += ".pdf" if data.startswith(b"%PDF") else ".bin"
    return f"{table}s/{stem}"


def _withheld(declared: Table) -> frozenset[str]:
    return frozenset(p.column for p in declared.personal if p.category is Category.SECURITY)


def _document(
    rows: Mapping[str, list[Row]], now: datetime, locale: str
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The data.json object and the files (path -> bytes) for the person's rows."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": _json_safe(now),
        "language": locale,
        "withheld": [],
    }
    files: dict[str, bytes] = {}
    for declared in about_persons():
        withheld = _withheld(declared)
        document["withheld"] += [f"{declared.name}.{name}" for name in sorted(withheld)]
        exported = []
        for row in rows[declared.name]:
            item: dict[str, Any] = {}
            for column, value in row.items():
                if column in withheld:
                    continue
                if isinstance(value, bytes | bytearray | memoryview):
                    data = bytes(value)
                    path = _file_path(declared.name, row, column, data)
                    files[path] = data
                    item[column] = path
                else:
                    item[column] = _json_safe(value)
            exported.append(item)
        document[declared.name] = exported
    return document, files


def _summary(document: dict[str, Any], files: Mapping[str, bytes], locale: str) -> str:
    """The readable HTML page: self-contained (its style inline, no external resources),
    so it opens from the unpacked ZIP in any browser, offline."""
    sections = [
        {
            "name": declared.name,
            "title": TITLES.get(declared.name, declared.name),
            "rows": document[declared.name],
            "personal": [p for p in declared.personal if p.category is not Category.SECURITY],
        }
        for declared in about_persons()
    ]
    with force_locale(locale):
        return render_template(
            "privacy/summary.html",
            document=document,
            sections=sections,
            files=frozenset(files),
            locale=locale,
        )


def build_zip(rows: Mapping[str, list[Row]], locale: str, now: datetime) -> bytes:
    """data.json, summary.html and the documents, in one ZIP."""
    document, files = _document(rows, now, locale)
    buffer = io.BytesIO()
    stamp = now.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def write(path: str, data: bytes) -> None:
            archive.writestr(zipfile.ZipInfo(path, date_time=stamp), data, zipfile.ZIP_DEFLATED)

        write("data.json", json.dumps(document, ensure_ascii=False, indent=2).encode())
        write("summary.html", _summary(document, files, locale).encode())
        for path, data in sorted(files.items()):
            write(path, data)
    return buffer.getvalue()


def _counts(rows: Mapping[str, list[Row]]) -> dict[str, int]:
    """Rows per table, for the audit log (numbers only, never a value)."""
    return {name: len(found) for name, found in rows.items() if found}


def _export(rows: Mapping[str, list[Row]], locale: str) -> Export:
    now = utcnow()
    locale = locale if locale in LOCALES else LOCALES[0]
    return Export(f"personal-data-{now:%Y-%m-%d}.zip", build_zip(rows, locale, now))


# A signed-in customer ----------------------------------------------------------------


def export_account(account_id: int, email: str) -> Export:
    """The ZIP of a signed-in customer: their account's rows, and the rows under its
    (verified) address from before they had an account. Written in the account's language."""
    with unit_of_work() as session:
        rows = rows_of(session, Person(account_id=account_id, email=email))
        (account,) = rows["user_account"]
        audit.record(
            session, "privacy.exported", actor=audit.Account(account_id), via="account",
            rows=_counts(rows),
        )  # fmt: skip
    return _export(rows, str(account.get("locale") or ""))


# A guest, by emailed link --------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kiosk.privacy-export")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_guest_export(email: str, locale: str) -> None:
    """Mail a download link to `email` if the shop holds anything under it; do and say
    the same otherwise, so the form tells no one whether an address is known.

    The link is signed (it carries the address and language), valid for a day, and
    works once: its hash is stored and marked used on download.
    """
    email = email.strip().lower()
    if not any(rows_of(read_session(), Person(email=email)).values()):
        return  # read outside the write transaction: most unknown addresses end here
    with unit_of_work() as session:
        link = _mail_link(session, {"e": email, "l": locale})
        audit.record(session, "privacy.export_requested", link=link.id)


def request_for_customer(staff_id: int, user_id: int) -> None:
    """Staff start a customer's export (the customer asked by phone or letter): the link
    goes to the account's own address, never to staff, and covers the whole account."""
    with unit_of_work() as session:
        user = accounts.find_user(session, user_id)
        if user is None:
            raise LookupError(user_id)
        payload = {"e": user.email, "a": user.id, "l": user.locale}
        link = _mail_link(session, payload)
        audit.record(
            session,
            "privacy.export_requested",
            actor=audit.Account(staff_id),
            subject=user,
            link=link.id,
            by="staff",
        )


def _mail_link(session: Session, payload: dict[str, Any]) -> ExportLink:
    locale = str(payload["l"])
    token = _serializer().dumps({**payload, "n": secrets.token_urlsafe(12)})
    link = ExportLinkRepository(session).add(
        ExportLink(token_hash=_hash(token), expires_at=utcnow() + LINK_VALID)
    )
    queue_mail(
        session,
        str(payload["e"]),
        "privacy_export_link",
        locale if locale in LOCALES else LOCALES[0],
        export_url=external_url("privacy.guest_download", token=token),
        hours=int(LINK_VALID.total_seconds() // 3600),
    )
    return link


def _read(token: str) -> dict[str, Any]:
    try:
        payload = _serializer().loads(token, max_age=int(LINK_VALID.total_seconds()))
    except SignatureExpired as error:
        raise TokenError(TokenProblem.EXPIRED) from error
    except BadSignature as error:
        raise TokenError(TokenProblem.INVALID) from error
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), str):
        raise TokenError(TokenProblem.INVALID)
    if not isinstance(payload.get("a"), int | None):
        raise TokenError(TokenProblem.INVALID)
    return payload


def _usable(link: ExportLink | None) -> ExportLink:
    if link is None:
        raise TokenError(TokenProblem.INVALID)
    if link.used_at is not None:
        raise TokenError(TokenProblem.USED)
    if link.expires_at <= utcnow():
        raise TokenError(TokenProblem.EXPIRED)
    return link


def check_guest_link(token: str) -> None:
    """Raises TokenError unless the link can still download (the page before the button)."""
    _read(token)
    _usable(ExportLinkRepository(read_session()).by_hash(_hash(token)))


def export_by_link(token: str) -> Export:
    """The ZIP of the address (or account) the link was sent to; the link is used up in the
    same transaction, so of two clicks only one downloads."""
    payload = _read(token)
    with unit_of_work() as session:
        links = ExportLinkRepository(session)
        link = _usable(links.by_hash(_hash(token)))
        if not links.use(link.token_hash, utcnow()):
            raise TokenError(TokenProblem.USED)
        # A link staff sent for an account covers the account; a guest's, the address.
        rows = rows_of(session, Person(account_id=payload.get("a"), email=payload["e"]))
        audit.record(
            session, "privacy.exported", via="email_link", link=link.id, rows=_counts(rows)
        )
    return _export(rows, str(payload.get("l") or ""))
