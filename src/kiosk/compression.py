"""Compressed answers (brotli or gzip) for HTML, CSS, JavaScript and SVG, by Flask-Compress.

Without a proxy that compresses, pages, the stylesheet and htmx went out as
they are (htmx alone is 50 KB, 16 KB with gzip). `KIOSK_COMPRESS=0` leaves it
to a proxy in front.

BREACH: a compressed page that carries a secret (the CSRF token, the same for
a whole session) next to text an attacker chooses (the search term, shown
again) leaks the secret through its length, if the attacker can make the
victim's browser ask many times and see the sizes on the wire. Those
requests start on the attacker's site, and browsers say so in
`Sec-Fetch-Site`. So a page is compressed only when the browser says the
request comes from this shop itself (`same-origin`) or from the shopper
(`none`: typed, bookmarked); a cross-site request, or a browser too old to
say, gets it uncompressed: correct, only larger. Stylesheet, scripts and SVG
hold no secrets and are always compressed. Masking the token anew in every
answer (Django's way) would protect cross-site navigations too, but changes
every form and Flask-WTF's check; not needed while these stay uncompressed.
"""

from __future__ import annotations

from flask import Flask, Response, request

from kiosk.extensions import compress

COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "image/svg+xml",
]
# Requests a page may be compressed for (see the module docstring).
TRUSTED_FETCH_SITES = {"same-origin", "none"}


def init_app(app: Flask) -> None:
    if not app.config["KIOSK_COMPRESS"]:
        return
    app.config.update(
        COMPRESS_REGISTER=False,  # compress_response decides, then Flask-Compress compresses
        COMPRESS_MIMETYPES=COMPRESSED_TYPES,
        # Brotli where the browser takes it (about a fifth smaller than gzip), else gzip.
        COMPRESS_ALGORITHM=["br", "gzip"],
    )
    compress.init_app(app)
    app.after_request(compress_response)


def compress_response(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.vary.add("Sec-Fetch-Site")
        if request.headers.get("Sec-Fetch-Site") not in TRUSTED_FETCH_SITES:
            response.vary.add("Accept-Encoding")
            return response
    elif response.is_streamed and response.mimetype in COMPRESSED_TYPES:
        # A static file (at most some 50 KB): read it here, so it is compressed whole and
        # its file closed with the response (Flask-Compress's streaming path loses the close).
        response.direct_passthrough = False
        response.make_sequence()
    return compress.after_request(response)
