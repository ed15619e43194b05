"""Stock alerts on a real database: low stock to staff, back in stock to those who asked."""

import threading

import pytest
from flask import Flask
from sqlalchemy import select

from kiosk.accounts.models import Role
from kiosk.accounts.tokens import TokenError, TokenProblem
from kiosk.extensions import db
from kiosk.inventory import alerts as stock_alerts
from kiosk.inventory import services as inventory
from kiosk.inventory.alerts import AlertRequest
from kiosk.inventory.models import StockAlert
from kiosk.uow import unit_of_work
from tests.factories import make_product, make_user
from tests.mailbox import link_in, outbox

CONFIRM = "/back-in-stock/confirm/"


def _sell(product_id: int, quantity: int, holder: str) -> None:
    with unit_of_work() as session:
        inventory.reserve(session, holder, {product_id: quantity}, minutes=15)
        inventory.sell(session, holder, f"order {holder}")


def _set_stock(product_id: int, level: int) -> None:
    with unit_of_work() as session:
        inventory.set_stock(session, product_id, level, "stocktaking")


def _templates() -> list[tuple[str, str]]:
    return [(m.to_address, m.template) for m in outbox()]


@pytest.fixture
def staff(app: Flask) -> None:
    with app.app_context():
        make_user("owner@example.org", role=Role.OWNER)
        make_user("staff@example.org", role=Role.STAFF, locale="de")
        make_user("gone@example.org", role=Role.STAFF, is_active=False)
        make_user("customer@example.org")


# Low stock ---------------------------------------------------------------------------


def test_the_sale_that_crosses_the_reorder_level_mails_active_staff_once(
    app: Flask, staff: None
) -> None:
    with app.app_context():
        mug = make_product(name="Becher", sku="MUG-1", stock_on_hand=7, reorder_level=5).id
        _sell(mug, 2, "a")  # 5 left: not below yet
        assert outbox() == []
        _sell(mug, 1, "b")  # 4 left: below
        assert sorted(_templates()) == [
            ("owner@example.org", "stock_low"),
            ("staff@example.org", "stock_low"),
        ]
        _sell(mug, 1, "c")  # still below: no more mail
        assert len(outbox()) == 2


def test_the_low_stock_mail_names_product_counts_and_link(app: Flask, staff: None) -> None:
    with app.app_context():
        product_id = make_product(
            name="Kanne", slug="kanne", sku="POT-9", stock_on_hand=6, reorder_level=5
        ).id
        _sell(product_id, 3, "a")
        [mail] = outbox("owner@example.org")
        assert "Kanne" in mail.subject
        body = mail.text_body
        assert "POT-9" in body and "Available now: 3" in body and "Reorder level: 5" in body
        assert link_in(mail, "/p/") == "/p/kanne"


def test_staff_read_the_low_stock_mail_in_their_language(app: Flask, staff: None) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=6, reorder_level=5).id
        _set_stock(mug, 2)
        [mail] = outbox("staff@example.org")
        assert mail.text_body.startswith("Hallo")


def test_a_stocktaking_that_lowers_below_the_reorder_level_mails_staff(
    app: Flask, staff: None
) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=10, reorder_level=5).id
        _set_stock(mug, 8)
        assert outbox() == []
        _set_stock(mug, 4)
        assert len(outbox()) == 2


def test_no_low_stock_mail_when_already_below(app: Flask, staff: None) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=3, reorder_level=5).id
        _sell(mug, 1, "a")
        _set_stock(mug, 1)
        assert outbox() == []


def test_no_low_stock_mail_without_a_reorder_level(app: Flask, staff: None) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=3, reorder_level=0).id
        _sell(mug, 3, "a")
        assert outbox() == []


def test_raising_stock_above_the_level_mails_no_staff(app: Flask, staff: None) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=2, reorder_level=5).id
        _set_stock(mug, 9)
        inventory.restock(mug, 3, "delivery")
        assert outbox() == []


# Back in stock -------------------------------------------------------------------------


def _confirm_token(to: str) -> str:
    [mail] = [m for m in outbox(to) if m.template == "stock_alert_confirm"]
    return link_in(mail, CONFIRM).removeprefix(CONFIRM)


