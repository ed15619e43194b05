"""Every form and query parameter of the URL map, given hostile values: never a 5xx.

Hypothesis posts huge and negative numbers, floats such as 1e30, NUL and other
control characters, very long strings, repeated fields, files where text is
expected and empty or missing values, with a valid CSRF token, as a guest, a
signed-in customer and the owner as staff (signed in with two-factor, so every
staff form is reached, the owner's settings too). URL
arguments are real ids, numbers, slugs and tokens of the seeded shop, and now
and then hostile ones. Each page's forms and field names come from its HTML, so
a new field is fuzzed without touching this file; a new route fails the test
until `seed_shop` gives its URL arguments a value or is listed in `SKIPPED` with why.

Runs on both databases like every `app` test; examples are derandomised (a
fixed seed per route and role), so CI sees the same requests on every run.
"""

from __future__ import annotations

import io
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from kiosk.accounts import services as accounts
from kiosk.accounts import team
from kiosk.accounts.models import Address, Role, StaffInvitation, User, UserSession
from kiosk.backoffice import imports
from kiosk.backoffice.models import ImportKind
from kiosk.cart.models import Cart, CartLine
from kiosk.catalog.models import ProductImage
from kiosk.catalog.product_csv import PRODUCT_COLUMNS
from kiosk.coupons import services as coupons
from kiosk.coupons.models import CouponKind
from kiosk.extensions import db
from kiosk.invoicing.models import Invoice
from kiosk.mail.models import MailStatus, OutboxMessage
from kiosk.orders.models import Order
from kiosk.privacy import erasure
from kiosk.privacy.repository import ConsentRepository
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_category, make_product, make_user
from tests.mailbox import link_in, outbox
from tests.shopping import (
    ADDRESS,
    add_to_cart,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    sign_in,
)

# Routes the fuzzer leaves alone, and why.
SKIPPED = {
    # Not a form: a JSON body signed by Stripe over its raw bytes. Forged, unsigned and
    # replayed events are tested in tests/integration/test_stripe_payments.py.
    "/webhooks/stripe",
}
# Routes that change who the client is or empty what the other routes need: fuzzed last,
# and only by the roles listed (signing out the customer would leave no customer).
LAST = {
    "/checkout/place",
    "/cart/lines/<int:line_id>/remove",
    "/signout",
    "/invitation/<token>",  # accepting signs the guest in
}
ONLY = {"/signout": {"guest"}}
# POST routes whose form no role of the seeded shop is shown; each is a button with only
# the CSRF token (EmptyForm), so the fuzzer still sends them query values and JSON.
FORMLESS = {
    "/account/unverified",  # "send the link again", shown to unverified accounts only
    "/checkout/coupon/remove",  # shown once a coupon is applied
    "/staff/products/<int:product_id>/restore",  # shown for an archived product only
    "/staff/categories/<int:category_id>/activate",  # shown once a category is hidden
    "/staff/orders/<number>/remind",  # shown for an overdue payment only
    "/staff/orders/<number>/cancel-invoice",  # shown for an unpaid, invoiced invoice order
    # Its form is templates/privacy/_erasure.html, a section of the account's privacy page.
    "/account/privacy/erase",
}
# Query parameters of listing and list pages, fuzzed on every GET besides those found in GET forms.
QUERY_NAMES = (
    "q",
    "min_price",
    "max_price",
    "in_stock",
    "sort",
    "page",
    "image",
    "placed",
    "reason",
    "from",
    "to",
    "status",
    "payment",
    "next",
)
EXAMPLES = {"GET": 4, "POST": 11}  # per route and role: about 60-90 s per database on 2 cores
ROLES = ("guest", "customer", "staff")
STAFF_SECRET = pyotp.random_base32()


# What a hostile client sends --------------------------------------------------------------

