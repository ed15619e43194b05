"""What the shop records for its analytics, and what it never does: keep an address or a
user agent, set a cookie, count a bot, or let a failing write reach a page."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from kiosk import create_app
from kiosk.accounts.models import Role
from kiosk.analytics import recorder as analytics
from kiosk.analytics.models import AnalyticsEvent, AnalyticsSalt, EventKind
from kiosk.analytics.tracking import today, visitor_of
from kiosk.extensions import db
from kiosk.money import Money
from kiosk.orders import lifecycle, settlement
from kiosk.orders.models import Order
from kiosk.orm import Base
from kiosk.uow import unit_of_work
from tests.conftest import new_client, settings_for
from tests.factories import make_category, make_product, make_user
from tests.shopping import (
    add_to_cart,
    buy,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    review_form,
    staff_member,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 Marker-7d1f0c"
ADDRESS = "203.0.113.77"
FIELDS = ("kind", "product_id", "category_id", "quantity", "step", "query", "results")


def visitor(app: Flask, user_agent: str = BROWSER, address: str = ADDRESS) -> FlaskClient:
    client = new_client(app)
    client.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    return client


def events(app: Flask) -> list[AnalyticsEvent]:
    with app.app_context():
        analytics.flush(app)
        found = list(db.session.scalars(select(AnalyticsEvent).order_by(AnalyticsEvent.id)))
        db.session.expunge_all()
        return found


def shown(found: list[AnalyticsEvent]) -> list[tuple[Any, ...]]:
    """Each event's fields, leaving out the ones it does not have."""
    return [tuple(v for f in FIELDS if (v := getattr(e, f)) is not None) for e in found]


@pytest.fixture
def shelf(app: Flask) -> tuple[int, int]:
    with app.app_context():
        tea = make_category("Tee", slug="tee")
        return tea.id, make_product(name="Grüner Tee", slug="gruener-tee", category=tea).id


def test_browsing_records_views_searches_and_additions(app: Flask, shelf: tuple[int, int]) -> None:
    tea, product = shelf
    client = visitor(app)
    client.get("/p/gruener-tee")
    client.get("/c/tee")
    client.get("/c/tee?page=2")  # the same view, paged on: not counted again
    client.get("/products?q=  Grüner   TEE ")
    client.get("/products?q=Kuchen")
    add_to_cart(client, product, 2)
    add_to_cart(client, product, 0)  # refused: not an addition
    add_to_cart(client, 999_999)  # no such product: not one either
    found = events(app)
    assert shown(found) == [
        ("product_view", product, tea),
        ("category_view", tea),
        ("search", "grüner tee", 1),
        ("search", "kuchen", 0),
        ("add_to_cart", product, 2),
    ]
    assert len({e.visitor for e in found}) == 1


def test_checkout_records_its_start_each_step_and_the_order(
    app: Flask, shelf: tuple[int, int]
) -> None:
    client = visitor(app)
    add_to_cart(client, shelf[1])
    client.get("/checkout")
    give_address(client)  # each step's form is fetched first (GET), as a browser does
    assert give_address(client, email="not an address").status_code == 422  # not counted
    choose_shipping(client)
    choose_payment(client)
    form = review_form(client)
    assert place(client, form).status_code == 303
    assert place(client, form).status_code == 303  # a second click: one order
    assert shown(events(app))[1:] == [
        ("checkout_started",),
        ("checkout_step", "address"),
        ("checkout_step", "address"),
        ("checkout_step", "shipping"),
        ("checkout_step", "payment"),
        ("checkout_step", "review"),
        ("order_placed",),
    ]


def test_payments_refunds_and_withdrawals_are_recorded_once_without_a_visitor(
    app: Flask, shelf: tuple[int, int]
) -> None:
    buy(visitor(app), shelf[1])
    before = len(events(app))
    with app.app_context():
        staff = make_user("staff@example.org", role=Role.STAFF).id
        number = db.session.scalars(select(Order.number)).one()
        settlement.mark_received(number, staff)
        settlement.refund(number, Money(100, "EUR"), "Kratzer", staff)
        lifecycle.withdraw(number, "Zu groß")
        lifecycle.withdraw(number, "Zu groß")  # a second click: the first declaration counts
    later = events(app)[before:]
    assert [(e.kind, e.visitor) for e in later] == [
        ("payment_received", None),
        ("refund", None),
        ("withdrawal", None),
    ]


def test_an_event_of_a_transaction_that_rolls_back_is_forgotten(app: Flask) -> None:
    with app.app_context():
        with pytest.raises(ZeroDivisionError), unit_of_work() as session:
            analytics.record_on_commit(session, EventKind.REFUND)
            _ = 1 / 0
        with unit_of_work() as session:
            analytics.record_on_commit(session, EventKind.WITHDRAWAL)
    assert [e.kind for e in events(app)] == ["withdrawal"]


