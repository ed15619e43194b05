"""The products a shopper viewed last, kept in a cookie of their own.

An optional convenience (consent category "preferences", §25(1) TDDDG): the product page
asks the consent manager first and reads or writes this cookie only when it may. The
cookie holds product ids only.
"""

from __future__ import annotations

from flask import current_app, request
from werkzeug.wrappers import Response

COOKIE = "kiosk_recently_viewed"
KEEP = 6  # products remembered
KEEP_DAYS = 30
MAX_ID = 2**31 - 1


def viewed_ids() -> list[int]:
    """The remembered product ids, most recent first; anything malformed is skipped."""
    ids: list[int] = []
    for part in request.cookies.get(COOKIE, "").split(".")[: KEEP * 2]:
        valid = part.isdecimal() and len(part) <= 10 and 0 < int(part) <= MAX_ID
        if valid and int(part) not in ids:
            ids.append(int(part))
    return ids[:KEEP]


def remember(response: Response, product_id: int) -> None:
    """Put a product first in the cookie."""
    ids = [product_id, *(i for i in viewed_ids() if i != product_id)][:KEEP]
    response.set_cookie(
        COOKIE,
        ".".join(map(str, ids)),
        max_age=KEEP_DAYS * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["KIOSK_SECURE_COOKIES"],
    )
