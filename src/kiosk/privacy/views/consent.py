"""Cookie settings: the banner's buttons and the settings page post here, with or without
JavaScript; the footer's "Cookie settings" link opens the page on every page of the shop."""

from __future__ import annotations

from flask import flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kiosk.hypermedia import render_page, safe_next, wants_fragment
from kiosk.privacy import consent
from kiosk.privacy.forms import ConsentForm
from kiosk.privacy.views import bp


def _settings_page(form: ConsentForm, next_url: str, status: int = 200) -> ResponseReturnValue:
    return render_page(
        "privacy/consent.html",
        "privacy/_choices.html",
        status,
        form=form,
        options=consent.category_options(),
        next=next_url,
    )


@bp.get("/privacy/consent")
def consent_settings() -> ResponseReturnValue:
    """Every category with its purpose, what the visitor chose so far, and the list of
    cookies; the second layer of the banner and the place to withdraw."""
    return _settings_page(ConsentForm(formdata=None), safe_next(request.args.get("next")))


@bp.post("/privacy/consent")
def save_consent() -> ResponseReturnValue:
    """Record the choice and keep it in the consent cookie; then back to the page the
    visitor came from, or, for htmx, the banner swapped away in place."""
    form = ConsentForm()
    target = safe_next(form.next.data)
    if not form.validate():
        return _settings_page(form, target, 422)
    user_id = current_user.id if current_user.is_authenticated else None
    choice = consent.record_choice(form.choice.data or "", form.chosen(), user_id)
    if choice is not None:
        flash(_("Your choice about cookies is saved."), "success")
    response: Response = (
        render_page("privacy/consent.html", "privacy/_banner.html")
        if wants_fragment()
        else redirect(target, code=303)
    )
    if choice is not None:
        consent.store_in_cookie(response, choice)
    return response
