"""The back office in a real browser: refunds, notes, the order list's CSV, the shipping page.

Every test runs with JavaScript on and off (the `js` fixture), and places its own
orders through the checkout, because the live server lasts the whole session.
The buyer keeps `page`; staff work in a browser context of their own.
"""

from __future__ import annotations

import csv
import re
import tomllib
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Locator, Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from tests.browser import test_checkout
from tests.browser.test_checkout import (
    Item,
    PlacedOrder,
    _email,
    _guest_to_review,
    _order_button,
    _orders_of,
)
from tests.browser.test_staff_orders import _staff_sign_in, _status

mug = test_checkout.mug  # the fixture: a product of the test's own, deactivated afterwards

# test_checkout's order: 2 × €12.90 + €4.90 for DHL, paid by bank transfer.
PART, REST = "5.00", "25.70"


def _place_order(page: Page, live_app: Flask, mug: Item, email: str) -> PlacedOrder:
    """A guest buys two mugs by bank transfer and sees the thank-you page."""
    _guest_to_review(page, mug, email)
    _order_button(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order!")
    (order,) = _orders_of(live_app, email)
    return order


def _staff_page(new_context: CreateContextCallback, live_app: Flask, js: bool) -> Page:
    """A staff member, signed in with password and code in a browser of their own."""
    staff = new_context(java_script_enabled=js).new_page()
    _staff_sign_in(staff, live_app)
    return staff


def _open_order(staff: Page, number: str) -> None:
    staff.goto(f"/staff/orders/{number}")
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Order {number}")


def _mark_paid(staff: Page, number: str) -> None:
    """The transfer has arrived: staff record it on the order's page."""
    _open_order(staff, number)
    staff.get_by_role("button", name="Mark payment received").click()
    expect(staff.locator(".flash")).to_contain_text("The payment is recorded as received.")
    expect(_status(staff)).to_have_text("paid")


def _refund(staff: Page, amount: str, reason: str) -> None:
    payments = staff.get_by_role("region", name="Payments")
    payments.get_by_label("Amount").fill(amount)
    payments.get_by_label("Reason").fill(reason)
    payments.get_by_role("button", name="Record refund").click()


def _history(staff: Page) -> Locator:
    return staff.get_by_role("region", name="History")


def _signed_in_email(page: Page) -> str:
    """The address the account overview shows under "Profile"."""
    profile = page.locator(".card", has=page.get_by_role("heading", name="Profile"))
    return profile.locator("p").first.inner_text().splitlines()[-1].strip()


def test_staff_refund_a_transfer_in_part_then_the_rest(
    page: Page, new_context: CreateContextCallback, live_app: Flask, js: bool, mug: Item
) -> None:
    """€5 back with a reason: state kept, history and credit note; the rest: refunded."""
    order = _place_order(page, live_app, mug, _email())
    staff = _staff_page(new_context, live_app, js)
    _mark_paid(staff, order.number)

    _refund(staff, PART, "Becher angeschlagen")
    expect(staff.locator(".flash")).to_contain_text("The refund of €5.00 is recorded.")
    expect(_status(staff)).to_have_text("paid")
    refund_entry = _history(staff).get_by_role("listitem").filter(has_text="Refund (€5.00)")
    expect(refund_entry).to_contain_text("Becher angeschlagen")
    payment_row = staff.get_by_role("region", name="Payments").get_by_role("row").nth(1)
    expect(payment_row.get_by_role("cell").nth(3)).to_have_text("€5.00")  # "Refunded"

    page.goto(f"/orders/{order.number}")
    expect(page.get_by_role("region", name="What happened so far")).to_contain_text(
        "Refund of €5.00"
    )
    documents = page.get_by_role("region", name="Invoices and credit notes")
    credit_note = documents.get_by_role("link", name=re.compile(r"^Credit note "))
    expect(credit_note).to_have_count(1)
    with page.expect_download() as download:
        credit_note.click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    href = credit_note.get_attribute("href")
    assert href is not None
    fetched = page.request.get(href)
    assert fetched.status == 200
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.body().startswith(b"%PDF")

    _refund(staff, REST, "Rest erstattet")
    expect(staff.locator(".flash")).to_contain_text("The refund of €25.70 is recorded.")
    expect(_status(staff)).to_have_text("refunded")
    expect(
        _history(staff).get_by_role("listitem").filter(has_text="Refund (€25.70)")
    ).to_contain_text("Rest erstattet")


def test_a_refund_of_more_than_is_left_is_explained_at_the_field(
    page: Page, new_context: CreateContextCallback, live_app: Flask, js: bool, mug: Item
) -> None:
    """€99 of €30.70: the message at Amount and in the summary, both entries kept."""
    order = _place_order(page, live_app, mug, _email())
    staff = _staff_page(new_context, live_app, js)
    _mark_paid(staff, order.number)

    with staff.expect_response(
        lambda r: r.url.endswith("/refund") and r.request.method == "POST"
    ) as answer:
        _refund(staff, "99", "Kunde verärgert")
    assert answer.value.status == 422

    message = "That is more than is left to refund."
    summary = staff.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=f"Amount: {message}")).to_have_attribute(
        "href", "#refund-amount"
    )
    payments = staff.get_by_role("region", name="Payments")
    amount = payments.get_by_label("Amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description(re.compile(re.escape(message)))
    expect(amount).to_have_value("99")
    expect(payments.get_by_label("Reason")).to_have_value("Kunde verärgert")
    expect(_status(staff)).to_have_text("paid")


def test_staff_add_a_note_to_the_order_history(
    page: Page, new_context: CreateContextCallback, live_app: Flask, js: bool, mug: Item
) -> None:
    """A note about a phone call shows in the order's history, and the field is empty again."""
    order = _place_order(page, live_app, mug, _email())
    staff = _staff_page(new_context, live_app, js)
    _open_order(staff, order.number)

    note = f"Kundin rief an, Lieferung bitte an den Nachbarn {uuid.uuid4().hex[:6]}"
    history = _history(staff)
    history.get_by_label("Note").fill(note)
    history.get_by_role("button", name="Add note").click()

    expect(staff.locator(".flash")).to_contain_text("The note is saved.")
    expect(history.get_by_role("listitem").filter(has_text=note)).to_have_text(
        re.compile(rf"^\s*\S.*: Note – {re.escape(note)} · by \S+@\S+\s*$")
    )
    expect(history.get_by_label("Note")).to_have_value("")


def test_the_history_names_the_staff_member_who_wrote_a_note(
    page: Page, new_context: CreateContextCallback, live_app: Flask, js: bool, mug: Item
) -> None:
    """Colleagues see who wrote a note: its entry names the staff member."""
    order = _place_order(page, live_app, mug, _email())
    staff = _staff_page(new_context, live_app, js)
    staff_email = _signed_in_email(staff)
    _open_order(staff, order.number)

    note = f"Rückruf vereinbart {uuid.uuid4().hex[:6]}"
    _history(staff).get_by_label("Note").fill(note)
    _history(staff).get_by_role("button", name="Add note").click()

    entry = _history(staff).get_by_role("listitem").filter(has_text=note)
    expect(entry).to_contain_text(staff_email)


def test_an_empty_note_is_explained_at_the_field(
    page: Page, new_context: CreateContextCallback, live_app: Flask, js: bool, mug: Item
) -> None:
    """Add note with nothing written: the message at the field and in the summary."""
    order = _place_order(page, live_app, mug, _email())
    staff = _staff_page(new_context, live_app, js)
    _open_order(staff, order.number)

    with staff.expect_response(
        lambda r: r.url.endswith("/note") and r.request.method == "POST"
    ) as answer:
        _history(staff).get_by_role("button", name="Add note").click()
    assert answer.value.status == 422

    message = "Please write the note."
    summary = staff.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=f"Note: {message}")).to_have_attribute(
        "href", "#order-note"
    )
    history = _history(staff)
    note = history.get_by_label("Note")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(note).to_have_accessible_description(message)
    notes = history.get_by_role("listitem").filter(has_text=re.compile(r": Note\b"))
    expect(notes).to_have_count(0)


