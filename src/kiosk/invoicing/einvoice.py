"""Factur-X / ZUGFeRD: the invoice's data as EN 16931 XML inside its PDF.

Between businesses in Germany an invoice is becoming an e-invoice: a
structured format that follows EN 16931 (§14 Abs. 1 UStG since 2025, with
transition periods until 2027). A Factur-X (ZUGFeRD) PDF with the EN 16931
profile is one, and a consumer still reads it as an ordinary PDF: the pages a
person reads, with the same document as CII XML (UN/CEFACT Cross Industry
Invoice) attached as `factur-x.xml`. The XML is built with drafthorse, checked
against the Factur-X 1.0.07 EN 16931 XSD that drafthorse bundles, and attached
with the PDF/A-3 metadata Factur-X asks for. Factur-X marks the XML as the
"Alternative" form of what the pages show, so both must say the same.

The XML says what the PDF prints: the seller's version the document was issued with, buyer from
the order's billing address, the issue and delivery dates, the order's lines,
shipping and the payment fee as charges, the coupon discount as an allowance,
and the VAT breakdown stored with the document. It adds what a buyer's
bookkeeping wants and the pages leave out: both e-mail addresses, the payment
method (with the shop's IBAN for transfers), the payment reference, and payment
terms (BR-CO-25 asks for them when an amount is due).

Amounts. The shop keeps gross prices and a VAT breakdown per rate (net + VAT =
gross, `services/pricing.py`); EN 16931 wants net amounts that add up exactly:
per rate, the lines' net amounts plus charges minus allowances equal the
taxable amount (BR-S-08), and the header sums follow from those (BR-CO-10,
-13, -15). Rounding each line's gross to net on its own would miss the stored
net per rate by a cent now and then, so the stored per-rate net is the fixed
point and is divided instead (`_invoice_parts`). The tax per rate is the
stored one, gross minus net: it differs from taxable amount × rate by a cent
at most, within what BR-S-09 allows in CII (less than one currency unit).

Not checked here: the EN 16931 business rules themselves (Schematron); the
tests recompute the sums those rules ask for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from babel import Locale
from drafthorse.models.accounting import ApplicableTradeTax, CategoryTradeTax, TradeAllowanceCharge
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import PostalTradeAddress, TaxRegistration, TradeParty
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.trade import TradeSettlement
from drafthorse.models.tradelines import LineItem
from drafthorse.pdf import attach_xml
from flask_babel import gettext as _

from kiosk.invoicing.models import DocumentKind, Invoice, InvoicedOrder
from kiosk.invoicing.seller import Seller
from kiosk.money import Money
from kiosk.payments.labels import payment_method_name
from kiosk.pricing import VatLine, split_by_weight

PROFILE = "EN 16931"  # the Factur-X conformance level, as the PDF's XMP metadata names it
GUIDELINE = "urn:cen.eu:en16931:2017"  # BT-24: the EN 16931 profile itself, no extension
SCHEMA = "FACTUR-X_EN16931"
TYPE_CODE = {DocumentKind.INVOICE: "380", DocumentKind.CREDIT_NOTE: "381"}  # UNTDID 1001
PIECE = "H87"  # UN/ECE Recommendation 20: one piece
EMAIL_SCHEME = "EM"  # electronic address scheme for an e-mail address (BT-34, BT-49)
FREIGHT = "FC"  # UNTDID 7161 charge reason: freight service
DISCOUNT = "95"  # UNTDID 5189 allowance reason: discount

# UNTDID 4461 payment means of the shop's payment methods: a transfer to the shop's
# account (SEPA credit transfer), cash to the parcel carrier, or a card or wallet
# at Stripe ("mutually defined": Stripe does not tell which).
PAYMENT_MEANS = {
    "bank_transfer": "58",
    "invoice": "58",
    "cash_on_delivery": "10",
    "stripe": "ZZZ",
}

_POSTCODE_CITY = re.compile(r"^(\d{4,5})\s+(.+)$")


class InvoiceReference(NamedTuple):
    """The invoice a credit note corrects, as the credit note's PDF names it."""

    number: str
    issued_on: date


@dataclass(frozen=True)
class Position:
    """One invoice line of the XML, with its net amount in cents."""

    name: str
    sku: str
    quantity: int
    rate_bp: int
    net_cents: int


