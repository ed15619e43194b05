"""The cart in a real browser, with JavaScript on and off."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def test_add_change_and_remove(page: Page, js: bool) -> None:
    """Add from the product page, change the quantity (a mistake first), remove."""
    page.goto("/products?in_stock=1&sort=price_desc")
    page.locator(".product-card__link").first.click()
    expect(page).to_have_url(re.compile(r"/p/"))
    name = page.locator("h1.product__name").inner_text()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".flash")).to_contain_text("Added to your cart.")
    expect(page.locator("#cart-badge")).to_contain_text("2")
    if js:  # htmx kept the shopper on the product page
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
    page.locator("#cart-badge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    quantity = page.get_by_label(f"Quantity of {name}")
    quantity.fill("0")
    page.get_by_role("button", name=re.compile("^Update")).click()
    expect(page.locator(".flash--error")).to_contain_text("The quantity must be at least 1.")
    expect(page.get_by_label(f"Quantity of {name}")).to_have_value("2")
    page.get_by_label(f"Quantity of {name}").fill("3")
    page.get_by_role("button", name=re.compile("^Update")).click()
    expect(page.locator("#cart-badge")).to_contain_text("3")
    page.get_by_role("button", name=re.compile("^Remove")).click()
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()
    expect(page.locator("#cart-badge .cart-badge__count")).to_have_count(0)
