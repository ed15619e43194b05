"""The seller's details that invoices print, kept as versions so issued documents never change.

The owner edits them in the back office; each save adds a version and never
changes one (`SellerProfileVersion`). A document is issued with the newest
version's id and its PDF and Factur-X XML are rendered from that version, so a
new address or bank account applies to documents issued afterwards only.

While no version exists, the environment's `KIOSK_SELLER_*` and `KIOSK_BANK_*`
values are the seller: the first document issued (or the first save) stores
them as the first version. They are read from the environment on purpose, not
in a migration: the values belong to the running shop's configuration, which a
migration does not see.

The checks are of format only: a VAT ID's pattern per EU country (not whether
the Federal Central Tax Office knows it), an IBAN's length and ISO 7064 mod-97
check digits, a BIC's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from kiosk.invoicing.models import Invoice, SellerProfileVersion
from kiosk.invoicing.repository import SellerRepository
from kiosk.uow import read_session

# The VAT identification number's format per member state (the country prefix included);
# "EL" is Greece, "XI" Northern Ireland under the Windsor Framework.
VAT_ID_PATTERNS: dict[str, str] = {
    "AT": r"ATU\d{8}",
    "BE": r"BE[01]\d{9}",
    "BG": r"BG\d{9,10}",
    "CY": r"CY\d{8}[A-Z]",
    "CZ": r"CZ\d{8,10}",
    "DE": r"DE\d{9}",
    "DK": r"DK\d{8}",
    "EE": r"EE\d{9}",
    "EL": r"EL\d{9}",
    "ES": r"ES[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"FI\d{8}",
    "FR": r"FR[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"HR\d{11}",
    "HU": r"HU\d{8}",
    "IE": r"IE\d[0-9A-Z+*]\d{5}[A-W][A-I]?",
    "IT": r"IT\d{11}",
    "LT": r"LT(\d{9}|\d{12})",
    "LU": r"LU\d{8}",
    "LV": r"LV\d{11}",
    "MT": r"MT\d{8}",
    "NL": r"NL\d{9}B\d{2}",
    "PL": r"PL\d{10}",
    "PT": r"PT\d{9}",
    "RO": r"RO\d{2,10}",
    "SE": r"SE\d{10}01",
    "SI": r"SI\d{8}",
    "SK": r"SK\d{10}",
    "XI": r"XI(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
}

# IBAN lengths of the countries a German shop's bank most likely sits in; others are
# checked by shape and check digits only.
IBAN_LENGTHS = {"AT": 20, "BE": 16, "CH": 21, "DE": 22, "DK": 18, "ES": 24, "FR": 27,
                "GB": 22, "IE": 22, "IT": 27, "LI": 21, "LU": 20, "NL": 18, "PL": 28}  # fmt: skip
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_BIC_SHAPE = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")
_SEPARATORS = re.compile(r"[\s.\-]")


def compact(code: str) -> str:
    """A code as typed ("de 123 456 789", "DE89 3704 …") without spaces, dots and hyphens."""
    return _SEPARATORS.sub("", code).upper()


def vat_id_ok(vat_id: str) -> bool:
    """Whether a (compacted) VAT ID has its country's format."""
    pattern = VAT_ID_PATTERNS.get(vat_id[:2])
    return pattern is not None and re.fullmatch(pattern, vat_id) is not None


def iban_ok(iban: str) -> bool:
    """A (compacted) IBAN's shape, its country's length where known, and its mod-97 check."""
    if not _IBAN_SHAPE.fullmatch(iban):
        return False
    if len(iban) != IBAN_LENGTHS.get(iban[:2], len(iban)):
        return False
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def bic_ok(bic: str) -> bool:
    return _BIC_SHAPE.fullmatch(bic) is not None


