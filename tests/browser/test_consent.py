"""Consent in a real browser, JavaScript on and off: no optional cookie or storage before
consent nor after "Reject all", on every kind of page reachable from the home page, while
the analytics record that crawl (they need no consent: nothing is stored in the browser);
the banner passes axe; "Accept all" brings the recently viewed products.

The live shop is shared by every browser test, so this test switches the optional
category "preferences" on for itself and off again at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.base import AXE_FILE_PATH
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from kiosk.analytics.models import AnalyticsEvent
from kiosk.analytics.recorder import flush as flush_analytics
from kiosk.catalog.models import Product
from kiosk.extensions import db
from kiosk.i18n import LANGUAGE_COOKIE
from kiosk.privacy.cookies import CONSENT_COOKIE, REGISTRY, Category
from kiosk.privacy.repository import ConsentRepository
from kiosk.uow import unit_of_work
from tests.browser.support import demo_products
from tests.browser.test_accessibility import NO_SCRIPT_TIMERS

NECESSARY = {storage.name for storage in REGISTRY if storage.category is Category.NECESSARY}
PAGES = 25  # at most this many pages per crawl: one of each route, the product page first
HREFS = "links => links.map(a => a.getAttribute('href'))"
STORAGE = "() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)]"
WORDS = {
    "en": {
        "accept": "Accept all",
        "reject": "Reject all",
        "recent": "Recently viewed",
        "settings": "Cookie settings",
        "options": "Settings",
        "heading": "Your choice about cookies",
        "saved": "Your choice about cookies is saved.",
    },
    "de": {
        "accept": "Alle akzeptieren",
        "reject": "Alle ablehnen",
        "recent": "Zuletzt angesehen",
        "settings": "Cookie-Einstellungen",
        "options": "Einstellungen",
        "heading": "Ihre Auswahl zu Cookies",
        "saved": "Ihre Auswahl zu Cookies ist gespeichert.",
    },
}


def use_preferences(app: Flask, in_use: bool) -> None:
    with app.app_context(), unit_of_work() as session:
        ConsentRepository(session).set_in_use(Category.PREFERENCES.value, in_use, None)


@pytest.fixture
def preferences_in_use(live_app: Flask) -> Iterator[None]:
    use_preferences(live_app, True)
    yield
    use_preferences(live_app, False)


def route_of(app: Flask, path: str) -> str | None:
    try:
        rule, _ = app.url_map.bind("localhost").match(path, method="GET", return_rule=True)
    except (HTTPException, RequestRedirect):
        return None
    return str(rule.rule)


def crawl(page: Page, app: Flask, start: list[str]) -> list[str]:
    """Visit one page of every route linked from `start` on (breadth first, bounded), and
    after each one assert that the browser holds nothing outside the necessary category."""
    routes: set[str] = set()
    queue, visited = list(start), []
    while queue and len(visited) < PAGES:
        path = queue.pop(0)
        route = route_of(app, path)
        if route is None or route in routes or route.startswith(("/staff", "/media", "/static")):
            continue
        routes.add(route)
        page.goto(path, wait_until="domcontentloaded")  # htmx (deferred) has run by then
        visited.append(path)
        assert_only_necessary(page)
        hrefs: list[str] = page.eval_on_selector_all("a[href^='/']", HREFS)
        queue += [href.split("#")[0] for href in hrefs if not href.startswith("//")]
    return visited


def assert_only_necessary(page: Page) -> None:
    cookies = {cookie["name"] for cookie in page.context.cookies()}
    assert cookies <= NECESSARY, f"{page.url}: {cookies - NECESSARY}"
    stored = set(page.evaluate(STORAGE))  # evaluate() runs with JavaScript off too
    assert stored <= NECESSARY, f"{page.url}: {stored - NECESSARY}"


def recorded_since(app: Flask, after_id: int) -> list[AnalyticsEvent]:
    """The analytics events after `after_id`, once what waits in memory is written."""
    with app.app_context():
        flush_analytics(app)
        query = select(AnalyticsEvent).where(AnalyticsEvent.id > after_id)
        found = list(db.session.scalars(query.order_by(AnalyticsEvent.id)))
        db.session.remove()
        return found


def last_event_id(app: Flask) -> int:
    with app.app_context():
        flush_analytics(app)
        last = db.session.scalar(select(func.max(AnalyticsEvent.id))) or 0
        db.session.remove()
        return last


def axe_violations(page: Page, js: bool, selector: str) -> list[Any]:
    """axe-core on one part of the page (the rest is in test_accessibility.py's tours)."""
    if not js:
        page.evaluate(NO_SCRIPT_TIMERS)
    options = {"resultTypes": ["violations"], "preload": False}
    results: dict[str, Any] = page.evaluate(
        "([selector, options]) => axe.run({include: [selector]}, options)", [selector, options]
    )
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in results["violations"]]


