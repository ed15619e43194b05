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


class Refused(ValueError):
    """Staff asked for something the order does not allow; `message()` says why."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params

    def message(self) -> str:
        return _refusals()[self.code] % self.params


def _refusals() -> dict[str, str]:
    return {
        "not_shipped": _("Only goods that were shipped can come back; this order is %(state)s."),
        "nothing_chosen": _("Please enter how many of which item came back."),
        "unknown_line": _("That item is not part of this order."),
        "too_many": _(
            "At most %(left)d of “%(item)s” can come back (shipped less returned before)."
        ),
        "not_invoice": _("Only an unpaid order paid on invoice has an invoice to cancel."),
        "no_invoice": _("This order has no invoice yet: cancel the order instead."),
        "paid": _("Money was paid for this order: refund it instead."),
        "not_overdue": _("The payment of this order is not overdue."),
        "too_soon": _("A reminder went out on %(sent)s; the next one can be sent from %(next)s."),
    }
