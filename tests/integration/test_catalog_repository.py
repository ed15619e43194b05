"""Catalog queries and writes against a real database."""

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from kiosk.catalog.models import Product
from kiosk.catalog.repository import ProductFilter, ProductRepository
from kiosk.extensions import db
from kiosk.uow import NestedUnitOfWork, unit_of_work
from tests.factories import make_category, make_product


def _names(products: list[Product] | tuple[Product, ...]) -> list[str]:
    return [p.name for p in products]


def test_search_matches_name_sku_and_description_case_insensitively(app: Flask) -> None:
    with app.app_context():
        make_product(name="Grüner Tee Sencha", sku="TEE-1")
        make_product(
            name="Kaffeebecher „Bär“", sku="BECHER-7", description="Steinzeug, spülmaschinenfest"
        )
        make_product(name="Notizbuch", sku="NB-1")
        repo = ProductRepository(db.session)
        for term, expected in [
            ("GRÜNER", ["Grüner Tee Sencha"]),
            ("becher-7", ["Kaffeebecher „Bär“"]),
            ("SPÜLMASCHINE", ["Kaffeebecher „Bär“"]),
            ("tee sencha", ["Grüner Tee Sencha"]),
        ]:
            assert _names(repo.list_active(ProductFilter(search=term), "name", 10)) == expected


def test_search_treats_like_wildcards_as_plain_text(app: Flask) -> None:
    with app.app_context():
        make_product(name="100% Baumwolle")
        make_product(name="Leinen")
        repo = ProductRepository(db.session)
        assert _names(repo.list_active(ProductFilter(search="%"), "name", 10)) == ["100% Baumwolle"]
        assert repo.list_active(ProductFilter(search="_"), "name", 10) == []


def test_filters_combine(app: Flask) -> None:
    with app.app_context():
        tea = make_category("Tee")
        make_product(name="A", category=tea, price_cents=500, stock_on_hand=3)
        make_product(name="B", category=tea, price_cents=1500, stock_on_hand=0)
        make_product(name="C", category=tea, price_cents=2500, stock_on_hand=1)
        make_product(name="D", price_cents=1000)
        make_product(name="E", category=tea, price_cents=900, is_active=False)
        repo = ProductRepository(db.session)
        f = ProductFilter(category_ids=[tea.id], min_cents=500, max_cents=2000)
        assert _names(repo.list_active(f, "name", 10)) == ["A", "B"]
        f = ProductFilter(category_ids=[tea.id], in_stock=True)
        assert _names(repo.list_active(f, "price_desc", 10)) == ["C", "A"]
        assert repo.count_active(ProductFilter()) == 4


def test_sorts_and_pages_are_stable(app: Flask) -> None:
    with app.app_context():
        now = datetime.now(UTC)
        for i in range(7):
            make_product(
                name=f"P{i}", price_cents=100 * (i % 3), created_at=now - timedelta(days=i)
            )
        repo = ProductRepository(db.session)
        pages = [
            _names(repo.list_active(ProductFilter(), "price_asc", 3, offset))
            for offset in (0, 3, 6)
        ]
        assert sorted(name for page in pages for name in page) == [
            f"P{i}" for i in range(7)
        ]  # no product twice, none lost
        assert _names(repo.list_active(ProductFilter(), "newest", 2)) == ["P0", "P1"]


def test_stock_can_never_go_below_zero(app: Flask) -> None:
    with app.app_context():
        product = make_product(stock_on_hand=1)
        with pytest.raises(IntegrityError), unit_of_work() as session:
            session.execute(
                text("UPDATE product SET stock_on_hand = -1 WHERE id = :id"), {"id": product.id}
            )


def test_compare_at_price_must_be_above_the_price(app: Flask) -> None:
    with app.app_context(), pytest.raises(IntegrityError):
        make_product(price_cents=1000, compare_at_cents=900)


def test_sku_and_slug_are_unique(app: Flask) -> None:
    with app.app_context():
        make_product(sku="X-1", slug="x")
        with pytest.raises(IntegrityError):
            make_product(sku="X-1", slug="y")


def test_deleting_a_product_deletes_its_images(app: Flask) -> None:
    with app.app_context():
        product = make_product(images=2)
        with unit_of_work() as session:
            session.delete(session.get(Product, product.id))
        assert db.session.execute(text("SELECT count(*) FROM product_image")).scalar() == 0


def test_timestamps_come_back_as_aware_utc(app: Flask) -> None:
    with app.app_context():
        make_product(name="Uhr")
        db.session.expire_all()
        created = db.session.scalar(select(Product.created_at))
        assert created is not None and created.tzinfo is not None
        assert created.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)


def test_unit_of_work_rolls_back_on_error(app: Flask) -> None:
    with app.app_context():
        with pytest.raises(RuntimeError), unit_of_work() as session:
            ProductRepository(session).save(
                Product(name="Weg", slug="weg", sku="W-1", price_cents=100)
            )
            session.flush()
            raise RuntimeError("boom")
        assert ProductRepository(db.session).get_by_sku("W-1") is None


def test_units_of_work_do_not_nest(app: Flask) -> None:
    with app.app_context(), unit_of_work(), pytest.raises(NestedUnitOfWork), unit_of_work():
        pass
