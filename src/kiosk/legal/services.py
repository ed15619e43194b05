"""The legal texts a buyer accepts, and their versions.

A text's version is a digest of its template: any edit makes a new version,
and each order stores the versions it was placed under, so the shop can show
which terms applied to it (the privacy centre will keep the texts themselves).
"""

from __future__ import annotations

import hashlib
from functools import cache

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from kiosk.mail.services import Attachment

TEXTS = {
    "terms": "legal/_terms.html",
    "withdrawal": "legal/_withdrawal.html",
    "privacy": "legal/privacy.html",
}


@cache
def _digest(template_folder: str, name: str) -> str:
    env = current_app.jinja_env
    source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def versions() -> dict[str, str]:
    folder = str(current_app.template_folder)
    return {text: f"{text}:{_digest(folder, name)}" for text, name in TEXTS.items()}


def contract_documents(locale: str) -> list[Attachment]:
    """The terms and the withdrawal policy as files, for the order confirmation (§312f BGB)."""
    documents = []
    with force_locale(locale):
        for text, filename, title in (
            ("terms", "terms.html", _("Terms and conditions")),
            ("withdrawal", "withdrawal.html", _("Right of withdrawal")),
        ):
            page = render_template("legal/document.html", body=TEXTS[text], title=title)
            documents.append(Attachment(filename, "text/html", page.encode()))
    return documents
