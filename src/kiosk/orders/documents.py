"""An order's invoices and credit notes after the transaction that issued them: render each
PDF (a few hundred milliseconds, too long to hold SQLite's write lock), store it once, and
mail it to the buyer. Invoicing makes and keeps the documents; which mail goes with one
depends on where the order is, which is the order's business."""

from __future__ import annotations

from flask_babel import force_locale

from kiosk.invoicing import pdf, seller
from kiosk.invoicing import services as invoicing
from kiosk.invoicing.models import DocumentKind
from kiosk.mail.services import queue_mail
from kiosk.orders.models import OrderStatus
from kiosk.orders.repository import OrderRepository
from kiosk.pricing import vat_lines_from
from kiosk.uow import read_session, unit_of_work


def complete_pending(order_id: int | None = None) -> int:
    """Render and store the PDFs of issued documents that have none yet, and mail them.

    Runs outside any transaction while rendering; safe to run again and in parallel.
    """
    session = read_session()
    done = 0
    for document_id, owner_id in invoicing.pending(order_id):
        document = invoicing.get(session, document_id)
        order = OrderRepository(session).get(owner_id)
        assert document is not None and order is not None
        refers_to = invoicing.get(session, document.refers_to_id) if document.refers_to_id else None
        vat = vat_lines_from(document.vat_breakdown, document.currency)
        issuer = seller.of_document(session, document)
        with force_locale(order.locale):
            rendered = pdf.render(order, document, vat, refers_to, document.reason, issuer)
        session.rollback()  # end the read before writing
        with unit_of_work() as write:
            if not invoicing.store_pdf(write, document_id, rendered):
                continue  # another process stored it first
            fresh = OrderRepository(write).get(owner_id)
            document = invoicing.get(write, document_id)
            assert fresh is not None and document is not None
            template = (
                "payment_received"
                if document.kind is DocumentKind.INVOICE and fresh.status is OrderStatus.PAID
                else "document_issued"
            )
            queue_mail(write, fresh.email, template, fresh.locale, order=fresh, document=document,
                       attachments=invoicing.as_attachments(document))  # fmt: skip
            done += 1
    return done
