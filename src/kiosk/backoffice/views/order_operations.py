"""What staff do to several orders, or to an order's goods and invoice: ship a selection
(typed or from the carrier's CSV), print a packing slip, record a return, cancel an
unpaid invoice, remind of an overdue payment.

The order page shows these forms through the `order_operations` context helper, so its
own view stays as it was; a form that failed here re-renders that page with its errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.order_forms import (
    CancelInvoiceForm,
    ReturnForm,
    ShipForm,
    return_form,
    ship_form,
    submitted_numbers,
)
from kiosk.backoffice.views import bp
from kiosk.backoffice.views.orders import _order_page
from kiosk.money import Money
from kiosk.orders import packing_slip, reminders, returns, shipments
from kiosk.orders import services as orders
from kiosk.orders.labels import Refused
from kiosk.orders.lifecycle import TransitionRefused, refusal_message
from kiosk.orders.models import Order
from kiosk.orders.shipments import Shipment, ShipReport
from kiosk.templating import format_money
from kiosk.validation import EmptyForm


@dataclass(frozen=True)
class OrderOperations:
    """What the order page offers of these operations, and their forms."""

    return_form: ReturnForm | None
    cancel_form: CancelInvoiceForm | None
    can_remind: bool
    unrefunded: Money
    button_form: EmptyForm


@bp.context_processor
def _order_operations() -> dict[str, Any]:
    def order_operations(order: Order) -> OrderOperations:
        returnable = returns.returnable(order)
        failed_return = g.get("return_form")
        failed_cancel = g.get("cancel_form")
        if failed_return is None and any(returnable.values()):
            failed_return = return_form(order, returnable, formdata=None)
        if failed_cancel is None and returns.can_cancel_invoice(order):
            failed_cancel = CancelInvoiceForm(formdata=None)
        return OrderOperations(
            return_form=failed_return,
            cancel_form=failed_cancel,
            can_remind=reminders.is_overdue(order),
            unrefunded=returns.unrefunded_credit(order),
            button_form=EmptyForm(formdata=None),
        )

    return {"order_operations": order_operations}


def _back_to(number: str) -> ResponseReturnValue:
    return redirect(url_for("staff.order", number=number), code=303)


def _order(number: str) -> Order:
    order = orders.by_number(number)
    if order is None:
        abort(404)
    return order


# One order ------------------------------------------------------------------------------


@bp.get("/orders/<number>/packing-slip.pdf")
@require(Permission.MANAGE_ORDERS)
def packing_slip_pdf(number: str) -> ResponseReturnValue:
    """The packing slip: items, SKUs, quantities and the delivery address, no prices."""
    order = _order(number)
    return Response(
        packing_slip.render(order),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="packing-slip-{order.number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.post("/orders/<number>/return")
@require(Permission.MANAGE_ORDERS)
def record_return(number: str) -> ResponseReturnValue:
    """Record goods that came back: restock them and issue a credit note."""
    order = _order(number)
    form = return_form(order, returns.returnable(order))
    done = returns.recorded_with(order, request.form.get("key", ""))
    if done is not None:  # the same form again: it was recorded the first time
        flash(_("This return is recorded already."), "success")
        return _back_to(number)
    if form.validate():
        try:
            done = returns.record_return(
                number, form.quantities(), form.reason.data or "", current_user.id,
                form.key.data or "",
            )  # fmt: skip
            if done.credit_note:
                flash(_("The return is recorded; credit note %(document)s over %(amount)s is "
                        "issued.", document=done.credit_note,
                        amount=format_money(done.amount)), "success")  # fmt: skip
            else:
                flash(_("The return is recorded and the goods are back in stock."), "success")
            return _back_to(number)
        except LookupError:
            abort(404)
        except Refused as refused:
            form.reason.errors = [*form.reason.errors, refused.message()]
    g.return_form = form
    return _order_page(number, 422)


@bp.post("/orders/<number>/cancel-invoice")
@require(Permission.MANAGE_ORDERS)
def cancel_invoice(number: str) -> ResponseReturnValue:
    """Cancel an unpaid invoice order: stock back, the invoice cancelled by a credit note."""
    _order(number)
    form = CancelInvoiceForm()
    if form.validate():
        try:
            credit_note = returns.cancel_invoice(number, form.reason.data or "", current_user.id)
            flash(_("The order and its invoice are cancelled (credit note %(document)s).",
                    document=credit_note), "success")  # fmt: skip
            return _back_to(number)
        except LookupError:
            abort(404)
        except Refused as refused:
            form.reason.errors = [*form.reason.errors, refused.message()]
        except TransitionRefused as refused:
            form.reason.errors = [*form.reason.errors, refusal_message(refused)]
    g.cancel_form = form
    return _order_page(number, 422)


@bp.post("/orders/<number>/remind")
@require(Permission.MANAGE_ORDERS)
def remind(number: str) -> ResponseReturnValue:
    """Send the buyer a payment reminder for an overdue order."""
    _order(number)
    if not EmptyForm().validate():
        abort(400)
    try:
        sent = reminders.remind(number, current_user.id)
        flash(_("The payment reminder is on its way to %(email)s.", email=sent.email), "success")
    except LookupError:
        abort(404)
    except Refused as refused:
        flash(refused.message(), "error")
    return _back_to(number)


# Several orders -------------------------------------------------------------------------


@bp.post("/orders/selection")
@require(Permission.MANAGE_ORDERS)
def order_selection() -> ResponseReturnValue:
    """The list's bulk actions: ship the chosen orders (on to a page to give carrier and
    number), or remind their buyers of overdue payments."""
    if not EmptyForm().validate():
        abort(400)
    numbers = [n[:16] for n in request.form.getlist("order")][:200]
    if not numbers:
        flash(_("Please choose at least one order."), "error")
        return redirect(url_for("staff.orders_list"), code=303)
    if request.form.get("action") == "remind":
        sent, refused = 0, []
        for number in numbers:
            try:
                reminders.remind(number, current_user.id)
                sent += 1
            except (LookupError, Refused) as problem:
                why = problem.message() if isinstance(problem, Refused) else _("No such order.")
                refused.append(f"{number}: {why}")
        if sent:
            flash(ngettext("%(num)d payment reminder sent.", "%(num)d payment reminders sent.",
                           sent), "success")  # fmt: skip
        for line in refused:
            flash(line, "error")
        return redirect(url_for("staff.orders_list", queue="overdue"), code=303)
    return redirect(url_for("staff.ship_orders", order=numbers), code=303)


def _ship_page(form: ShipForm, problems: list[tuple[int, str]] | None = None,
               status: int = 200) -> ResponseReturnValue:  # fmt: skip
    chosen = {o.number: o for o in shipments.selected(f.data for f, _c, _t in form.rows())}
    return render_template(
        "staff/ship_orders.html",
        form=form,
        rows=[
            (chosen.get(number.data or ""), number, carrier, tracking)
            for number, carrier, tracking in form.rows()
        ],
        problems=problems or [],
        csv_form=EmptyForm(formdata=None),
        can_ship=shipments.can_ship,
    ), status


@bp.get("/orders/ship")
@require(Permission.MANAGE_ORDERS)
def ship_orders() -> ResponseReturnValue:
    """One row per chosen order, each with the carrier of its shipping method."""
    chosen = shipments.selected(n[:16] for n in request.args.getlist("order")[:200])
    data: dict[str, str] = {}
    for i, order in enumerate(chosen):
        data |= {f"number_{i}": order.number, f"carrier_{i}": shipments.default_carrier(order)}
    return _ship_page(ship_form([o.number for o in chosen], formdata=None, data=data))


def _report(report: ShipReport) -> None:
    if report.shipped:
        flash(ngettext("%(num)d order marked as shipped.", "%(num)d orders marked as shipped.",
                       len(report.shipped)), "success")  # fmt: skip
    if report.already:
        flash(_("Already shipped before: %(numbers)s.", numbers=", ".join(report.already)),
              "success")  # fmt: skip
    for number, why in report.refused:
        flash(_("%(number)s was not shipped: %(why)s", number=number, why=why), "error")


@bp.post("/orders/ship")
@require(Permission.MANAGE_ORDERS)
def ship_orders_apply() -> ResponseReturnValue:
    """Mark every order of the page shipped with its carrier and number."""
    form = ship_form(submitted_numbers(request.form))
    if not form.validate():
        return _ship_page(form, status=422)
    report = shipments.ship_all(
        [Shipment(number.data or "", carrier.data or "", tracking.data or "")
         for number, carrier, tracking in form.rows()],
        current_user.id,
    )  # fmt: skip
    _report(report)
    return redirect(url_for("staff.orders_list"), code=303)


@bp.post("/orders/ship/csv")
@require(Permission.MANAGE_ORDERS)
def ship_orders_csv() -> ResponseReturnValue:
    """A dry run of the carrier's CSV: the rows that can be shipped fill the ship page,
    to be applied there; each line that cannot is named with its problem."""
    if not EmptyForm().validate():
        abort(400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form = ship_form([], formdata=None)
        return _ship_page(form, [(0, _("Please choose the carrier's CSV file."))], 422)
    reading = shipments.read_carrier_csv(upload.read(shipments.MAX_CSV_BYTES + 1))
    data: dict[str, str] = {}
    for i, row in enumerate(reading.shipments):
        data |= {f"number_{i}": row.number, f"carrier_{i}": row.carrier,
                 f"tracking_{i}": row.tracking}  # fmt: skip
    form = ship_form([row.number for row in reading.shipments], formdata=None, data=data)
    return _ship_page(form, reading.problems, 422 if reading.problems else 200)
