"""Rate limits by name, so one table holds them all and a shop (or a test) can tune them.

Views say `@limiter.limit(rate("signin"), …)`; the value is read from
`KIOSK_RATE_LIMITS` at request time.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request

DEFAULT_RATE_LIMITS = {
    "signin": "10 per minute;50 per hour",  # per IP address
    "signin_account": "5 per minute;20 per hour",  # per email address named in the form
    "second_factor": "10 per minute",
    "second_factor_account": "5 per minute;30 per hour",
    "register": "5 per minute;20 per hour",
    "password_check": "60 per minute",
    "reset_request": "5 per 15 minutes",
    "reset_request_account": "3 per hour",
    "reset": "10 per hour",
    "resend_verification": "3 per hour",
    "account_change": "10 per hour",
    "two_factor_setup": "10 per minute",
    "stock_alert": "5 per minute;20 per hour",
    "find_order": "10 per minute;30 per hour",  # guessing order numbers and emails
    "privacy_export_request": "5 per 15 minutes",  # per IP address
    "privacy_export_request_account": "3 per hour",  # per email address named in the form
    "privacy_export": "10 per hour",  # building a ZIP is work: downloads per IP address
    "erasure_request": "3 per 15 minutes;10 per day",  # mails to any address a guest names
}


def only_form_submissions() -> bool:
    """Flask-Limiter request filter: pages (GET, HEAD) are never limited, so skip the check."""
    return request.method in ("GET", "HEAD")


def rate(name: str) -> Callable[[], str]:
    def current() -> str:
        limit: str = current_app.config["KIOSK_RATE_LIMITS"][name]
        return limit

    return current
