"""Every coupon rule: validity, minimum order, total and per-customer limits, and the discount."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.coupons import services as coupons
from kiosk.coupons.models import Coupon, CouponKind
from kiosk.coupons.services import CouponRefused, Customer, NewCoupon
from kiosk.extensions import db
from kiosk.money import Money
from kiosk.orders.models import Order
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import make_product
from tests.shopping import (
    add_to_cart,
    choose_payment,
    choose_shipping,
    give_address,
    place,
    review_form,
)

ERIKA = Customer("erika@example.org")


def _check(code: str, items: int = 5000, customer: Customer | None = ERIKA) -> Money:
    with unit_of_work() as session:
        coupon = coupons.check(session, code, Money(items), customer)
        return coupons.discount(coupon, Money(items))


def _refusal(code: str, items: int = 5000, customer: Customer | None = ERIKA) -> str:
    with pytest.raises(CouponRefused) as refused:
        _check(code, items, customer)
    return str(refused.value)


def test_a_percentage_off_the_items(app: Flask) -> None:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        coupons.create(NewCoupon("welcome10", CouponKind.PERCENT, 1000))
        assert _check("WELCOME10", 4995) == Money(500)  # 499.5 rounds half up
        assert _check(" welcome10 ") == Money(500)  # typed with spaces, lower case


def test_a_fixed_amount_never_exceeds_the_items(app: Flask) -> None:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        coupons.create(NewCoupon("FIVE", CouponKind.FIXED, 500))
        assert _check("FIVE", 5000) == Money(500)
        assert _check("FIVE", 300) == Money(300)


def test_an_unknown_or_switched_off_code(app: Flask) -> None:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert _refusal("NOPE") == "The code NOPE is not valid."
        coupons.create(NewCoupon("OFF", CouponKind.FIXED, 500))
        with unit_of_work() as session:
            session.scalars(select(Coupon)).one().is_active = False
        assert _refusal("OFF") == "The code OFF is not valid."


def test_the_validity_window(app: Flask) -> None:
    now = utcnow()
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        coupons.create(NewCoupon("SOON", CouponKind.FIXED, 500, valid_from=now + timedelta(days=1)))
        coupons.create(
            NewCoupon("PAST", CouponKind.FIXED, 500, valid_until=now - timedelta(days=1))
        )
        coupons.create(
            NewCoupon(
                "NOW",
                CouponKind.FIXED,
                500,
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=1),
            )
        )
        assert _refusal("SOON").startswith("This code is valid from ")
        assert _refusal("PAST").startswith("This code expired on ")
        assert _check("NOW") == Money(500)


def test_a_minimum_order_value(app: Flask) -> None:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        coupons.create(NewCoupon("BIG", CouponKind.PERCENT, 1000, min_order_cents=5000))
        assert _refusal("BIG", 4999) == "This code needs items worth at least €50.00."
        assert _check("BIG", 5000) == Money(500)


def test_bad_coupons_are_not_created(app: Flask) -> None:
    with app.app_context():
        for bad in (
            NewCoupon("", CouponKind.FIXED, 100),
            NewCoupon("X" * 41, CouponKind.FIXED, 100),
            NewCoupon("HALF", CouponKind.PERCENT, 10_001),
            NewCoupon("ZERO", CouponKind.FIXED, 0),
            NewCoupon("BAD!", CouponKind.FIXED, 100),
        ):
            with pytest.raises(ValueError):
                coupons.create(bad)
        coupons.create(NewCoupon("ONCE", CouponKind.FIXED, 100))
        with pytest.raises(ValueError, match="exists already"):
            coupons.create(NewCoupon("once", CouponKind.FIXED, 100))


@pytest.fixture
def mug(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Becher", price_cents=3000, stock_on_hand=50).id


def _buy_with_coupon(client: FlaskClient, product_id: int, code: str, email: str) -> str:
    """A guest checkout that tries a coupon, then orders; returns the coupon's answer."""
    add_to_cart(client, product_id)
    give_address(client, email=email)
    choose_shipping(client)
    choose_payment(client)
    answer = client.post(
        "/checkout/coupon",
        data={"csrf_token": csrf_token(client, "/checkout/review"), "code": code},
    )
    place(client)
    return answer.text


def _orders(app: Flask) -> list[tuple[str, int, str]]:
    with app.app_context():
        return [
            (o.email, o.discount_cents, o.coupon_code)
            for o in db.session.scalars(select(Order).order_by(Order.id))
        ]


def test_the_total_number_of_uses(app: Flask, mug: int) -> None:
    with app.app_context():
        coupons.create(NewCoupon("TWICE", CouponKind.FIXED, 500, max_uses=2))
    for number in range(2):
        _buy_with_coupon(new_client(app), mug, "TWICE", f"buyer{number}@example.org")
    answer = _buy_with_coupon(new_client(app), mug, "TWICE", "late@example.org")
    assert "This code has been used up." in answer
    assert [discount for _, discount, _ in _orders(app)] == [500, 500, 0]
    with app.app_context():
        assert db.session.scalars(select(Coupon)).one().times_used == 2


def test_uses_per_customer_count_by_email(app: Flask, mug: int) -> None:
    with app.app_context():
        coupons.create(NewCoupon("ONCE", CouponKind.FIXED, 500, max_uses_per_customer=1))
    _buy_with_coupon(new_client(app), mug, "ONCE", "erika@example.org")
    answer = _buy_with_coupon(new_client(app), mug, "ONCE", "Erika@Example.org")
    assert "You have already used this code as often as it allows." in answer
    _buy_with_coupon(new_client(app), mug, "ONCE", "max@example.org")
    assert [(email.lower(), discount) for email, discount, _ in _orders(app)] == [
        ("erika@example.org", 500),
        ("erika@example.org", 0),
        ("max@example.org", 500),
    ]


def test_a_refused_code_is_explained_at_the_field_and_kept(
    app: Flask, client: FlaskClient, mug: int
) -> None:
    add_to_cart(client, mug)
    give_address(client)
    choose_shipping(client)
    choose_payment(client)
    token = csrf_token(client, "/checkout/review")
    response = client.post("/checkout/coupon", data={"csrf_token": token, "code": "wrong-1"})
    assert response.status_code == 422
    assert "The code WRONG-1 is not valid." in response.text
    assert 'value="wrong-1"' in response.text and 'href="#code"' in response.text


def test_a_coupon_used_up_before_the_order_is_placed(app: Flask, mug: int) -> None:
    with app.app_context():
        coupons.create(NewCoupon("LAST", CouponKind.FIXED, 500, max_uses=1))
    slow, fast = new_client(app), new_client(app)
    for shopper, email in ((slow, "slow@example.org"), (fast, "fast@example.org")):
        add_to_cart(shopper, mug)
        give_address(shopper, email=email)
        choose_shipping(shopper)
        choose_payment(shopper)
        shopper.post(
            "/checkout/coupon",
            data={"csrf_token": csrf_token(shopper, "/checkout/review"), "code": "LAST"},
        )
    assert "Coupon LAST applied." in slow.get("/checkout/review").text
    slow_form = review_form(slow)
    place(fast)
    response = place(slow, slow_form)
    assert response.headers["Location"] == "/checkout/review"
    page = slow.get("/checkout/review", follow_redirects=True).text
    assert "Your coupon was removed: This code has been used up." in page
    assert [email for email, _, _ in _orders(app)] == ["fast@example.org"]
