"""Invoices (§14 Abs. 4 UStG) and credit notes, as PDF, issued once and kept unchanged.

A document is numbered in the transaction that issues it: the year's counter
row is advanced by one UPDATE … RETURNING, which holds the row until the
transaction ends, so concurrent payments get consecutive numbers and a
rolled-back issue returns its number (no gaps, no duplicates). Everything the
document says is fixed then (the order's snapshot, number, dates, amounts).

Its PDF (fpdf2, with the embedded DejaVu font, so umlauts and € print) takes
a few hundred milliseconds, too long to hold SQLite's write lock for, so
`complete_pending()` renders it right after that transaction and stores it
once (a conditional UPDATE on the empty digest), with its SHA-256, and mails
it. Nothing regenerates a stored PDF. A crash in between leaves the document
pending, and `flask kiosk order-jobs` completes it.

The stored PDF is a Factur-X e-invoice: the pages, made for PDF/A-3b, with
the same document as EN 16931 XML attached (`services/einvoice.py`), so the
digest covers both.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.mail.services import Attachment, queue_mail
from kiosk.models import (
    DocumentCounter,
    DocumentKind,
    Invoice,
    Order,
    OrderStatus,
    PaymentStatus,
)
from kiosk.money import Money
from kiosk.orm import utcnow
from kiosk.pricing import VatLine, split_by_weight, vat_lines_from
from kiosk.services import einvoice
from kiosk.templating import payment_method_name
from kiosk.uow import read_session, unit_of_work

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PREFIX = {DocumentKind.INVOICE: "RE", DocumentKind.CREDIT_NOTE: "RK"}


def _local_today(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def _next_sequence(session: Session, kind: DocumentKind, year: int) -> int:
    where = (DocumentCounter.kind == kind.value, DocumentCounter.year == year)
    if session.scalar(select(DocumentCounter.id).where(*where)) is None:
        try:
            with session.begin_nested():
                session.add(DocumentCounter(kind=kind.value, year=year, last=0))
        except IntegrityError:
            pass  # another transaction opened the year first
    sequence = session.scalar(
        update(DocumentCounter)
        .where(*where)
        .values(last=DocumentCounter.last + 1)
        .returning(DocumentCounter.last)
        .execution_options(synchronize_session=False)
    )
    assert sequence is not None
    return int(sequence)


def as_attachments(document: Invoice) -> list[Attachment]:
    return [Attachment(f"{document.number}.pdf", "application/pdf", document.pdf)]


def invoice_of(order: Order) -> Invoice | None:
    return next((d for d in order.invoices if d.kind is DocumentKind.INVOICE), None)


def _issue(
    session: Session,
    order: Order,
    kind: DocumentKind,
    amount: Money,
    vat: list[VatLine],
    refers_to: Invoice | None = None,
    reason: str = "",
) -> Invoice:
    now = utcnow()
    today = _local_today(now)
    sequence = _next_sequence(session, kind, today.year)
    document = Invoice(
        order_id=order.id,
        kind=kind,
        year=today.year,
        sequence=sequence,
        number=f"{PREFIX[kind]}-{today.year}-{sequence:05d}",
        refers_to_id=refers_to.id if refers_to else None,
        amount_cents=amount.cents,
        currency=amount.currency,
        issued_at=now,
        delivery_date=today,
        reason=reason[:500],
        vat_breakdown=[line.as_dict() for line in vat],
        pdf=b"",
        sha256="",  # pending: complete_pending() renders it after this transaction
    )
    order.invoices.append(document)
    session.flush()
    return document


def complete_pending(order_id: int | None = None) -> int:
    """Render and store the PDFs of issued documents that have none yet, and mail them.

    Runs outside any transaction while rendering; safe to run again and in parallel.
    """
    session = read_session()
    query = select(Invoice).where(Invoice.sha256 == "")
    if order_id is not None:
        query = query.where(Invoice.order_id == order_id)
    pending = [(doc.id, doc.order_id) for doc in session.scalars(query.order_by(Invoice.id))]
    done = 0
    for document_id, owner_id in pending:
        document = session.get(Invoice, document_id)
        order = session.get(Order, owner_id)
        assert document is not None and order is not None
        refers_to = session.get(Invoice, document.refers_to_id) if document.refers_to_id else None
        vat = vat_lines_from(document.vat_breakdown, document.currency)
        with force_locale(order.locale):
            pdf = render(order, document, vat, refers_to, document.reason)
        digest = hashlib.sha256(pdf).hexdigest()
        session.rollback()  # end the read before writing
        with unit_of_work() as write:
            stored = write.execute(
                update(Invoice)
                .where(Invoice.id == document_id, Invoice.sha256 == "")
                .values(pdf=pdf, sha256=digest)
                .execution_options(synchronize_session=False)
            )
            if stored.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another process stored it first
            fresh = write.get(Order, owner_id)
            document = write.get(Invoice, document_id)
            assert fresh is not None and document is not None
            template = (
                "payment_received"
                if document.kind is DocumentKind.INVOICE and fresh.status is OrderStatus.PAID
                else "document_issued"
            )
            queue_mail(write, fresh.email, template, fresh.locale, order=fresh,
                       document=document, attachments=as_attachments(document))  # fmt: skip
            done += 1
    return done


def issue_invoice(session: Session, order: Order) -> Invoice:
    """The order's invoice, issued now unless it exists (issuing twice returns the first)."""
    existing = invoice_of(order)
    if existing is not None:
        return existing
    vat = vat_lines_from(order.vat_breakdown, order.currency)
    return _issue(session, order, DocumentKind.INVOICE, order.total, vat)


