"""Markup every page shares: machine-readable times and the meta description."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kiosk.config import PROJECT_ROOT
from tests.factories import make_category, make_product
from tests.site_tour import tour

# HTML's "valid global date and time string", as the shop writes it: UTC, whole seconds.
MACHINE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
TIME_ELEMENT = re.compile(r"<time\b[^>]*>")


@pytest.fixture
def pages(app: Flask) -> dict[str, str]:
    return tour(app)


def test_times_are_machine_readable_on_every_page(pages: dict[str, str]) -> None:
    found: dict[str, list[str]] = {}
    for name, html in pages.items():
        for tag in TIME_ELEMENT.findall(html):
            match = re.search(r'datetime="([^"]*)"', tag)
            assert match, f"{name}: {tag} has no datetime"
            found.setdefault(name, []).append(match.group(1))
    for name in ("guest order", "customer order", "staff order", "staff orders", "account orders"):
        assert found.get(name), f"{name} shows no <time>"
    bad = {
        name: [v for v in values if not MACHINE_TIME.fullmatch(v)] for name, values in found.items()
    }
    assert not any(bad.values()), bad


def test_templates_write_times_only_through_the_filter() -> None:
    """A `<time>` written by hand would bring back `isoformat()` with microseconds."""
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "templates").rglob("*.html")
        if TIME_ELEMENT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


class _Metas(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.descriptions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and values.get("name") == "description":
            self.descriptions.append(values.get("content") or "")


def meta_description(html: str) -> str:
    """The page's one meta description, as a browser reads it (entities resolved)."""
    parser = _Metas()
    parser.feed(html)
    assert len(parser.descriptions) == 1, f"{len(parser.descriptions)} meta descriptions"
    return parser.descriptions[0]


def test_every_page_has_a_meta_description(pages: dict[str, str]) -> None:
    for name, html in pages.items():
        assert meta_description(html).strip(), f"{name} has an empty meta description"
    assert meta_description(pages["home"]) == (
        "Kiosk: good things for every day, shipped from a small shop."
    )
    assert meta_description(pages["category"]) == "Für Herd und Tisch"
    assert meta_description(pages["product"]) == (
        "Steinzeug aus dem Westerwald, <spülmaschinenfest>."
    )
    assert "&lt;spülmaschinenfest&gt;" in pages["product"]


def test_a_long_description_is_cut_after_a_word(app: Flask, client: FlaskClient) -> None:
    sentence = 'Der Becher „Bär“ fasst 300 ml & hält "lange" warm.'
    with app.app_context():
        make_product(
            slug="becher",
            description=f"## Steinzeug\n\n**{' '.join([sentence] * 8)}**\n\n![Bild](b.png)",
        )
    description = meta_description(client.get("/p/becher").text)
    full = "Steinzeug " + " ".join([sentence] * 8)
    assert 140 < len(description) <= 155 and description.endswith("…")
    shown = description.removesuffix("…")
    assert full.startswith(shown) and full[len(shown)] in " ,."
    assert "**" not in description and "Bild" not in description


def test_a_product_without_description_gets_a_sentence(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_product(name="Teller", slug="teller", description="", price_cents=1250)
    assert meta_description(client.get("/p/teller").text) == "Teller for €12.50 at Kiosk."


def test_a_category_without_description_names_its_product_count(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        cups = make_category("Tassen", slug="tassen")
        for _ in range(3):
            make_product(category=cups)
    assert meta_description(client.get("/c/tassen").text) == "Tassen: 3 products at Kiosk."


def test_the_shop_description_is_translated_or_set_by_the_owner(
    app: Flask, client: FlaskClient
) -> None:
    german = client.get("/", headers={"Accept-Language": "de"}).text
    assert meta_description(german) == (
        "Kiosk: Gute Dinge für jeden Tag – verschickt aus einem kleinen Laden."
    )
    app.config["KIOSK_SHOP_DESCRIPTION"] = "Becher & Kannen aus dem Westerwald"
    assert meta_description(client.get("/imprint").text) == "Becher & Kannen aus dem Westerwald"
