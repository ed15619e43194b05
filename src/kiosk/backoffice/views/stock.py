"""Stock for staff: one product's counters, its adjustment form and ledger; the products
that run low."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.forms import StockAdjustForm
from kiosk.backoffice.views import bp
from kiosk.hypermedia import page_number, render_page
from kiosk.inventory import adjustments
from kiosk.inventory.adjustments import AdjustmentRefused, AdjustReason
from kiosk.inventory.labels import movement_kind_name

LEDGER_PER_PAGE = 25
LOW_STOCK_PER_PAGE = 50

REASONS: dict[AdjustReason, Any] = {
    AdjustReason.RECEIVED: _l("Goods received (add)"),
    AdjustReason.COUNT: _l("Stock count (set to the counted number)"),
    AdjustReason.DAMAGE: _l("Damage or loss (take away)"),
    AdjustReason.RETURN: _l("Return (add)"),
}


def _form(formdata: bool = True, **kwargs: Any) -> StockAdjustForm:
    reasons = [SelectChoice(reason.value, str(label)) for reason, label in REASONS.items()]
    if not formdata:
        kwargs["formdata"] = None
    return StockAdjustForm(reasons, **kwargs)


def _stock_page(
    product_id: int, form: StockAdjustForm | None = None, status: int = 200
) -> ResponseReturnValue:
    history = adjustments.history(product_id, page_number(), LEDGER_PER_PAGE)
    if history is None:
        abort(404)
    if form is None:
        form = _form(formdata=False, data={"reason": AdjustReason.RECEIVED.value})
    form.seen.data = history.card.on_hand  # a refused form asks again from today's figure
    return render_page(
        "staff/product_stock.html",
        "staff/_stock_ledger.html",
        status=status,
        history=history,
        card=history.card,
        form=form,
        failed=[form] if form.errors else [],
        kind_name=movement_kind_name,
    )


@bp.get("/products/<int:product_id>/stock")
@require(Permission.MANAGE_STOCK)
def product_stock(product_id: int) -> ResponseReturnValue:
    """A product's stock: on hand, reserved, available, reorder level, and its ledger."""
    return _stock_page(product_id)


REFUSALS = {
    "below_zero": _l("Stock cannot go below zero: %(on_hand)d are on hand."),
    "below_reserved": _l(
        "Checkouts and orders hold %(reserved)d of these, so on hand cannot go below that."
    ),
    "changed": _l(
        "Stock changed meanwhile: %(on_hand)d are on hand now. "
        "Please check your entry and save again."
    ),
}


@bp.post("/products/<int:product_id>/stock")
@require(Permission.MANAGE_STOCK)
def adjust_stock(product_id: int) -> ResponseReturnValue:
    """Record received goods, a count, damage or a return; the ledger keeps who and why."""
    form = _form()
    if form.validate():
        reason = AdjustReason(form.reason.data)
        try:
            change = adjustments.adjust(
                current_user.id,
                product_id,
                reason,
                form.quantity.data or 0,
                form.note.data or "",
                seen_on_hand=form.seen.data,
            )
        except LookupError:
            abort(404)
        except AdjustmentRefused as refused:
            message = str(REFUSALS[refused.code]) % {
                "on_hand": refused.on_hand,
                "reserved": refused.reserved,
            }
            form.quantity.errors = [*form.quantity.errors, message]
        else:
            flash(_("Stock on hand is now %(after)d (was %(before)d).", **vars(change)), "success")
            return redirect(url_for("staff.product_stock", product_id=product_id), code=303)
    return _stock_page(product_id, form, 422)


@bp.get("/stock")
@require(Permission.MANAGE_STOCK)
def stock_list() -> ResponseReturnValue:
    """Active products at or below their reorder level, sold-out ones first."""
    low = adjustments.running_low(page_number(), LOW_STOCK_PER_PAGE)
    return render_page("staff/stock.html", "staff/stock.html", low=low)
