"""The shop's main pages as the server renders them, for checks that apply to every page.

`tour(app)` fills a small catalog, places an order as a signed-in customer and
one as a guest, and returns the HTML of each main page by name: catalog,
cart, every checkout step, the order confirmation, the account pages,
sign-in and registration, staff's order and product pages, the legal pages and an error
page. Checks of the markup itself (valid HTML, machine-readable times, meta
descriptions) run over all of them, so a new page only has to be added here.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from kiosk.accounts.models import User
from kiosk.catalog.models import Category, ProductImage
from kiosk.catalog.pictures import make_missing_variants
from kiosk.extensions import db
from kiosk.orders.models import Order
from tests.conftest import new_client
from tests.factories import PASSWORD, make_category, make_product, make_user
from tests.shopping import (
    add_to_cart,
    buy,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    sign_in,
    staff_member,
)

CUSTOMER = "jana@example.org"


def _catalog(app: Flask) -> dict[str, str]:
    with app.app_context():
        kitchen = make_category("Küche", slug="kueche", description="Für Herd und Tisch")
        tea = make_category("Tee", slug="tee", parent=kitchen)
        make_category("Leer", slug="leer")
        mug = make_product(
            name="Teekanne „Ostfriesland“",
            slug="teekanne",
            category=kitchen,
            description="**Steinzeug** aus dem Westerwald, <spülmaschinenfest>.",
            price_cents=3490,
            compare_at_cents=3990,
            unit_content=1200,
            unit_measure="ml",
            stock_on_hand=50,
            images=3,
            is_featured=True,
        )
        for i in range(3):
            make_product(name=f"Tee Nr. {i}", slug=f"tee-{i}", category=tea, images=1)
        make_product(name="Ausverkauft", slug="ausverkauft", category=tea, stock_on_hand=0)
        _draw_pictures(app)
        return {"mug": str(mug.id), "category": "kueche", "product": "teekanne"}


def _draw_pictures(app: Flask) -> None:
    """Real files for the pictures, with their variants, so pages show srcset as in a shop."""
    media = Path(app.config["KIOSK_MEDIA_DIR"])
    for name in db.session.scalars(select(ProductImage.filename)):
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (900, 600), "teal").save(media / name, "WEBP")
    make_missing_variants()


def _get(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, f"{url} answered {response.status_code}"
    return response.get_data(as_text=True)


def tour(app: Flask) -> dict[str, str]:
    """Every main page's HTML by name (see the module docstring)."""
    shop = _catalog(app)
    mug = int(shop["mug"])
    pages: dict[str, str] = {}

    visitor = new_client(app)
    for name, url in {
        "home": "/",
        "listing": "/products",
        "category": f"/c/{shop['category']}",
        "search": "/products?q=tee&min_price=x",
        "product": f"/p/{shop['product']}",
        "product picture 2": f"/p/{shop['product']}?image=1",
        "product sold out": "/p/ausverkauft",
        "empty cart": "/cart",
        "sign-in": "/signin",
        "registration": "/register",
        "forgot password": "/forgot-password",
        "imprint": "/imprint",
        "privacy": "/privacy",
        "terms": "/terms",
        "withdrawal policy": "/withdrawal",
        "shipping costs": "/shipping",
        "withdrawal form": "/withdraw",
        "privacy export request": "/privacy/export",
    }.items():
        pages[name] = _get(visitor, url)
    pages["error page"] = _get(visitor, "/p/no-such-product", 404)

    guest = new_client(app)
    add_to_cart(guest, mug, 2)
    pages["cart"] = _get(guest, "/cart")
    pages["checkout address"] = _get(guest, "/checkout/address")
    give_address(guest)
    pages["checkout shipping"] = _get(guest, "/checkout/shipping")
    choose_shipping(guest)
    pages["checkout payment"] = _get(guest, "/checkout/payment")
    choose_payment(guest)
    pages["checkout review"] = _get(guest, "/checkout/review")
    confirmation = place(guest)
    assert confirmation.status_code == 303, "the guest's order was not placed"
    pages["guest order"] = _get(guest, confirmation.headers["Location"])

    with app.app_context():
        make_user(CUSTOMER)
    customer = new_client(app)
    sign_in(customer, CUSTOMER, PASSWORD)
    buy(customer, mug, email=None)
    with app.app_context():
        number = db.session.scalar(select(Order.number).where(Order.email == CUSTOMER))
    for name, url in {
        "customer order": f"/orders/{number}",
        "account": "/account",
        "account orders": "/account/orders",
        "account profile": "/account/profile",
        "account addresses": "/account/addresses",
        "account new address": "/account/addresses/new",
        "account email preferences": "/account/email-preferences",
        "account security": "/account/security",
        "account two-factor": "/account/security/two-factor",
        "account privacy": "/account/privacy",
    }.items():
        pages[name] = _get(customer, url)

    staff = staff_member(app)
    pages["staff orders"] = _get(staff, "/staff/orders")
    pages["staff order"] = _get(staff, f"/staff/orders/{number}")
    pages["staff mail"] = _get(staff, "/staff/mail")
    pages["staff products"] = _get(staff, "/staff/products")
    pages["staff product"] = _get(staff, f"/staff/products/{mug}")
    pages["staff new product"] = _get(staff, "/staff/products/new")
    pages["staff price change"] = _get(
        staff, f"/staff/products/prices?product={mug}&change_by=amount&direction=down&amount=1"
    )

    with app.app_context():
        customer_id = db.session.scalar(select(User.id).where(User.email == CUSTOMER))
    pages["staff customers"] = _get(staff, "/staff/customers")
    pages["staff customer"] = _get(staff, f"/staff/customers/{customer_id}")

    with app.app_context():
        category_id = db.session.scalar(select(Category.id).where(Category.slug == "kueche"))
    pages["staff categories"] = _get(staff, "/staff/categories")
    pages["staff category"] = _get(staff, f"/staff/categories/{category_id}")
    pages["staff product stock"] = _get(staff, f"/staff/products/{mug}/stock")
    pages["staff low stock"] = _get(staff, "/staff/stock")

    pages["staff overview"] = _get(staff, "/staff/")
    pages["staff ship orders"] = _get(staff, f"/staff/orders/ship?order={number}")
    return pages
