"""The owner's settings: the seller's details for invoices (kept as versions), the
shipping methods and carriers, and the shop's name, mail sender and refund limit."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.backoffice import shop_settings
from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.settings_forms import CarrierForm, SellerForm, ShippingMethodForm, ShopForm
from kiosk.backoffice.views import bp
from kiosk.hypermedia import render_page
from kiosk.money import Money
from kiosk.shipping import services as shipping


def _seller_page(form: SellerForm, status: int = 200) -> ResponseReturnValue:
    labels = {field.name: field.label.text for field in form if field.name != "csrf_token"}
    page = render_template(
        "staff/settings_seller.html",
        form=form,
        labels=labels,
        history=shop_settings.seller_history(),
    )
    return page, status


@bp.get("/settings/seller")
@require(Permission.MANAGE_SETTINGS)
def seller() -> ResponseReturnValue:
    """The seller's details as the next invoice prints them, and every earlier version."""
    details = shop_settings.seller_details()
    form = SellerForm(formdata=None, data={**vars(details)})
    return _seller_page(form)


@bp.post("/settings/seller")
@require(Permission.MANAGE_SETTINGS)
def save_seller() -> ResponseReturnValue:
    """Save the details as a new version; issued invoices keep the version they were issued
    with."""
    form = SellerForm()
    if not form.validate():
        return _seller_page(form, 422)
    if shop_settings.change_seller(current_user.id, form.seller()):
        flash(_("The seller's details are saved; new invoices use them."), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("staff.seller"), code=303)


@bp.get("/settings/shipping")
@require(Permission.MANAGE_SETTINGS)
def shipping_methods() -> str:
    """Every shipping method in the order checkout shows them, switched off ones too."""
    return render_template(
        "staff/settings_shipping.html",
        methods=shipping.all_methods(),
        carriers=shipping.all_carriers(),
        money_of=Money,
    )


def _method_or_404(code: str) -> shipping.ShippingMethod:
    found = shipping.method(code)
    if found is None:
        abort(404)
    return found


def _shipping_page(code: str, form: ShippingMethodForm, status: int = 200) -> ResponseReturnValue:
    return render_page(
        "staff/settings_shipping_method.html",
        "staff/_shipping_tiers.html",
        status,
        method=_method_or_404(code),
        form=form,
    )


@bp.get("/settings/shipping/<code>")
@require(Permission.MANAGE_SETTINGS)
def shipping_method(code: str) -> ResponseReturnValue:
    """One method's terms to change."""
    found = _method_or_404(code)
    return _shipping_page(code, ShippingMethodForm.of(found, shipping.position_of(code)))


@bp.post("/settings/shipping/<code>")
@require(Permission.MANAGE_SETTINGS)
def save_shipping_method(code: str) -> ResponseReturnValue:
    """Save the terms; orders placed before keep the method and price they were placed with.

    "Add a tier" posts here too: the form comes back as typed with one more empty row
    (htmx swaps only the tiers), and nothing is saved."""
    form = ShippingMethodForm(_method_or_404(code).carrier, add_tier="add_tier" in request.form)
    if form.added_tier:
        return _shipping_page(code, form)
    if not form.validate():
        return _shipping_page(code, form, 422)
    terms = form.terms(shipping.position_of(code))
    if shop_settings.change_shipping_method(current_user.id, code, terms):
        flash(_("The shipping method is saved; checkout offers it so from now on."), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("staff.shipping_methods"), code=303)


@bp.get("/settings/carriers")
@require(Permission.MANAGE_SETTINGS)
def carrier_list() -> str:
    """Every carrier, switched off ones too; staff ship with the switched on ones."""
    return render_template("staff/settings_carriers.html", carriers=shipping.all_carriers())


def _carrier_form_page(
    form: CarrierForm, carrier: shipping.Carrier | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template("staff/settings_carrier.html", form=form, carrier=carrier), status


@bp.get("/settings/carriers/new")
@require(Permission.MANAGE_SETTINGS)
def new_carrier() -> ResponseReturnValue:
    """An empty carrier to fill in."""
    return _carrier_form_page(CarrierForm(formdata=None))


@bp.post("/settings/carriers/new")
@require(Permission.MANAGE_SETTINGS)
def create_carrier() -> ResponseReturnValue:
    """Add the carrier; staff can choose it when they ship from now on."""
    form = CarrierForm()
    if not form.validate():
        return _carrier_form_page(form, status=422)
    try:
        shop_settings.create_carrier(current_user.id, form.new_code(), form.terms())
    except shipping.CarrierCodeTaken:
        form.code.errors = [_("Another carrier has this code already.")]
        return _carrier_form_page(form, status=422)
    flash(_("The carrier %(name)s is added.", name=form.terms().name), "success")
    return redirect(url_for("staff.carrier_list"), code=303)


def _carrier_or_404(code: str) -> shipping.Carrier:
    found = shipping.all_carriers().get(code)
    if found is None:
        abort(404)
    return found


@bp.get("/settings/carriers/<carrier_code>")
@require(Permission.MANAGE_SETTINGS)
def carrier_page(carrier_code: str) -> ResponseReturnValue:
    """One carrier's name, tracking page and whether staff ship with it."""
    found = _carrier_or_404(carrier_code)
    return _carrier_form_page(CarrierForm.of(found), found)


@bp.post("/settings/carriers/<carrier_code>")
@require(Permission.MANAGE_SETTINGS)
def save_carrier(carrier_code: str) -> ResponseReturnValue:
    """Save the carrier; shipped orders keep its code and link to the new tracking page."""
    found = _carrier_or_404(carrier_code)
    form = CarrierForm(False)
    if not form.validate():
        return _carrier_form_page(form, found, 422)
    if shop_settings.change_carrier(current_user.id, carrier_code, form.terms()):
        flash(_("The carrier %(name)s is saved.", name=form.terms().name), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("staff.carrier_list"), code=303)


def _shop_page(form: ShopForm, status: int = 200) -> ResponseReturnValue:
    return render_template("staff/settings_shop.html", form=form), status


@bp.get("/settings/shop")
@require(Permission.MANAGE_SETTINGS)
def shop_settings_page() -> ResponseReturnValue:
    """The shop's name, the sender of its mail and the refund limit for staff."""
    return _shop_page(ShopForm.of(shop_settings.shop_values()))


@bp.post("/settings/shop")
@require(Permission.MANAGE_SETTINGS)
def save_shop_settings() -> ResponseReturnValue:
    """Save them; pages and mail use them at once."""
    form = ShopForm()
    if not form.validate():
        return _shop_page(form, 422)
    if shop_settings.change_shop(current_user.id, form.values()):
        flash(_("The shop settings are saved."), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("staff.shop_settings_page"), code=303)