@dataclass(frozen=True)
class Adjustment:
    """A document-level charge (shipping, payment fee) or allowance (discount) in one VAT rate."""

    is_charge: bool
    reason: str
    reason_code: str
    rate_bp: int
    net_cents: int


def factur_x_pdf(pdf: bytes, xml: bytes, locale: str) -> bytes:
    """The PDF with the XML attached as `factur-x.xml`, marked as Factur-X EN 16931 and PDF/A-3.

    drafthorse copies the pages and the PDF's output intent into a new file and
    writes the XMP metadata (PDF/A-3b, Factur-X extension schema) and /AF entry.
    """
    return bytes(attach_xml(pdf, xml, PROFILE, lang=locale))


def cii_xml(
    order: InvoicedOrder,
    document: Invoice,
    vat: Sequence[VatLine],
    issued_on: date,
    seller: Seller,
    corrects: InvoiceReference | None = None,
    prepaid_cents: int = 0,
) -> bytes:
    """The document as CII XML (EN 16931), validated against the Factur-X XSD.

    `prepaid_cents` is what the buyer paid before the invoice was made (BT-113);
    the amount due (BT-115) is the rest.

    An invoice lists the order's lines; a credit note lists one line per VAT rate
    of the amount taken back, as its PDF does, and refers to the invoice it corrects.
    """
    currency = document.currency
    if document.kind is DocumentKind.INVOICE:
        positions, adjustments = _invoice_parts(order, vat)
    else:
        positions, adjustments = _credit_note_parts(document, vat, corrects), []

    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE
    doc.header.id = document.number
    doc.header.type_code = TYPE_CODE[document.kind]
    doc.header.issue_date_time = issued_on
    if document.reason:
        note = IncludedNote()
        note.content = document.reason
        doc.header.notes.add(note)

    agreement = doc.trade.agreement
    _describe_seller(agreement.seller, seller)
    _describe_buyer(agreement.buyer, order)
    agreement.seller_order.issuer_assigned_id = order.number  # BT-14, the order number
    doc.trade.delivery.event.occurrence = document.delivery_date

    for number, position in enumerate(positions, start=1):
        doc.trade.items.add(_line_item(number, position))

    settlement = doc.trade.settlement
    settlement.currency_code = currency
    if document.kind is DocumentKind.INVOICE:
        settlement.payment_reference = order.payment_reference
        _describe_payment_means(settlement, order.payment_method, seller)
    for adjustment in adjustments:
        settlement.allowance_charge.add(_allowance_charge(adjustment))
    for line in vat:
        settlement.trade_tax.add(_trade_tax(line))
    terms = PaymentTerms()  # BR-CO-25: an amount due needs payment terms or a due date
    paid_by = payment_method_name(order.payment_method)
    if document.kind is DocumentKind.INVOICE:
        terms.description = f"{_('Payment method')}: {paid_by}"
    else:
        terms.description = f"{_('Refund')}: {paid_by}"
    settlement.terms.add(terms)

    net = sum(line.net.cents for line in vat)
    tax = sum(line.vat.cents for line in vat)
    charges = sum(a.net_cents for a in adjustments if a.is_charge)
    allowances = sum(a.net_cents for a in adjustments if not a.is_charge)
    summation = settlement.monetary_summation
    summation.line_total = _decimal(sum(p.net_cents for p in positions))
    summation.charge_total = _decimal(charges)
    summation.allowance_total = _decimal(allowances)
    summation.tax_basis_total = _decimal(net)
    summation.tax_total = (_decimal(tax), currency)
    summation.grand_total = _decimal(document.amount_cents)
    summation.prepaid_total = _decimal(prepaid_cents)
    summation.due_amount = _decimal(document.amount_cents - prepaid_cents)

    if corrects is not None:
        settlement.invoice_referenced_document.issuer_assigned_id = corrects.number
        settlement.invoice_referenced_document.issue_date_time = corrects.issued_on
    return bytes(doc.serialize(schema=SCHEMA))


