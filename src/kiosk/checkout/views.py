"""Checkout: address → shipping → payment → review, each a GET page with a POST form.

What the shopper chose lives in one namespaced part of the session
(`session["checkout"]`), so Back, reload and a second tab all see the same
state; a step whose earlier steps are missing redirects to the first missing
one. Every step page makes sure the cart's stock is held for this checkout;
that only reads, unless the cart or the holds changed since the last step.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kiosk.accounts import addresses as address_book
from kiosk.analytics.models import EventKind
from kiosk.analytics.tracking import track
from kiosk.cart.owner import cart_owner
from kiosk.checkout import services as checkout
from kiosk.checkout.forms import CouponForm, PlaceOrderForm, address_as_dict, address_forms
from kiosk.checkout.services import Buyer, CheckoutProblem, OrderRequest
from kiosk.coupons import services as coupons
from kiosk.hypermedia import render_page
from kiosk.orders import services as orders
from kiosk.orders.access import remember_order, visible_order
from kiosk.payments import providers as payments
from kiosk.shipping.services import destinations
from kiosk.shipping.services import methods as shipping_methods
from kiosk.validation import EmptyForm

bp = Blueprint("checkout", __name__, url_prefix="/checkout")

STATE_KEY = "checkout"
STEPS = ("address", "shipping", "payment", "review")  # also the analytics' step names


def _state() -> dict[str, Any]:
    state = session.get(STATE_KEY)
    return dict(state) if isinstance(state, dict) else {}


def _save(state: dict[str, Any]) -> None:
    session[STATE_KEY] = state


def _holder(state: dict[str, Any]) -> str:
    """The id this checkout's stock holds are kept under."""
    if "holder" not in state:
        state["holder"] = secrets.token_urlsafe(18)
        _save(state)
    return str(state["holder"])


def _email(state: dict[str, Any]) -> str | None:
    if current_user.is_authenticated:
        return str(current_user.email)
    return state.get("email")


def _buyer(state: dict[str, Any]) -> Buyer:
    return Buyer(
        email=_email(state) or "",
        locale=str(get_locale() or "de"),
        user_id=current_user.id if current_user.is_authenticated else None,
    )


def _first_missing(state: dict[str, Any]) -> str | None:
    if not _email(state) or not state.get("shipping_address"):
        return "address"
    if not state.get("shipping"):
        return "shipping"
    user_id = current_user.id if current_user.is_authenticated else None
    if state.get("payment") not in {p.code for p in payments.offered(user_id)}:
        return "payment"
    return None


def _enter(step: str, state: dict[str, Any]) -> Response | None:
    """Guard of every step: earlier steps done, a cart with something in it, its stock held
    (a write only when the holds must change, so reloading a step never waits for a lock)."""
    missing = _first_missing(state)
    if missing is not None and STEPS.index(missing) < STEPS.index(step):
        return redirect(url_for(f"checkout.{missing}"))
    try:
        checkout.hold_stock(cart_owner(), _holder(state))
    except CheckoutProblem as problem:
        flash(str(problem), "error")
        return redirect(url_for("cart.show"))
    return None


def _page(template: str, step: str, status: int = 200, **context: Any) -> Response:
    if request.method == "GET" and status == 200:  # the shopper reached the step
        track(EventKind.CHECKOUT_STEP, step=step)
    return render_page(template, template, status, step=step, steps=STEPS, **context)


def _expired() -> Response:
    flash(_("Your form had expired. Please try again."), "error")
    return redirect(request.path, code=303)


@bp.get("")
def start() -> ResponseReturnValue:
    """The first step that still needs the shopper (the cart's checkout button)."""
    track(EventKind.CHECKOUT_STARTED)
    return redirect(url_for(f"checkout.{_first_missing(_state()) or 'review'}"))


