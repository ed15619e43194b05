"""Security headers on every response.

The Content Security Policy allows nothing inline and nothing from another
host: scripts, styles, images and fonts come from this shop only.
"""

from __future__ import annotations

from functools import cache

from flask import Response, current_app, request


@cache
def content_security_policy(form_targets: str = "") -> str:
    """The policy; `form_targets` are other origins a form may lead to (the card payment
    page: browsers apply form-action to the redirects after a form is sent, too)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            " ".join(["form-action 'self'", *form_targets.split()]),
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    config = current_app.config
    card = config["STRIPE_CHECKOUT_ORIGIN"] if config["STRIPE_SECRET_KEY"] else ""
    headers.setdefault("Content-Security-Policy", content_security_policy(card))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
