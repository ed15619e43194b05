"""The packing slip that goes into the parcel: what is in it and where it goes, no prices.

It is printed with the invoices' machinery (`invoicing.pdf`: page, font, seller and
address blocks), in the buyer's language, and never stored: it says nothing that the
order does not say already.
"""

from __future__ import annotations

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from fpdf.fonts import FontFace

from kiosk.invoicing import pdf
from kiosk.invoicing.seller import seller_now
from kiosk.invoicing.services import local_today
from kiosk.orders.models import Order


def render(order: Order) -> bytes:
    """The packing slip of an order as PDF: lines with SKU and quantity, the delivery
    address."""
    with force_locale(order.locale):
        title = _("Packing slip %(number)s", number=order.number)
        document = pdf.new_document(title)
        pdf.seller_block(document, seller_now())
        pdf.address_block(document, order.shipping_address)
        document.set_font("DejaVu", "B", 14)
        document.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        document.set_font("DejaVu", size=10)
        facts = [
            (_("Order date"), format_date(local_today(order.placed_at), "medium")),
            (_("Shipping method"), order.shipping_method_name),
        ]
        for name, value in facts:
            document.cell(45, 5, f"{name}:")
            document.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
        document.ln(5)
        with document.table(
            col_widths=(30, 125, 25),
            headings_style=FontFace(emphasis="BOLD"),
            text_align=("LEFT", "LEFT", "RIGHT"),
        ) as table:
            table.row([_("SKU"), _("Item"), _("Quantity")])
            for line in order.lines:
                table.row([line.sku, line.name, str(line.quantity)])
        document.ln(4)
        pieces = sum(line.quantity for line in order.lines)
        document.cell(0, 6, _("Pieces in all: %(count)d", count=pieces))
        return bytes(document.output())
