"""The cart page and its forms: plain POST-then-303 forms, swapped in place with htmx."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kiosk.analytics.models import EventKind
from kiosk.analytics.tracking import track
from kiosk.cart import services as cart
from kiosk.cart.owner import cart_owner
from kiosk.cart.services import CartProblem
from kiosk.errors import render_error
from kiosk.hypermedia import render_page, safe_next, wants_fragment
from kiosk.validation import EmptyForm, parse_int

bp = Blueprint("cart", __name__)


def _cart_region(status: int = 200) -> ResponseReturnValue:
    """htmx: the fresh cart, with the badge and messages out of band."""
    body = render_template("cart/_cart.html", cart=cart.view(cart_owner()), oob_badge=True)
    return body + render_template("partials/flashes.html", oob=True), status, {"Vary": "HX-Request"}


@bp.get("/cart")
def show() -> ResponseReturnValue:
    """Lines at today's prices, what changed since they were added, and the total."""
    return render_page("cart/cart.html", "cart/_cart.html", cart=cart.view(cart_owner()))


@bp.post("/cart/add")
def add() -> ResponseReturnValue:
    """Add a product; a bad quantity is explained and changes nothing."""
    back = safe_next(request.form.get("next"), url_for("cart.show"))
    if not EmptyForm().validate_on_submit():
        flash(_("Your form had expired. Please try again."), "error")
        return redirect(back, code=303)
    try:
        quantity = cart.parse_quantity(request.form.get("quantity"))
        product_id = parse_int(request.form.get("product_id"), minimum=1)
        cart.add(cart_owner(create=True), product_id, quantity)
    except CartProblem as problem:
        flash(str(problem), "error")
        if wants_fragment():
            return render_template("partials/flashes.html", oob=True), 422
        return redirect(back, code=303)
    except ValueError:
        flash(_("This product is no longer available."), "error")
        return redirect(back, code=303)
    track(EventKind.ADD_TO_CART, product_id=product_id, quantity=quantity)
    flash(_("Added to your cart."), "success")
    if wants_fragment():  # stay on the product page; badge and message update in place
        badge = render_template("partials/cart_badge.html", oob=True)
        return badge + render_template("partials/flashes.html", oob=True)
    return redirect(url_for("cart.show"), code=303)


@bp.post("/cart/lines/<int:line_id>")
def change(line_id: int) -> ResponseReturnValue:
    """Set a line's quantity."""
    if not EmptyForm().validate_on_submit():
        flash(_("Your form had expired. Please try again."), "error")
        return redirect(url_for("cart.show"), code=303)
    status = 200
    try:
        cart.set_quantity(cart_owner(), line_id, cart.parse_quantity(request.form.get("quantity")))
        flash(_("The quantity is changed."), "success")
    except CartProblem as problem:
        flash(str(problem), "error")
        status = 422
    except LookupError:
        return render_error(404, _("This item is not in your cart."))
    return _cart_region(status) if wants_fragment() else redirect(url_for("cart.show"), code=303)


@bp.post("/cart/lines/<int:line_id>/remove")
def remove(line_id: int) -> ResponseReturnValue:
    """Take a line out of the cart."""
    if not EmptyForm().validate_on_submit():
        flash(_("Your form had expired. Please try again."), "error")
        return redirect(url_for("cart.show"), code=303)
    try:
        cart.remove(cart_owner(), line_id)
    except LookupError:
        return render_error(404, _("This item is not in your cart."))
    flash(_("The item is removed from your cart."), "success")
    return _cart_region() if wants_fragment() else redirect(url_for("cart.show"), code=303)
