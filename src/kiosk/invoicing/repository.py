"""Invoices and credit notes: numbered by the year's counter row, pending until their PDF is
stored once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.invoicing.models import DocumentCounter, DocumentKind, Invoice, SellerProfileVersion


class InvoiceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, document_id: int) -> Invoice | None:
        return self.session.get(Invoice, document_id)

    def next_number(self, kind: DocumentKind, year: int) -> int:
        """The next number of the kind in the year, by UPDATE … RETURNING on the year's
        counter row: it holds the row until the transaction ends, so concurrent issues get
        consecutive numbers and a rollback gives the number back."""
        where = (DocumentCounter.kind == kind.value, DocumentCounter.year == year)
        if self.session.scalar(select(DocumentCounter.id).where(*where)) is None:
            try:
                with self.session.begin_nested():
                    self.session.add(DocumentCounter(kind=kind.value, year=year, last=0))
            except IntegrityError:
                pass  # another transaction opened the year first
        sequence = self.session.scalar(
            update(DocumentCounter)
            .where(*where)
            .values(last=DocumentCounter.last + 1)
            .returning(DocumentCounter.last)
            .execution_options(synchronize_session=False)
        )
        assert sequence is not None
        return int(sequence)

    def pending(self, order_id: int | None = None) -> list[tuple[int, int]]:
        query = select(Invoice.id, Invoice.order_id).where(Invoice.sha256 == "")
        if order_id is not None:
            query = query.where(Invoice.order_id == order_id)
        return [(row[0], row[1]) for row in self.session.execute(query.order_by(Invoice.id))]

    def store_pdf(self, document_id: int, pdf: bytes, digest: str) -> bool:
        stored = self.session.execute(
            update(Invoice)
            .where(Invoice.id == document_id, Invoice.sha256 == "")
            .values(pdf=pdf, sha256=digest)
            .execution_options(synchronize_session=False)
        )
        return stored.rowcount == 1  # type: ignore[attr-defined, no-any-return]


class SellerRepository:
    """The seller's versions: added, never changed."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self) -> SellerProfileVersion | None:
        return self.session.scalar(
            select(SellerProfileVersion).order_by(SellerProfileVersion.id.desc()).limit(1)
        )

    def get(self, version_id: int) -> SellerProfileVersion | None:
        return self.session.get(SellerProfileVersion, version_id)

    def history(self) -> list[SellerProfileVersion]:
        """Every version, newest first."""
        query = select(SellerProfileVersion).order_by(SellerProfileVersion.id.desc())
        return list(self.session.scalars(query))

    def add(self, version: SellerProfileVersion) -> SellerProfileVersion:
        self.session.add(version)
        self.session.flush()
        return version


def _signed(column: Any) -> ColumnElement[int]:
    """A document's amount as revenue: an invoice adds it, a credit note takes it back."""
    return case((Invoice.kind == DocumentKind.CREDIT_NOTE, -column), else_=column)


class RevenueRepository:
    """Revenue as the documents say it, for the dashboard: sums in SQL over the documents
    issued in [start, end), credit notes subtracted, per currency."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def totals(self, start: datetime, end: datetime) -> list[tuple[str, int, int, int]]:
        """(currency, gross cents, net cents, orders with a credit note), per currency."""
        credited = case((Invoice.kind == DocumentKind.CREDIT_NOTE, Invoice.order_id))
        rows = self.session.execute(
            select(
                Invoice.currency,
                func.coalesce(func.sum(_signed(Invoice.amount_cents)), 0),
                func.coalesce(func.sum(_signed(Invoice.net_cents)), 0),
                func.count(func.distinct(credited)),
            )
            .where(Invoice.issued_at >= start, Invoice.issued_at < end)
            .group_by(Invoice.currency)
            .order_by(Invoice.currency)
        )
        return [(cur, int(gross), int(net), int(credit)) for cur, gross, net, credit in rows]

    def per_bucket(
        self, start: datetime, end: datetime, bucket: ColumnElement[str]
    ) -> list[tuple[str, str, int, int]]:
        """(local day or hour, currency, gross cents, net cents) where documents were issued."""
        rows = self.session.execute(
            select(
                bucket.label("bucket"),
                Invoice.currency,
                func.sum(_signed(Invoice.amount_cents)),
                func.sum(_signed(Invoice.net_cents)),
            )
            .where(Invoice.issued_at >= start, Invoice.issued_at < end)
            .group_by("bucket", Invoice.currency)
        )
        return [(str(label), cur, int(gross), int(net)) for label, cur, gross, net in rows]
