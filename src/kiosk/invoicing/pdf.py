"""The PDF of an invoice or credit note, in the buyer's language, with its Factur-X XML inside.

fpdf2 with the embedded DejaVu font, so umlauts and € print; rendering takes a few
hundred milliseconds, so it happens after the transaction that issued the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from kiosk.invoicing import einvoice
from kiosk.invoicing.models import DocumentKind, Invoice, InvoicedOrder
from kiosk.invoicing.seller import Seller
from kiosk.invoicing.services import local_today
from kiosk.money import Money
from kiosk.payments.labels import payment_method_name
from kiosk.payments.models import PaymentStatus
from kiosk.pricing import VatLine

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _money(cents: int, currency: str, locale: str) -> str:
    return Money(cents, currency).format(locale)


def _prepaid_cents(order: InvoicedOrder, document: Invoice) -> int:
    """What the buyer has paid already when the invoice is made (paid first, invoiced at
    once); a credit note has nothing prepaid."""
    if document.kind is not DocumentKind.INVOICE:
        return 0
    paid = sum(p.amount_cents for p in order.payments if p.status is PaymentStatus.PAID)
    return min(paid, document.amount_cents)


def _payment_lines(order: InvoicedOrder, seller: Seller, due: int, prepaid: int) -> list[str]:
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
            f"{holder}: {seller.account_holder} · IBAN: {seller.iban}"
            + (f" · BIC: {seller.bic}" if seller.bic else ""),
            f"{reference}: {order.payment_reference}",
        ]  # fmt: skip
    return lines


def render(
    order: InvoicedOrder,
    document: Invoice,
    vat: list[VatLine],
    refers_to: Invoice | None,
    reason: str,
    seller: Seller,
) -> bytes:
    """The PDF of one document, in the buyer's language, with its Factur-X XML inside.

    `seller` is the version of the seller's details the document was issued with.

    Factur-X builds on PDF/A-3b: fpdf2 embeds the fonts and the sRGB output
    intent that PDF/A asks for, drafthorse writes the PDF/A-3 metadata. No
    PDF/A validator runs here (veraPDF is not available to the suite).
    """
    issued_on = local_today(document.issued_at)
    pdf = new_document(document.number, compliance="PDFA_3B")
    seller_block(pdf, seller)
    address_block(pdf, order.billing_address or order.shipping_address)
    _heading(pdf, order, document, issued_on, refers_to, reason)
    if document.kind is DocumentKind.INVOICE:
        _items(pdf, order)
    _vat_table(pdf, order, document, vat)
    prepaid = _prepaid_cents(order, document)
    _amounts(pdf, order, document, seller, prepaid)
    _footer(pdf, seller)
    corrects = (
        einvoice.InvoiceReference(refers_to.number, local_today(refers_to.issued_at))
        if refers_to is not None
        else None
    )
    xml = einvoice.cii_xml(order, document, vat, issued_on, seller, corrects, prepaid)
    return einvoice.factur_x_pdf(bytes(pdf.output()), xml, order.locale)


def new_document(title: str, compliance: str | None = None) -> FPDF:
    """An A4 page with the embedded DejaVu font (umlauts and € print), for every document
    the shop prints (invoices, credit notes, packing slips)."""
    pdf = FPDF(format="A4", enforce_compliance=compliance)
    pdf.set_title(title)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    return pdf


def seller_block(pdf: FPDF, seller: Seller) -> None:
    """The seller at the top right, with its VAT ID or tax number (§14 Abs. 4 Nr. 2 UStG)."""
    pdf.set_font("DejaVu", size=9)
    letterhead = [seller.name, *seller.address_lines]
    pdf.multi_cell(0, 4.5, "\n".join(letterhead), align="R", new_x="LMARGIN", new_y="NEXT")
    vat_id_label, tax_number_label = _("VAT ID"), _("Tax number")
    numbers = [f"{vat_id_label}: {seller.vat_id}"] if seller.vat_id else []
    if seller.tax_number:
        numbers.append(f"{tax_number_label}: {seller.tax_number}")
    for line in numbers:
        pdf.cell(0, 4.5, line, align="R", new_x="LMARGIN", new_y="NEXT")


def address_block(pdf: FPDF, address: Mapping[str, Any]) -> None:
    """An address on the left, where a window envelope shows it."""
    lines = [
        address.get("company", ""),
        address["name"],
        address["street"],
        address.get("extra", ""),
        f"{address['postal_code']} {address['city']}",
        address["country"],
    ]
    pdf.ln(6)
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(90, 5, "\n".join(line for line in lines if line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)


def _heading(
    pdf: FPDF,
    order: InvoicedOrder,
    document: Invoice,
    issued_on: date,
    refers_to: Invoice | None,
    reason: str,
) -> None:
    """The document's title and number, its dates, the order, and what it corrects."""
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


def _items(pdf: FPDF, order: InvoicedOrder) -> None:
    """An invoice's lines, then shipping, fee and discount."""
    currency, locale = order.currency, order.locale
    with pdf.table(
        col_widths=(80, 15, 15, 30, 30),
        headings_style=FontFace(emphasis="BOLD"),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
    ) as table:
        table.row([_("Item"), _("Quantity"), _("VAT"), _("Unit price"), _("Total")])
        for item in order.lines:
            table.row(
                [
                    f"{item.name} ({item.sku})",
                    str(item.quantity),
                    f"{item.vat_rate_bp / 100:g} %",
                    _money(item.unit_price_cents, currency, locale),
                    _money(item.total_cents, currency, locale),
                ]
            )
        extras = [
            (_("Shipping"), order.shipping_cents),
            (_("Fee"), order.fee_cents),
            (_("Discount"), -order.discount_cents),
        ]
        for name, cents in extras:
            if cents:
                table.row([name, "", "", "", _money(cents, currency, locale)])
    pdf.ln(4)


def _vat_table(pdf: FPDF, order: InvoicedOrder, document: Invoice, vat: list[VatLine]) -> None:
    """Net, VAT and gross per rate, and their sums (§14 Abs. 4 Nr. 8 UStG)."""
    currency, locale = order.currency, order.locale
    with pdf.table(
        col_widths=(50, 40, 40, 40),
        headings_style=FontFace(emphasis="BOLD"),
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
                _money(net, currency, locale),
                _money(tax, currency, locale),
                _money(document.amount_cents, currency, locale),
            ]
        )
    pdf.ln(6)


def _amounts(
    pdf: FPDF, order: InvoicedOrder, document: Invoice, seller: Seller, prepaid: int
) -> None:
    """The total (or the amount credited) and, on an invoice, how it is paid."""
    pdf.set_font("DejaVu", "B", 11)
    label = _("Total amount") if document.kind is DocumentKind.INVOICE else _("Amount credited")
    pdf.cell(
        0,
        6,
        f"{label}: {_money(document.amount_cents, order.currency, order.locale)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("DejaVu", size=10)
    if document.kind is DocumentKind.INVOICE:
        for line in _payment_lines(order, seller, document.amount_cents - prepaid, prepaid):
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")


def _footer(pdf: FPDF, seller: Seller) -> None:
    """The seller's own closing text (register court, managing director …), if any."""
    if seller.invoice_footer.strip():
        pdf.ln(8)
        pdf.set_font("DejaVu", size=8)
        pdf.multi_cell(0, 4, seller.invoice_footer.strip(), new_x="LMARGIN", new_y="NEXT")
