"""Each page: the full page, the htmx fragment with Vary, and 404 for unknown slugs."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.factories import make_category, make_product

HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(app: Flask) -> dict[str, str]:
    """A small catalog: a category tree and 30 products."""
    with app.app_context():
        drinks = make_category("Getränke", slug="getraenke", description="Alles zum Trinken")
        tea = make_category("Tee", slug="tee", parent=drinks)
        make_category("Leer", slug="leer")
        for i in range(30):
            make_product(
                name=f"Tee Nr. {i:02d}",
                slug=f"tee-{i:02d}",
                category=tea,
                price_cents=100 * (i + 1),
                stock_on_hand=0 if i % 5 == 0 else 10,
                images=2 if i == 0 else 0,
            )
        make_product(
            name="Kaffeebecher „Bär“",
            slug="kaffeebecher-baer",
            category=drinks,
            compare_at_cents=2990,
            price_cents=2490,
            unit_content=250,
            unit_measure="g",
            delivery_time="1–3 Werktage",
            is_featured=True,
            stock_on_hand=3,
            description="**Steinzeug**, <script>alert(1)</script>",
        )
        make_product(name="Versteckt", slug="versteckt", category=tea, is_active=False)
    return {"category": "getraenke", "product": "kaffeebecher-baer"}


def _product_links(html: str) -> list[str]:
    return re.findall(r'class="product-card__link" href="/p/([^"]+)"', html)


def test_home_shows_categories_featured_and_newest(
    client: FlaskClient, shop: dict[str, str]
) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "Getränke" in page and "Leer" in page
    assert "Featured" in page and "Kaffeebecher „Bär“" in page
    assert "New in the shop" in page
    assert "Versteckt" not in page


def test_listing_full_page_and_fragment(client: FlaskClient, shop: dict[str, str]) -> None:
    full = client.get("/products")
    assert full.status_code == 200
    assert "<html" in full.text and 'id="results"' in full.text
    assert "HX-Request" in full.headers["Vary"]
    fragment = client.get("/products", headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert "31 products" in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    assert _product_links(fragment.text) == _product_links(full.text)


def test_boosted_and_history_restore_requests_get_the_full_page(
    client: FlaskClient, shop: dict[str, str]
) -> None:
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        response = client.get("/products", headers={**HTMX, **extra})
        assert "<html" in response.text


def test_listing_pages_through_all_products_once(client: FlaskClient, shop: dict[str, str]) -> None:
    seen: list[str] = []
    for page in (1, 2):
        seen += _product_links(client.get(f"/products?page={page}", headers=HTMX).text)
    assert len(seen) == len(set(seen)) == 31
    last = client.get("/products?page=99").text
    assert "showing 25–31" in last  # a page past the end shows the last page


def test_category_listing_includes_subcategories(client: FlaskClient, shop: dict[str, str]) -> None:
    page = client.get("/c/getraenke").text
    assert "31 products" in page
    assert 'href="/c/tee"' in page  # subcategory link
    assert "Alles zum Trinken" in page
    tea = client.get("/c/tee", headers=HTMX).text
    assert "30 products" in tea


def test_filters_and_sort_are_query_strings(client: FlaskClient, shop: dict[str, str]) -> None:
    html = client.get(
        "/c/tee?min_price=5&max_price=10,00&in_stock=1&sort=price_desc", headers=HTMX
    ).text
    assert _product_links(html) == ["tee-09", "tee-08", "tee-07", "tee-06", "tee-04"]
    assert "5 products" in html


def test_a_bad_price_filter_is_reported_and_ignored(
    client: FlaskClient, shop: dict[str, str]
) -> None:
    response = client.get("/products?min_price=viel")
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.text
    assert "Enter an amount such as 10 or 12.50." in response.text
    assert "31 products" in response.text


def test_search_finds_by_name_and_keeps_the_term(client: FlaskClient, shop: dict[str, str]) -> None:
    html = client.get("/products?q=b%C3%A4r").text
    assert _product_links(html) == ["kaffeebecher-baer"]
    assert 'value="bär"' in html
    assert "Search results for “bär”" in html
    assert "No products match your choice." in client.get("/products?q=zzzz").text


def test_pagination_links_keep_the_filters(client: FlaskClient, shop: dict[str, str]) -> None:
    html = client.get("/products?q=tee&sort=price_asc").text
    assert 'href="/products?q=tee&amp;sort=price_asc&amp;page=2"' in html
    assert 'data-hx-get="/products?q=tee&amp;sort=price_asc&amp;page=2"' in html


def test_product_page_shows_what_german_law_asks_for(
    client: FlaskClient, shop: dict[str, str]
) -> None:
    html = client.get("/p/kaffeebecher-baer").text
    assert "<h1" in html and "Kaffeebecher „Bär“" in html
    assert "€24.90" in html
    assert "incl. VAT, plus" in html and 'href="/shipping"' in html
    assert "€99.60 per kg" in html  # 24.90 € for 250 g
    assert "RRP" in html and "€29.90" in html
    assert "1–3 Werktage" in html
    assert "Only 3 left" in html
    assert '<nav class="breadcrumb"' in html and 'href="/c/getraenke"' in html
    assert "<strong>Steinzeug</strong>" in html
    assert "<script>alert(1)</script>" not in html


def test_product_page_in_german(client: FlaskClient, shop: dict[str, str]) -> None:
    html = client.get("/p/kaffeebecher-baer", headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    assert '<html lang="de"' in html
    assert "24,90\xa0€" in html
    assert "99,60\xa0€" in html


def test_product_gallery_works_without_javascript(
    client: FlaskClient, shop: dict[str, str]
) -> None:
    first = client.get("/p/tee-00").text
    assert 'src="/media/p' in first and "-0.webp" in first.split('class="gallery__main"')[1][:200]
    second = client.get("/p/tee-00?image=1").text
    assert "-1.webp" in second.split('class="gallery__main"')[1][:200]
    assert client.get("/p/tee-00?image=99").status_code == 200


@pytest.mark.parametrize("url", ["/p/unknown", "/p/versteckt", "/c/unknown", "/no/such/page"])
def test_unknown_slugs_get_the_404_page(
    client: FlaskClient, shop: dict[str, str], url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "<html" in response.text


def test_empty_category_says_so(client: FlaskClient, shop: dict[str, str]) -> None:
    assert "No products match your choice." in client.get("/c/leer").text


@pytest.mark.parametrize("url", ["/shipping", "/imprint", "/privacy"])
def test_legal_pages_render(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert "<h1>" in response.text


def test_listing_cards_follow_changes_to_price_and_stock(
    app: Flask, client: FlaskClient, shop: dict[str, str]
) -> None:
    """Cards are cached; a changed product must never show its old card."""
    from kiosk.catalog.models import Product
    from kiosk.uow import unit_of_work

    assert "€24.90" in client.get("/c/getraenke?q=kaffeebecher").text
    with app.app_context(), unit_of_work() as session:
        mug = session.scalar(select(Product).where(Product.slug == "kaffeebecher-baer"))
        mug.price_cents, mug.stock_on_hand = 1990, 0
    html = client.get("/c/getraenke?q=kaffeebecher").text
    assert "€19.90" in html and "€24.90" not in html
    assert "Sold out" in html


def test_held_stock_is_not_offered_again(
    app: Flask, client: FlaskClient, shop: dict[str, str]
) -> None:
    """Stock held by a checkout counts as gone for other shoppers."""
    from kiosk.catalog.models import Product
    from kiosk.inventory import services as inventory
    from kiosk.uow import unit_of_work

    with app.app_context(), unit_of_work() as session:
        mug = session.scalar(select(Product.id).where(Product.slug == "kaffeebecher-baer"))
        inventory.reserve(session, "someone-else", {mug: 3}, minutes=15)
    assert "Sold out" in client.get("/p/kaffeebecher-baer").text
    assert "kaffeebecher-baer" not in client.get("/products?in_stock=1&q=kaffeebecher").text