def test_no_optional_storage_before_consent_or_after_reject_all(
    page: Page,
    context: BrowserContext,
    js: bool,
    live_app: Flask,
    live_server: str,
    preferences_in_use: None,
) -> None:
    lang = "en" if js else "de"  # one run in each language
    words = WORDS[lang]
    context.add_cookies([{"name": LANGUAGE_COOKIE, "value": lang, "url": live_server}])
    first, second = demo_products()[:2]
    banner = page.get_by_role("region", name=words["heading"])

    before = last_event_id(live_app)
    visited = crawl(page, live_app, [f"/p/{first.slug}", "/"])
    assert len(visited) >= 10 and f"/p/{first.slug}" in visited
    # The analytics counted the crawl, and the crawl found nothing of theirs in the browser.
    recorded = recorded_since(live_app, before)
    with live_app.app_context():
        first_id = db.session.scalar(select(Product.id).where(Product.slug == first.slug))
        db.session.remove()
    assert ("product_view", first_id) in {(e.kind, e.product_id) for e in recorded}
    assert all(e.visitor for e in recorded) and len({e.visitor for e in recorded}) == 1
    page.goto("/")
    expect(banner).to_be_visible()
    banner.get_by_role("button", name=words["reject"]).click()
    expect(banner).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text(words["saved"])
    crawl(page, live_app, [f"/p/{first.slug}", "/"])
    page.goto(f"/p/{second.slug}")
    expect(page.get_by_role("heading", name=words["recent"])).to_have_count(0)

    # axe-core from here on only: loading it into every page of the crawls costs seconds.
    context.add_init_script(path=AXE_FILE_PATH)
    context.clear_cookies(name=CONSENT_COOKIE)  # a first visit again
    page.goto("/")
    accept = banner.get_by_role("button", name=words["accept"])
    reject = banner.get_by_role("button", name=words["reject"])
    assert accept.get_attribute("class") == reject.get_attribute("class") == "consent-button"
    assert axe_violations(page, js, "#consent-banner") == []
    banner.get_by_role("link", name=words["options"]).click()
    expect(page.get_by_role("checkbox", name=re.compile("Pr[äe]f"))).not_to_be_checked()
    assert axe_violations(page, js, ".consent-choices") == []
    page.get_by_role("button", name=words["accept"]).click()
    expect(page.locator("#flashes")).to_contain_text(words["saved"])
    page.goto(f"/p/{first.slug}")
    page.goto(f"/p/{second.slug}")
    recent = page.get_by_role("region", name=words["recent"])
    expect(recent.get_by_role("link", name=first.name)).to_be_visible()
    assert any(c["name"] == "kiosk_recently_viewed" for c in context.cookies())

    page.get_by_role("link", name=words["settings"]).click()  # the footer: withdraw
    page.get_by_role("button", name=words["reject"]).click()
    expect(page.locator("#flashes")).to_contain_text(words["saved"])
    assert not any(c["name"] == "kiosk_recently_viewed" for c in context.cookies())