def issue_credit_note(session: Session, order: Order, amount: Money, reason: str) -> Invoice | None:
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


def _money(cents: int, currency: str, locale: str) -> str:
    return Money(cents, currency).format(locale)


def _prepaid_cents(order: Order, document: Invoice) -> int:
    """What the buyer has paid already when the invoice is made (paid first, invoiced at
    once); a credit note has nothing prepaid."""
    if document.kind is not DocumentKind.INVOICE:
        return 0
    paid = sum(p.amount_cents for p in order.payments if p.status is PaymentStatus.PAID)
    return min(paid, document.amount_cents)


def _payment_lines(order: Order, due: int, prepaid: int) -> list[str]:
    """How the invoice is paid: what came already, and what is left and how to pay it.

    (Each label is a `_()` call of its own, outside the f-strings: Babel's
    extractor does not look inside f-strings on Python 3.11.)
    """
    config, currency, locale = current_app.config, order.currency, order.locale
    method, paid_label, due_label = _("Payment method"), _("Already paid"), _("Amount due")
    lines = [f"{method}: {payment_method_name(order.payment_method)}"]
    if prepaid:
        lines.append(f"{paid_label}: {_money(prepaid, currency, locale)}")
    if due <= 0:
        return lines
    lines.append(f"{due_label}: {_money(due, currency, locale)}")
    if order.payment_method == "cash_on_delivery":
        lines.append(_("Payable in cash to the carrier on delivery."))
    elif order.payment_method in ("bank_transfer", "invoice"):
        holder, reference = _("Account holder"), _("Payment reference")
        lines += [
            _("Please transfer the amount due within %(days)d days, giving the payment "
              "reference.", days=config["KIOSK_PREPAYMENT_DAYS"]),
            f"{holder}: {config['KIOSK_BANK_ACCOUNT_HOLDER']} · "
            f"IBAN: {config['KIOSK_BANK_IBAN']} · BIC: {config['KIOSK_BANK_BIC']}",
            f"{reference}: {order.payment_reference}",
        ]  # fmt: skip
    return lines


