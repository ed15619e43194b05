"""The owner's settings: the seller's details for invoices (kept as versions)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.backoffice import shop_settings
from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.settings_forms import SellerForm
from kiosk.backoffice.views import bp


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
