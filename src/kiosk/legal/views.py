"""Legal and information pages every German shop needs."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from kiosk.money import Money
from kiosk.shipping.services import methods as shipping_methods

bp = Blueprint("legal", __name__)


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
    return render_template("legal/terms.html")


@bp.get("/withdrawal")
def withdrawal() -> str:
    """The withdrawal policy and model form (§312g BGB, Art. 246a EGBGB)."""
    return render_template("legal/withdrawal.html")


@bp.get("/imprint")
def imprint() -> str:
    """The Impressum (§5 DDG)."""
    return render_template("legal/imprint.html")


@bp.get("/privacy")
def privacy() -> str:
    """The privacy policy (Art. 13 GDPR)."""
    return render_template("legal/privacy.html")
