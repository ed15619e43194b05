"""Every page of the shop passes axe-core: JavaScript on and off, light and dark theme.

One tour per JavaScript mode walks the shop as a guest, a new customer and a staff
member, filling in the forms as they would (mistakes first, for the error states).
At every page axe-core runs its default rules (WCAG 2.0, 2.1 and 2.2 A and AA, and
best practices) with the system in light mode, then its colour rules in dark mode:
the theme is the system's ("auto", what most shoppers have) and switches in place,
so an error state is judged in both without sending it again. The theme buttons
only pin the same colours (tests/browser/test_preferences.py).

A GET route of the URL map that no tour reaches fails
`test_every_html_route_is_visited`, unless `NOT_VISITED` says why, so a new page is
checked from the day it is added. The totals are printed at the end of the run.

axe-core comes from axe-playwright-python, which bundles axe.min.js: nothing is
fetched from the network, and the script is added to every document of a tour.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pyotp
import pytest
from axe_playwright_python.base import AXE_FILE_PATH
from flask import Flask
from playwright.sync_api import Browser, Page, Request, expect
from sqlalchemy import select, update
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from kiosk.accounts.models import Role, User
from kiosk.backoffice import imports
from kiosk.backoffice.models import ImportKind
from kiosk.catalog.models import Product
from kiosk.coupons.models import CouponKind
from kiosk.coupons.services import NewCoupon
from kiosk.coupons.services import create as create_coupon
from kiosk.extensions import db
from kiosk.uow import unit_of_work
from tests.browser.support import body_luminance, demo_products, gallery_product
from tests.conftest import new_client
from tests.factories import PASSWORD, make_category, make_product, make_user
from tests.mailbox import link_in, outbox
from tests.shopping import sign_in

# GET routes no tour visits, and why. Every other GET route must be visited.
NOT_VISITED = {
    "/healthz": "plain text for the load balancer",
    "/readyz": "plain text for the load balancer",
    "/static/<path:filename>": "stylesheet, script and icon files",
    "/media/<path:filename>": "picture files",
    "/staff/orders.csv": "a CSV download",
    "/staff/products.csv": "a CSV download",
    "/staff/dashboard/<report>.csv": "CSV downloads of the dashboard's tables",
    "/orders/<number>/documents/<document_number>.pdf": "a PDF download",
    "/staff/orders/<number>/documents/<document_number>.pdf": "a PDF download",
    "/staff/orders/<number>/packing-slip.pdf": "a PDF download",
    "/orders/<number>/pay": "redirects to Stripe's own page (tests/browser/test_card_payment.py)",
}

# With scripting off, Chromium still runs promise reactions for evaluate(), but neither
# timers nor queueMicrotask callbacks, which axe uses to step through its rules. Both
# become promise reactions; the long timers (time-outs for frames and for preloading)
# never fire, and preloading is off (see Tour.axe_options).
NO_SCRIPT_TIMERS = """() => {
  const soon = callback => { Promise.resolve().then(callback); };
  window.queueMicrotask = soon;
  window.setTimeout = (callback, delay, ...args) => {
    if (!(delay > 1)) soon(() => callback(...args));
    return 0;
  };
}"""
RUN_AXE = "options => axe.run(document, options)"
# The rules each colour scheme runs (None: axe's defaults). The dark scheme changes only
# colours (custom properties and color-scheme in kiosk.css), so the DOM and the layout
# the other rules judge are those of the light run; it runs the rules that read colours.
THEMES: dict[Literal["light", "dark"], list[str] | None] = {
    "light": None,
    "dark": ["color-contrast", "link-in-text-block"],
}
# Violations not fixed yet: (page, rule) and why. Each must still occur, so a fixed one
# is taken off the list.
KNOWN: dict[tuple[str, str], str] = {}  # (page, rule): why it is not fixed yet


@dataclass(frozen=True)
class Violation:
    page: str
    theme: str
    rule: str
    impact: str
    nodes: tuple[str, ...]

    def __str__(self) -> str:
        targets = ", ".join(self.nodes[:4]) + (" …" if len(self.nodes) > 4 else "")
        where = f"{self.page} [{self.theme}]"
        return f"{where}: {self.rule} ({self.impact}) × {len(self.nodes)}: {targets}"


@dataclass
class Tour:
    """One browser page walking the shop; `check` runs axe on what it shows now."""

    page: Page
    js: bool
    app: Flask
    pages: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    routes: set[str] = field(default_factory=set)
    axe_version: str = ""
    axe_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(THEMES, 0.0))
    walk_seconds: float = 0.0
    _requested: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("request", self._on_request)

    def _on_request(self, request: Request) -> None:
        if request.is_navigation_request() and request.method == "GET":
            self._requested.append(request.url)

    def route_of(self, url: str) -> str | None:
        """The URL map's rule a GET of `url` reaches, if any."""
        path = re.sub(r"^https?://[^/]+", "", url).split("?")[0].split("#")[0]
        try:
            rule, _ = self.app.url_map.bind("localhost").match(path, method="GET", return_rule=True)
        except (HTTPException, RequestRedirect):
            return None
        return str(rule.rule)

    def goto(self, path: str, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == status, (
            f"{path} answered {response and response.status}, not {status}"
        )

    def check(self, name: str) -> None:
        """Run axe on the page as shown now, in the light and the dark colour scheme."""
        for url in [*self._requested, self.page.url]:  # redirects that led here count too
            if (route := self.route_of(url)) is not None:
                self.routes.add(route)
        self._requested.clear()
        if not self.js:
            self.page.evaluate(NO_SCRIPT_TIMERS)
        self.axe_version = self.page.evaluate("axe.version")
        for theme, rules in THEMES.items():
            started = time.monotonic()
            self.page.emulate_media(color_scheme=theme)
            results: dict[str, Any] = self.page.evaluate(RUN_AXE, self.axe_options(rules))
            self.axe_seconds[theme] += time.monotonic() - started
            self.violations += [
                Violation(
                    name,
                    theme,
                    found["id"],
                    found["impact"],
                    tuple(" ".join(map(str, node["target"])) for node in found["nodes"]),
                )
                for found in results["violations"]
            ]
        self.page.emulate_media(color_scheme="light")
        self.pages.append(name)

    def axe_options(self, rules: list[str] | None) -> dict[str, Any]:
        # Preloading fetches the stylesheets for css-orientation-lock; without scripting
        # that never settles, and the stylesheets are those the run with JavaScript reads.
        options: dict[str, Any] = {"resultTypes": ["violations"], "preload": self.js}
        if rules is not None:
            options["runOnly"] = {"type": "rule", "values": rules}
        return options

    def mail_link(self, to: str, path: str) -> str:
        """The path of the newest link starting with `path` in a mail to `to`."""
        with self.app.app_context():
            messages = [m for m in outbox(to) if path in m.text_body]
            assert messages, f"no mail to {to} with a {path} link"
            link = link_in(messages[-1], path)
            db.session.remove()
        return link


@dataclass(frozen=True)
class Shop:
    """The catalog pages the tours visit, and the product they buy."""

    product: str  # in stock, the tours' own
    sold_out: str
    gallery: str
    category: str


# Session-scoped, not module-scoped: pytest orders the browser tests by the session-wide
# JavaScript parameter, so this module's tests interleave with others' and a module
# fixture would be torn down and the whole tour walked again for each test.
@pytest.fixture(scope="session")
def shop(live_app: Flask) -> Shop:
    """A product of the tours' own to buy; it is in the catalog only while a tour walks
    (`on_sale`), so the other tests of the session see the demo catalog as seeded."""
    token = uuid.uuid4().hex[:8]
    with live_app.app_context():
        product = make_product(
            name=f"Becher {token}",
            slug=f"axe-{token}",
            price_cents=1290,
            stock_on_hand=50,
            is_active=False,
        )
        slug = product.slug
        db.session.remove()
    return Shop(
        product=slug,
        sold_out=next(p.slug for p in demo_products() if p.stock == 0),
        gallery=gallery_product().slug,
        category="kaffee-tee",
    )


@contextmanager
def on_sale(app: Flask, slug: str) -> Iterator[None]:
    def set_active(active: bool) -> None:
        with app.app_context():
            with unit_of_work() as session:
                session.execute(
                    update(Product).where(Product.slug == slug).values(is_active=active)
                )
            db.session.remove()

    set_active(True)
    try:
        yield
    finally:
        set_active(False)


@pytest.fixture(scope="session")
def tours(
    browser: Browser, browser_context_args: dict[str, Any], live_app: Flask, shop: Shop
) -> Iterator[dict[bool, Tour]]:
    """Both tours, each walked once for the session, when a test first asks for it."""
    contexts, broken = [], set()

    class Tours(dict[bool, Tour]):
        def __missing__(self, js: bool) -> Tour:
            if js in broken:
                pytest.fail("the tour broke off in an earlier test", pytrace=False)
            context = browser.new_context(
                **{**browser_context_args, "java_script_enabled": js, "color_scheme": "light"}
            )
            contexts.append(context)
            # In every document, before its own scripts; it runs with JavaScript off too,
            # and costs far less than sending the 0.6 MB script with each evaluate().
            context.add_init_script(path=AXE_FILE_PATH)
            tour = Tour(context.new_page(), js, live_app)
            started = time.monotonic()
            broken.add(js)
            with on_sale(live_app, shop.product):
                walk(tour, shop)
            broken.discard(js)
            tour.walk_seconds = time.monotonic() - started
            self[js] = tour
            return tour

    yield Tours()
    for context in contexts:
        context.close()


def walk(tour: Tour, shop: Shop) -> None:
    """The guest, then a new customer, then staff, then an owner."""
    assert_dark_scheme_darkens(tour)
    order_number = as_guest(tour, shop)
    as_customer(tour, shop)
    as_staff(tour, order_number)
    as_owner(tour)


def assert_dark_scheme_darkens(tour: Tour) -> None:
    """The dark runs really see dark colours (the theme is "auto", following the system)."""
    tour.page.goto("/imprint")
    tour.page.emulate_media(color_scheme="dark")
    assert body_luminance(tour.page) < 0.2
    tour.page.emulate_media(color_scheme="light")
    assert body_luminance(tour.page) > 0.5


def heading(page: Page, text: str | re.Pattern[str], level: int = 1) -> None:
    expect(page.get_by_role("heading", level=level)).to_have_text(text)


def error_summary(page: Page) -> None:
    expect(page.locator(".error-summary")).to_be_visible()


def send_no_choice(page: Page, button: str) -> None:
    """Send a step's radio buttons with none checked, as a browser that kept none would."""
    page.get_by_role("radio").evaluate_all("radios => radios.forEach(r => { r.checked = false })")
    page.get_by_role("button", name=button).click()
    error_summary(page)


def as_guest(tour: Tour, shop: Shop) -> str:
    """Browse, search, ask for a sold-out product, buy, withdraw; returns the order number."""
    page = tour.page
    for name, path in (
        ("home", "/"),
        ("all products", "/products"),
        ("listing with filters", f"/c/{shop.category}?in_stock=1&min_price=5&sort=price_asc"),
        ("search with results", "/products?q=becher"),
        ("search without results, a bad price", "/products?q=xylophon&max_price=abc"),
        ("product with pictures", f"/p/{shop.gallery}"),
    ):
        tour.goto(path)
        tour.check(name)

    tour.goto(f"/p/{shop.sold_out}")
    email = f"alert-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("Email").fill("not an address")
    page.get_by_role("button", name="Tell me when it is back").click()
    expect(page.locator("#stock-alert .field__error")).to_be_visible()
    tour.check("sold-out product, back-in-stock form with an error")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Tell me when it is back").click()
    expect(page.locator(".flash")).to_be_visible()
    tour.goto(tour.mail_link(email, "/back-in-stock/confirm/"))
    expect(page.locator(".flash")).to_contain_text("We will mail you once")
    tour.check("sold-out product, back-in-stock alert confirmed")

    tour.goto("/cart")
    tour.check("empty cart")
    tour.goto(f"/p/{shop.product}")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".flash")).to_contain_text("Added to your cart.")
    tour.goto("/cart")
    tour.check("cart")

    tour.goto("/checkout")
    heading(page, "Your address", level=2)
    tour.check("checkout: address")
    page.get_by_role("button", name="Continue to shipping").click()
    error_summary(page)
    tour.check("checkout: address with errors")
    email = f"guest-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("Email address").fill(email)
    shipping = page.get_by_role("group", name="Shipping address")
    shipping.get_by_label("Full name").fill("Erika Mustermann")
    shipping.get_by_label("Street and number").fill("Heidestraße 17")
    shipping.get_by_label("Postcode").fill("51147")
    shipping.get_by_label("Town or city").fill("Köln")
    page.get_by_role("button", name="Continue to shipping").click()
    heading(page, "Shipping method", level=2)
    tour.check("checkout: shipping")
    send_no_choice(page, "Continue to payment")
    tour.check("checkout: shipping with an error")
    page.get_by_role("button", name="Continue to payment").click()
    heading(page, "Payment method", level=2)
    tour.check("checkout: payment")
    send_no_choice(page, "Continue to review")
    tour.check("checkout: payment with an error")
    page.get_by_role("radio", name="Bank transfer (prepayment)").check()
    page.get_by_role("button", name="Continue to review").click()
    heading(page, "Review your order", level=2)
    tour.check("checkout: review")
    page.get_by_label("Coupon code").fill("NO-SUCH-COUPON")
    page.get_by_role("button", name="Apply coupon").click()
    error_summary(page)
    tour.check("checkout: review with a coupon error")
    page.get_by_role("button", name="Order and pay", exact=True).click()
    heading(page, "Thank you for your order!")
    tour.check("order confirmation")
    number = page.url.split("/orders/")[1].split("?")[0]

    tour.goto(f"/orders/{number}/payment")
    tour.check("card payment, waiting for the provider")
    tour.goto(tour.mail_link(email, f"/orders/{number}/access/"))
    tour.check("order, by the link from the mail")

    tour.goto("/withdraw")
    tour.check("withdrawal: find the order")
    page.get_by_label("Order number").fill("K0000-0000")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    error_summary(page)
    tour.check("withdrawal: no such order")
    page.get_by_label("Order number").fill(number)
    page.get_by_role("button", name="Continue").click()
    heading(page, "Withdraw from contract")
    expect(page.get_by_role("button", name="Confirm withdrawal")).to_be_visible()
    tour.check("withdrawal: confirm")

    tour.goto("/privacy/export")
    tour.check("privacy: a guest asks for their data")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_text("If we hold data under this address")).to_be_visible()
    tour.goto(tour.mail_link(email, "/privacy/export/"))
    tour.check("privacy: the guest's download page")

    tour.goto("/privacy/erase")
    tour.check("erasure: ask as a guest")
    page.get_by_role("button", name="Send the link").click()
    error_summary(page)
    tour.check("erasure: ask, with an error")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the link").click()
    heading(page, "Check your mail")
    tour.check("erasure: link sent")
    tour.goto(tour.mail_link(email, "/privacy/erase/confirm/"))
    tour.check("erasure: confirm")
    page.get_by_role("button", name="Erase my data now").click()
    heading(page, "Your erasure is waiting for your open orders")
    tour.check("erasure: postponed for an open order")
    tour.goto("/privacy/erase/confirm/not-a-token", status=410)
    tour.check("erasure: dead link")

    for name, path in (
        ("imprint", "/imprint"),
        ("privacy policy", "/privacy"),
        ("cookie settings", "/privacy/consent"),
        ("terms and conditions", "/terms"),
        ("withdrawal policy", "/withdrawal"),
        ("accessibility statement", "/accessibility"),
        ("terms as the order was placed under", "/legal/terms/v/1"),
        ("shipping and delivery", "/shipping"),
        ("forgot password", "/forgot-password"),
    ):
        tour.goto(path)
        tour.check(name)
    tour.goto("/p/no-such-product", status=404)
    tour.check("error 404")
    tour.goto("/signout", status=405)
    tour.check("error 405")
    tour.goto("/verify/not-a-token", status=400)
    tour.check("link problem")
    return number