@bp.route("/address", methods=["GET", "POST"])
def address() -> ResponseReturnValue:
    """Step 1: who orders (guests give an email address) and where it goes."""
    state = _state()
    if (guard := _enter("address", state)) is not None:
        return guard
    forms = address_forms(state)
    if request.method == "GET":
        return _page("checkout/address.html", "address", **forms)
    if not EmptyForm().validate_on_submit():
        return _expired()
    valid = True
    if not current_user.is_authenticated:
        valid &= forms["contact"].validate()
    choice = forms["choice"]
    if choice != "new" and current_user.is_authenticated:
        chosen = next((a for a in forms["saved"] if str(a.id) == choice), None)
        if chosen is None:
            abort(404)  # not one of this customer's addresses
        shipping_address = address_as_dict(chosen)
    else:
        valid &= forms["shipping"].validate()
        shipping_address = address_as_dict(forms["shipping"])
    if valid and shipping_address["country"] not in destinations(shipping_methods()):
        forms["shipping"].country.errors = [_("We do not ship to this country yet.")]
        valid = False
    separate = bool(forms["options"].separate_billing.data)
    if separate:
        valid &= forms["billing"].validate()
    if not valid:
        return _page("checkout/address.html", "address", 422, **forms)
    if state.get("shipping_address", {}).get("country") != shipping_address["country"]:
        state.pop("shipping", None)  # the methods differ per country
    state.update(
        shipping_address=shipping_address,
        billing_address=address_as_dict(forms["billing"]) if separate else None,
        address_choice=choice,
    )
    if not current_user.is_authenticated:
        state["email"] = forms["contact"].email.data
    elif choice == "new" and forms["options"].save_address.data:
        address_book.save_address(
            current_user.id,
            address_book.AddressData(
                **shipping_address, is_default_shipping=False, is_default_billing=False
            ),
        )
    _save(state)
    return redirect(url_for("checkout.shipping"), code=303)


@bp.route("/shipping", methods=["GET", "POST"])
def shipping() -> ResponseReturnValue:
    """Step 2: the shipping methods that deliver this cart to the address, with their cost."""
    state = _state()
    if (guard := _enter("shipping", state)) is not None:
        return guard
    draft = checkout.draft(cart_owner(), state["shipping_address"]["country"])
    chosen = request.form.get("shipping_method") if request.method == "POST" else None
    error = None
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            return _expired()
        if chosen in {quote.method.code for quote in draft.quotes}:
            state["shipping"] = chosen
            _save(state)
            return redirect(url_for("checkout.payment"), code=303)
        error = _("Please choose a shipping method.")
    return _page(
        "checkout/shipping.html",
        "shipping",
        422 if error else 200,
        draft=draft,
        chosen=chosen or state.get("shipping"),
        error=error,
    )


@bp.route("/payment", methods=["GET", "POST"])
def payment() -> ResponseReturnValue:
    """Step 3: how to pay (bank transfer until card payments arrive)."""
    state = _state()
    if (guard := _enter("payment", state)) is not None:
        return guard
    methods = payments.offered(current_user.id if current_user.is_authenticated else None)
    codes = [method.code for method in methods]
    error = None
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            return _expired()
        chosen = request.form.get("payment_method")
        if chosen in codes:
            state["payment"] = chosen
            _save(state)
            return redirect(url_for("checkout.review"), code=303)
        error = _("Please choose a payment method.")
    currency = current_app.config["KIOSK_CURRENCY"]
    return _page(
        "checkout/payment.html",
        "payment",
        422 if error else 200,
        methods=[(method.code, method.fee(currency)) for method in methods],
        chosen=state.get("payment", codes[0]),
        error=error,
    )


def _review(
    state: dict[str, Any],
    status: int = 200,
    coupon_form: CouponForm | None = None,
    place_form: PlaceOrderForm | None = None,
) -> Response:
    draft = checkout.draft(
        cart_owner(),
        state["shipping_address"]["country"],
        state.get("shipping"),
        state.get("coupon"),
        _buyer(state),
        state.get("payment"),
    )
    if draft.shipping is None:
        flash(_("This shipping method is no longer available. Please choose another."), "error")
        state.pop("shipping", None)
        _save(state)
        return redirect(url_for("checkout.shipping"))
    if draft.coupon_problem:
        flash(_("Your coupon was removed: %(reason)s", reason=draft.coupon_problem), "error")
        state.pop("coupon", None)
        _save(state)
        return redirect(url_for("checkout.review"))
    state.setdefault("key", secrets.token_urlsafe(24))
    _save(state)
    return _page(
        "checkout/review.html",
        "review",
        status,
        draft=draft,
        state=state,
        email=_email(state),
        coupon_form=coupon_form or CouponForm(formdata=None),
        place_form=place_form or PlaceOrderForm(formdata=None),
        terms_checkbox=current_app.config["KIOSK_TERMS_CHECKBOX"],
    )


