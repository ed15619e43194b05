"""Orders for staff: the list with filters and CSV, one order with its payments and history,
and what staff do to it (mark paid, refund, move on, note)."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kiosk.backoffice import shop_settings
from kiosk.backoffice.access import Permission, allows, require
from kiosk.backoffice.forms import (
    ENTER_AMOUNT,
    GIVE_REASON,
    MarkPaidForm,
    NoteForm,
    RefundForm,
    StatusForm,
)
from kiosk.backoffice.views import bp
from kiosk.hypermedia import page_count, page_number, render_page
from kiosk.invoicing.downloads import document_download
from kiosk.money import Money
from kiosk.orders import lifecycle, returns, settlement
from kiosk.orders import services as orders
from kiosk.orders.labels import label
from kiosk.orders.lifecycle import Actor, TransitionRefused, refusal_message
from kiosk.orders.models import QUEUES, Order, OrderFilter, OrderStatus
from kiosk.payments import providers
from kiosk.payments import services as payments
from kiosk.payments.providers import PaymentProblem
from kiosk.shipping import services as shipping
from kiosk.templating import format_money
from kiosk.validation import search_text

ORDERS_PER_PAGE = 50


PAYMENT_PROBLEMS = {
    "nothing_pending": _l("There is no offline payment waiting for this order."),
    "not_awaiting_payment": _l("This order is not awaiting payment."),
    "nothing_paid": _l("Nothing has been paid for this order yet."),
    "too_much": _l("That is more than is left to refund."),
    "amount": ENTER_AMOUNT,
    "reason": GIVE_REASON,
    "provider": _l("The payment provider could not be reached. Please try again."),
}


def _default_carrier(method_code: str) -> str:
    method = shipping.method(method_code)
    carrier = (method.carrier or "") if method else ""
    return carrier if carrier in shipping.carriers() else ""


def _order_page(
    number: str,
    status: int = 200,
    paid_form: MarkPaidForm | None = None,
    refund_form: RefundForm | None = None,
    note_form: NoteForm | None = None,
    status_form: StatusForm | None = None,
) -> ResponseReturnValue:
    """The staff order page; a form that failed comes back with its errors and input."""
    order = orders.by_number(number)
    if order is None:
        abort(404)
    carrier = _default_carrier(order.shipping_method)
    status_forms = [
        status_form
        if status_form is not None and status_form.state == state.value
        else StatusForm(state.value, carrier, formdata=None)
        for state in lifecycle.next_states(
            order.status, Actor.STAFF, lifecycle.pays_after_delivery(order)
        )
    ]
    page = render_template(
        "staff/order.html",
        order=order,
        notifications=payments.notifications(order.id),
        status_forms=status_forms,
        can_mark_paid=settlement.can_mark_received(order),
        paid_form=paid_form or MarkPaidForm(formdata=None),
        refund_form=refund_form or _offered_refund(order),
        note_form=note_form or NoteForm(formdata=None),
        failed=[form for form in (paid_form, refund_form, note_form, status_form) if form],
    )
    return page, status


def _offered_refund(order: Order) -> RefundForm:
    """The refund form, filled in with what a return credited and nobody paid back yet."""
    credited = returns.unrefunded_credit(order)
    if not credited.cents:
        return RefundForm(formdata=None)
    return RefundForm(formdata=None, data={"amount": credited.plain(), "reason": _("Return")})


@bp.get("/orders/<number>")
@require(Permission.MANAGE_ORDERS)
def order(number: str) -> ResponseReturnValue:
    """One order for staff: lines, payment attempts, history; mark paid, refund."""
    return _order_page(number)


def _back_to(number: str) -> ResponseReturnValue:
    return redirect(url_for("staff.order", number=number), code=303)


@bp.post("/orders/<number>/mark-paid")
@require(Permission.MANAGE_ORDERS)
def mark_paid(number: str) -> ResponseReturnValue:
    """Confirm that an offline payment (transfer, invoice, cash) has arrived."""
    form = MarkPaidForm()
    if not form.validate():
        return _order_page(number, 422, paid_form=form)
    try:
        settlement.mark_received(number, current_user.id, form.note.data or "")
        flash(_("The payment is recorded as received."), "success")
    except LookupError:
        abort(404)
    except PaymentProblem as problem:
        flash(str(PAYMENT_PROBLEMS[problem.code]), "error")
    return _back_to(number)


def _above_refund_limit(form: RefundForm) -> bool:
    """Whether the amount is more than the owner lets this user refund (said at the field)."""
    limit = shop_settings.shop_values().refund_limit_cents
    if limit is None or form.money.cents <= limit:
        return False
    if allows(current_user.role, Permission.REFUND_ABOVE_LIMIT):
        return False
    most = format_money(Money(limit, form.money.currency))
    form.amount.errors = [_("Only the owner may refund more than %(amount)s.", amount=most)]
    return True


@bp.post("/orders/<number>/refund")
@require(Permission.REFUND)
def refund(number: str) -> ResponseReturnValue:
    """Record a refund of all or part of what was paid, with the reason.

    A card payment goes back through the provider; offline money staff send
    back themselves and record here.
    """
    form = RefundForm()
    if form.validate() and not _above_refund_limit(form):
        try:
            settlement.refund(
                number,
                form.money,
                form.reason.data or "",
                current_user.id,
                goods_returned=form.goods_returned.data,
            )
            amount = format_money(form.money)
            flash(_("The refund of %(amount)s is recorded.", amount=amount), "success")
            return _back_to(number)
        except LookupError:
            abort(404)
        except PaymentProblem as problem:
            if problem.code in ("too_much", "amount"):  # about what was typed: at the field
                form.amount.errors = [*form.amount.errors, PAYMENT_PROBLEMS[problem.code]]
            else:
                flash(str(PAYMENT_PROBLEMS[problem.code]), "error")
    return _order_page(number, 422, refund_form=form)


@bp.post("/orders/<number>/status")
@require(Permission.MANAGE_ORDERS)
def change_status(number: str) -> ResponseReturnValue:
    """Move an order on (processing, shipped with tracking, cancelled …), with a reason."""
    try:
        target = OrderStatus(request.form.get("to", ""))
    except ValueError:
        abort(400)
    form = StatusForm(target.value)
    if not form.validate():
        return _order_page(number, 422, status_form=form)
    reason, details = form.reason.data or "", form.details()
    try:
        if target is OrderStatus.CANCELLED:  # also starts the refund a cancellation makes due
            settlement.cancel(number, Actor.STAFF, current_user.id, reason, **details)
        else:
            lifecycle.transition(number, target, Actor.STAFF, current_user.id, reason, **details)
        flash(_("The order is now %(state)s.", state=label("order_status", target)), "success")
    except LookupError:
        abort(404)
    except TransitionRefused as refused:
        flash(refusal_message(refused), "error")
    return _back_to(number)


def _order_filter() -> tuple[OrderFilter, list[str]]:
    """The list's filters from the query string; a bad date is named and left out."""
    problems = []
    dates: dict[str, date | None] = {}
    for key in ("from", "to"):
        raw = search_text(request.args.get(key, ""), 40)
        try:
            dates[key] = date.fromisoformat(raw) if raw else None
        except ValueError:
            dates[key] = None
            problems.append(_("%(value)s is not a date like 2026-11-23.", value=raw))
    status = request.args.get("status", "")
    method = request.args.get("payment", "")
    queue = request.args.get("queue", "")
    return (
        OrderFilter(
            status=status if status in {s.value for s in OrderStatus} else "",
            payment_method=method if method in providers.registry() else "",
            placed_from=dates["from"],
            placed_to=dates["to"],
            text=search_text(request.args.get("q", ""), 100),
            queue=queue if queue in QUEUES else "",
        ),
        problems,
    )