def as_customer(tour: Tour, shop: Shop) -> None:
    """Register, confirm, fill the account, buy with a saved address, turn on two-factor."""
    page, email = tour.page, f"customer-{uuid.uuid4().hex[:8]}@example.org"
    tour.page.context.clear_cookies()
    tour.goto("/register")
    tour.check("register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name (optional)").fill("Jana Müller")
    page.get_by_label("Password").fill("passwordpassword")
    page.get_by_role("button", name="Create account").click()
    error_summary(page)
    tour.check("register with errors")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    heading(page, "Please check your mail")
    tour.check("check your mail")

    tour.goto("/signin")
    tour.check("sign in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    error_summary(page)
    tour.check("sign in with an error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    heading(page, "Please confirm your email address")
    tour.check("unverified account")
    tour.goto(tour.mail_link(email, "/verify/"))
    heading(page, "Your account")
    tour.check("account overview")

    tour.goto("/account/profile")
    tour.check("profile")
    tour.goto("/account/addresses")
    tour.check("addresses, none yet")
    page.get_by_role("link", name="Add an address").click()
    heading(page, "New address", level=2)
    page.get_by_label("Full name").fill("Jana Müller")
    page.get_by_label("Street and number").fill("Hauptstraße 1")
    page.get_by_label("Postcode").fill("1011")
    page.get_by_label("Town or city").fill("Berlin")
    page.get_by_label("Use for shipping by default").check()
    page.get_by_role("button", name="Save address").click()
    error_summary(page)
    tour.check("new address with errors")
    page.get_by_label("Postcode").fill("10115")
    page.get_by_role("button", name="Save address").click()
    expect(page.locator(".address-list address")).to_contain_text("Hauptstraße 1")
    tour.check("addresses")
    page.get_by_role("link", name=re.compile("^Edit")).click()
    heading(page, "Edit address", level=2)
    tour.check("edit address")

    tour.goto("/account/email-preferences")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".flash")).to_contain_text("Please confirm")
    tour.goto(tour.mail_link(email, "/account/newsletter/confirm/"))
    expect(page.get_by_text(re.compile("You subscribed on"))).to_be_visible()
    tour.check("email preferences, subscribed")

    tour.goto(f"/p/{shop.product}")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".flash")).to_contain_text("Added to your cart.")
    tour.goto("/checkout")
    heading(page, "Your address", level=2)
    tour.check("checkout: address, signed in with a saved address")
    page.get_by_role("button", name="Continue to shipping").click()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("radio", name="Bank transfer (prepayment)").check()
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_role("button", name="Order and pay", exact=True).click()
    heading(page, "Thank you for your order!")
    tour.goto("/account/orders")
    tour.check("your orders")
    page.get_by_role("main").get_by_role("link", name=re.compile(r"^K")).first.click()
    heading(page, re.compile(r"^Order "))
    tour.check("order, signed in")
    tour.goto("/account/privacy")
    tour.check("privacy: the account's privacy page")

    new_email = f"renamed-{uuid.uuid4().hex[:8]}@example.org"
    tour.goto("/account/security")
    page.get_by_label("New email address").fill(new_email)
    page.locator("#em-current_password").fill(PASSWORD)
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.locator(".flash")).to_be_visible()
    tour.goto(tour.mail_link(new_email, "/account/email/confirm/"))
    expect(page.locator(".flash")).to_contain_text("Your email address is changed.")
    sign_in(new_client(tour.app), new_email, PASSWORD)  # a second device, to sign out

    tour.goto("/account/security/two-factor")
    tour.check("two-factor set-up")
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label("Six-digit code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    heading(page, "Your recovery codes")
    tour.check("recovery codes")
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_role("table", name="Your active sessions").get_by_role("row")).to_have_count(
        3
    )
    tour.check("security: sessions, two-factor on")

    tour.goto("/staff/orders", status=403)
    tour.check("error 403")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    tour.goto("/forgot-password")
    page.get_by_label("Email").fill(new_email)
    page.get_by_role("button", name="Send link").click()
    heading(page, "Please check your mail")
    tour.goto(tour.mail_link(new_email, "/reset-password/"))
    tour.check("reset password")