def test_bots_are_not_counted(app: Flask, shelf: tuple[int, int]) -> None:
    for user_agent in ("Mozilla/5.0 (compatible; Googlebot/2.1)", "curl/8.5.0", ""):
        bot = visitor(app, user_agent)
        assert bot.get("/p/gruener-tee").status_code == 200
        bot.get("/products?q=tee")
    visitor(app).get("/p/gruener-tee")  # a browser in between: counted
    assert [e.kind for e in events(app)] == ["product_view"]


def test_the_shops_own_staff_are_not_counted(app: Flask, shelf: tuple[int, int]) -> None:
    staff = staff_member(app)
    staff.environ_base.update(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=ADDRESS)
    assert staff.get("/p/gruener-tee").status_code == 200
    add_to_cart(staff, shelf[1])
    visitor(app).get("/p/gruener-tee")  # a shopper: counted
    assert [e.kind for e in events(app)] == ["product_view"]


def test_nothing_is_recorded_with_analytics_off(app: Flask, shelf: tuple[int, int]) -> None:
    app.config["KIOSK_ANALYTICS"] = False
    client = visitor(app)
    client.get("/p/gruener-tee")
    add_to_cart(client, shelf[1])
    assert events(app) == []


def test_a_visitor_is_the_same_all_day_and_another_once_the_salt_rotates(
    app: Flask, shelf: tuple[int, int]
) -> None:
    visitor(app).get("/p/gruener-tee")
    visitor(app).get("/c/tee")  # another request, the same browser and address
    visitor(app, BROWSER + " other").get("/c/tee")
    first, again, other = (e.visitor for e in events(app))
    assert first == again != other
    with app.app_context():
        day = today()
        assert visitor_of(day, ADDRESS, BROWSER) == first
        tomorrow = day + timedelta(days=1)
        assert visitor_of(tomorrow, ADDRESS, BROWSER) != first
        assert db.session.scalars(select(AnalyticsSalt.day)).all() == [tomorrow]  # today's gone
        assert analytics.recorder().salt(tomorrow) == analytics.recorder().salt(tomorrow)


def test_no_column_holds_the_address_or_the_user_agent(app: Flask, shelf: tuple[int, int]) -> None:
    client = visitor(app)
    client.get("/p/gruener-tee")
    client.get("/products?q=firefox")
    add_to_cart(client, shelf[1])
    assert events(app)
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM analytics_event")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    for secret in (ADDRESS, "113.77", "Marker-7d1f0c", "Gecko", "Mozilla"):
        assert secret not in stored


def _cookies_of_a_visit(app: Flask, product: int) -> list[list[str]]:
    client = visitor(app)
    responses = [
        client.get("/p/gruener-tee"),
        client.get("/c/tee"),
        client.get("/products?q=tee"),
        add_to_cart(client, product),
        client.get("/checkout"),
        client.get("/checkout/address"),
    ]
    return [sorted(response.headers.getlist("Set-Cookie")) for response in responses]


def test_tracked_pages_set_no_cookie_they_would_not_set_without_analytics(
    app: Flask, shelf: tuple[int, int]
) -> None:
    def names(visit: list[list[str]]) -> list[list[str]]:
        return [[cookie.split("=", 1)[0] for cookie in response] for response in visit]

    tracked = _cookies_of_a_visit(app, shelf[1])
    assert len(events(app)) >= 5
    app.config["KIOSK_ANALYTICS"] = False
    untracked = _cookies_of_a_visit(app, shelf[1])
    assert names(tracked) == names(untracked)


def test_a_failing_write_neither_fails_the_page_nor_goes_unlogged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'throwaway.sqlite3'}"
    app = create_app(settings_for(url, tmp_path / "media"))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        make_product(name="Tasse", slug="tasse")
        db.session.execute(text("DROP TABLE analytics_event"))
        db.session.commit()
    try:
        assert visitor(app).get("/p/tasse").status_code == 200
        with caplog.at_level(logging.ERROR, logger="kiosk.analytics.recorder"):
            assert analytics.flush(app) == 0
        assert "1 analytics events could not be written" in caplog.text
    finally:
        analytics.recorder(app).discard()
        with app.app_context():
            db.engine.dispose()


def test_processes_starting_a_day_at_once_share_one_salt(app: Flask) -> None:
    """Each fresh recorder stands for a process that has not seen the day yet: all of
    them insert or read the one winner's salt."""
    with app.app_context():
        engine, day = db.engine, today()
    salts: list[bytes] = []

    def start_the_day() -> None:
        salts.append(analytics.Recorder(engine).salt(day))

    threads = [threading.Thread(target=start_the_day) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(salts) == 6 and len(set(salts)) == 1
