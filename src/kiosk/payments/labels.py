"""Words for the payment codes stored with payments and orders, in the page's language."""

from __future__ import annotations

from flask_babel import gettext as _


def _payment_methods() -> dict[str, str]:
    return {
        "bank_transfer": _("Bank transfer (prepayment)"),
        "invoice": _("Invoice"),
        "cash_on_delivery": _("Cash on delivery"),
        "stripe": _("Card or wallet (Stripe)"),
    }


def _payment_statuses() -> dict[str, str]:
    return {
        "pending": _("pending"),
        "paid": _("paid"),
        "failed": _("failed"),
        "expired": _("expired"),
        "flagged": _("needs checking"),
    }


def payment_method_name(code: str) -> str:
    return _payment_methods().get(str(code), str(code))


def payment_status_name(code: str) -> str:
    return _payment_statuses().get(str(code), str(code))