def as_staff(tour: Tour, order_number: str) -> None:
    """Sign in with a code (a wrong one first), then the order list, an order, the outbox."""
    page = tour.page
    secret = _new_team_member(tour, Role.STAFF)
    heading(page, "Two-factor sign-in")
    tour.check("two-factor code")
    code = page.get_by_label(re.compile("Code from your authenticator app"))
    code.fill("000000")
    page.get_by_role("button", name="Confirm").click()
    error_summary(page)
    tour.check("two-factor code with an error")
    code.fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    heading(page, "Your account")

    tour.goto("/staff/")
    tour.check("staff: overview")
    tour.goto("/staff/orders")
    tour.check("staff: orders")
    tour.goto(f"/staff/orders/{order_number}")
    tour.check("staff: order")
    tour.goto(f"/staff/orders/ship?order={order_number}")
    tour.check("staff: ship orders")
    page.get_by_role("button", name="Check the file").click()
    error_summary(page)
    tour.check("staff: ship orders, the CSV check without a file")
    tour.goto("/staff/mail")
    tour.check("staff: mail outbox")
    tour.goto("/staff/privacy")
    tour.check("staff: privacy requests")
    as_staff_with_products(tour)
    as_staff_keeping_the_catalog(tour)
    staff_imports(tour)
    staff_coupons(tour)
    staff_pictures(tour)


