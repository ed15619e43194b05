"""The owner's cookie settings: which optional consent categories the shop uses. With none,
the shop asks nothing and shows no banner; the privacy page lists the cookies either way."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.views import bp
from kiosk.privacy import consent
from kiosk.privacy.forms import ConsentCategoriesForm


def _page(form: ConsentCategoriesForm, status: int = 200) -> ResponseReturnValue:
    return render_template("staff/settings_consent.html", form=form), status


@bp.get("/settings/consent")
@require(Permission.MANAGE_SETTINGS)
def consent_settings() -> ResponseReturnValue:
    """The optional categories, and the cookies the shop sets."""
    return _page(ConsentCategoriesForm.of(consent.categories_in_use()))


@bp.post("/settings/consent")
@require(Permission.MANAGE_SETTINGS)
def save_consent_settings() -> ResponseReturnValue:
    """Save the categories; the banner's version changes, so every visitor is asked again."""
    form = ConsentCategoriesForm()
    if not form.validate():
        return _page(form, 422)
    if consent.change_categories_in_use(current_user.id, form.in_use()):
        flash(_("The cookie settings are saved; visitors are asked again."), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("staff.consent_settings"), code=303)
