"""Absolute links for mails: from KIOSK_BASE_URL, else from the current request."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    base: str = current_app.config["KIOSK_BASE_URL"].rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return str(url_for(endpoint, _external=True, **values))