@bp.get("/review")
def review() -> ResponseReturnValue:
    """Step 4: everything the order binds the shopper to, and the button that places it."""
    state = _state()
    if (guard := _enter("review", state)) is not None:
        return guard
    return _review(state)


@bp.post("/coupon")
def apply_coupon() -> ResponseReturnValue:
    """Apply a coupon code; a refused one is explained next to the field and kept."""
    state = _state()
    if (guard := _enter("review", state)) is not None:
        return guard
    form = CouponForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            return _expired()
        return _review(state, 422, coupon_form=form)
    code = coupons.normalise(form.code.data or "")
    tried = checkout.draft(
        cart_owner(),
        state["shipping_address"]["country"],
        state.get("shipping"),
        code,
        _buyer(state),
    )
    if tried.coupon_problem:
        form.code.errors = [tried.coupon_problem]
        return _review(state, 422, coupon_form=form)
    state["coupon"] = code
    _save(state)
    flash(_("The coupon %(code)s is applied.", code=code), "success")
    return redirect(url_for("checkout.review"), code=303)


@bp.post("/coupon/remove")
def remove_coupon() -> ResponseReturnValue:
    state = _state()
    if not EmptyForm().validate_on_submit():
        return _expired()
    state.pop("coupon", None)
    _save(state)
    return redirect(url_for("checkout.review"), code=303)


@bp.post("/place")
def place() -> ResponseReturnValue:
    """Place the order: once per review form, whatever the number of clicks or tabs."""
    state = _state()
    form = PlaceOrderForm()
    if not form.validate_on_submit():
        flash(_("Your form had expired. Please check your order and try again."), "error")
        return redirect(url_for("checkout.review"), code=303)
    key = form.key.data or ""
    if not key or key != state.get("key"):
        # Submitted again after the order was placed (Back, then the button again).
        order = orders.by_idempotency_key(key) if key else None
        if order is not None and visible_order(order):
            flash(_("This order was placed already."), "info")
            return redirect(url_for("orders.view", number=order.number), code=303)
        flash(_("Your form had expired. Please check your order and try again."), "error")
        return redirect(url_for("checkout.start"), code=303)
    if (missing := _first_missing(state)) is not None:
        return redirect(url_for(f"checkout.{missing}"), code=303)
    if current_app.config["KIOSK_TERMS_CHECKBOX"] and not form.accept_terms.data:
        form.accept_terms.errors = [_("Please accept the terms and conditions to order.")]
        return _review(state, 422, place_form=form)
    expected = form.expected_total.data
    if expected is None:
        expected = -1  # a missing total: re-checked against the real one below
    try:
        placed = checkout.place_order(
            cart_owner(),
            OrderRequest(
                idempotency_key=key,
                holder=_holder(state),
                buyer=_buyer(state),
                shipping_address=state["shipping_address"],
                billing_address=state.get("billing_address"),
                shipping_code=state["shipping"],
                payment_method=state["payment"],
                coupon_code=state.get("coupon"),
                expected_total_cents=expected,
                terms_ticked=bool(form.accept_terms.data),
            ),
        )
    except CheckoutProblem as problem:
        flash(str(problem), "error")
        target = "cart.show" if problem.step == "cart" else f"checkout.{problem.step}"
        return redirect(url_for(target), code=303)
    remember_order(placed.number)
    if not placed.repeated:
        track(EventKind.ORDER_PLACED)
    method = state["payment"]
    session.pop(STATE_KEY, None)
    if placed.repeated:
        flash(_("This order was placed already."), "info")
    elif not payments.registry()[method].offline:
        return redirect(url_for("orders.pay", number=placed.number), code=303)
    return redirect(url_for("orders.view", number=placed.number, placed=1), code=303)
