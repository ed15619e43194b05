"""Links to the legal texts an order was placed under, for the order pages."""

from __future__ import annotations

from collections.abc import Mapping

from flask import url_for

from kiosk.legal.services import reference


def order_text_url(order_versions: Mapping[str, str] | None, kind: str) -> str:
    """The version of `kind` the order recorded; the current text if it recorded none."""
    ref = reference(order_versions or {}, kind)
    if ref is None:
        return url_for(f"legal.{kind}")
    return url_for("legal.version", kind=kind, ref=ref)