def _invoice_parts(
    order: InvoicedOrder, vat: Sequence[VatLine]
) -> tuple[list[Position], list[Adjustment]]:
    """The order's lines, shipping, fee and discount, each with a net amount in its rate.

    The gross amounts per rate are split as `pricing.totals` split them when the
    order was placed (the discount over the items, shipping and fee together over
    the goods after discount), and must add up to the stored breakdown. Shipping
    and fee are then told apart within each rate's share, in proportion, so
    neither part is ever negative.

    Charges and the allowance take the net of their own gross (`Money.net_of`);
    the lines of a rate share what the rate's stored net leaves, in proportion to
    their gross totals, to the cent. So the lines' net amounts plus charges minus
    allowances are exactly the stored net of every rate (BR-S-08). The price of
    that: a line's net amount may differ from its own gross ÷ (1 + rate) by the
    roundings of its rate's net, charges and allowance, a few cents at most.
    """
    currency = order.currency
    items: dict[int, int] = {}
    for line in order.lines:
        items[line.vat_rate_bp] = items.get(line.vat_rate_bp, 0) + line.total_cents
    discount = split_by_weight(order.discount_cents, items)
    goods = {rate: items[rate] - discount[rate] for rate in items}
    extras = split_by_weight(order.shipping_cents + order.fee_cents, goods)
    fee = split_by_weight(order.fee_cents, extras)
    shipping = {rate: extras[rate] - fee[rate] for rate in extras}
    gross = {rate: goods[rate] + extras[rate] for rate in items}
    if gross != {line.rate_bp: line.gross.cents for line in vat}:
        raise ValueError(f"order {order.number}: its lines do not add up to its VAT breakdown")
    stored_net = {line.rate_bp: line.net.cents for line in vat}

    adjustments: list[Adjustment] = []
    line_net: dict[int, int] = {}
    for rate in sorted(items, reverse=True):
        own = [
            Adjustment(True, _("Shipping"), FREIGHT, rate, _net(shipping[rate], rate, currency)),
            Adjustment(True, _("Fee"), "", rate, _net(fee[rate], rate, currency)),
            Adjustment(False, _("Discount"), DISCOUNT, rate, _net(discount[rate], rate, currency)),
        ]
        own = [adjustment for adjustment in own if adjustment.net_cents]
        adjustments.extend(own)
        charges = sum(a.net_cents for a in own if a.is_charge)
        allowances = sum(a.net_cents for a in own if not a.is_charge)
        weights = {n: line.total_cents for n, line in enumerate(order.lines)
                   if line.vat_rate_bp == rate}  # fmt: skip
        line_net |= split_by_weight(stored_net[rate] - charges + allowances, weights)
    positions = [
        Position(line.name, line.sku, line.quantity, line.vat_rate_bp, line_net[n])
        for n, line in enumerate(order.lines)
    ]
    return positions, adjustments


def _credit_note_parts(
    document: Invoice, vat: Sequence[VatLine], corrects: InvoiceReference | None
) -> list[Position]:
    """One line per VAT rate of the amount credited, named for the reason or the invoice."""
    if document.reason:
        name = document.reason
    elif corrects is not None:
        name = f"{_('Corrects invoice')} {corrects.number}"
    else:
        name = _("Credit note")
    return [Position(name, "", 1, line.rate_bp, line.net.cents) for line in vat]


def _net(gross_cents: int, rate_bp: int, currency: str) -> int:
    return Money(gross_cents, currency).net_of(rate_bp).cents


def _decimal(hundredths: int) -> Decimal:
    """Cents as an amount ("12.50"), or a rate in basis points as a percentage (19.00):
    both are hundredths, written with two places as CII writes them."""
    return Decimal(hundredths).scaleb(-2)


def _category(rate_bp: int) -> str:
    """UNTDID 5305: standard rated, or zero rated for a rate of 0 % (BR-Z-*: no tax, no reason)."""
    return "S" if rate_bp else "Z"


def _line_item(number: int, position: Position) -> LineItem:
    """An invoice line; its net price is per piece when that is a whole cent, else per line.

    EN 16931 computes a line's net amount as quantity × price ÷ price base
    quantity (BT-149). Stating the price for the whole quantity keeps that exact
    where a per-piece price would need fractions of a cent.
    """
    item = LineItem()
    item.document.line_id = str(number)
    item.product.name = position.name
    if position.sku:
        item.product.seller_assigned_id = position.sku
    per_piece, rest = divmod(position.net_cents, position.quantity)
    if rest == 0:
        item.agreement.net.amount = _decimal(per_piece)
    else:
        item.agreement.net.amount = _decimal(position.net_cents)
        item.agreement.net.basis_quantity = (Decimal(position.quantity), PIECE)
    item.delivery.billed_quantity = (Decimal(position.quantity), PIECE)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = _category(position.rate_bp)
    item.settlement.trade_tax.rate_applicable_percent = _decimal(position.rate_bp)
    item.settlement.monetary_summation.total_amount = _decimal(position.net_cents)
    return item


