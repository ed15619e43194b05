"""Central error handlers: the shop layout for browsers, JSON for JSON clients.

A write that could not get its database lock in time (`database.is_busy`) is
not a server error: nothing was changed, so the answer is 503 with Retry-After
and a page that says to try again, logged as a warning.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from kiosk.database import is_busy
from kiosk.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please check what you entered."),
    ),
    403: (_l("Access denied"), _l("You are not allowed to see this page.")),
    404: (
        _l("Page not found"),
        _l("We could not find this page. It may have moved or been removed."),
    ),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Upload too large"), _l("The file you sent is too large.")),
    422: (_l("Invalid input"), _l("Some of what you entered could not be accepted.")),
    429: (_l("Too many requests"), _l("Please wait a moment before you try again.")),
    500: (
        _l("Something went wrong"),
        _l("An error occurred on our side. Nothing was changed; please try again."),
    ),
    503: (
        _l("The shop is busy"),
        _l(
            "Many people are shopping right now and your request had to wait too long. "
            "Nothing was changed. Please try again in a moment."
        ),
    ),
}
RETRY_AFTER_S = 5
CSRF_MESSAGE = _l(
    "Your form had expired or came from another site. "
    "Please go back, reload the page and try again."
)


def answer_json() -> None:
    """For a blueprint's `before_request`: its errors are JSON whatever the client accepts
    (machine endpoints such as payment webhooks)."""
    g.kiosk_answer_json = True


def wants_json() -> bool:
    if g.get("kiosk_answer_json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(code: int, description: str | None = None) -> ResponseReturnValue:
    title, message = MESSAGES.get(code, MESSAGES[500])
    text = description or str(message)
    if wants_json():
        return jsonify(error={"status": code, "title": str(title), "message": text}), code
    return render_template("errors/error.html", code=code, title=title, message=text), code


def busy(description: str | None = None) -> Response:
    """503 with Retry-After: the request changed nothing and may be sent again shortly."""
    response = make_response(render_error(503, description))
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def register(app: Flask) -> None:
    def handle_http(error: HTTPException) -> ResponseReturnValue:
        return render_error(error.code or 500)

    def handle_csrf(error: CSRFError) -> ResponseReturnValue:
        log.info("CSRF failure on %s: %s", request.path, error.description)
        return render_error(400, str(CSRF_MESSAGE))

    def handle_server_error(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        original = getattr(error, "original_exception", None) or error
        if not isinstance(original, InternalServerError):
            log.exception("unhandled error on %s", request.path, exc_info=original)
        return render_error(500)

    def handle_database_error(error: DBAPIError) -> ResponseReturnValue:
        if not is_busy(error):
            raise error  # a real fault: on to the 500 handler, as without this handler
        db.session.rollback()
        log.warning(
            "database busy on %s %s, answered 503: %s",
            request.method,
            request.path,
            str(error.orig).strip(),
        )
        return busy()

    for code in (400, 403, 404, 405, 413, 422, 429):
        app.register_error_handler(code, handle_http)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(500, handle_server_error)
    app.register_error_handler(DBAPIError, handle_database_error)
