"""Shopping the catalog in a real browser, with and without JavaScript.

With JavaScript, htmx swaps the results region and pushes the URL; without it
the same links and forms load whole pages. Either way the URL holds the state.
"""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from tests.browser.support import (
    PAGE_SIZE,
    apply_filters,
    card_names,
    card_prices,
    count_text,
    demo_products,
    demo_root_categories,
    document_was_kept,
    gallery_product,
    mark_document,
    result_cards,
    results_count,
)

ALL = len(demo_products())


def test_browse_from_home_to_category_to_product(page: Page) -> None:
    """Home shows the categories; a tile leads to its listing, a card to its product."""
    page.goto("/")
    tiles = page.get_by_role("region", name="Categories").get_by_role("link")
    expect(tiles.locator(".category-tiles__name")).to_have_text(list(demo_root_categories()))
    tiles.filter(has_text="Kaffee & Tee").click()

    expect(page).to_have_url(re.compile(r"/c/kaffee-tee$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Kaffee & Tee")
    card = result_cards(page).first
    name = card.locator("h3").inner_text()
    card.get_by_role("link", name=name).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    buy = page.locator(".product__buy")
    expect(buy.locator(".price__now")).to_have_text(re.compile(r"^€\d+\.\d\d$"))
    expect(buy.locator(".price__tax")).to_have_text("incl. VAT, plus shipping")
    expect(buy.get_by_role("link", name="shipping")).to_have_attribute("href", "/shipping")
    crumbs = page.get_by_role("navigation", name="Breadcrumb").get_by_role("listitem")
    expect(crumbs.first).to_have_text("Home")
    expect(crumbs.nth(1)).to_have_text("Kaffee & Tee")
    expect(crumbs.last).to_have_text(name)


def test_price_and_stock_filter_narrows_the_results(page: Page, js: bool) -> None:
    """From/To and "In stock only" filter the listing; the URL says so; htmx keeps the page."""
    page.goto("/products")
    expect(results_count(page)).to_have_text(count_text(ALL))
    mark_document(page)

    page.get_by_label("From", exact=True).fill("10")
    page.get_by_label("To", exact=True).fill("30")
    page.get_by_label("In stock only").check()
    apply_filters(page, js)

    expected = [p for p in demo_products() if p.stock > 0 and 10 <= p.price <= 30]
    expect(page).to_have_url(re.compile(r"min_price=10&max_price=30&in_stock=1"))
    expect(results_count(page)).to_have_text(count_text(len(expected)))
    prices = card_prices(page)
    assert len(prices) == len(expected)
    assert all(Decimal(10) <= price <= Decimal(30) for price in prices), prices
    assert document_was_kept(page) is js


def test_back_button_restores_the_previous_results(page: Page, js: bool) -> None:
    """After a filter change, Back shows the URL and results from before it again."""
    page.goto("/products?min_price=10&max_price=30")
    before = [p for p in demo_products() if 10 <= p.price <= 30]
    expect(results_count(page)).to_have_text(count_text(len(before)))

    page.get_by_label("In stock only").check()
    apply_filters(page, js)
    expect(page).to_have_url(re.compile(r"in_stock=1"))
    in_stock = [p for p in before if p.stock > 0]
    expect(results_count(page)).to_have_text(count_text(len(in_stock)))

    page.go_back()
    expect(page).to_have_url(re.compile(r"/products\?min_price=10&max_price=30$"))
    expect(results_count(page)).to_have_text(count_text(len(before)))
    expect(result_cards(page)).to_have_count(len(before))


def test_back_button_restores_the_filter_form_with_the_results(page: Page, js: bool) -> None:
    """After Back, the filter form shows the filters that the results and URL were made with."""
    page.goto("/products")
    page.get_by_label("In stock only").check()
    apply_filters(page, js)
    expect(page).to_have_url(re.compile(r"in_stock=1&sort=name"))
    page.get_by_label("Sort by").select_option(label="Price, high to low")
    apply_filters(page, js)
    expect(page).to_have_url(re.compile(r"sort=price_desc"))

    page.go_back()
    expect(page).to_have_url(re.compile(r"in_stock=1&sort=name$"))
    in_stock = len([p for p in demo_products() if p.stock > 0])
    expect(results_count(page)).to_have_text(count_text(in_stock))
    expect(page.get_by_label("In stock only")).to_be_checked(timeout=1000)


def test_sort_by_price_high_to_low(page: Page, js: bool) -> None:
    """Sorting by "Price, high to low" puts the dearest product first; prices never rise."""
    page.goto("/products")
    page.get_by_label("Sort by").select_option(label="Price, high to low")
    apply_filters(page, js)

    expect(page).to_have_url(re.compile(r"sort=price_desc"))
    top = max(p.price for p in demo_products())
    expect(result_cards(page).first.locator(".price__now")).to_have_text(f"€{top:,.2f}")
    prices = card_prices(page)
    assert len(prices) == PAGE_SIZE
    assert prices == sorted(prices, reverse=True)


def test_next_page_shows_the_next_products_and_survives_a_reload(page: Page, js: bool) -> None:
    """The "Next" link shows page 2: URL, current page, other products; a reload keeps it."""
    page.goto("/products")
    first_page = card_names(page)
    assert len(first_page) == PAGE_SIZE
    mark_document(page)

    pagination = page.get_by_role("navigation", name="Pages")
    pagination.get_by_role("link", name="Next").click()

    expect(page).to_have_url(re.compile(r"[?&]page=2$"))
    current = page.get_by_role("navigation", name="Pages").locator("[aria-current=page]")
    expect(current).to_have_text("2")
    expect(results_count(page)).to_have_text(re.compile(rf"showing {PAGE_SIZE + 1}–{ALL}"))
    second_page = card_names(page)
    assert len(second_page) == ALL - PAGE_SIZE
    assert not set(first_page) & set(second_page)
    assert document_was_kept(page) is js

    page.reload()
    expect(current).to_have_text("2")
    assert card_names(page) == second_page


def test_header_search_finds_matching_products(page: Page) -> None:
    """The header search box leads to the results for the term, and keeps it in the box."""
    page.goto("/")
    search = page.get_by_role("search").get_by_role("searchbox")
    search.fill("buchenholz")
    search.press("Enter")

    expect(page).to_have_url(re.compile(r"/products\?q=buchenholz$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search results for “buchenholz”")
    expected = sorted(p.name for p in demo_products() if "buchenholz" in p.search_text)
    expect(results_count(page)).to_have_text(count_text(len(expected)))
    assert sorted(card_names(page)) == expected
    expect(search).to_have_value("buchenholz")


def test_gallery_thumbnail_shows_that_picture(page: Page) -> None:
    """On a product with several pictures, the second thumbnail makes it the main picture."""
    product = gallery_product()
    page.goto(f"/p/{product.slug}")
    main_picture = page.locator(".gallery__main img")
    thumbnails = page.get_by_role("list", name="More pictures").get_by_role("link")
    expect(thumbnails).to_have_count(product.images)
    pictures = [thumbnails.nth(i).locator("img").get_attribute("src") for i in (0, 1)]
    assert pictures[0] != pictures[1]
    expect(main_picture).to_have_attribute("src", pictures[0] or "")
    thumbnails.nth(1).click()

    expect(main_picture).to_have_attribute("src", pictures[1] or "")
    expect(thumbnails.nth(1)).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("heading", level=1)).to_have_text(product.name)