def as_staff_with_products(tour: Tour) -> None:
    """The product list, a new product with errors, a product with its description's
    preview, and the preview of a price change."""
    page, token = tour.page, uuid.uuid4().hex[:8]
    with tour.app.app_context():
        product_id = make_product(
            name=f"Tour {token}", slug=f"tour-{token}", sku=f"TOUR-{token}", is_active=False
        ).id
        db.session.remove()
    tour.goto(f"/staff/products?q={token}")
    tour.check("staff: products")
    tour.goto("/staff/products/new")
    page.get_by_role("button", name="Save").click()
    error_summary(page)
    tour.check("staff: new product with errors")
    tour.goto(f"/staff/products/{product_id}")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview of the description")).to_be_visible()
    tour.check("staff: product with the preview of its description")
    tour.goto(
        f"/staff/products/prices?product={product_id}&change_by=percent&direction=up&amount=5"
    )
    tour.check("staff: price change preview")


def _new_team_member(tour: Tour, role: Role) -> str:
    """A new staff member or owner signs in with their password; the code is asked next.
    Returns their authenticator secret."""
    page, email = tour.page, f"{role.value}-{uuid.uuid4().hex[:8]}@example.org"
    secret = pyotp.random_base32()
    with tour.app.app_context():
        make_user(email=email, role=role, two_factor_secret=secret)
        db.session.remove()
    tour.page.context.clear_cookies()
    tour.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return secret