SPECIAL = [
    "",
    " ",
    "0",
    "-1",
    "1e30",
    "-1e30",
    "NaN",
    "inf",
    "1.5",
    "1,5",
    str(2**31 - 1),
    str(2**31),
    str(-(2**31) - 1),
    str(2**63),
    str(-(2**63) - 1),
    "9" * 400,
    "\x00",
    "a\x00b",
    "\r\n",
    "\x1b[31m",
    "\u0085",
    "\u202e",
    "١٢",
    "１２",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "//evil.example",
    "%00",
    "true",
    "on",
    "new",
    "\ufeff",
]
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
control_heavy = st.text(st.characters(max_codepoint=0xA0, exclude_categories=("Cs",)), max_size=20)
long_text = st.builds(
    lambda char, n: char * n, st.sampled_from(["a", "ä", "\x00", "€", "𝄞", " "]),
    st.integers(200, 12_000),
)  # fmt: skip
numbers = st.one_of(
    st.integers(-(2**80), 2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
HOSTILE = st.one_of(st.sampled_from(SPECIAL), numbers, text, control_heavy, long_text)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
FILE = object()  # a file upload where a text field is expected
MISSING = object()  # the field left out altogether


def field_value(original: list[str]) -> st.SearchStrategy[Any]:
    """What one field gets: the page's own value (so the others pass and the hostile one
    goes deep), a hostile value, several values under one name, a file, or nothing."""
    own = st.sampled_from(original) if original else st.just("")
    return st.one_of(
        own,
        own,
        HOSTILE,
        HOSTILE,
        st.lists(HOSTILE, min_size=2, max_size=3),
        st.just(FILE),
        st.just(MISSING),
    )


def url_value(converter: str) -> st.SearchStrategy[str]:
    if converter == "int":
        return st.sampled_from(["0", str(2**31 - 1), str(2**31), str(2**63), "9" * 40, "٣"])
    return st.one_of(st.sampled_from(["\x00", "a\nb", "..", "%", "a" * 3000, "€"]), text)


# Forms found in pages -------------------------------------------------------------------


@dataclass
class FoundForm:
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values seen

    def add(self, name: str | None, value: str) -> None:
        if name:
            self.fields.setdefault(name, []).append(value)


class FormParser(HTMLParser):
    """The forms of a page with their fields, and the htmx requests made from inside them."""

    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[FoundForm] = []
        self._form: FoundForm | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._hx: list[FoundForm] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            method = (a.get("method") or "get").upper()
            self._form = FoundForm(a.get("action") or self.page_path, method)
            self.forms.append(self._form)
        # htmx requests and `formaction` buttons send the fields of the form they sit in.
        for verb in ("post", "get"):
            if f"data-hx-{verb}" in a and self._form is not None and tag != "form":
                self._hx.append(FoundForm(a[f"data-hx-{verb}"], verb.upper(), self._form.fields))
        if "formaction" in a and self._form is not None:
            self._hx.append(FoundForm(a["formaction"], self._form.method, self._form.fields))
        if self._form is None:
            return
        if tag == "input" and a.get("type") not in ("submit", "button", "image", "reset"):
            kind = a.get("type", "text")
            self._form.add(a.get("name"), a.get("value", "on" if kind == "checkbox" else ""))
        elif tag in ("button", "input") and a.get("name"):
            self._form.add(a.get("name"), a.get("value", ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select:
            self._form.add(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._form.add(self._textarea, "")

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def found(self) -> list[FoundForm]:
        return self.forms + self._hx


# The seeded shop ------------------------------------------------------------------------


@dataclass
class Shop:
    app: Flask
    clients: dict[str, FlaskClient]
    values: dict[str, dict[str, str]]  # role -> argument name (or endpoint.argument) -> value
    pages: dict[str, list[str]]  # role -> pages with forms the URL map's own values miss
    requests: int = 0
    seconds: float = 0.0

    def open(self, client: FlaskClient, url: str, **kwargs: Any) -> TestResponse:
        self.requests += 1
        t0 = time.monotonic()
        response = client.open(url, **kwargs)
        response.get_data()
        response.close()  # a file response holds its file open until then
        self.seconds += time.monotonic() - t0
        return response


def _staff_client(app: Flask) -> FlaskClient:
    client = new_client(app)
    sign_in(client, "staff@example.org", PASSWORD)
    code = pyotp.TOTP(STAFF_SECRET).now()
    response = client.post(
        "/signin/code", data={"csrf_token": csrf_token(client, "/signin/code"), "code": code}
    )
    assert response.status_code == 303, "staff two-factor sign-in failed"
    return client


def _ready_to_place(client: FlaskClient, product_id: int, email: str | None) -> None:
    add_to_cart(client, product_id, 2)
    give_address(client, email=email)
    choose_shipping(client)
    choose_payment(client)


def _token(to: str, prefix: str) -> str:
    mail = next(m for m in reversed(outbox(to)) if prefix in m.text_body)
    return link_in(mail, prefix).removeprefix(prefix).split("?")[0]


def seed_shop(app: Flask) -> Shop:
    """A shop with something behind every URL: products, orders of each role, an invoice,
    an address, a failed mail, a cart line per role, and a live token for each link mail."""
    app.config["KIOSK_RATE_LIMITS"] = {
        name: "100000 per minute" for name in app.config["KIOSK_RATE_LIMITS"]
    }  # the fuzzer should reach the forms, not the limiter
    with app.app_context():
        kaffee = make_category("Kaffee", slug="kaffee")
        make_category("Espresso", slug="espresso", parent=kaffee)
        kaffee_id = kaffee.id
        make_category("Tee", slug="tee")  # a sibling: the tree shows its up and down buttons
        with unit_of_work() as session:  # the consent banner and its settings show their forms
            ConsentRepository(session).set_in_use("preferences", True, None)
        mug = make_product(
            name="Becher", slug="becher", category=kaffee, images=2, stock_on_hand=1000
        ).id
        make_product(name="Mühle", slug="muehle", category=kaffee, stock_on_hand=0)
        make_product(name="Tasse", slug="tasse", stock_on_hand=1_000_000)
        sample = make_product(name="Muster", slug="muster", stock_on_hand=5).id  # staff edit it
        make_user("kunde@example.org")
        other = make_user("andere@example.org")
        # The owner, who reaches every staff form (settings and the team too).
        make_user("staff@example.org", role=Role.OWNER, two_factor_secret=STAFF_SECRET)
        # Staff's customer pages: one to note and disable, one to enable and verify again.
        noted = make_user("kundin@example.org").id
        locked = make_user("gesperrt@example.org", verified=False, is_active=False).id
        owner = make_user("inhaber@example.org", role=Role.OWNER).id
        with app.test_request_context():  # the mails link to the shop
            accounts.request_email_change(other.id, PASSWORD, "neu@example.org")
            accounts.request_marketing(other.id)
            accounts.request_password_reset("andere@example.org")
            team.invite(owner, "eingeladen@example.org", Role.STAFF, "de")
            erasure.request_for_guest("loeschen@example.org", "de")
        with unit_of_work() as session:
            failed = OutboxMessage(
                message_id="<failed@example.org>",
                to_address="x@example.org",
                subject="Failed",
                text_body="x",
                template="t",
                status=MailStatus.FAILED,
                attempts=10,
            )
            session.add(failed)
        failed_id = failed.id
        staff_id = db.session.scalar(select(User.id).where(User.email == "staff@example.org"))
        assert staff_id is not None
        # A checked import without problems (a header, no rows), so its Apply button shows.
        header = ",".join(PRODUCT_COLUMNS).encode() + b"\n"
        job_id = imports.upload(staff_id, ImportKind.PRODUCTS, "leer.csv", header)
        imports.work(job_id)
        coupon_id = coupons.create(coupons.NewCoupon("FUZZ", CouponKind.PERCENT, 1000)).id
        off = coupons.create(coupons.NewCoupon("FUZZ-OFF", CouponKind.FIXED, 500)).id
        with unit_of_work() as session:  # a switched-off coupon shows the "switch on" form
            coupons.set_active(session, off, False)

    guest, customer = new_client(app), new_client(app)
    sign_in(customer, "kunde@example.org", PASSWORD)
    sign_in(new_client(app), "kunde@example.org", PASSWORD)  # another device: its forms show
    token = csrf_token(customer, "/account/addresses/new")
    customer.post("/account/addresses/new", data={"csrf_token": token, **ADDRESS})
    media = Path(app.config["KIOSK_MEDIA_DIR"])
    media.mkdir(parents=True, exist_ok=True)
    (media / "bild.webp").write_bytes(b"RIFF")
    staff = _staff_client(app)
    clients = {"guest": guest, "customer": customer, "staff": staff}

    for role, client in clients.items():
        _ready_to_place(client, mug, "gast@example.org" if role == "guest" else None)
        assert place(client).status_code == 303, f"the {role}'s order was not placed"
    token = csrf_token(guest, "/p/muehle")
    guest.post("/p/muehle/notify", data={"csrf_token": token, "email": "alarm@example.org"})
    token = csrf_token(guest, "/register")
    data = {"csrf_token": token, "email": "neu-registriert@example.org", "password": PASSWORD}
    guest.post("/register", data=data)
    token = csrf_token(guest, "/privacy/export")
    guest.post("/privacy/export", data={"csrf_token": token, "email": "alarm@example.org"})

    values: dict[str, dict[str, str]] = {}
    with app.app_context():
        orders = {o.email: o for o in db.session.scalars(select(Order))}
        by_role = {
            "guest": orders["gast@example.org"],
            "customer": orders["kunde@example.org"],
            "staff": orders["staff@example.org"],
        }
        guest_mail = next(m for m in outbox("gast@example.org") if "/access/" in m.text_body)
        access = link_in(guest_mail, "/orders/").split("/access/")[1]
        address_id = db.session.scalar(select(Address.id))
        picture_id = db.session.scalar(
            select(func.min(ProductImage.id)).where(ProductImage.product_id == mug)
        )
        other_device = db.session.scalar(select(func.max(UserSession.id)))
        common = {
            "catalog.product.slug": "becher",
            "catalog.notify.slug": "muehle",
            "catalog.category.slug": "kaffee",
            "token.auth.verify_email": _token("neu-registriert@example.org", "/verify/"),
            "token.auth.reset_password": _token("andere@example.org", "/reset-password/"),
            "token.account.confirm_email": _token("neu@example.org", "/account/email/confirm/"),
            "token.account.confirm_marketing": _token(
                "andere@example.org", "/account/newsletter/confirm/"
            ),
            "token.catalog.confirm_stock_alert": _token(
                "alarm@example.org", "/back-in-stock/confirm/"
            ),
            "token.auth.invitation": _token("eingeladen@example.org", "/invitation/"),
            "token.privacy.guest_download": _token("alarm@example.org", "/privacy/export/"),
            "token.privacy.confirm_erasure": _token(
                "loeschen@example.org", "/privacy/erase/confirm/"
            ),
            "invitation_id": str(db.session.scalar(select(StaffInvitation.id))),
            "user_id": str(noted),
            "staff.resend_customer_verification.user_id": str(locked),
            "staff.enable_customer.user_id": str(locked),
            "key": access,
            "address_id": str(address_id),
            "message_id": str(failed_id),
            "product_id": str(sample),
            "job_id": str(job_id),
            "coupon_id": str(coupon_id),
            "staff.*.code": "dhl-de",  # a shipping method
            "carrier_code": "dpd",
            "image_id": str(picture_id),
            # The picture pages: the product with the picture.
            "staff.product_pictures.product_id": str(mug),
            "staff.upload_pictures.product_id": str(mug),
            "staff.describe_picture.product_id": str(mug),
            "staff.move_picture.product_id": str(mug),
            "staff.remove_picture.product_id": str(mug),
            "session_id": str(other_device),
            "category_id": str(kaffee_id),
            "kind": "terms",  # a legal text; version 1 is stored by the first order
            "report": "summary",  # a table of the dashboard
            "ref": "1",
            "static.filename": "css/kiosk.css",
            "core.media.filename": "bild.webp",
        }
        for role in ROLES:
            values[role] = {**common, "number": by_role[role].number}

    # The customer's order is paid (an invoice to download); every role has a cart again.
    number = by_role["customer"].number
    token = csrf_token(staff, f"/staff/orders/{number}")
    staff.post(f"/staff/orders/{number}/mark-paid", data={"csrf_token": token, "note": ""})
    # ... and shipped, so its page shows the return form.
    token = csrf_token(staff, f"/staff/orders/{number}")
    shipped = {"csrf_token": token, "to": "shipped", "carrier": "dhl", "tracking": "00340434"}
    staff.post(f"/staff/orders/{number}/status", data=shipped)
    for role, client in clients.items():
        _ready_to_place(client, mug, "gast@example.org" if role == "guest" else None)
    # The guest starts a sign-in with staff's password, so /signin/code has its form.
    sign_in(guest, "staff@example.org", PASSWORD)
    with app.app_context():
        invoice = db.session.scalar(select(Invoice.number))
        assert invoice is not None, "no invoice was issued"
        emails = {u.id: u.email for u in db.session.scalars(select(User))}
        lines = db.session.execute(select(CartLine.id, Cart.user_id).join(Cart)).all()
        line_of = {emails.get(user_id, "") if user_id else "": line for line, user_id in lines}
    for role, email in (
        ("guest", ""),
        ("customer", "kunde@example.org"),
        ("staff", "staff@example.org"),
    ):
        values[role]["line_id"] = str(line_of[email])
        values[role]["document_number"] = invoice
    # On staff pages, staff look at the customer's order, which has the invoice.
    values["staff"]["staff.*.number"] = number
    pages = {  # a sold-out product (back-in-stock form), an unpaid order (mark paid)
        "guest": ["/p/muehle"],
        "customer": ["/p/muehle"],
        "staff": [
            f"/staff/orders/{by_role['guest'].number}",
            f"/staff/products/prices?product={sample}&change_by=percent&direction=up&amount=5",
            f"/staff/customers/{locked}",
            f"/staff/orders/ship?order={by_role['guest'].number}",  # the ship form's rows
        ],
    }
    return Shop(app, clients, values, pages)


# Requests -------------------------------------------------------------------------------

ARGUMENT = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")


def _value(shop: Shop, role: str, rule: Rule, name: str) -> str:
    values = shop.values[role]
    blueprint = rule.endpoint.partition(".")[0]
    for key in (
        f"{rule.endpoint}.{name}",
        f"{name}.{rule.endpoint}",
        f"{blueprint}.*.{name}",
        name,
    ):
        if key in values:
            return values[key]
    raise AssertionError(f"no value for <{name}> of {rule.rule}: add one in seed_shop")


def _url(shop: Shop, role: str, rule: Rule, hostile: dict[str, str] | None = None) -> str:
    def fill(match: re.Match[str]) -> str:
        converter, name = match.group(1) or "default", match.group(2)
        if hostile and name in hostile:
            return quote(hostile[name], safe="")
        value = _value(shop, role, rule, name)
        return quote(value, safe="/" if converter == "path" else "")

    return ARGUMENT.sub(fill, rule.rule)


def _converters(rule: Rule) -> dict[str, str]:
    return {m.group(2): m.group(1) or "default" for m in ARGUMENT.finditer(rule.rule)}


def crawl(shop: Shop) -> dict[tuple[str, str, str], list[FoundForm]]:
    """Every GET page as every role: the forms found, by (role, endpoint, method)."""
    adapter = shop.app.url_map.bind("localhost")
    found: dict[tuple[str, str, str], list[FoundForm]] = {}
    for role, client in shop.clients.items():
        urls = [
            _url(shop, role, rule)
            for rule in shop.app.url_map.iter_rules()
            if "GET" in (rule.methods or ()) and rule.rule not in SKIPPED
        ]
        for url in urls + shop.pages[role]:
            response = shop.open(client, url)
            if not response.content_type.startswith("text/html"):
                continue
            parser = FormParser(url)
            parser.feed(response.get_data(as_text=True))
            for form in parser.found():
                path = urlsplit(form.action).path
                try:
                    endpoint, _ = adapter.match(path, method=form.method)
                except Exception:  # noqa: S112  (a form to another site or a dead end)
                    continue
                found.setdefault((role, str(endpoint), form.method), []).append(form)
    return found


def _fields(
    forms: dict[tuple[str, str, str], list[FoundForm]], role: str, endpoint: str, method: str
) -> dict[str, list[str]]:
    """The field names of this endpoint's forms, with the values the pages gave them."""
    candidates = forms.get((role, endpoint, method)) or [
        form for (_, e, m), found in forms.items() if (e, m) == (endpoint, method) for form in found
    ]
    merged: dict[str, list[str]] = {}
    for form in candidates:
        for name, values in form.fields.items():
            merged.setdefault(name, [])
            merged[name] += [v for v in values if v not in merged[name]]
    return merged


def _data(
    draw: Callable[[st.SearchStrategy[Any]], Any], fields: dict[str, list[str]], token: str
) -> MultiDict[str, Any]:
    data: MultiDict[str, Any] = MultiDict()
    for name, original in fields.items():
        if name == "csrf_token":
            continue
        value = draw(field_value(original))
        if value is MISSING:
            continue
        if value is FILE:
            data.add(name, (io.BytesIO(b"\x00\xff binary"), "x.csv"))
        elif isinstance(value, list):
            for item in value:
                data.add(name, item)
        else:
            data.add(name, value)
    data["csrf_token"] = token  # always valid: the point is to get past it
    return data


@dataclass(frozen=True)
class Target:
    rule: Rule
    method: str
    role: str


def fuzz(shop: Shop, target: Target, forms: dict[Any, list[FoundForm]], covered: set[str]) -> None:
    rule, method, role = target.rule, target.method, target.role
    client = shop.clients[role]
    fields = _fields(forms, role, rule.endpoint, method)
    query_names = sorted({*QUERY_NAMES, *_fields(forms, role, rule.endpoint, "GET")})
    token = csrf_token(client, "/")
    converters = _converters(rule)

    @seed(zlib.crc32(f"{rule.rule} {method} {role}".encode()))
    @settings(
        max_examples=EXAMPLES[method],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def one_request(data: st.DataObject) -> None:
        hostile = {
            name: data.draw(url_value(converter), label=f"<{name}>")
            for name, converter in converters.items()
            if data.draw(st.integers(0, 5), label=f"hostile <{name}>?") == 5
        }
        url = _url(shop, role, rule, hostile)
        names = data.draw(st.lists(st.sampled_from(query_names), max_size=3, unique=True))
        query = MultiDict([(name, data.draw(HOSTILE, label=name)) for name in names])
        headers = data.draw(st.sampled_from([{}, {"HX-Request": "true"}]), label="headers")
        request: dict[str, Any] = {"query_string": query, "headers": headers}
        if method == "POST" and data.draw(st.integers(0, 5), label="JSON body?") == 5:
            # The fields as JSON of any type (the token in the header, as htmx sends it).
            body = data.draw(st.dictionaries(st.sampled_from([*fields, "x"]), JSON) | JSON)
            request.update(json=body, headers={**headers, "X-CSRFToken": token})
        elif method == "POST":
            request.update(data=_data(data.draw, fields, token))
        response = shop.open(client, url, method=method, **request)
        covered.add(rule.rule)
        assert response.status_code < 500, f"{method} {url} as {role}: {response.status}"

    one_request()


def _roles(rule: Rule) -> tuple[str, ...]:
    """Who sends hostile input to the route. The back office refuses guests and customers
    before it reads any input (tests/functional/test_staff_access.py proves it for every
    route of the URL map), so only staff fuzz its routes."""
    if rule.rule.startswith("/staff"):
        return ("staff",)
    return tuple(role for role in ROLES if role in ONLY.get(rule.rule, ROLES))


def test_no_form_or_query_value_gives_a_server_error(app: Flask) -> None:
    started = time.monotonic()
    shop = seed_shop(app)
    forms = crawl(shop)
    rules = [r for r in app.url_map.iter_rules() if r.rule not in SKIPPED]
    targets = [
        Target(rule, method, role)
        for rule in rules
        for method in sorted((rule.methods or set()) & {"GET", "POST"})
        for role in _roles(rule)
    ]
    targets.sort(key=lambda t: t.rule.rule in LAST)
    missing_forms = sorted(
        {
            t.rule.rule
            for t in targets
            if t.method == "POST" and not _fields(forms, t.role, t.rule.endpoint, "POST")
        }
        - FORMLESS
    )
    assert missing_forms == [], "POST routes whose form no page shows (list them in FORMLESS)"
    covered: set[str] = set()
    for target in targets:
        fuzz(shop, target, forms, covered)
    backend = app.config["DATABASE_URL"].split(":")[0]
    print(  # the totals, for `pytest -s`
        f"\n{backend}: {shop.requests} requests to {len(covered)} routes as "
        f"{len(targets)} route/method/role targets in {time.monotonic() - started:.0f} s "
        f"({shop.seconds:.0f} s inside the app)"
    )
    unknown = {r.rule for r in app.url_map.iter_rules()} - covered - SKIPPED
    assert unknown == set(), "routes neither fuzzed nor in SKIPPED"
