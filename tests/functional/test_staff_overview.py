"""The overview staff land on: what needs doing, counted, each figure a link to its list."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import update

from kiosk.extensions import db
from kiosk.mail.models import MailStatus, OutboxMessage
from kiosk.orders import lifecycle
from kiosk.orders.models import Order
from kiosk.orm import utcnow
from tests.factories import make_product
from tests.functional.test_staff_order_operations import _buy, _paid
from tests.shopping import staff_member


def _figures(page: str) -> dict[str, tuple[int, str | None]]:
    """Each entry of the overview: its count and where it links (None: no link)."""
    found = {}
    for item in re.findall(r'<li class="overview__entry">(.*?)</li>', page, re.S):
        link = re.search(r'href="([^"]+)"', item)
        count = re.search(r'overview__count">(\d+)<', item)
        name = re.sub(r"<[^>]+>|\d+", "", item).strip()
        assert count is not None
        found[name] = (int(count.group(1)), link.group(1).replace("&amp;", "&") if link else None)
    return found


def test_the_overview_counts_what_needs_doing_and_links_each_list(app: Flask) -> None:
    staff = staff_member(app)
    with app.app_context():
        mug = make_product(name="Becher", stock_on_hand=30).id
        make_product(name="Kanne", stock_on_hand=3, reorder_level=5)  # low
        make_product(name="Tasse", stock_on_hand=9, reorder_level=5)  # fine
        make_product(name="Alt", stock_on_hand=0, reorder_level=5, is_active=False)  # archived
    to_ship, overdue, withdrawn = _buy(app, mug), _buy(app, mug), _buy(app, mug)
    _paid(staff, to_ship)
    _paid(staff, withdrawn)
    with app.app_context():
        long_ago = utcnow() - timedelta(days=10)
        db.session.execute(update(Order).where(Order.number == overdue).values(placed_at=long_ago))
        db.session.commit()
        lifecycle.withdraw(withdrawn, "changed my mind")
        db.session.execute(update(OutboxMessage).values(status=MailStatus.FAILED))
        db.session.commit()
        failed = db.session.query(OutboxMessage).count()

    response = staff.get("/staff/")
    assert response.status_code == 200
    figures = _figures(response.get_data(as_text=True))
    assert figures["Orders to ship"] == (2, "/staff/orders?queue=to_ship")
    assert figures["Unpaid orders past their due date"] == (1, "/staff/orders?queue=overdue")
    assert figures["Withdrawals and returns to process"] == (1, "/staff/orders?queue=returns")
    assert figures["Products at or below their reorder level"][0] == 1
    assert figures["Failed mails"] == (failed, "/staff/mail")

    for queue, expected in (("to_ship", {to_ship, withdrawn}), ("overdue", {overdue}),
                            ("returns", {withdrawn})):  # fmt: skip
        listing = staff.get(f"/staff/orders?queue={queue}").get_data(as_text=True)
        shown = set(re.findall(r'name="order" value="([^"]+)"', listing))
        assert shown == expected, queue
        assert re.search(rf'<option value="{queue}" selected>', listing)


def test_staff_land_on_the_overview(app: Flask) -> None:
    staff = staff_member(app)
    assert staff.get("/staff").headers["Location"].endswith("/staff/")
    page = staff.get("/staff/").get_data(as_text=True)
    nav = page[page.index('class="account-nav"') :]
    assert nav.index(">Overview<") < nav.index(">Orders<")
    assert 'href="/staff/"' in staff.get("/").get_data(as_text=True)  # the banner's Staff link
    german = staff.get("/staff/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "<h1>Übersicht</h1>" in german
