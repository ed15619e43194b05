"""The owner's dashboard: revenue to the cent against the documents, ranges and their
comparison, charts fit for the CSP, and every table as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from kiosk.accounts.models import Role
from kiosk.analytics.models import AnalyticsEvent, EventKind
from kiosk.backoffice import dashboard
from kiosk.extensions import db
from kiosk.invoicing.models import DocumentKind, Invoice
from kiosk.money import Money
from kiosk.orders import lifecycle, settlement
from kiosk.orders.models import Order
from kiosk.orm import utcnow
from tests.conftest import new_client
from tests.factories import make_product
from tests.functional.test_staff_order_operations import _buy, _paid
from tests.shopping import add_to_cart, buy, staff_member


def _csv(owner: FlaskClient, report: str, query: str = "") -> list[list[str]]:
    response = owner.get(f"/staff/dashboard/{report}.csv{query}")
    assert response.status_code == 200, report
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _summary(owner: FlaskClient, query: str = "") -> dict[str, list[str]]:
    rows = _csv(owner, "summary", query)
    assert rows[0] == ["figure", "currency", "period", "previous_period"]
    return {row[0]: row[2:] for row in rows[1:]}


def test_revenue_matches_the_invoices_and_credit_notes_to_the_cent(app: Flask) -> None:
    owner = staff_member(app, Role.OWNER)
    with app.app_context():
        mug = make_product(name="Becher", price_cents=1299, stock_on_hand=50).id
        pot = make_product(name="Kanne", price_cents=3450, vat_class="reduced", stock_on_hand=50).id
    second = _buy(app, mug, 1)  # sets KIOSK_INVOICE_FOR
    shopper = new_client(app)  # one order at two VAT rates, partly refunded
    add_to_cart(shopper, pot)
    buy(shopper, mug, 3)
    with app.app_context():
        first = db.session.scalars(select(Order.number).order_by(Order.id.desc())).first() or ""
    for number in (first, second):
        _paid(owner, number)
    with app.app_context():
        settlement.refund(first, Money(1001, "EUR"), "dented", None)
        lifecycle.withdraw(second, "changed my mind")
        documents = list(db.session.scalars(select(Invoice)))
        gross = sum(d.amount_cents * (-1 if d.kind is DocumentKind.CREDIT_NOTE else 1)
                    for d in documents)  # fmt: skip
        net = sum(d.net_cents * (-1 if d.kind is DocumentKind.CREDIT_NOTE else 1)
                  for d in documents)  # fmt: skip
        totals = sum(o.total_cents for o in db.session.scalars(select(Order)))
    assert any(d.kind is DocumentKind.CREDIT_NOTE for d in documents)

    summary = _summary(owner, "?range=today")
    assert summary["revenue_gross"][0] == Money(gross, "EUR").plain()
    assert summary["revenue_net"][0] == Money(net, "EUR").plain()
    assert summary["orders"] == ["2", "0"]
    assert summary["average_order_value"][0] == Money(round(totals / 2), "EUR").plain()
    assert summary["refund_rate"][0] == f"{1 / 2:.4f}"
    assert summary["withdrawal_rate"][0] == f"{1 / 2:.4f}"
    assert summary["new_buyers"][0] == "1"  # the same guest's email each time

    page = owner.get("/staff/dashboard?range=today").get_data(as_text=True)
    assert Money(gross, "EUR").format("en") in page
    days = _csv(owner, "days", "?range=today")
    assert days[0][0] == "hour"
    assert sum(int(row[2]) for row in days[1:]) == 2
    assert sum(Money.parse(row[3]).cents for row in days[1:]) == gross
    by_units = _csv(owner, "products-by-units", "?range=today")
    assert by_units[1][1:3] == ["Becher", "4"]
    by_revenue = _csv(owner, "products-by-revenue", "?range=today")
    assert [row[1] for row in by_revenue[1:]] == ["Becher", "Kanne"]  # 51.96 before 34.50


def test_what_visitors_did_comes_from_the_analytics(app: Flask) -> None:
    owner = staff_member(app, Role.OWNER)
    with app.app_context():
        kettle = make_product(name="Wasserkocher", stock_on_hand=50).id
        lamp = make_product(name="Lampe", stock_on_hand=50).id
    _buy(app, kettle)
    now = utcnow()

    def event(kind: EventKind, visitor: str, **fields: object) -> AnalyticsEvent:
        return AnalyticsEvent(occurred_at=now, kind=kind, visitor=visitor, **fields)

    with app.app_context():
        db.session.add_all(
            [event(EventKind.PRODUCT_VIEW, f"v{n}", product_id=lamp) for n in range(4)]
            + [event(EventKind.PRODUCT_VIEW, "v0", product_id=kettle)]
            + [event(EventKind.ADD_TO_CART, f"v{n}", product_id=kettle, quantity=1)
               for n in range(2)]
            + [event(EventKind.CHECKOUT_STARTED, f"v{n}") for n in range(2)]
            + [event(EventKind.ORDER_PLACED, "v0")]
            + [event(EventKind.SEARCH, f"v{n}", query="teekanne", results=2) for n in range(3)]
            + [event(EventKind.SEARCH, "v3", query="samowar", results=0) for _ in range(2)]
        )  # fmt: skip
        db.session.commit()

    summary = _summary(owner, "?range=today")
    assert summary["visitors"] == ["4", "0"]
    assert summary["conversion_rate"][0] == f"{1 / 4:.4f}"
    assert summary["cart_abandonment"][0] == f"{1 / 2:.4f}"
    funnel = _csv(owner, "funnel", "?range=today")
    assert [row[1:] for row in funnel[1:]] == [["4", ""], ["2", "0.5000"], ["2", "0.0000"],
                                                ["1", "0.5000"]]  # fmt: skip
    viewed = _csv(owner, "viewed-not-bought", "?range=today")
    assert [row[1:] for row in viewed[1:]] == [["Lampe", "4", "0"], ["Wasserkocher", "1", "1"]]
    assert _csv(owner, "searches", "?range=today")[1:] == [["teekanne", "3", "no"],
                                                           ["samowar", "2", "yes"]]  # fmt: skip
    assert _csv(owner, "searches-without-result", "?range=today")[1:] == [["samowar", "2", "yes"]]
    page = owner.get("/staff/dashboard?range=today").get_data(as_text=True)
    assert "samowar" in page and "Lampe" in page


def test_each_range_is_compared_with_the_period_before(app: Flask) -> None:
    owner = staff_member(app, Role.OWNER)
    with app.app_context():
        mug = make_product(name="Becher", price_cents=1000, stock_on_hand=50).id
    earlier = _buy(app, mug)
    later = _buy(app, mug)
    with app.app_context():  # the same guest's first order was ten days ago
        ten_days_ago = utcnow() - timedelta(days=10)
        db.session.execute(update(Order).where(Order.number == earlier)
                           .values(placed_at=ten_days_ago))  # fmt: skip
        db.session.execute(update(Order).where(Order.number == later)
                           .values(previous_order_at=ten_days_ago))  # fmt: skip
        db.session.commit()
    assert _summary(owner, "?range=7d")["orders"] == ["1", "1"]
    assert _summary(owner, "?range=30d")["orders"] == ["2", "0"]
    summary = _summary(owner, "?range=7d")
    assert summary["returning_buyers"] == ["1", "0"]  # ordered before the week began
    page = owner.get("/staff/dashboard?range=7d").get_data(as_text=True)
    assert "unchanged" in page
    with app.app_context():
        today = dashboard.today()
    owner.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    german = owner.get("/staff/dashboard?range=7d").get_data(as_text=True)
    assert f'<time datetime="{today.isoformat()}">{today:%d.%m.%Y}</time>' in german
    assert len(_csv(owner, "days", "?range=7d")) == 1 + 7


def test_a_custom_range_is_checked_and_kept(app: Flask) -> None:
    owner = staff_member(app, Role.OWNER)
    for query, message in (
        ("from=2026-13-01&to=2026-12-01", "Enter the first day"),
        ("from=2026-12-05&to=2026-12-01", "must not come after"),
        ("from=2020-01-01&to=2026-12-01", "at most three years"),
        ("from=&to=", "Enter the first day"),
        ("from=99999-01-01&to=%00", "Enter the last day"),
    ):
        response = owner.get(f"/staff/dashboard?range=custom&{query}")
        assert response.status_code == 200, query
        page = response.get_data(as_text=True)
        assert message in page, query
        assert 'aria-invalid="true"' in page
    page = owner.get("/staff/dashboard?range=custom&from=2026-11-01&to=2026-11-03").get_data(
        as_text=True
    )
    assert 'value="2026-11-01"' in page and "error-summary" not in page
    assert len(_csv(owner, "days", "?range=custom&from=2026-11-01&to=2026-11-03")) == 1 + 3
    long = owner.get("/staff/dashboard?range=custom&from=2026-01-01&to=2026-04-10")
    long_page = long.get_data(as_text=True)  # 100 days: 25 points of 4, the table alike
    assert 'aria-label="Orders, sums of 4 days"' in long_page
    assert "<caption>Revenue and orders, sums of 4 days</caption>" in long_page
    first_row = '<time datetime="2026-01-01">Jan 1, 2026</time> – <time datetime="2026-01-04">'
    assert first_row in long_page
    assert len(_csv(owner, "days", "?range=custom&from=2026-01-01&to=2026-04-10")) == 1 + 100
    assert owner.get("/staff/dashboard?range=nonsense").status_code == 200
    last_month = owner.get("/staff/dashboard?range=lastmonth").get_data(as_text=True)
    assert '<option value="lastmonth" selected>Last month</option>' in last_month
    assert owner.get("/staff/dashboard/nonsense.csv").status_code == 404


def test_the_charts_carry_no_script_style_or_outside_address(app: Flask) -> None:
    owner = staff_member(app, Role.OWNER)
    page = owner.get("/staff/dashboard?range=7d").get_data(as_text=True)
    charts = re.findall(r"<svg\b.*?</svg>", page, re.S)
    assert len(charts) == 3
    for svg in charts:
        assert 'role="img"' in svg and re.search(r'aria-label="[^"]+"', svg)
        assert "<script" not in svg and "<style" not in svg and "style=" not in svg
        assert "http" not in svg and "href" not in svg
    assert "<caption>Revenue and orders per day</caption>" in page


def test_the_body_alone_for_htmx_and_german_for_german_owners(app: Flask) -> None:
    owner = staff_member(app, Role.OWNER)
    fragment = owner.get("/staff/dashboard?range=today", headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.headers["Vary"]
    assert "<h1>" not in fragment.get_data(as_text=True)
    assert "<svg" in fragment.get_data(as_text=True)
    german = owner.get("/staff/dashboard", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Umsatz" in german
    overview = owner.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/dashboard"' in overview
    staff = staff_member(app)
    assert staff.get("/staff/dashboard").status_code == 403
    assert 'href="/staff/dashboard"' not in staff.get("/staff/").get_data(as_text=True)