@bp.get("/orders")
@require(Permission.MANAGE_ORDERS)
def orders_list() -> ResponseReturnValue:
    """All orders, filtered by state, date, payment method or text, 50 a page."""
    filters, problems = _order_filter()
    page = page_number()
    rows, total = orders.search(filters, page, ORDERS_PER_PAGE)
    return render_page(
        "staff/orders.html",
        "staff/_orders.html",
        orders=rows,
        total=total,
        page_number=page,
        pages=page_count(total, ORDERS_PER_PAGE),
        filters=filters,
        problems=problems,
        methods=list(providers.registry()),
        states=[s.value for s in OrderStatus],
        queues=QUEUES,
    )


@bp.get("/orders.csv")
@require(Permission.MANAGE_ORDERS)
def orders_csv() -> ResponseReturnValue:
    """The filtered list as CSV (all pages)."""
    filters, _problems = _order_filter()
    buffer = io.StringIO()
    csv.writer(buffer).writerows(orders.export_rows(filters))
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=orders.csv"},
    )


@bp.get("/orders/<number>/documents/<document_number>.pdf")
@require(Permission.MANAGE_ORDERS)
def document(number: str, document_number: str) -> ResponseReturnValue:
    order = orders.by_number(number)
    if order is None:
        abort(404)
    return document_download(order, document_number)


@bp.post("/orders/<number>/note")
@require(Permission.MANAGE_ORDERS)
def add_note(number: str) -> ResponseReturnValue:
    """Write a note into the order's history."""
    form = NoteForm()
    if not form.validate():
        return _order_page(number, 422, note_form=form)
    try:
        lifecycle.add_note(number, current_user.id, form.note.data or "")
    except LookupError:
        abort(404)
    flash(_("The note is saved."), "success")
    return _back_to(number)
