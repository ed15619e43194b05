"""The shop frame: home page, preferences, media files and health checks."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    send_from_directory,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kiosk.catalog import services as catalog
from kiosk.catalog.pictures import is_picture_name
from kiosk.hypermedia import safe_next
from kiosk.i18n import LANGUAGE_COOKIE, THEME_COOKIE
from kiosk.operations import health
from kiosk.storefront.forms import PreferencesForm

bp = Blueprint("core", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.get("/")
def home() -> str:
    """Categories, featured and newest products."""
    return render_template("core/home.html", tree=catalog.category_tree(), home=catalog.home_page())


@bp.post("/preferences")
def preferences() -> ResponseReturnValue:
    """Remember language and theme in cookies; works as a plain form without JavaScript."""
    form = PreferencesForm()
    target = safe_next(form.next.data)
    response = redirect(target, code=303)
    if not form.validate():
        flash(_("That choice is not available."), "error")
        return response
    for cookie, value in ((LANGUAGE_COOKIE, form.lang.data), (THEME_COOKIE, form.theme.data)):
        if value:
            response.set_cookie(
                cookie,
                value,
                max_age=ONE_YEAR,
                samesite="Lax",
                httponly=True,
                secure=current_app.config["KIOSK_SECURE_COOKIES"],
            )
    return response


@bp.get("/media/<path:filename>")
def media(filename: str) -> ResponseReturnValue:
    """Product pictures and their variants; in production nginx serves this folder directly.

    Only pictures: any other file that lands in the folder (an .html, an .svg
    with script) is not served from the shop's origin.
    """
    if not is_picture_name(filename):
        abort(404)
    return send_from_directory(current_app.config["KIOSK_MEDIA_DIR"], filename, max_age=ONE_YEAR)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The database answers and its schema is at the newest migration."""
    report = health.readiness()
    return jsonify(report.as_dict()), 200 if report.ready else 503
