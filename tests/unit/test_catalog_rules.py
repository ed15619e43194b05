"""Catalog rules that need no database: unit prices, slugs, listing queries, Markdown."""

import pytest
from werkzeug.datastructures import MultiDict

from kiosk.catalog.models import Product, UnitMeasure
from kiosk.catalog.product_csv import make_slug
from kiosk.catalog.services import CategoryNode, CategoryTree, Listing, ListingQuery
from kiosk.hypermedia import safe_next
from kiosk.markdown import render_markdown
from kiosk.money import Money


@pytest.mark.parametrize(
    ("price", "content", "measure", "expected", "label"),
    [
        (899, 250, UnitMeasure.GRAM, 3596, "kg"),  # 250 g coffee at 8.99 € -> 35.96 €/kg
        (449, 750, UnitMeasure.MILLILITRE, 599, "l"),  # 0.75 l at 4.49 € -> 5.99 €/l (5.9866)
        (1299, 1000, UnitMeasure.CENTIMETRE, 130, "m"),  # 10 m at 12.99 € -> 1.30 €/m
        (2500, 5000, UnitMeasure.SQUARE_CENTIMETRE, 5000, "m²"),
    ],
)
def test_unit_price_is_per_reference_amount(
    price: int, content: int, measure: UnitMeasure, expected: int, label: str
) -> None:
    product = Product(price_cents=price, currency="EUR", unit_content=content, unit_measure=measure)
    assert product.unit_price == (Money(expected), label)


def test_products_sold_by_piece_have_no_unit_price() -> None:
    assert Product(price_cents=500, currency="EUR").unit_price is None


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Kaffeebecher „Bär“", "kaffeebecher-baer"),
        ("Süße Grüße aus Köln", "suesse-gruesse-aus-koeln"),
        ("  Tee & Co.  ", "tee-co"),
        ("ÄÖÜ", "aeoeue"),
    ],
)
def test_slugs_transliterate_german_letters(name: str, slug: str) -> None:
    assert make_slug(name) == slug


def test_listing_query_reads_a_shared_url() -> None:
    query = ListingQuery.from_args(
        MultiDict(
            {
                "q": "  grüner   tee ",
                "min_price": "5",
                "max_price": "12,50",
                "in_stock": "1",
                "sort": "price_desc",
                "page": "3",
            }
        )
    )
    assert (query.q, query.sort, query.page, query.in_stock) == (
        "grüner tee",
        "price_desc",
        3,
        True,
    )
    assert query.errors == {}
    product_filter = query.product_filter(None)
    assert (product_filter.min_cents, product_filter.max_cents) == (500, 1250)


@pytest.mark.parametrize(
    ("args", "page", "sort"),
    [
        ({"page": "x"}, 1, "name"),
        ({"page": "-4"}, 1, "name"),
        ({"page": "99999999"}, 100_000, "name"),
        ({"sort": "'; drop"}, 1, "name"),
    ],
)
def test_listing_query_is_lenient_with_bad_pages_and_sorts(
    args: dict[str, str], page: int, sort: str
) -> None:
    query = ListingQuery.from_args(MultiDict(args))
    assert (query.page, query.sort) == (page, sort)


def test_listing_query_reports_bad_prices_per_field() -> None:
    query = ListingQuery.from_args(MultiDict({"min_price": "abc", "max_price": "3"}))
    assert set(query.errors) == {"min_price"}
    assert query.product_filter(None).min_cents is None
    assert query.product_filter(None).max_cents == 300


def test_listing_query_refuses_a_maximum_below_the_minimum() -> None:
    query = ListingQuery.from_args(MultiDict({"min_price": "20", "max_price": "3"}))
    assert set(query.errors) == {"max_price"}


def test_listing_query_params_keep_filters_and_change_the_page() -> None:
    query = ListingQuery.from_args(MultiDict({"q": "tee", "in_stock": "1", "page": "2"}))
    assert query.params(page=3) == "?q=tee&in_stock=1&page=3"
    assert query.params(page=1) == "?q=tee&in_stock=1"


def test_page_numbers_show_a_window_with_gaps() -> None:
    listing = Listing(ListingQuery(), [], total=500, page=10, pages=21, page_size=24)
    assert listing.page_numbers() == [1, None, 8, 9, 10, 11, 12, None, 21]


def test_category_tree_finds_descendants_and_ancestors() -> None:
    root = CategoryNode(1, None, "a", "A", "")
    child = CategoryNode(2, 1, "b", "B", "")
    grandchild = CategoryNode(3, 2, "c", "C", "")
    other = CategoryNode(4, None, "d", "D", "")
    tree = CategoryTree([root, child, grandchild, other])
    assert tree.descendant_ids(root) == [1, 2, 3]
    assert tree.ancestors(3) == [root, child, grandchild]
    assert tree.ancestors(None) == []
    assert tree.roots == [root, other]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/products?page=2", "/products?page=2"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_redirect_targets_stay_on_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_markdown_is_rendered_and_sanitized() -> None:
    html = render_markdown(
        "**fett** <script>alert(1)</script> [x](javascript:alert(1)) [y](https://a.example)"
    )
    assert "<strong>fett</strong>" in html
    assert "<script>" not in html
    assert 'href="javascript' not in html
    assert 'href="https://a.example"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_markdown_does_not_pass_raw_html_or_images() -> None:
    html = render_markdown(
        '<img src=x onerror="alert(1)">\n\n![pic](https://tracker.example/p.gif)'
    )
    assert "<img" not in html
    assert "&lt;img" in html  # shown as text, never as markup
