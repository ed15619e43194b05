"""Migrations are how every database gets its schema; they must match the models."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from kiosk import create_app
from kiosk.extensions import db
from kiosk.models import Base
from kiosk.services.health import migration_heads
from tests.conftest import settings_for


def test_models_and_migrations_agree(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_database_is_at_the_newest_revision(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    assert current == set(migration_heads())


def test_migrations_go_down_and_up_again(database_url: str, tmp_path: Path) -> None:
    # A database of its own, so the shared one keeps its schema.
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'updown.sqlite3'}"
    else:
        from tests.postgres import create_database

        url = create_database(database_url.rsplit("/", 1)[0], f"updown_{tmp_path.name[-20:]}")
    app = create_app(settings_for(url, tmp_path))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        db.engine.dispose()
