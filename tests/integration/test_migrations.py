"""Migrations are how every database gets its schema; they must match the models."""

from pathlib import Path

import pyotp
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from kiosk import create_app
from kiosk.accounts import two_factor
from kiosk.encryption import decrypt
from kiosk.extensions import db
from kiosk.operations.health import migration_heads
from kiosk.orm import Base
from tests.conftest import settings_for
from tests.postgres import create_database


def _empty_database(database_url: str, tmp_path: Path) -> str:
    """A database of this backend's kind for one test, so the shared one keeps its schema."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'own.sqlite3'}"
    return create_database(database_url.rsplit("/", 1)[0], f"own_{tmp_path.name[-20:]}")


def test_models_and_migrations_agree(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_database_is_at_the_newest_revision(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    assert current == set(migration_heads())


def test_migrations_go_down_and_up_again(database_url: str, tmp_path: Path) -> None:
    app = create_app(settings_for(_empty_database(database_url, tmp_path), tmp_path))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        db.engine.dispose()


def test_upgrading_keeps_the_shops_data(database_url: str, tmp_path: Path) -> None:
    """Rebuilding a table (SQLite batch mode) must not cascade into its children."""
    app = create_app(settings_for(_empty_database(database_url, tmp_path), tmp_path))
    with app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO product (id, slug, sku, name, description, price_cents, currency,"
                " vat_class, delivery_time, weight_grams, is_active, is_featured, stock_on_hand,"
                " search_text, created_at, updated_at) VALUES (1, 'tee', 'T-1', 'Tee', '', 450,"
                " 'EUR', 'reduced', '', 0, true, false, 7, 'tee', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO product_image (product_id, position, filename, alt)"
                " VALUES (1, 0, 'tee.webp', 'Tee')"
            )
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM product_image").scalar() == 1
            movements = conn.exec_driver_sql("SELECT kind, quantity FROM inventory_movement").all()
            assert [tuple(m) for m in movements] == [("adjustment", 7)]
        db.engine.dispose()


def test_a_plain_totp_secret_from_before_0016_works_after_it(
    database_url: str, tmp_path: Path
) -> None:
    """0016 encrypts stored secrets with the shop's key; the downgrade gives them back."""
    secret = pyotp.random_base32()
    app = create_app(settings_for(_empty_database(database_url, tmp_path), tmp_path))
    with app.app_context():
        upgrade(revision="0015_settings")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO user_account (id, email, password_hash, name, phone, locale,"
                    " role, is_active, session_version, totp_secret, totp_enabled_at,"
                    " created_at) VALUES (7, 'jana@example.org', 'x', 'Jana', '', 'de',"
                    " 'staff', true, 1, :secret, '2026-01-01 00:00:00',"
                    " '2026-01-01 00:00:00')"
                ),
                {"secret": secret},
            )
        upgrade()
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT totp_secret FROM user_account")).scalar_one()
        assert stored != secret and decrypt(stored) == secret
        assert two_factor.complete_second_factor(7, pyotp.TOTP(secret).now()) is not None
        db.session.remove()
        downgrade(revision="0015_settings")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT totp_secret FROM user_account")).scalar() == secret
        db.engine.dispose()
