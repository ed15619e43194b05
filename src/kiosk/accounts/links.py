"""What a page says when a mailed link (verification, reset, opt-in) fails: expired, used
or broken. Every domain that mails signed links answers with this page."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kiosk.accounts.tokens import TokenError, TokenProblem


def link_problem(error: TokenError) -> ResponseReturnValue:
    """The page for a mailed link that is expired, used or broken."""
    return render_template("auth/link_problem.html", message=token_message(error.problem)), 400


def token_message(problem: TokenProblem) -> str:
    messages: dict[TokenProblem, str] = {
        TokenProblem.EXPIRED: _("This link has expired. Please ask for a new one."),
        TokenProblem.USED: _(
            "This link has already been used. Please ask for a new one if you still need it."
        ),
        TokenProblem.INVALID: _(
            "This link is not valid. Please copy the whole link from the mail."
        ),
    }
    return messages[problem]
