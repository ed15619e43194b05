"""A document as the PDF download that the buyer's order page and staff's order page offer:
exactly as issued, never cached on the way."""

from __future__ import annotations

from flask import Response, abort

from kiosk.invoicing.models import InvoicedOrder
from kiosk.invoicing.services import document_of


def document_download(order: InvoicedOrder, document_number: str) -> Response:
    """An invoice or credit note of this order as a PDF download (404 for another number)."""
    document = document_of(order, document_number)
    if document is None:
        abort(404)
    return Response(
        document.pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{document.number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )
