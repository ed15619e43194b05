"""privacy exports: the hash of each guest's emailed export link, so a link works once

Revision ID: 0018_privacy_exports
Revises: 0017_carriers
Create Date: 2026-12-03 22:45:00.000000

"""

from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = "0018_privacy_exports"
down_revision = "0017_carriers"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "privacy_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", kiosk.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kiosk.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", kiosk.orm.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_export")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_privacy_export_token_hash")),
    )


def downgrade():
    op.drop_table("privacy_export")
