"""Staff pages that later issues grow into the back office. Staff role required."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
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
from stripe import StripeError

from kiosk.auth.forms import EmptyForm
from kiosk.auth.guards import require_role
from kiosk.hypermedia import render_page
from kiosk.models import OrderStatus, Role
from kiosk.money import Money
from kiosk.orders.views import document_response, refusal_message
from kiosk.services import lifecycle, mail, orders, payments, staff, stripe_checkout
from kiosk.services.lifecycle import Actor, TransitionRefused
from kiosk.services.payments import PaymentProblem
from kiosk.templating import format_money, label

bp = Blueprint("staff", __name__, url_prefix="/staff")
ORDERS_PER_PAGE = 50


@bp.get("/mail")
@require_role(Role.STAFF)
def outbox() -> str:
    """Mail that is waiting or failed, with the reason of the last attempt."""
    return render_template("staff/outbox.html", messages=mail.outbox_overview(), form=EmptyForm())


@bp.post("/mail/<int:message_id>/retry")
@require_role(Role.STAFF)
def retry_mail(message_id: int) -> ResponseReturnValue:
    """Give a failed message a fresh set of attempts."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if staff.retry_mail(current_user.id, message_id):
        flash(_("The message will be sent again."), "success")
    else:
        flash(_("Only failed messages can be retried."), "error")
    return redirect(url_for("staff.outbox"), code=303)


PAYMENT_PROBLEMS = {
    "nothing_pending": _l("There is no offline payment waiting for this order."),
    "not_awaiting_payment": _l("This order is not awaiting payment."),
    "nothing_paid": _l("Nothing has been paid for this order yet."),
    "too_much": _l("That is more than is left to refund."),
    "amount": _l("Please enter the amount to refund, such as 12.50."),
    "reason": _l("Please give a reason; it goes into the order's history."),
    "provider": _l("The payment provider could not be reached. Please try again."),
}


def _staff_order(number: str) -> ResponseReturnValue:
    order = orders.by_number(number)
    if order is None:
        abort(404)
    return render_template(
        "staff/order.html",
        order=order,
        notifications=orders.payment_events(order.id),
        next_states=lifecycle.next_states(order.status, Actor.STAFF),
        form=EmptyForm(),
    )


@bp.get("/orders/<number>")
@require_role(Role.STAFF)
def order(number: str) -> ResponseReturnValue:
    """One order for staff: lines, payment attempts, history; mark paid, refund."""
    return _staff_order(number)


@bp.post("/orders/<number>/mark-paid")
@require_role(Role.STAFF)
def mark_paid(number: str) -> ResponseReturnValue:
    """Confirm that an offline payment (transfer, invoice, cash) has arrived."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        payments.mark_received(number, current_user.id, request.form.get("note", "").strip())
        flash(_("The payment is recorded as received."), "success")
    except LookupError:
        abort(404)
    except PaymentProblem as problem:
        flash(str(PAYMENT_PROBLEMS[problem.code]), "error")
    return redirect(url_for("staff.order", number=number), code=303)


@bp.post("/orders/<number>/refund")
@require_role(Role.STAFF)
def refund(number: str) -> ResponseReturnValue:
    """Record a refund of all or part of what was paid, with the reason."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        amount = Money.parse(request.form.get("amount", ""), current_app.config["KIOSK_CURRENCY"])
        payments.refund(
            number,
            amount,
            request.form.get("reason", ""),
            current_user.id,
            card_refund=stripe_checkout.refund,
            goods_returned=bool(request.form.get("goods_returned")),
        )
        flash(_("The refund of %(amount)s is recorded.", amount=format_money(amount)), "success")
    except LookupError:
        abort(404)
    except StripeError:
        flash(str(PAYMENT_PROBLEMS["provider"]), "error")
    except ValueError as problem:
        code = problem.code if isinstance(problem, PaymentProblem) else "amount"
        flash(str(PAYMENT_PROBLEMS[code]), "error")
    return redirect(url_for("staff.order", number=number), code=303)


@bp.post("/orders/<number>/status")
@require_role(Role.STAFF)
def change_status(number: str) -> ResponseReturnValue:
    """Move an order on (processing, shipped with tracking, cancelled …), with a reason."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        target = OrderStatus(request.form.get("to", ""))
    except ValueError:
        abort(400)
    data = {
        key: request.form.get(key, "").strip()[:100]
        for key in ("carrier", "tracking")
        if request.form.get(key, "").strip()
    }
    try:
        lifecycle.transition(
            number,
            target,
            Actor.STAFF,
            current_user.id,
            request.form.get("reason", "").strip()[:500],
            **data,
        )
        flash(_("The order is now %(state)s.", state=label("order_status", target)), "success")
    except LookupError:
        abort(404)
    except TransitionRefused as refused:
        flash(refusal_message(refused), "error")
    return redirect(url_for("staff.order", number=number), code=303)


def _order_filter() -> tuple[orders.OrderFilter, list[str]]:
    """The list's filters from the query string; a bad date is named and left out."""
    problems = []
    dates: dict[str, date | None] = {}
    for key in ("from", "to"):
        raw = request.args.get(key, "").strip()
        try:
            dates[key] = date.fromisoformat(raw) if raw else None
        except ValueError:
            dates[key] = None
            problems.append(_("%(value)s is not a date like 2026-11-23.", value=raw))
    status = request.args.get("status", "")
    method = request.args.get("payment", "")
    return (
        orders.OrderFilter(
            status=status if status in {s.value for s in OrderStatus} else "",
            payment_method=method if method in payments.PROVIDERS else "",
            placed_from=dates["from"],
            placed_to=dates["to"],
            text=request.args.get("q", "").strip()[:100],
        ),
        problems,
    )


@bp.get("/orders")
@require_role(Role.STAFF)
def orders_list() -> ResponseReturnValue:
    """All orders, filtered by state, date, payment method or text, 50 a page."""
    filters, problems = _order_filter()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    rows, total = orders.search(filters, page, ORDERS_PER_PAGE)
    return render_page(
        "staff/orders.html",
        "staff/_orders.html",
        orders=rows,
        total=total,
        page_number=page,
        pages=max(1, -(-total // ORDERS_PER_PAGE)),
        filters=filters,
        problems=problems,
        methods=list(payments.PROVIDERS),
        states=[s.value for s in OrderStatus],
    )


@bp.get("/orders.csv")
@require_role(Role.STAFF)
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
@require_role(Role.STAFF)
def document(number: str, document_number: str) -> ResponseReturnValue:
    order = orders.by_number(number)
    if order is None:
        abort(404)
    return document_response(order, document_number)


@bp.post("/orders/<number>/note")
@require_role(Role.STAFF)
def add_note(number: str) -> ResponseReturnValue:
    """Write a note into the order's history."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    text = request.form.get("note", "").strip()
    if not text:
        flash(_("Please write the note first."), "error")
    else:
        try:
            lifecycle.add_note(number, current_user.id, text)
        except LookupError:
            abort(404)
        flash(_("The note is saved."), "success")
    return redirect(url_for("staff.order", number=number), code=303)
