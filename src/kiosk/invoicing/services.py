"""Invoices (§14 Abs. 4 UStG) and credit notes, as PDF, issued once and kept unchanged.

A document is numbered in the transaction that issues it: the year's counter
row is advanced by one UPDATE … RETURNING, which holds the row until the
transaction ends, so concurrent payments get consecutive numbers and a
rolled-back issue returns its number (no gaps, no duplicates). Everything the
document says is fixed then (the order's snapshot, number, dates, amounts, and
the version of the seller's details, `invoicing.seller`).

Its PDF (fpdf2, with the embedded DejaVu font, so umlauts and € print:
`invoicing.pdf`) takes a few hundred milliseconds, too long to hold SQLite's
write lock for, so it is rendered right after that transaction and stored once
(`store_pdf`, a conditional UPDATE on the empty digest), with its SHA-256, and
mailed (`orders.documents.complete_pending`). Nothing regenerates a stored PDF.
A crash in between leaves the document pending, and `flask kiosk order-jobs`
completes it.

The stored PDF is a Factur-X e-invoice: the pages, made for PDF/A-3b, with
the same document as EN 16931 XML attached (`invoicing.einvoice`), so the
digest covers both. Invoicing reads an order through `InvoicedOrder`, what a
document prints of it, and never imports the orders domain, which issues
documents as its lifecycle moves.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.orm import Session

from kiosk.invoicing import seller
from kiosk.invoicing.models import DocumentKind, Invoice, InvoicedOrder
from kiosk.invoicing.repository import InvoiceRepository, RevenueRepository
from kiosk.mail.services import Attachment
from kiosk.money import Money
from kiosk.orm import utcnow
from kiosk.periods import Period, local_bucket
from kiosk.pricing import VatLine, split_by_weight, vat_lines_from
from kiosk.uow import read_session

PREFIX = {DocumentKind.INVOICE: "RE", DocumentKind.CREDIT_NOTE: "RK"}


def local_today(moment: datetime) -> date:
    """The shop's calendar day of a moment (a document's date)."""
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def as_attachments(document: Invoice) -> list[Attachment]:
    return [Attachment(f"{document.number}.pdf", "application/pdf", document.pdf)]


def invoice_of(order: InvoicedOrder) -> Invoice | None:
    return next((d for d in order.invoices if d.kind is DocumentKind.INVOICE), None)


def document_of(order: InvoicedOrder, number: str) -> Invoice | None:
    """One of the order's documents by its number (a download link names it)."""
    return next((d for d in order.invoices if d.number == number), None)


def _issue(
    session: Session,
    order: InvoicedOrder,
    kind: DocumentKind,
    amount: Money,
    vat: list[VatLine],
    refers_to: Invoice | None = None,
    reason: str = "",
) -> Invoice:
    now = utcnow()
    today = local_today(now)
    sequence = InvoiceRepository(session).next_number(kind, today.year)
    document = Invoice(
        order_id=order.id,
        kind=kind,
        year=today.year,
        sequence=sequence,
        number=f"{PREFIX[kind]}-{today.year}-{sequence:05d}",
        refers_to_id=refers_to.id if refers_to else None,
        seller_version_id=seller.current_version_id(session),
        amount_cents=amount.cents,
        net_cents=sum(line.net.cents for line in vat),
        currency=amount.currency,
        issued_at=now,
        delivery_date=today,
        reason=reason[:500],
        vat_breakdown=[line.as_dict() for line in vat],
        pdf=b"",
        sha256="",  # pending: its PDF is made right after this transaction
    )
    order.invoices.append(document)
    session.flush()
    return document


def issue_invoice(session: Session, order: InvoicedOrder) -> Invoice:
    """The order's invoice, issued now unless it exists (issuing twice returns the first)."""
    existing = invoice_of(order)
    if existing is not None:
        return existing
    vat = vat_lines_from(order.vat_breakdown, order.currency)
    return _issue(session, order, DocumentKind.INVOICE, order.total, vat)


def issue_credit_note(
    session: Session, order: InvoicedOrder, amount: Money, reason: str
) -> Invoice | None:
    """A correction of the invoice for money paid back; None when no invoice was issued."""
    invoice = invoice_of(order)
    if invoice is None:
        return None
    original = vat_lines_from(order.vat_breakdown, order.currency)
    shares = split_by_weight(amount.cents, {v.rate_bp: v.gross.cents for v in original})
    vat = []
    for rate, cents in sorted(shares.items(), reverse=True):
        gross = Money(cents, amount.currency)
        tax = gross.vat_of(rate)
        vat.append(VatLine(rate, gross, gross - tax, tax))
    return _issue(session, order, DocumentKind.CREDIT_NOTE, amount, vat, invoice, reason)


def credited_cents(order: InvoicedOrder) -> int:
    """What the order's credit notes take back in all."""
    return sum(d.amount_cents for d in order.invoices if d.kind is DocumentKind.CREDIT_NOTE)


def cancel_invoice(session: Session, order: InvoicedOrder, reason: str) -> Invoice | None:
    """The credit note that cancels what is left of the invoice (Stornorechnung); None
    when there is no invoice or it is credited in full already (so it never happens twice)."""
    invoice = invoice_of(order)
    if invoice is None:
        return None
    left = invoice.amount_cents - credited_cents(order)
    if left <= 0:
        return None
    return issue_credit_note(session, order, Money(left, invoice.currency), reason)


def pending(order_id: int | None = None) -> list[tuple[int, int]]:
    """Documents issued without their PDF yet (of one order, or all): (document id, order
    id), oldest first."""
    return InvoiceRepository(read_session()).pending(order_id)


def get(session: Session, document_id: int) -> Invoice | None:
    return InvoiceRepository(session).get(document_id)


def store_pdf(session: Session, document_id: int, pdf: bytes) -> bool:
    """Keep a document's PDF with its SHA-256, once: False if another process stored it
    first."""
    return InvoiceRepository(session).store_pdf(document_id, pdf, hashlib.sha256(pdf).hexdigest())


def revenue(start: datetime, end: datetime) -> list[tuple[str, int, int, int]]:
    """What the documents issued in [start, end) add up to, per currency: (currency, gross
    cents, net cents, orders with a credit note); credit notes are subtracted, so the
    figures match the accounting to the cent."""
    return RevenueRepository(read_session()).totals(start, end)


def revenue_per_bucket(period: Period, hourly: bool) -> list[tuple[str, str, int, int]]:
    """The same per local day (or hour) of the period, labelled as `kiosk.periods.local_bucket`
    does: (bucket, currency, gross cents, net cents), where documents were issued."""
    bucket = local_bucket(Invoice.issued_at, period, hourly)
    return RevenueRepository(read_session()).per_bucket(period.start, period.end, bucket)
