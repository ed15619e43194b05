"""The buyer's view of an order: its confirmation, reachable by the buyer only.

A customer sees their account's orders. A guest sees the orders placed in
this browser session, and any order whose secret link (from the mail) they
open; anyone else gets 404, so order numbers reveal nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kiosk.analytics.models import EventKind
from kiosk.analytics.tracking import track
from kiosk.cart import services as cart
from kiosk.cart.owner import cart_owner
from kiosk.cart.services import CartProblem
from kiosk.extensions import limiter
from kiosk.hypermedia import render_page, wants_fragment
from kiosk.invoicing.downloads import document_download
from kiosk.limits import rate
from kiosk.orders import card_payment, lifecycle, settlement
from kiosk.orders import services as orders
from kiosk.orders.access import remember_order, visible_order
from kiosk.orders.forms import FindOrderForm, WithdrawalForm
from kiosk.orders.lifecycle import Actor, TransitionRefused, refusal_message
from kiosk.orders.models import Order, OrderStatus
from kiosk.payments.models import PaymentStatus
from kiosk.payments.stripe import PaymentNotStarted
from kiosk.validation import EmptyForm

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.get("/<number>")
def view(number: str) -> ResponseReturnValue:
    """The order confirmation: what was bought, and how to pay for it."""
    order = orders.by_number(number)
    if order is None or not visible_order(order):
        abort(404)
    return render_page(
        "orders/order.html",
        "orders/order.html",
        order=order,
        just_placed=request.args.get("placed") == "1",
        can_cancel=lifecycle.allowed(order.status, OrderStatus.CANCELLED, Actor.CUSTOMER),
        form=EmptyForm(),
    )


@bp.get("/<number>/access/<key>")
def guest_view(number: str, key: str) -> ResponseReturnValue:
    """The secret link from the order mail: remember the order in this session, then show it."""
    order = orders.by_access_key(number, key)
    if order is None:
        abort(404)
    remember_order(order.number)
    return redirect(url_for("orders.view", number=order.number))


@bp.get("/<number>/pay")
def pay(number: str) -> ResponseReturnValue:
    """Send the buyer to the card payment page of their order (created once per attempt)."""
    order = orders.by_number(number)
    if order is None or not visible_order(order):
        abort(404)
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        return redirect(url_for("orders.view", number=number))
    try:
        return redirect(card_payment.begin(number), code=303)
    except PaymentNotStarted:
        flash(_("The card payment could not be started. Please try again in a moment."), "error")
        return redirect(url_for("orders.view", number=number))


@bp.get("/<number>/payment")
def payment_return(number: str) -> ResponseReturnValue:
    """Where the buyer lands after the card page. It never marks the order paid itself: it
    shows what the webhook has recorded, and refreshes (htmx, or a meta refresh without
    JavaScript) until the payment is settled."""
    order = orders.by_number(number)
    if order is None or not visible_order(order):
        abort(404)
    payment = next((p for p in reversed(order.payments) if p.provider == "stripe"), None)
    settled = payment is not None and payment.status is not PaymentStatus.PENDING
    if settled and payment is not None and payment.status is PaymentStatus.PAID:
        done = url_for("orders.view", number=number, placed=1)
        if wants_fragment():  # htmx polled: load the whole confirmation page
            return "", 200, {"HX-Redirect": done}
        return redirect(done)
    return render_page(
        "orders/payment.html",
        "orders/_payment_status.html",
        order=order,
        payment=payment,
        settled=settled,
    )


def _own_order_or_404(number: str) -> Order:
    order = orders.by_number(number)
    if order is None or not visible_order(order):
        abort(404)
    return order


@bp.post("/<number>/cancel")
def cancel(number: str) -> ResponseReturnValue:
    """The buyer cancels an order that has not been shipped yet."""
    _own_order_or_404(number)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        settlement.cancel(number, Actor.CUSTOMER)
        flash(_("Your order is cancelled. We have sent you a confirmation."), "success")
    except TransitionRefused as refused:
        flash(refusal_message(refused), "error")
    return redirect(url_for("orders.view", number=number), code=303)


@bp.route("/<number>/withdraw", methods=["GET", "POST"])
def withdraw(number: str) -> ResponseReturnValue:
    """Step 2 of the withdrawal button (§356a BGB): confirm, with an optional reason."""
    order = _own_order_or_404(number)
    form = WithdrawalForm()
    if request.method == "POST" and form.validate_on_submit():
        lifecycle.withdraw(number, form.reason.data or "")
        flash(
            _(
                "We have received your withdrawal. "
                "A confirmation with the time of receipt is on its way."
            ),
            "success",
        )
        return redirect(url_for("orders.view", number=number), code=303)
    status = 422 if request.method == "POST" else 200
    return render_page(
        "orders/withdraw.html", "orders/withdraw.html", status, order=order, form=form
    )


withdrawal_bp = Blueprint("withdrawal", __name__)


@withdrawal_bp.route("/withdraw", methods=["GET", "POST"])
@limiter.limit(rate("find_order"), methods=["POST"])
def find_order() -> ResponseReturnValue:
    """Step 1 of the withdrawal button: name the order (number and email address)."""
    form = FindOrderForm()
    if request.method == "POST" and form.validate_on_submit():
        order = orders.by_number_and_email(form.number.data or "", form.email.data or "")
        if order is not None:
            remember_order(order.number)
            return redirect(url_for("orders.withdraw", number=order.number), code=303)
        form.number.errors = [_("We found no order with this number and email address.")]
    status = 422 if request.method == "POST" else 200
    return render_page("orders/find.html", "orders/find.html", status, form=form)


@bp.post("/<number>/reorder")
def reorder(number: str) -> ResponseReturnValue:
    """Put an earlier order's items into the cart again, as far as they are available."""
    order = _own_order_or_404(number)
    if not EmptyForm().validate_on_submit():
        abort(400)
    owner = cart_owner(create=True)
    added = 0
    for line in order.lines:
        try:
            if line.product_id is None:
                raise CartProblem(_("%(name)s is no longer available.", name=line.name))
            cart.add(owner, line.product_id, line.quantity)
            track(EventKind.ADD_TO_CART, product_id=line.product_id, quantity=line.quantity)
            added += 1
        except CartProblem as problem:
            flash(str(problem), "error")
    if added:
        flash(_("The items are in your cart again, at today's prices."), "success")
    return redirect(url_for("cart.show"), code=303)


@bp.get("/<number>/documents/<document_number>.pdf")
def document(number: str, document_number: str) -> ResponseReturnValue:
    """The buyer's invoice and credit notes."""
    return document_download(_own_order_or_404(number), document_number)
