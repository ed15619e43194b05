"""`flask kiosk create-coupon`: the owner adds a code from the command line."""

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from kiosk.coupons.models import Coupon, CouponKind
from kiosk.extensions import db


def test_create_a_percentage_coupon_with_limits(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "kiosk", "create-coupon", "advent", "--percent", "12,5", "--min-order", "20",
            "--valid-from", "2026-12-01", "--valid-until", "2026-12-25",
            "--max-uses", "100", "--per-customer", "1",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Coupon ADVENT created." in result.output
    with app.app_context():
        coupon = db.session.scalars(select(Coupon)).one()
        assert (coupon.code, coupon.kind, coupon.value) == ("ADVENT", CouponKind.PERCENT, 1250)
        assert coupon.min_order_cents == 2000 and coupon.max_uses == 100
        assert coupon.max_uses_per_customer == 1
        # Midnight in Berlin (UTC+1 in December) is 23:00 UTC the day before.
        assert coupon.valid_from == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)


def test_a_fixed_amount_coupon(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["kiosk", "create-coupon", "FIVE", "--amount", "5"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalars(select(Coupon.value)).one() == 500


def test_mistakes_are_explained_and_nothing_is_created(app: Flask, runner: FlaskCliRunner) -> None:
    for args, message in (
        (["X"], "give either --percent or --amount"),
        (["X", "--percent", "10", "--amount", "5"], "give either --percent or --amount"),
        (["X", "--percent", "abc"], "not a percentage"),
        (["X", "--amount", "5", "--valid-from", "tomorrow"], "is not a date"),
        (["X", "--amount", "5", "--valid-from", "2027-01-02", "--valid-until", "2027-01-01"],
         "end of validity"),
    ):  # fmt: skip
        result = runner.invoke(args=["kiosk", "create-coupon", *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    with app.app_context():
        assert db.session.scalars(select(Coupon)).all() == []