def as_owner(tour: Tour) -> None:
    """The customer list and one customer, the audit log, the team page with an invitation
    sent, and the invitee's page, good and broken."""
    page = tour.page
    secret = _new_team_member(tour, Role.OWNER)
    page.get_by_label(re.compile("Code from your authenticator app")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    heading(page, "Your account")
    with tour.app.app_context():
        customer = db.session.scalar(select(User.id).where(User.role == Role.CUSTOMER))
        db.session.remove()
    tour.goto("/staff/customers")
    tour.check("staff: customers")
    tour.goto(f"/staff/customers/{customer}")
    tour.check("staff: customer")
    owner_settings(tour)
    owner_legal_texts(tour)

    tour.goto("/staff/audit?event=signin.ok")
    tour.check("staff: audit log")
    tour.goto("/staff/dashboard?range=30d")
    tour.check("staff: dashboard")
    tour.goto("/staff/dashboard?range=custom&from=2026-12-05&to=2026-12-01")
    tour.check("staff: dashboard with a wrong range")
    tour.goto("/staff/team")
    invitee = f"invitee-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("Email address").fill(invitee)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".flash")).to_contain_text(invitee)
    tour.check("staff: team")
    with tour.app.app_context():
        link = link_in(outbox(invitee)[-1], "/invitation/")
        db.session.remove()
    tour.page.context.clear_cookies()
    tour.goto(link)
    tour.check("invitation")
    tour.goto(link + "x", status=400)
    tour.check("invitation that does not work")


def as_staff_keeping_the_catalog(tour: Tour) -> None:
    """The category tree and one category (with a refused change), a product's stock
    (with a refused adjustment and its ledger) and the low-stock list."""
    page = tour.page
    with tour.app.app_context():
        # Hidden, so that the shop front the other browser tests read stays as seeded.
        category_id = make_category(f"Axe {uuid.uuid4().hex[:8]}", is_active=False).id
        product_id = make_product(stock_on_hand=3, reorder_level=5, is_active=False).id
        db.session.remove()
    tour.goto("/staff/categories")
    tour.check("staff: categories")
    tour.goto(f"/staff/categories/{category_id}")
    tour.check("staff: category")
    page.get_by_label("Address (slug)").fill("Not a slug")
    page.get_by_role("button", name="Save name and address").click()
    error_summary(page)
    tour.check("staff: category with an error")
    tour.goto(f"/staff/products/{product_id}/stock")
    tour.check("staff: product stock")
    page.get_by_label("Reason").select_option("damage")
    page.get_by_label("Quantity").fill("4")
    page.get_by_role("button", name="Save adjustment").click()
    error_summary(page)
    tour.check("staff: product stock with an error")
    tour.goto("/staff/stock")
    tour.check("staff: low stock")


def staff_imports(tour: Tour) -> None:
    """The import page, its form with an error, a job waiting to run, a job's problems."""
    page = tour.page
    tour.goto("/staff/imports")
    tour.check("staff: imports")
    page.get_by_role("button", name="Upload and check").click()
    error_summary(page)
    tour.check("staff: imports with an error")
    with tour.app.app_context():
        staff_id = db.session.scalar(select(User.id).where(User.role == Role.STAFF))
        assert staff_id is not None
        waiting = imports.upload(staff_id, ImportKind.PRODUCTS, "waiting.csv", b"sku\n")
        db.session.remove()
    tour.goto(f"/staff/imports/{waiting}")
    expect(page.locator("#import-progress")).to_be_visible()
    tour.check("staff: import waiting to run")

    tour.app.config["KIOSK_IMPORT_IN_BACKGROUND"] = True
    try:
        tour.goto("/staff/imports")
        page.get_by_label("CSV file").set_input_files(
            files=[{"name": "broken.csv", "mimeType": "text/csv", "buffer": b"sku,name\n"}]
        )
        page.get_by_role("button", name="Upload and check").click()
        problems = page.get_by_role("heading", name="Problems")
        for _ in range(30):
            if tour.js or problems.is_visible():
                break
            page.get_by_role("link", name="Show the progress now").click()
        expect(problems).to_be_visible(timeout=15_000)
        tour.check("staff: import with problems")
    finally:
        tour.app.config["KIOSK_IMPORT_IN_BACKGROUND"] = False


def staff_coupons(tour: Tour) -> None:
    """The coupon list, a new coupon with errors, one coupon."""
    page = tour.page
    with tour.app.app_context():
        code = f"A11Y-{uuid.uuid4().hex[:6]}"
        coupon_id = create_coupon(NewCoupon(code, CouponKind.PERCENT, 500)).id
        db.session.remove()
    tour.goto("/staff/coupons")
    tour.check("staff: coupons")
    tour.goto("/staff/coupons/new")
    page.get_by_label("Discount", exact=True).fill("200")
    page.get_by_role("button", name="Create coupon").click()
    error_summary(page)
    tour.check("staff: new coupon with errors")
    tour.goto(f"/staff/coupons/{coupon_id}")
    tour.check("staff: coupon")


def owner_legal_texts(tour: Tour) -> None:
    """The list of legal texts, and the privacy policy's editor with its draft and preview."""
    page = tour.page
    tour.goto("/staff/legal")
    tour.check("staff: legal texts")
    tour.goto("/staff/legal/privacy")
    page.get_by_role("button", name="Generate draft").click()
    # The shipped policy also names the controller: wait for the draft's own message.
    expect(page.get_by_text("The generated draft is in the editor.")).to_be_visible()
    expect(page.get_by_label("English text")).to_have_value(re.compile("Controller"))
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator("#markdown-preview h2").first).to_be_visible()
    tour.check("staff: legal text with draft and preview")


