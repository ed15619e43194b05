"""Staff give a product its pictures in a real browser: upload several with an alt text,
reorder them, change an alt text, remove one; in English and in German.

Every test runs with JavaScript on (htmx swaps the list in place) and off (plain
forms and redirects), and makes its own product, since the live server lasts the
whole session.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask
from playwright.sync_api import FilePayload, Locator, Page, expect
from sqlalchemy import select

from kiosk.catalog.models import ProductImage
from kiosk.extensions import db
from tests.browser.support import png_upload
from tests.browser.test_staff_orders import _staff_sign_in
from tests.factories import make_product


def _product(live_app: Flask, name: str) -> int:
    with live_app.app_context():
        product_id = make_product(name=name, slug=f"bild-{uuid.uuid4().hex[:10]}").id
        db.session.remove()
    return product_id


def _order(live_app: Flask, product_id: int) -> list[str]:
    with live_app.app_context():
        query = select(ProductImage.alt).where(ProductImage.product_id == product_id)
        alts = list(db.session.scalars(query.order_by(ProductImage.position)))
        db.session.remove()
    return alts


def _pictures(page: Page) -> Locator:
    return page.locator("#product-pictures li")


def test_staff_upload_two_pictures_reorder_them_and_describe_one(
    page: Page, live_app: Flask
) -> None:
    product_id = _product(live_app, "Becher Aurora")
    _staff_sign_in(page, live_app)
    page.goto(f"/staff/products/{product_id}/pictures")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pictures of Becher Aurora")
    expect(page.get_by_text("This product has no pictures yet.")).to_be_visible()
    alt = page.get_by_label("Alt text", exact=True)
    expect(alt).to_have_value("Becher Aurora")  # the suggestion

    page.get_by_label("Pictures (JPEG, PNG, WebP or GIF)").set_input_files(
        [png_upload("red"), png_upload("blue")]
    )
    alt.fill("Becher Aurora, rot glasiert")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flash")).to_have_text("2 pictures added.")
    expect(_pictures(page)).to_have_count(2)
    expect(_pictures(page).first).to_contain_text("Picture 1 of 2")

    page.get_by_label("Alt text of picture 2").fill("Becher Aurora von der Seite")
    page.get_by_role("button", name="Save alt text of picture 2").click()
    expect(page.locator(".flash")).to_have_text("The alt text of picture 2 is saved.")
    page.get_by_role("button", name="Move up picture 2").click()
    expect(page.get_by_label("Alt text of picture 1")).to_have_value("Becher Aurora von der Seite")
    expect(page.get_by_label("Alt text of picture 2")).to_have_value("Becher Aurora, rot glasiert")
    assert _order(live_app, product_id) == [
        "Becher Aurora von der Seite",
        "Becher Aurora, rot glasiert",
    ]
    expect(_pictures(page).first.locator("img")).to_have_attribute("srcset", re.compile(r"320w"))


def test_in_german_a_broken_file_is_named_and_a_picture_removed(
    page: Page, live_app: Flask
) -> None:
    product_id = _product(live_app, "Kanne Nordlicht")
    _staff_sign_in(page, live_app)
    page.goto(f"/staff/products/{product_id}/pictures")
    page.get_by_role("button", name=re.compile("^DE")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilder von Kanne Nordlicht")

    broken: FilePayload = {"name": "notiz.jpg", "mimeType": "image/jpeg", "buffer": b"kein Bild"}
    page.get_by_label("Bilder (JPEG, PNG, WebP oder GIF)").set_input_files(
        [png_upload("green"), broken]
    )
    page.get_by_role("button", name="Hochladen").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "notiz.jpg: dies ist kein JPEG-, PNG-, WebP- oder GIF-Bild."
    )
    expect(page.locator(".flash")).to_have_text("1 Bild hinzugefügt.")
    expect(page.get_by_label("Alternativtext", exact=True)).to_have_value("Kanne Nordlicht")
    expect(_pictures(page)).to_have_count(1)

    page.get_by_role("button", name="Entfernen Bild 1").click()
    expect(page.locator(".flash")).to_have_text("Das Bild ist entfernt.")
    expect(page.get_by_text("Dieses Produkt hat noch keine Bilder.")).to_be_visible()
    assert _order(live_app, product_id) == []