def render(
    order: Order, document: Invoice, vat: list[VatLine], refers_to: Invoice | None, reason: str
) -> bytes:
    """The PDF of one document, in the buyer's language, with its Factur-X XML inside.

    Factur-X builds on PDF/A-3b: fpdf2 embeds the fonts and the sRGB output
    intent that PDF/A asks for, drafthorse writes the PDF/A-3 metadata. No
    PDF/A validator runs here (veraPDF is not available to the suite).
    """
    config = current_app.config
    locale = order.locale
    issued_on = _local_today(document.issued_at)
    pdf = FPDF(format="A4", enforce_compliance="PDFA_3B")
    pdf.set_title(document.number)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("DejaVu", size=9)
    seller = [config["KIOSK_SHOP_NAME"], *config["KIOSK_SELLER_ADDRESS"].split("|")]
    pdf.multi_cell(0, 4.5, "\n".join(seller), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        4.5,
        f"{_('VAT ID')}: {config['KIOSK_SELLER_VAT_ID']}",
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    buyer = order.billing_address or order.shipping_address
    buyer_lines = [
        buyer.get("company", ""),
        buyer["name"],
        buyer["street"],
        buyer.get("extra", ""),
        f"{buyer['postal_code']} {buyer['city']}",
        buyer["country"],
    ]
    pdf.ln(6)
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(
        90, 5, "\n".join(line for line in buyer_lines if line), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(8)
    title = _("Invoice") if document.kind is DocumentKind.INVOICE else _("Credit note")
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 8, f"{title} {document.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    facts = [
        (_("Date"), format_date(issued_on, "medium")),
        (_("Delivery date"), format_date(document.delivery_date, "medium")),
        (_("Order number"), order.number),
    ]
    if refers_to is not None:
        facts.append((_("Corrects invoice"), refers_to.number))
    if reason:
        facts.append((_("Reason"), reason))
    for name, value in facts:
        pdf.cell(45, 5, f"{name}:")
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    bold = FontFace(emphasis="BOLD")
    if document.kind is DocumentKind.INVOICE:
        with pdf.table(
            col_widths=(80, 15, 15, 30, 30),
            headings_style=bold,
            text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        ) as table:
            table.row([_("Item"), _("Quantity"), _("VAT"), _("Unit price"), _("Total")])
            for item in order.lines:
                table.row(
                    [
                        f"{item.name} ({item.sku})",
                        str(item.quantity),
                        f"{item.vat_rate_bp / 100:g} %",
                        _money(item.unit_price_cents, order.currency, locale),
                        _money(item.total_cents, order.currency, locale),
                    ]
                )
            extras = [
                (_("Shipping"), order.shipping_cents),
                (_("Fee"), order.fee_cents),
                (_("Discount"), -order.discount_cents),
            ]
            for name, cents in extras:
                if cents:
                    table.row([name, "", "", "", _money(cents, order.currency, locale)])
        pdf.ln(4)
    with pdf.table(
        col_widths=(50, 40, 40, 40),
        headings_style=bold,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
    ) as table:
        table.row([_("VAT rate"), _("Net"), _("VAT"), _("Gross")])
        for rate in vat:
            table.row(
                [
                    f"{rate.rate_bp / 100:g} %",
                    rate.net.format(locale),
                    rate.vat.format(locale),
                    rate.gross.format(locale),
                ]
            )
        net = sum(line.net.cents for line in vat)
        tax = sum(line.vat.cents for line in vat)
        table.row(
            [
                _("Total"),
                _money(net, order.currency, locale),
                _money(tax, order.currency, locale),
                _money(document.amount_cents, order.currency, locale),
            ]
        )
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 11)
    label = _("Total amount") if document.kind is DocumentKind.INVOICE else _("Amount credited")
    pdf.cell(
        0,
        6,
        f"{label}: {_money(document.amount_cents, order.currency, locale)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    prepaid = _prepaid_cents(order, document)
    pdf.set_font("DejaVu", size=10)
    if document.kind is DocumentKind.INVOICE:
        for line in _payment_lines(order, document.amount_cents - prepaid, prepaid):
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    corrects = (
        einvoice.InvoiceReference(refers_to.number, _local_today(refers_to.issued_at))
        if refers_to is not None
        else None
    )
    xml = einvoice.cii_xml(order, document, vat, issued_on, corrects, prepaid)
    return einvoice.factur_x_pdf(bytes(pdf.output()), xml, locale)