def test_a_guest_is_asked_to_confirm_and_only_a_confirmed_request_is_mailed(app: Flask) -> None:
    with app.app_context():
        mug = make_product(name="Becher", slug="becher", stock_on_hand=0).id
        request = stock_alerts.request_alert(mug, " Ana@Example.org ", None, "en")
        assert request is AlertRequest.CONFIRM_SENT
        stock_alerts.request_alert(mug, "bo@example.org", None, "en")  # never confirms
        confirmed = stock_alerts.confirm_alert(_confirm_token("ana@example.org"))
        assert confirmed.product_slug == "becher" and not confirmed.in_stock

        inventory.restock(mug, 3, "delivery")

        back = [m for m in outbox() if m.template == "back_in_stock"]
        assert [m.to_address for m in back] == ["ana@example.org"]
        assert "Becher" in back[0].subject and link_in(back[0], "/p/") == "/p/becher"
        alerts = {a.email: a.notified_at for a in db.session.scalars(select(StockAlert))}
        assert alerts["ana@example.org"] is not None and alerts["bo@example.org"] is None


def test_each_request_is_mailed_once(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=0).id
        stock_alerts.request_alert(mug, "ana@example.org", None, "en")
        stock_alerts.confirm_alert(_confirm_token("ana@example.org"))
        _set_stock(mug, 2)
        inventory.restock(mug, 3, "second delivery")  # still in stock: nothing new
        _sell(mug, 5, "a")
        inventory.restock(mug, 1, "third delivery")  # back again, but she was told already
        assert [m.template for m in outbox("ana@example.org")] == [
            "stock_alert_confirm",
            "back_in_stock",
        ]


def test_a_confirm_link_works_once(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=0).id
        stock_alerts.request_alert(mug, "ana@example.org", None, "en")
        token = _confirm_token("ana@example.org")
        stock_alerts.confirm_alert(token)
        with pytest.raises(TokenError) as used:
            stock_alerts.confirm_alert(token)
        assert used.value.problem is TokenProblem.USED
        with pytest.raises(TokenError) as broken:
            stock_alerts.confirm_alert(token[:-3] + "xyz")
        assert broken.value.problem is TokenProblem.INVALID


def test_asking_again_is_idempotent_and_says_the_same(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=0).id
        first = stock_alerts.request_alert(mug, "ana@example.org", None, "en")
        stock_alerts.confirm_alert(_confirm_token("ana@example.org"))
        again = stock_alerts.request_alert(mug, "ANA@example.org", None, "en")
        assert first is again is AlertRequest.CONFIRM_SENT
        assert db.session.scalars(select(StockAlert.email)).all() == ["ana@example.org"]
        assert len(outbox("ana@example.org")) == 1  # no second link for a confirmed request


def test_a_verified_account_is_on_the_list_at_once(app: Flask) -> None:
    with app.app_context():
        user_id = make_user("jana@example.org", locale="de").id
        mug = make_product(stock_on_hand=0).id
        assert stock_alerts.request_alert(mug, None, user_id, "de") is AlertRequest.SUBSCRIBED
        assert outbox() == []
        inventory.restock(mug, 1, "delivery")
        [mail] = outbox("jana@example.org")
        assert mail.template == "back_in_stock" and mail.text_body.startswith("Hallo")


def test_an_unverified_account_confirms_like_a_guest(app: Flask) -> None:
    with app.app_context():
        user_id = make_user("jana@example.org", verified=False).id
        mug = make_product(stock_on_hand=0).id
        assert stock_alerts.request_alert(mug, None, user_id, "en") is AlertRequest.CONFIRM_SENT
        assert [m.template for m in outbox("jana@example.org")] == ["stock_alert_confirm"]


def test_a_product_in_stock_needs_no_alert(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=1).id
        assert stock_alerts.request_alert(mug, "ana@example.org", None, "en") is (
            AlertRequest.IN_STOCK
        )
        assert db.session.scalars(select(StockAlert)).all() == []


def test_confirming_after_the_restock_says_so_and_mails_nothing(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=0).id
        stock_alerts.request_alert(mug, "ana@example.org", None, "en")
        inventory.restock(mug, 2, "delivery")
        assert stock_alerts.confirm_alert(_confirm_token("ana@example.org")).in_stock
        _sell(mug, 2, "a")
        inventory.restock(mug, 2, "delivery")
        assert [m.template for m in outbox("ana@example.org")] == ["stock_alert_confirm"]


def test_parallel_restocks_mail_each_subscriber_once(app: Flask) -> None:
    with app.app_context():
        mug = make_product(stock_on_hand=0).id
        for name in ("ana", "bo", "cem"):
            stock_alerts.request_alert(mug, f"{name}@example.org", None, "en")
            stock_alerts.confirm_alert(_confirm_token(f"{name}@example.org"))
    errors: list[Exception] = []
    start = threading.Barrier(6)

    def deliver() -> None:
        start.wait()
        with app.app_context():
            try:
                inventory.restock(mug, 1, "delivery")
            except Exception as exc:  # "database is locked" or a deadlock fails the test
                errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        back = sorted(m.to_address for m in outbox() if m.template == "back_in_stock")
        assert back == ["ana@example.org", "bo@example.org", "cem@example.org"]
