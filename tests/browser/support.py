"""Helpers for the browser tests: the demo catalog as data, prices, colours, htmx swaps,
staff sign-in, links from mail, pictures to upload."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import pyotp
from flask import Flask
from PIL import Image
from playwright.sync_api import FilePayload, Locator, Page, expect

from kiosk.accounts.models import Role
from kiosk.demo.services import DEMO_DIR
from kiosk.extensions import db
from tests.factories import PASSWORD, make_user
from tests.mailbox import CapturingSMTP

PAGE_SIZE = 24  # KIOSK_PAGE_SIZE's default, which the live server uses


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    name: str
    price: Decimal
    stock: int
    images: int
    search_text: str


@cache
def demo_products() -> tuple[DemoProduct, ...]:
    """The active products of data/demo/products.csv, the catalog the live server shows."""
    with (DEMO_DIR / "products.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["active"] == "1"]
    return tuple(
        DemoProduct(
            slug=row["slug"],
            name=row["name"],
            price=Decimal(row["price"]),
            stock=int(row["stock"]),
            images=len([entry for entry in row["images"].split(";") if entry.strip()]),
            search_text=" ".join((row["name"], row["sku"], row["description"])).casefold(),
        )
        for row in rows
    )


@cache
def demo_root_categories() -> tuple[str, ...]:
    """The names of the top-level demo categories, in the shop's order."""
    with (DEMO_DIR / "categories.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if not row["parent"]]
    return tuple(row["name"] for row in sorted(rows, key=lambda row: int(row["sort_order"])))


def gallery_product() -> DemoProduct:
    """A product with three pictures."""
    return next(p for p in demo_products() if p.images >= 3)


# One page of each kind, for checks that apply to every page.
PAGES = {
    "home": "/",
    "listing": "/c/kaffee-tee",
    "product": f"/p/{gallery_product().slug}",
}


def count_text(count: int) -> re.Pattern[str]:
    """The start of the results count, e.g. "46 products · showing 1–24"."""
    return re.compile(rf"^\s*{count} products?\b")


def parse_price(text: str) -> Decimal:
    """An English price such as "€1,234.50"."""
    return Decimal(re.sub(r"[^\d.]", "", text))


def result_cards(page: Page) -> Locator:
    """The product cards of a listing's results region."""
    return page.locator("#results .product-card")


def card_prices(page: Page) -> list[Decimal]:
    return [
        parse_price(text) for text in result_cards(page).locator(".price__now").all_text_contents()
    ]


def card_names(page: Page) -> list[str]:
    return [name.strip() for name in result_cards(page).locator("h3").all_text_contents()]


def results_count(page: Page) -> Locator:
    return page.locator(".results__count")


def apply_filters(page: Page, js: bool) -> None:
    """Apply the filter form as a shopper would.

    With htmx every change applies at once (the last one when the focus leaves
    a field), so only the page without JavaScript needs the Apply button.
    """
    if not js:
        page.get_by_role("button", name="Apply").click()


def mark_document(page: Page) -> None:
    """Tag the document shown now, to tell an htmx swap from a full page load."""
    page.evaluate("window.__kiosk_marker = 1")


def document_was_kept(page: Page) -> bool:
    """Whether the document tagged by `mark_document` is still the one shown."""
    return bool(page.evaluate("window.__kiosk_marker === 1"))


def body_luminance(page: Page) -> float:
    """The WCAG relative luminance of the body's computed background colour."""
    colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
    match = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, [\d.]+)?\)", colour)
    assert match, f"unexpected colour {colour!r}"

    def linear(channel: str) -> float:
        c = int(channel) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(channel) for channel in match.groups())
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def sign_in_with_code(page: Page, live_app: Flask, role: Role) -> str:
    """A new staff member or owner signs in with password and authenticator code.

    Returns their email address."""
    email, secret = f"{role.value}-{uuid.uuid4().hex[:8]}@example.org", pyotp.random_base32()
    with live_app.app_context():
        make_user(email=email, role=role, two_factor_secret=secret)
        db.session.remove()
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label(re.compile("Code from your authenticator app")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    return email


def link_from_mail(smtp: CapturingSMTP, to: str, path: str, timeout: float = 10.0) -> str:
    """Wait for a mail to `to` and return the first link path starting with `path`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(smtp.messages):
            if message["To"] == to:
                body = next(p for p in message.walk() if p.get_content_type() == "text/plain")
                match = re.search(
                    rf"https?://[^/\s]+({re.escape(path)}\S+)",
                    body.get_payload(decode=True).decode(),
                )
                if match:
                    return match.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no mail to {to} with a {path} link")


def png_upload(colour: str, size: tuple[int, int] = (320, 240)) -> FilePayload:
    """A small PNG of one colour, as a file the browser uploads."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return {"name": f"{colour}.png", "mimeType": "image/png", "buffer": out.getvalue()}