@dataclass(frozen=True)
class Seller:
    """The seller as one document prints it."""

    name: str
    address: str  # lines separated by line breaks
    vat_id: str
    tax_number: str
    account_holder: str
    iban: str
    bic: str
    bank_name: str
    email: str
    invoice_footer: str

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]

    def changes_from(self, before: Seller) -> dict[str, tuple[str, str]]:
        """The fields that differ from `before`: {name: (before, after)}."""
        return {
            field.name: (getattr(before, field.name), getattr(self, field.name))
            for field in fields(self)
            if getattr(before, field.name) != getattr(self, field.name)
        }


def _of(version: SellerProfileVersion) -> Seller:
    return Seller(**{field.name: getattr(version, field.name) for field in fields(Seller)})


def from_environment() -> Seller:
    """The first version: what the environment says (placeholders where it says nothing),
    each value cut to what its column holds."""
    config = current_app.config
    seller = Seller(
        name=config["KIOSK_SHOP_NAME"],
        address="\n".join(config["KIOSK_SELLER_ADDRESS"].split("|")),
        vat_id=config["KIOSK_SELLER_VAT_ID"],
        tax_number="",
        account_holder=config["KIOSK_BANK_ACCOUNT_HOLDER"],
        iban=config["KIOSK_BANK_IBAN"],
        bic=config["KIOSK_BANK_BIC"],
        bank_name=config["KIOSK_BANK_NAME"],
        email=config["KIOSK_SELLER_EMAIL"],
        invoice_footer="",
    )
    limits = {
        column.key: getattr(column.type, "length", None)
        for column in SellerProfileVersion.__table__.columns
    }
    return replace(
        seller,
        **{
            field.name: getattr(seller, field.name)[: limits[field.name]]
            for field in fields(Seller)
            if limits[field.name]
        },
    )


def current(session: Session) -> Seller:
    """The seller's details now (the environment's while nothing is stored); never writes."""
    latest = SellerRepository(session).latest()
    return _of(latest) if latest is not None else from_environment()


def seller_now() -> Seller:
    """The seller's details for pages and mails (bank details, the mail footer)."""
    return current(read_session())


def current_version_id(session: Session) -> int:
    """The newest version's id, storing the environment's values first if there is none."""
    repository = SellerRepository(session)
    latest = repository.latest()
    if latest is None:
        latest = repository.add(_version(from_environment(), None))
    return latest.id


def of_document(session: Session, document: Invoice) -> Seller:
    """The seller a document was issued with; one issued before versions existed prints the
    current details (it had no PDF yet, or it would not be rendered again)."""
    if document.seller_version_id is not None:
        version = SellerRepository(session).get(document.seller_version_id)
        if version is not None:
            return _of(version)
    return current(session)


def _version(seller: Seller, author_id: int | None) -> SellerProfileVersion:
    values = {field.name: getattr(seller, field.name) for field in fields(Seller)}
    return SellerProfileVersion(**values, created_by_id=author_id)


def save(session: Session, seller: Seller, author_id: int) -> dict[str, tuple[str, str]]:
    """Store the details as a new version when they differ from the newest one; returns
    what changed (empty: nothing stored, so a double submit adds no version)."""
    repository = SellerRepository(session)
    if repository.latest() is None:
        repository.add(_version(from_environment(), None))
    changes = seller.changes_from(current(session))
    if changes:
        repository.add(_version(seller, author_id))
    return changes


@dataclass(frozen=True)
class SellerVersion:
    """One entry of the history: when, by whom (an account id), and what changed."""

    id: int
    created_at: datetime
    author_id: int | None
    changes: dict[str, tuple[str, str]]


def history(session: Session) -> list[SellerVersion]:
    """Every stored version, newest first, each with its changes against the one before."""
    versions = list(reversed(SellerRepository(session).history()))
    entries = []
    before: Seller | None = None
    for version in versions:
        seller = _of(version)
        empty = replace(seller, **{field.name: "" for field in fields(Seller)})
        changes = seller.changes_from(before if before is not None else empty)
        entries.append(
            SellerVersion(version.id, version.created_at, version.created_by_id, changes)
        )
        before = seller
    return list(reversed(entries))
