"""Legal and information pages every German shop needs."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("legal", __name__)


@bp.get("/shipping")
def shipping() -> str:
    """Shipping costs and delivery times, linked from every price."""
    return render_template("legal/shipping.html")


@bp.get("/imprint")
def imprint() -> str:
    """The Impressum (§5 DDG)."""
    return render_template("legal/imprint.html")


@bp.get("/privacy")
def privacy() -> str:
    """The privacy policy (Art. 13 GDPR)."""
    return render_template("legal/privacy.html")
