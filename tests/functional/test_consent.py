"""Consent (§25 TDDDG, Art. 7 GDPR): the owner's categories, the banner, the records of
every choice and their withdrawal, `allows()`, and the registry of every cookie."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from kiosk.accounts.models import Role
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from kiosk.privacy import consent
from kiosk.privacy.cookies import (
    CONSENT_COOKIE,
    REGISTRY,
    SESSION_COOKIE,
    Category,
    Kind,
)
from kiosk.privacy.models import ConsentRecord
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_product, make_user
from tests.shopping import sign_in, staff_member

SETTINGS_URL = "/staff/settings/consent"
RECENT = "kiosk_recently_viewed"


def use_categories(app: Flask, owner: FlaskClient | None = None, **categories: str) -> FlaskClient:
    """The owner picks the optional categories the shop uses."""
    owner = owner or staff_member(app, Role.OWNER)
    data = {**categories, "csrf_token": csrf_token(owner, SETTINGS_URL)}
    assert owner.post(SETTINGS_URL, data=data).status_code == 303
    return owner


def choose(client: FlaskClient, choice: str, next_url: str = "/", **boxes: str) -> TestResponse:
    data = {"choice": choice, "next": next_url, "csrf_token": csrf_token(client), **boxes}
    return client.post("/privacy/consent", data=data)


def records(app: Flask) -> list[ConsentRecord]:
    with app.app_context():
        return list(db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))


def events(app: Flask, prefix: str) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.event.like(f"{prefix}%"))
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def cookie(client: FlaskClient, name: str) -> str | None:
    found = client.get_cookie(name)
    return found.value if found else None


def products(app: Flask, count: int) -> list[tuple[str, str]]:
    with app.app_context():
        made = [make_product(f"Füller {n}") for n in range(count)]
        return [(p.name, p.slug) for p in made]


def test_with_only_necessary_cookies_there_is_no_banner_and_the_privacy_page_lists_them(
    app: Flask, client: FlaskClient
) -> None:
    ((_name, slug),) = products(app, 1)
    home = client.get("/").get_data(as_text=True)
    assert "consent-banner" not in home
    assert 'href="/privacy/consent"' in home  # the footer's "Cookie settings"
    client.get(f"/p/{slug}")
    assert cookie(client, RECENT) is None
    page = client.get("/privacy").get_data(as_text=True)
    for storage in REGISTRY:
        shown = storage.category is Category.NECESSARY
        assert (f"<code>{storage.name}</code>" in page) is shown, storage.name
    assert "180 days" in page and "30 days" in page  # consent cookie, remember-me
    settings = client.get("/privacy/consent").get_data(as_text=True)
    assert "nothing to choose" in settings
    assert choose(client, "accept_all").status_code == 303
    assert records(app) == []  # nothing offered, nothing recorded


def test_the_owner_s_categories_bring_the_banner_and_are_audited(
    app: Flask, client: FlaskClient
) -> None:
    staff = staff_member(app)
    forbidden = {"preferences": "y", "csrf_token": csrf_token(staff)}
    assert staff.post(SETTINGS_URL, data=forbidden).status_code == 403
    use_categories(app, preferences="y")
    (changed,) = events(app, "settings.consent")
    assert changed.details["before"] == {"categories": []}
    assert changed.details["after"] == {"categories": ["preferences"]}
    home = client.get("/").get_data(as_text=True)
    banner = re.search(r'<section id="consent-banner".*?</section>', home, re.S)
    assert banner is not None
    buttons = re.findall(
        r'<button type="submit" name="choice" value="(\w+)" class="([^"]+)"', banner[0]
    )
    assert buttons == [("accept_all", "consent-button"), ("reject_all", "consent-button")]
    assert 'href="/privacy/consent?next=/"' in banner[0]
    assert "style=" not in banner[0] and "<script" not in banner[0]


def test_accept_all_is_recorded_with_a_pseudonymous_id_and_kept_in_a_cookie(
    app: Flask, client: FlaskClient
) -> None:
    use_categories(app, preferences="y")
    response = choose(client, "accept_all", next_url="/products?q=stift")
    assert response.status_code == 303 and response.location == "/products?q=stift"
    (record,) = records(app)
    assert record.categories == {"preferences"} and record.choice == "accept_all"
    assert re.fullmatch(r"[0-9a-f]{32}", record.consent_id) and record.user_id is None
    with app.test_request_context():
        assert record.banner_version == consent.banner_version()
    assert cookie(client, CONSENT_COOKIE)
    assert "consent-banner" not in client.get("/").get_data(as_text=True)
    (audited,) = events(app, "consent.")
    assert audited.event == "consent.recorded" and audited.details["record"] == record.id
    assert record.consent_id not in str(audited.details)  # ids of records only
    choose(client, "accept_all")  # a double submit: the same choice, no second record
    assert len(records(app)) == 1


def test_recently_viewed_products_only_with_consent_to_preferences(
    app: Flask, client: FlaskClient
) -> None:
    use_categories(app, preferences="y")
    (first, first_slug), (second, second_slug) = products(app, 2)
    client.get(f"/p/{first_slug}")
    assert cookie(client, RECENT) is None  # no consent yet: nothing stored
    choose(client, "reject_all")
    client.get(f"/p/{first_slug}")
    assert cookie(client, RECENT) is None
    assert "Recently viewed" not in client.get(f"/p/{second_slug}").get_data(as_text=True)

    choose(client, "custom", preferences="y")
    client.get(f"/p/{first_slug}")
    page = client.get(f"/p/{second_slug}").get_data(as_text=True)
    assert "Recently viewed" in page and f'href="/p/{first_slug}">{first}</a>' in page
    listing = client.get("/products").get_data(as_text=True)
    assert listing.index(second) < listing.index(first, listing.index("Recently viewed"))


def test_withdrawal_is_a_new_record_and_deletes_the_optional_cookie(
    app: Flask, client: FlaskClient
) -> None:
    use_categories(app, preferences="y", statistics="y")
    ((_name, slug),) = products(app, 1)
    choose(client, "accept_all")
    client.get(f"/p/{slug}")
    assert cookie(client, RECENT)
    settings = client.get("/privacy/consent").get_data(as_text=True)
    assert re.search(r'id="consent-preferences"[^>]*checked', settings)
    response = choose(client, "custom", statistics="y")  # preferences withdrawn
    assert f"{RECENT}=;" in "".join(response.headers.getlist("Set-Cookie"))
    assert cookie(client, RECENT) is None
    first, second = records(app)
    assert second.consent_id == first.consent_id
    assert first.categories == {"preferences", "statistics"}
    assert second.categories == {"statistics"} and second.choice == "custom"
    withdrawn = events(app, "consent.")[-1]
    assert withdrawn.event == "consent.withdrawn"
    assert withdrawn.details["withdrawn"] == ["preferences"]
    with app.test_request_context(
        headers={"Cookie": f"{CONSENT_COOKIE}={cookie(client, CONSENT_COOKIE)}"}
    ):
        assert consent.allows("statistics") and not consent.allows(Category.PREFERENCES)


def test_allows_asks_the_cookie_the_shop_s_categories_and_the_banner_s_version(
    app: Flask, client: FlaskClient
) -> None:
    owner = use_categories(app, preferences="y")
    choose(client, "accept_all")
    value = cookie(client, CONSENT_COOKIE)
    assert value

    def allowed(raw: str | None) -> bool:
        headers = {"Cookie": f"{CONSENT_COOKIE}={raw}"} if raw else {}
        with app.test_request_context(headers=headers):
            assert consent.allows(Category.NECESSARY)
            with pytest.raises(ValueError):
                consent.allows("tracking")
            return consent.allows("preferences")

    assert allowed(value)
    assert not allowed(None)
    assert not allowed(value[:-2] + "xx")  # a forged cookie counts as none
    use_categories(app, owner, preferences="y", marketing="y")  # a new banner: asked again
    assert not allowed(value)
    assert "consent-banner" in client.get("/").get_data(as_text=True)


def test_a_signed_in_choice_names_the_account_and_htmx_swaps_the_banner_away(
    app: Flask,
) -> None:
    use_categories(app, preferences="y")
    with app.app_context():
        user_id = make_user("mia@example.org").id
    browser = new_client(app)
    sign_in(browser, "mia@example.org", PASSWORD)
    data = {"choice": "reject_all", "next": "/", "csrf_token": csrf_token(browser)}
    response = browser.post("/privacy/consent", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.vary
    body = response.get_data(as_text=True)
    assert "consent-banner" not in body and 'id="flashes"' in body
    assert "Your choice about cookies is saved." in body
    (record,) = records(app)
    assert record.user_id == user_id and record.categories == set()
    bad = browser.post("/privacy/consent", data={**data, "choice": "everything"})
    assert bad.status_code == 422


COOKIE_NAME = re.compile(r"^([^=;]+)=")


def set_cookies(response: TestResponse) -> set[str]:
    """The names of the cookies a response sets (or deletes)."""
    headers = response.headers.getlist("Set-Cookie")
    return {found[1] for h in headers if (found := COOKIE_NAME.match(h))}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/") and not href.startswith("//"):
            self.found.append(urlsplit(href).path)


def walk(client: FlaskClient, start: list[str], limit: int = 25) -> set[str]:
    """The cookies a browser collects on the pages reachable from `start`: a bounded crawl
    that opens one page of each route."""
    adapter = client.application.url_map.bind("localhost")
    names: set[str] = set()
    routes: set[str] = set()
    queue = list(start)
    while queue and len(routes) < limit:
        path = queue.pop(0)
        try:
            rule, _args = adapter.match(path, method="GET", return_rule=True)
        except HTTPException:
            continue
        if rule.rule in routes or path.startswith(("/media/", "/static/", "/staff")):
            continue
        routes.add(rule.rule)
        response = client.get(path)
        names |= set_cookies(response)
        if response.mimetype == "text/html":
            parser = Links()
            parser.feed(response.get_data(as_text=True))
            queue.extend(parser.found)
    return names


def test_every_cookie_the_shop_sets_is_in_the_registry(app: Flask, client: FlaskClient) -> None:
    assert app.config["SESSION_COOKIE_NAME"] == SESSION_COOKIE
    cookies = {s.name for s in REGISTRY if s.kind is Kind.COOKIE}
    use_categories(app, preferences="y")
    ((_name, slug),) = products(app, 1)
    set_by_pages = walk(client, ["/", f"/p/{slug}"])
    for data in ({"lang": "de"}, {"theme": "dark"}):
        answer = client.post("/preferences", data={**data, "csrf_token": csrf_token(client)})
        set_by_pages |= set_cookies(answer)
    with app.app_context():
        make_user("ole@example.org")
    token = csrf_token(client, "/signin")
    signin = client.post(
        "/signin",
        data={
            "csrf_token": token,
            "email": "ole@example.org",
            "password": PASSWORD,
            "remember": "y",
        },
    )
    set_by_pages |= set_cookies(signin)
    set_by_pages |= set_cookies(choose(client, "accept_all"))
    set_by_pages |= walk(client, [f"/p/{slug}", "/account"], limit=6)
    assert set_by_pages - cookies == set()
    assert {
        "session",
        "remember_token",
        "kiosk_lang",
        "kiosk_theme",
        CONSENT_COOKIE,
        RECENT,
    } <= set_by_pages
