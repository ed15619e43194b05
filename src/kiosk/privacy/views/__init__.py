"""The privacy centre's pages: consent, and a person's export and erasure.

One blueprint without a prefix, because a person reaches their data from two places:
`/privacy/…` for everyone (guests too) and `/account/privacy` once signed in. The areas
register their routes on `bp` when imported, as in the back office.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("privacy", __name__)

# The areas register their routes on `bp` when imported.
from kiosk.privacy.views import consent, erasure, export  # noqa: E402

__all__ = ["bp", "consent", "erasure", "export"]
