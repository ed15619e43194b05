"""Staff import a CSV file in a real browser: upload, see the problems, upload the
corrected file, apply it and see it done; with JavaScript (htmx polls the progress) and
without (staff reload the page themselves), and the refusal of a binary file in German.

The live server runs each job in a thread of its own process, as a real shop does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from kiosk.catalog.models import Product
from kiosk.extensions import db
from tests.browser.test_staff_orders import _staff_sign_in

HEADER = (
    "sku,slug,name,category,price,compare_at_price,vat_class,unit_content,unit_measure,"
    "delivery_time,weight_grams,stock,active,featured,description,images\n"
)


@pytest.fixture
def in_background(live_app: Flask) -> Iterator[None]:
    """Jobs run in a thread of the web process, the default outside tests."""
    live_app.config["KIOSK_IMPORT_IN_BACKGROUND"] = True
    yield
    live_app.config["KIOSK_IMPORT_IN_BACKGROUND"] = False


def _choose(page: Page, name: str, text: str | bytes, label: str = "CSV file") -> None:
    data = text if isinstance(text, bytes) else text.encode()
    page.get_by_label(label).set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )


def _wait_for_check(page: Page, js: bool) -> None:
    """With htmx the page updates itself; without, staff follow the reload link."""
    summary = page.get_by_role("heading", name="What the file changes")
    if js:
        expect(summary).to_be_visible(timeout=15_000)
        return
    for _ in range(30):
        if summary.is_visible():
            return
        page.get_by_role("link", name="Show the progress now").click()
    expect(summary).to_be_visible()


def test_staff_see_the_problems_then_apply_the_corrected_file(
    page: Page, live_app: Flask, js: bool, in_background: None
) -> None:
    sku = f"IMP-{uuid.uuid4().hex[:8]}"
    _staff_sign_in(page, live_app)
    page.goto("/staff/orders")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import")

    _choose(page, "broken.csv", HEADER + f"{sku},,Becher {sku},kaffee,abc,,,,,,,3,1,0,,\n")
    page.get_by_role("button", name="Upload and check").click()
    _wait_for_check(page, js)
    problems = page.get_by_role("table")
    expect(problems.get_by_role("row").nth(1)).to_contain_text(
        "price'abc' is not an amount such as 12.50"
    )
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)

    page.get_by_role("link", name="All imports").click()
    _choose(page, "fixed.csv", HEADER + f"{sku},,Becher {sku},kaffee,4.50,,,,,,,3,1,0,,\n")
    page.get_by_role("button", name="Upload and check").click()
    _wait_for_check(page, js)
    expect(page.locator("#import-job")).to_contain_text("The check found no problems")
    page.get_by_role("button", name="Apply").click()
    done = page.get_by_text("Done: 1 rows written.")
    if js:
        expect(done).to_be_visible(timeout=15_000)
    else:
        for _ in range(30):
            if done.is_visible():
                break
            page.get_by_role("link", name="Show the progress now").click()
        expect(done).to_be_visible()
    with live_app.app_context():
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        assert product is not None and product.stock_on_hand == 3
        product.is_active = False  # out of the other tests' way
        db.session.commit()
        db.session.remove()


def test_a_binary_file_is_refused_at_its_field_in_german(
    page: Page, live_app: Flask, in_background: None
) -> None:
    _staff_sign_in(page, live_app)
    page.goto("/staff/imports")
    page.get_by_role("button", name=re.compile(r"^DE\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import")
    page.get_by_label("Die Datei enthält").select_option(label="Kategorien")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    _choose(page, "bild.csv", png, label="CSV-Datei")
    page.get_by_role("button", name="Hochladen und prüfen").click()
    expect(page.locator("#file-error")).to_have_text(
        "Das ist keine CSV-Textdatei, die der Shop lesen kann (es sind Binärdaten, UTF-16 oder"
        " eine unbekannte Kodierung). Bitte speichern Sie sie aus der Tabellenkalkulation als"
        " „CSV UTF-8“ oder als einfaches „CSV“."
    )
    expect(page.get_by_label("Die Datei enthält")).to_have_value("categories")
    page.get_by_role("button", name=re.compile(r"^EN\b")).click()