def owner_settings(tour: Tour) -> None:
    """The seller's details with errors, the shipping methods, one method (with wrong weight
    tiers), the carriers (a new one with errors), the shop settings."""
    page = tour.page
    tour.goto("/staff/settings/seller")
    page.get_by_label("IBAN").fill("DE00 1234")
    page.get_by_role("button", name="Save as a new version").click()
    error_summary(page)
    tour.check("staff: seller details with errors")
    tour.goto("/staff/settings/shipping")
    tour.check("staff: shipping methods")
    tour.goto("/staff/settings/shipping/dhl-de")
    tour.check("staff: shipping method")
    tour.goto("/staff/settings/shipping/dhl-eu")
    page.get_by_label("Tier 2: up to grams").fill("1000")
    page.get_by_role("button", name="Save shipping method").click()
    error_summary(page)
    tour.check("staff: shipping method with wrong weight tiers")
    tour.goto("/staff/settings/carriers")
    tour.check("staff: carriers")
    tour.goto("/staff/settings/carriers/new")
    page.get_by_label("Tracking address").fill("http://tracking.example/")
    page.get_by_role("button", name="Add carrier").click()
    error_summary(page)
    tour.check("staff: new carrier with errors")
    tour.goto("/staff/settings/carriers/dpd")
    tour.check("staff: carrier")
    tour.goto("/staff/settings/shop")
    tour.check("staff: shop settings")
    tour.goto("/staff/settings/consent")
    tour.check("staff: cookies and consent")


