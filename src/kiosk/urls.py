"""Absolute links for mails: from KIOSK_BASE_URL, else from the current request."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """Works outside a request too (commands, jobs): KIOSK_BASE_URL supplies the host then."""
    if not has_request_context():
        with current_app.test_request_context():
            return external_url(endpoint, **values)
    base: str = current_app.config["KIOSK_BASE_URL"].rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return str(url_for(endpoint, _external=True, **values))
