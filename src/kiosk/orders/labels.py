"""Words for the codes stored with orders, in the page's language, and the one `label`
lookup templates use for the codes of orders and their payments."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from kiosk.payments.labels import payment_method_name, payment_status_name


def _order_statuses() -> dict[str, str]:
    return {
        "awaiting_payment": _("awaiting payment"),
        "paid": _("paid"),
        "processing": _("processing"),
        "shipped": _("shipped"),
        "delivered": _("delivered"),
        "cancelled": _("cancelled"),
        "refunded": _("refunded"),
        "returned": _("returned"),
    }


def _order_events() -> dict[str, str]:
    return {
        "payment_received": _("Payment received"),
        "payment_repaired": _("Payment recorded afterwards: the order had been set to paid"),
        "payment_unconfirmed": _("Set to paid without a confirmed card payment: please check"),
        "refund_unrecorded": _(
            "Set to refunded without a recorded refund: please record it or note why"
        ),
        "refund": _("Refund"),
        "goods_returned": _("Goods returned to stock"),
        "payment_mismatch": _("Payment did not match the order"),
        "payment_failed": _("Payment failed"),
        "payment_expired": _("Payment page expired"),
        "paid_without_stock": _("Paid, but the stock was gone"),
        "status": _("State changed"),
        "refund_due": _("Refund due"),
        "withdrawal_received": _("Withdrawal received"),
        "payment_reminder": _("Payment reminder"),
        "note": _("Note"),
    }


def order_status_name(code: str) -> str:
    return _order_statuses().get(str(code), str(code))


def order_event_name(code: str) -> str:
    return _order_events().get(str(code), str(code))


LABELS: dict[str, Callable[[str], str]] = {
    "order_status": order_status_name,
    "order_event": order_event_name,
    "payment_method": payment_method_name,
    "payment_status": payment_status_name,
}


def label(group: str, code: str) -> str:
    """`label("order_status", "paid")`: the word for a stored code of the group."""
    return LABELS[group](code)