def staff_pictures(tour: Tour) -> None:
    """A product's pictures, and an upload without a file."""
    page = tour.page
    with tour.app.app_context():
        slug = gallery_product().slug
        gallery_id = db.session.scalar(select(Product.id).where(Product.slug == slug))
        db.session.remove()
    tour.goto(f"/staff/products/{gallery_id}/pictures")
    tour.check("staff: product pictures")
    page.get_by_role("button", name="Upload").click()  # no file chosen
    error_summary(page)
    tour.check("staff: product pictures, an upload without a file")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_no_axe_violations(tours: dict[bool, Tour], js: bool, record_property: Any) -> None:
    """Every page of the tour, in both colour schemes: axe-core finds nothing new."""
    tour = tours[js]
    new = [v for v in tour.violations if (v.page, v.rule) not in KNOWN]
    known = [f"{v.rule} on {v.page!r}" for v in tour.violations if v not in new]
    light, dark = tour.axe_seconds["light"], tour.axe_seconds["dark"]
    record_property(
        "axe summary",
        f"axe-core {tour.axe_version}, JavaScript {'on' if js else 'off'}: "
        f"{len(tour.pages)} pages × {len(THEMES)} themes, {len(new)} violations, "
        f"{len(known)} known{': ' if known else ''}{', '.join(known)}; "
        f"{tour.walk_seconds:.1f} s, of which axe {light:.1f} s light, {dark:.1f} s dark",
    )
    assert not new, "\n".join(map(str, new))


def test_known_violations_still_occur(tours: dict[bool, Tour]) -> None:
    """An entry of KNOWN that no tour finds any more was fixed: take it off the list."""
    found = {(v.page, v.rule) for tour in (tours[True], tours[False]) for v in tour.violations}
    assert sorted(KNOWN.keys() - found) == []


def test_every_html_route_is_visited(tours: dict[bool, Tour], live_app: Flask) -> None:
    """A GET route that neither tour reaches must be listed in NOT_VISITED with a reason."""
    visited = tours[True].routes | tours[False].routes
    routes = {rule.rule for rule in live_app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    assert sorted(routes - visited - NOT_VISITED.keys()) == []
    assert sorted(NOT_VISITED.keys() - routes) == [], "NOT_VISITED names routes that are gone"
    assert sorted(NOT_VISITED.keys() & visited) == [], "NOT_VISITED names routes now visited"
