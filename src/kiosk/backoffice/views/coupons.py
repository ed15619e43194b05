"""Coupons for staff: the list with their uses, creating and changing one, and switching it
off and on again (a coupon that was used is never deleted: orders refer to it)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kiosk.backoffice import shop_settings
from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.settings_forms import CouponForm
from kiosk.backoffice.views import bp
from kiosk.coupons import services as coupons
from kiosk.money import Money
from kiosk.validation import EmptyForm

CODE_TAKEN = _l("Another coupon has this code already; please choose another one.")


@bp.get("/coupons")
@require(Permission.MANAGE_COUPONS)
def coupons_list() -> str:
    """Every coupon with its terms and how often it was used."""
    return render_template(
        "staff/coupons.html",
        coupons=coupons.all_coupons(),
        switch_form=EmptyForm(),
        money_of=Money,
    )


def _coupon_page(form: CouponForm, coupon_id: int | None, status: int = 200) -> ResponseReturnValue:
    coupon = coupons.find(coupon_id) if coupon_id is not None else None
    if coupon_id is not None and coupon is None:
        abort(404)
    return render_template("staff/coupon.html", form=form, coupon=coupon), status


@bp.get("/coupons/new")
@require(Permission.MANAGE_COUPONS)
def new_coupon() -> ResponseReturnValue:
    """An empty coupon form."""
    return _coupon_page(CouponForm(formdata=None), None)


@bp.post("/coupons/new")
@require(Permission.MANAGE_COUPONS)
def create_coupon() -> ResponseReturnValue:
    """Add the coupon; a code in use comes back at its field."""
    form = CouponForm()
    if form.validate():
        try:
            shop_settings.create_coupon(current_user.id, form.coupon())
        except coupons.CodeTaken:
            form.code.errors = [*form.code.errors, CODE_TAKEN]
        else:
            code = coupons.normalise(form.code.data or "")
            flash(_("The coupon %(code)s is created.", code=code), "success")
            return redirect(url_for("staff.coupons_list"), code=303)
    return _coupon_page(form, None, 422)


@bp.get("/coupons/<int:coupon_id>")
@require(Permission.MANAGE_COUPONS)
def coupon(coupon_id: int) -> ResponseReturnValue:
    """One coupon's terms to change."""
    found = coupons.find(coupon_id)
    if found is None:
        abort(404)
    return _coupon_page(CouponForm.of(found), coupon_id)


@bp.post("/coupons/<int:coupon_id>")
@require(Permission.MANAGE_COUPONS)
def change_coupon(coupon_id: int) -> ResponseReturnValue:
    """Change the terms; the uses so far stay counted."""
    form = CouponForm()
    if form.validate():
        try:
            shop_settings.change_coupon(current_user.id, coupon_id, form.coupon())
        except LookupError:
            abort(404)
        except coupons.CodeTaken:
            form.code.errors = [*form.code.errors, CODE_TAKEN]
        except coupons.TooFewUses:
            form.max_uses.errors = [
                *form.max_uses.errors,
                _("This coupon was used more often than that already."),
            ]
        else:
            flash(_("The coupon is saved."), "success")
            return redirect(url_for("staff.coupons_list"), code=303)
    return _coupon_page(form, coupon_id, 422)


def _switch(coupon_id: int, active: bool) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        shop_settings.switch_coupon(current_user.id, coupon_id, active)
    except LookupError:
        abort(404)
    if active:
        flash(_("The coupon can be used again."), "success")
    else:
        flash(_("The coupon is switched off; shoppers can no longer use it."), "success")
    return redirect(url_for("staff.coupons_list"), code=303)


@bp.post("/coupons/<int:coupon_id>/deactivate")
@require(Permission.MANAGE_COUPONS)
def deactivate_coupon(coupon_id: int) -> ResponseReturnValue:
    """Switch the coupon off; orders that used it keep their discount."""
    return _switch(coupon_id, False)


@bp.post("/coupons/<int:coupon_id>/activate")
@require(Permission.MANAGE_COUPONS)
def activate_coupon(coupon_id: int) -> ResponseReturnValue:
    """Switch the coupon on again."""
    return _switch(coupon_id, True)