def _allowance_charge(adjustment: Adjustment) -> TradeAllowanceCharge:
    entry = TradeAllowanceCharge()
    entry.indicator = adjustment.is_charge
    entry.actual_amount = _decimal(adjustment.net_cents)
    if adjustment.reason_code:
        entry.reason_code = adjustment.reason_code
    entry.reason = adjustment.reason
    tax = CategoryTradeTax()
    tax.type_code = "VAT"
    tax.category_code = _category(adjustment.rate_bp)
    tax.rate_applicable_percent = _decimal(adjustment.rate_bp)
    entry.trade_tax.add(tax)
    return entry


def _trade_tax(line: VatLine) -> ApplicableTradeTax:
    tax = ApplicableTradeTax()
    tax.type_code = "VAT"
    tax.category_code = _category(line.rate_bp)
    tax.rate_applicable_percent = _decimal(line.rate_bp)
    tax.basis_amount = line.net.to_decimal()
    tax.calculated_amount = line.vat.to_decimal()
    return tax


def _describe_seller(party: TradeParty, seller: Seller) -> None:
    """The seller as the PDF's letterhead shows it: name, address lines, VAT ID (BT-31) and
    tax number (BT-32)."""
    party.name = seller.name
    _fill_address(party.address, seller.address_lines)
    party.electronic_address.uri_ID = (EMAIL_SCHEME, seller.email)
    if seller.vat_id:
        party.tax_registrations.add(TaxRegistration(id=("VA", seller.vat_id)))
    if seller.tax_number:
        party.tax_registrations.add(TaxRegistration(id=("FC", seller.tax_number)))


def _fill_address(address: PostalTradeAddress, lines: list[str]) -> None:
    """Structure the seller's address lines: a country name last, "12345 Town" before it.

    The setting is free text, one line per `|`; a last line that names a country
    (in English or German) gives the country code, otherwise the shop is in
    Germany. The other lines (owner, street) stay lines, the third taking any rest.
    """
    lines = [line.strip() for line in lines if line.strip()]
    address.country_id = "DE"
    if lines and (code := _country_code(lines[-1])):
        address.country_id = code
        lines.pop()
    if lines and (match := _POSTCODE_CITY.match(lines[-1])):
        address.postcode, address.city_name = match.groups()
        lines.pop()
    if lines:
        address.line_one = lines[0]
    if len(lines) > 1:
        address.line_two = lines[1]
    if len(lines) > 2:
        address.line_three = ", ".join(lines[2:])


def _country_code(name: str) -> str | None:
    """The ISO 3166 code of a country named in English or German ("Germany", "Österreich")."""
    wanted = name.casefold()
    for language in ("en", "de"):
        for code, territory in Locale(language).territories.items():
            if len(code) == 2 and code.isalpha() and territory.casefold() == wanted:
                return str(code)
    return None


def _describe_buyer(buyer: TradeParty, order: InvoicedOrder) -> None:
    """The buyer as the PDF's address field shows it: the billing address, else shipping.

    A company buys in its own name (BT-44), with the person as its contact (BT-56).
    """
    address = order.billing_address or order.shipping_address
    company = address.get("company", "")
    buyer.name = company or address["name"]
    if company:
        buyer.contact.person_name = address["name"]
    buyer.address.line_one = address["street"]
    if address.get("extra"):
        buyer.address.line_two = address["extra"]
    buyer.address.postcode = address["postal_code"]
    buyer.address.city_name = address["city"]
    buyer.address.country_id = address["country"]
    buyer.electronic_address.uri_ID = (EMAIL_SCHEME, order.email)


def _describe_payment_means(settlement: TradeSettlement, method: str, seller: Seller) -> None:
    """How the invoice is paid: to the shop's account (with IBAN and BIC), in cash, or by card."""
    code = PAYMENT_MEANS.get(method)
    if code is None:
        return
    means = PaymentMeans()
    means.type_code = code
    means.information.add(payment_method_name(method))
    if code == "58":
        means.payee_account.iban = seller.iban.replace(" ", "")
        means.payee_account.account_name = seller.account_holder
        if seller.bic:  # optional within SEPA
            means.payee_institution.bic = seller.bic
    settlement.payment_means.add(means)
