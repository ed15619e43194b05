"""Answers are compressed when the browser asks: HTML, CSS, JavaScript, SVG (brotli or gzip).

Pages only for requests from the shop itself or typed by the shopper, never for
cross-site ones (BREACH, see kiosk/compression.py).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse
from werkzeug.wrappers import Response as BaseResponse

from kiosk import create_app
from kiosk.compression import compress_response
from kiosk.extensions import db
from tests.conftest import CSRF_INPUT, new_client, settings_for

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}
FROM_THE_SHOP = {"Sec-Fetch-Site": "same-origin"}


def fetch(client: FlaskClient, url: str, encoding: str | None, **headers: str) -> TestResponse:
    if encoding:
        headers["Accept-Encoding"] = encoding
    response = client.get(url, headers=headers)
    response.get_data()  # read a file answer to its end, so it is closed
    response.close()
    return response


def assert_compressed(response: BaseResponse, encoding: str, plain: bytes) -> None:
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    body = response.get_data()
    # The CSRF token carries the second it was signed in: compare the pages without it.
    same = [CSRF_INPUT.sub("", page.decode()) for page in (DECODE[encoding](body), plain)]
    assert same[0] == same[1] and len(body) < len(plain) / 2


def asset_urls(client: FlaskClient) -> dict[str, str]:
    page = fetch(client, "/", None).text
    return {
        suffix: page.split(f'href="/static/{suffix}' if suffix != "js" else 'src="/static/js')[1]
        for suffix in ("css", "js")
    }


@pytest.mark.parametrize("encoding", ["gzip", "br"])
@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_pages_are_compressed_for_the_shop_and_the_shopper(
    client: FlaskClient, encoding: str, site: str
) -> None:
    plain = fetch(client, "/products", None, **{"Sec-Fetch-Site": site}).get_data()
    response = fetch(client, "/products", encoding, **{"Sec-Fetch-Site": site})
    assert_compressed(response, encoding, plain)
    assert "Sec-Fetch-Site" in response.headers["Vary"]


@pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "cross-site"}, {}], ids=["cross", "unmarked"]
)
def test_pages_for_other_sites_are_not_compressed(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = fetch(client, "/products?q=tee", "gzip, br", **headers)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert "Sec-Fetch-Site" in response.headers["Vary"]
    assert "Accept-Encoding" in response.headers["Vary"]


@pytest.mark.parametrize("encoding", ["gzip", "br"])
@pytest.mark.parametrize("path", ["css/kiosk.css", "js/htmx-2.0.11.min.js"], ids=["css", "js"])
def test_stylesheet_and_scripts_are_always_compressed(
    app: Flask, client: FlaskClient, encoding: str, path: str
) -> None:
    plain = (Path(app.static_folder or "") / path).read_bytes()
    response = fetch(client, f"/static/{path}", encoding, **{"Sec-Fetch-Site": "cross-site"})
    assert_compressed(response, encoding, plain)


def test_svg_is_compressed(app: Flask) -> None:
    """The favicon is too small to gain anything; a larger drawing is compressed."""
    drawing = b"<svg xmlns='http://www.w3.org/2000/svg'>" + b"<circle r='5'/>" * 100 + b"</svg>"
    with app.test_request_context(headers={"Accept-Encoding": "gzip"}):
        response = compress_response(Response(drawing, mimetype="image/svg+xml"))
    assert_compressed(response, "gzip", drawing)


def test_nothing_is_compressed_unless_asked(client: FlaskClient) -> None:
    for url in ("/", "/static/css/kiosk.css"):
        assert "Content-Encoding" not in fetch(client, url, None, **FROM_THE_SHOP).headers


def test_compression_can_be_left_to_a_proxy(database_url: str, tmp_path: Path) -> None:
    app = create_app(settings_for(database_url, tmp_path / "media", KIOSK_COMPRESS=False))
    client = new_client(app)
    for url in ("/imprint", "/static/css/kiosk.css"):
        response = fetch(client, url, "gzip, br", **FROM_THE_SHOP)
        assert response.status_code == 200 and "Content-Encoding" not in response.headers
    with app.app_context():
        db.engine.dispose()
