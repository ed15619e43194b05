"""The owner opens the dashboard from the staff navigation, finds a fresh order's revenue,
downloads a table as CSV and switches the range: with JavaScript in English (htmx swaps
the figures), without it in German (the form loads the page)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import BrowserContext, expect

from kiosk.accounts.models import Role
from kiosk.backoffice.dashboard import today
from kiosk.extensions import db
from kiosk.i18n import LANGUAGE_COOKIE
from tests.browser.support import sign_in_with_code
from tests.factories import make_product
from tests.functional.test_staff_order_operations import _buy

TEXT = {
    True: {"staff": "Staff", "price": "€9,876.54", "range": "Range", "today": "Today",
           "custom": "Custom: from – to", "from": "From (custom)", "to": "To (custom)",
           "show": "Show", "none": "No orders in this period.",
           "csv": "Top products by revenue as CSV"},
    False: {"staff": "Mitarbeiterbereich", "price": "9.876,54\xa0€", "range": "Zeitraum",
            "today": "Heute", "custom": "Eigener Zeitraum: von – bis",
            "from": "Von (eigener Zeitraum)", "to": "Bis (eigener Zeitraum)", "show": "Anzeigen",
            "none": "Keine Bestellungen in diesem Zeitraum.",
            "csv": "Meistverkaufte Produkte nach Umsatz als CSV"},
}  # fmt: skip


def _order(live_app: Flask, name: str) -> None:
    """A guest's order of one `name` at 9,876.54 € (the revenue tests of the functional
    suite reconcile the invoices; here the page is what counts)."""
    with live_app.app_context():
        product = make_product(name=name, price_cents=987654, stock_on_hand=5).id
        db.session.remove()
    invoice_for = live_app.config["KIOSK_INVOICE_FOR"]
    try:
        _buy(live_app, product)
    finally:
        live_app.config["KIOSK_INVOICE_FOR"] = invoice_for


def test_the_owner_reads_a_fresh_order_on_the_dashboard(
    context: BrowserContext, live_app: Flask, live_server: str, js: bool, tmp_path: Path
) -> None:
    text = TEXT[js]
    page = context.new_page()
    sign_in_with_code(page, live_app, Role.OWNER)
    name = f"Standuhr {uuid.uuid4().hex[:6]}"
    _order(live_app, name)
    if not js:
        context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "de", "url": live_server}])
    page.goto("/staff/")
    page.get_by_role("navigation", name=text["staff"]).get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    best = page.locator("#staff-dashboard table").nth(1)  # by revenue, after the days
    row = best.locator("tr", has_text=name)
    expect(row).to_contain_text(text["price"])

    page.get_by_label(text["range"], exact=True).select_option(label=text["today"])
    page.get_by_role("button", name=text["show"]).click()
    expect(page).to_have_url(re.compile(r"range=today"))
    expect(row).to_contain_text(text["price"])
    with page.expect_download() as download:
        page.get_by_role("link", name=text["csv"]).click()
    target = tmp_path / "report.csv"
    download.value.save_as(target)
    assert f"{name},1,9876.54,EUR" in target.read_text()

    with live_app.app_context():
        yesterday = (today() - timedelta(days=1)).isoformat()
    page.get_by_label(text["range"], exact=True).select_option(label=text["custom"])
    page.get_by_label(text["from"]).fill(yesterday)
    page.get_by_label(text["to"]).fill(yesterday)
    page.get_by_role("button", name=text["show"]).click()
    expect(page).to_have_url(re.compile(rf"from={yesterday}"))
    expect(page.locator("#staff-dashboard tr", has_text=name)).to_have_count(0)
