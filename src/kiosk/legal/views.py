"""Legal and information pages every German shop needs."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from kiosk.legal import services as legal
from kiosk.money import Money
from kiosk.shipping.services import methods as shipping_methods

bp = Blueprint("legal", __name__)

TITLES = {
    "imprint": _l("Imprint"),
    "terms": _l("Terms and conditions"),
    "withdrawal": _l("Right of withdrawal"),
    "privacy": _l("Privacy policy"),
    "accessibility": _l("Accessibility statement"),
}


def _language() -> str:
    return str(get_locale() or "de")


def _page(kind: str) -> str:
    return render_template(
        "legal/text.html", kind=kind, title=TITLES[kind], text=legal.current(kind, _language())
    )


@bp.get("/shipping")
def shipping() -> str:
    """Shipping costs and delivery times, linked from every price."""
    currency = current_app.config["KIOSK_CURRENCY"]
    return render_template(
        "legal/shipping.html",
        methods=shipping_methods(),
        money_of=lambda cents: Money(cents, currency),
    )


@bp.get("/terms")
def terms() -> str:
    """The terms and conditions (AGB); each order records the version it was placed under."""
    return _page("terms")


@bp.get("/withdrawal")
def withdrawal() -> str:
    """The withdrawal policy and model form (§312g BGB, Art. 246a EGBGB)."""
    return _page("withdrawal")


@bp.get("/imprint")
def imprint() -> str:
    """The Impressum (§5 DDG)."""
    return _page("imprint")


@bp.get("/privacy")
def privacy() -> str:
    """The privacy policy (Art. 13 GDPR): the owner's, or the generated draft until saved."""
    return _page("privacy")


@bp.get("/accessibility")
def accessibility() -> str:
    """The accessibility statement (§14 BFSG)."""
    return _page("accessibility")


@bp.get("/legal/<kind>/v/<ref>")
def version(kind: str, ref: str) -> str:
    """A text as it was: the version an order was placed under, by number or by the
    template digest that orders placed before texts were stored recorded."""
    text = legal.text_of(kind, ref, _language())
    if text is None or kind not in TITLES:
        abort(404)
    return render_template(
        "legal/text.html", kind=kind, title=TITLES[kind], text=text, archived=True
    )
