"""Coupons in the back office: created and changed with the CLI's rules, a code clash at its
field, switched off and on, every change audited, and the list counting each use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.audit.models import AuditEvent
from kiosk.coupons.models import Coupon, CouponKind
from kiosk.extensions import db
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token
from tests.factories import make_product
from tests.shopping import add_to_cart, choose_payment, choose_shipping, give_address, place
from tests.shopping import staff_member as signed_in_staff

NEW = "/staff/coupons/new"
COUPON = {
    "code": "winter-10",
    "kind": "percent",
    "value": "10",
    "min_order": "20.00",
    "valid_from": "2026-12-01T00:00",
    "valid_until": "2027-01-01T00:00",
    "max_uses": "100",
    "max_uses_per_customer": "1",
}


def post(client: FlaskClient, url: str, **fields: str) -> Any:
    return client.post(url, data={**fields, "csrf_token": csrf_token(client, "/staff/coupons")})


def coupons(app: Flask) -> list[Coupon]:
    with app.app_context():
        return list(db.session.scalars(select(Coupon).order_by(Coupon.id)))


def audit_events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.event.like("coupon.%"))
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_staff_create_a_coupon_in_shop_time_stored_as_utc(app: Flask) -> None:
    staff = signed_in_staff(app)
    assert staff.get(NEW).status_code == 200
    response = post(staff, NEW, **COUPON)
    assert response.status_code == 303 and response.headers["Location"] == "/staff/coupons"
    (coupon,) = coupons(app)
    assert (coupon.code, coupon.kind, coupon.value) == ("WINTER-10", CouponKind.PERCENT, 1000)
    assert (coupon.min_order_cents, coupon.max_uses, coupon.max_uses_per_customer) == (2000, 100, 1)
    # Midnight in Berlin (CET, UTC+1) is 23:00 UTC the day before.
    assert coupon.valid_from == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert coupon.valid_until == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    (event,) = audit_events(app)
    assert event.event == "coupon.created" and event.actor_id is not None
    assert event.details["after"]["code"] == "WINTER-10"
    listing = staff.get("/staff/coupons").get_data(as_text=True)
    assert "WINTER-10" in listing and "0 of 100" in listing


def test_a_fixed_amount_coupon_is_kept_in_cents(app: Flask) -> None:
    staff = signed_in_staff(app)
    post(staff, NEW, code="FIVE", kind="fixed", value="5,50", min_order="0")
    (coupon,) = coupons(app)
    assert (coupon.kind, coupon.value, coupon.valid_from, coupon.max_uses) == (
        CouponKind.FIXED,
        550,
        None,
        None,
    )


def test_wrong_terms_come_back_at_their_fields_with_the_input(app: Flask) -> None:
    staff = signed_in_staff(app)
    response = post(
        staff,
        NEW,
        **{**COUPON, "code": "no spaces!", "value": "150", "valid_until": "2026-11-01T00:00"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "A code has 1 to 40 letters, digits and hyphens" in body
    assert "Please enter a percentage between 0.01 and 99.99" in body
    assert "The end of validity must come after its start." in body
    assert 'value="no spaces!"' in body and 'value="2026-12-01T00:00"' in body
    for value in ("0", "NaN", "1E+999999", "abc"):
        assert post(staff, NEW, **{**COUPON, "value": value}).status_code == 422, value
    assert post(staff, NEW, **{**COUPON, "kind": "fixed", "value": "0"}).status_code == 422
    assert post(staff, NEW, **{**COUPON, "valid_from": "tomorrow"}).status_code == 422
    assert post(staff, NEW, **{**COUPON, "max_uses": "0"}).status_code == 422
    assert coupons(app) == []


def test_a_code_in_use_is_refused_at_its_field(app: Flask) -> None:
    staff = signed_in_staff(app)
    post(staff, NEW, **COUPON)
    post(staff, NEW, **{**COUPON, "code": "OTHER"})
    again = post(staff, NEW, **{**COUPON, "code": "Winter-10"})
    assert again.status_code == 422
    assert "Another coupon has this code already" in again.get_data(as_text=True)
    _first, other = coupons(app)
    clash = post(staff, f"/staff/coupons/{other.id}", **{**COUPON, "code": "winter-10"})
    assert clash.status_code == 422
    assert "Another coupon has this code already" in clash.get_data(as_text=True)
    assert [c.code for c in coupons(app)] == ["WINTER-10", "OTHER"]


def test_staff_change_a_coupon_and_the_audit_keeps_before_and_after(app: Flask) -> None:
    staff = signed_in_staff(app)
    post(staff, NEW, **COUPON)
    (coupon,) = coupons(app)
    url = f"/staff/coupons/{coupon.id}"
    form = staff.get(url).get_data(as_text=True)
    assert 'value="10.00"' in form and 'value="2026-12-01T00:00"' in form  # as typed, local
    response = post(staff, url, **{**COUPON, "value": "15", "max_uses": ""})
    assert response.status_code == 303
    (changed,) = coupons(app)
    assert (changed.value, changed.max_uses, changed.valid_from) == (1500, None, coupon.valid_from)
    event = audit_events(app)[-1]
    assert event.event == "coupon.updated"
    assert (event.details["before"]["value"], event.details["after"]["value"]) == (1000, 1500)
    assert post(staff, url, **{**COUPON, "value": "15", "max_uses": ""}).status_code == 303
    assert len(audit_events(app)) == 2  # saving the same terms again records nothing
    assert staff.get("/staff/coupons/999999").status_code == 404


def test_switching_off_and_on_is_audited_once_per_change(app: Flask) -> None:
    staff = signed_in_staff(app)
    post(staff, NEW, **COUPON)
    (coupon,) = coupons(app)
    off = f"/staff/coupons/{coupon.id}/deactivate"
    assert post(staff, off).status_code == 303
    assert post(staff, off).status_code == 303  # a double click changes nothing more
    assert coupons(app)[0].is_active is False
    assert "switched off" in staff.get("/staff/coupons").get_data(as_text=True)
    assert post(staff, f"/staff/coupons/{coupon.id}/activate").status_code == 303
    assert coupons(app)[0].is_active is True
    assert [e.event for e in audit_events(app)] == [
        "coupon.created",
        "coupon.deactivated",
        "coupon.activated",
    ]
    assert post(staff, "/staff/coupons/999999/deactivate").status_code == 404


def test_the_list_counts_each_use_and_a_limit_cannot_go_below_it(
    app: Flask, client: FlaskClient
) -> None:
    staff = signed_in_staff(app)
    post(staff, NEW, **{**COUPON, "valid_from": "", "valid_until": "", "min_order": "0"})
    with app.app_context():
        product = make_product(price_cents=5000, stock_on_hand=5).id
    add_to_cart(client, product)
    give_address(client)
    choose_shipping(client)
    choose_payment(client)
    token = csrf_token(client, "/checkout/review")
    client.post("/checkout/coupon", data={"csrf_token": token, "code": "winter-10"})
    assert place(client).status_code == 303
    (coupon,) = coupons(app)
    assert coupon.times_used == 1
    assert "1 of 100" in staff.get("/staff/coupons").get_data(as_text=True)
    with app.app_context(), unit_of_work() as session:  # as if a second order used it
        session.get(Coupon, coupon.id).times_used = 2  # type: ignore[union-attr]
    url = f"/staff/coupons/{coupon.id}"
    too_low = post(staff, url, **{**COUPON, "max_uses": "1"})
    assert too_low.status_code == 422
    assert "This coupon was used more often than that already." in too_low.get_data(as_text=True)
    assert post(staff, url, **{**COUPON, "max_uses": "2"}).status_code == 303
    assert coupons(app)[0].max_uses == 2