def test_staff_export_the_filtered_order_list_as_csv(
    page: Page, new_context: CreateContextCallback, live_app: Flask, js: bool, mug: Item
) -> None:
    """Two orders of one buyer, one paid: "paid" and the buyer's name export just that one."""
    buyer = f"buyer-{uuid.uuid4().hex[:8]}"
    paid_by = _email(buyer)
    paid = _place_order(page, live_app, mug, paid_by)
    unpaid = _place_order(page, live_app, mug, _email(buyer))
    staff = _staff_page(new_context, live_app, js)
    _mark_paid(staff, paid.number)

    staff.get_by_role("navigation", name="Staff").get_by_role("link", name="Orders").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Orders")
    staff.get_by_label("Number, name or email").fill(buyer)
    staff.get_by_role("button", name="Show").click()
    expect(staff.locator(".results__count")).to_have_text(re.compile(r"^\s*2 orders\b"))
    staff.get_by_label("Status").select_option(label="paid")
    staff.get_by_role("button", name="Show").click()
    expect(staff.locator(".results__count")).to_have_text(re.compile(r"^\s*1 order\b"))

    with staff.expect_download() as download:
        staff.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename == "orders.csv"
    with Path(download.value.path()).open(encoding="utf-8", newline="") as exported:
        header, *rows = list(csv.reader(exported))
    assert header[:5] == ["number", "placed_at", "status", "payment_method", "email"]
    assert [row[0] for row in rows] == [paid.number]
    assert unpaid.number not in {row[0] for row in rows}
    assert rows[0][2:5] == ["paid", "bank_transfer", paid_by]


def _euros(cents: int) -> str:
    """Cents as the shop writes them in English: 1290 → "€12.90"."""
    return f"€{cents // 100:,}.{cents % 100:02d}"


def _kilograms(grams: int) -> str:
    return f"{Decimal(grams) / 1000:f}"


def _shipping_methods(live_app: Flask) -> list[dict[str, Any]]:
    with Path(live_app.config["KIOSK_SHIPPING_FILE"]).open("rb") as handle:
        return list(tomllib.load(handle)["method"])


def test_a_shopper_reads_the_shipping_costs(page: Page, live_app: Flask) -> None:
    """From the footer to one table of every method, its prices in euros and its delivery time."""
    page.goto("/")
    page.get_by_role("contentinfo").get_by_role("link", name="Shipping and delivery").click()
    expect(page).to_have_url(re.compile(r"/shipping$"))
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Shipping and delivery")

    table = page.get_by_role("table", name="Shipping methods and their costs")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Method", "Countries", "Cost", "Delivery"]
    )
    methods = _shipping_methods(live_app)
    expect(table.locator("tbody").get_by_role("row")).to_have_count(len(methods))
    for method in methods:
        name = page.get_by_role("cell", name=method["name"]["en"], exact=True)
        cells = table.get_by_role("row").filter(has=name).get_by_role("cell")
        expect(cells.nth(3)).to_have_text(method["delivery"]["en"])
        cost = cells.nth(2)
        if method["kind"] == "flat":
            expect(cost).to_contain_text(_euros(method["price"]))
        for grams, cents in method.get("tiers", []):
            expect(cost).to_contain_text(f"up to {_kilograms(grams)} kg: {_euros(cents)}")
        if "free_above" in method:
            expect(cost).to_contain_text(f"free from {_euros(method['free_above'])} order value")
