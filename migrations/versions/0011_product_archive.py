"""product archive: when staff archived a product that orders refer to

Revision ID: 0011_product_archive
Revises: 0010
Create Date: 2026-12-03 18:45:00.000000

A product that an order line names cannot be deleted; staff archive it instead
(inactive, and hidden from the staff list unless asked for).
"""
from alembic import op
import sqlalchemy as sa

import kiosk.orm


# revision identifiers, used by Alembic.
revision = '0011_product_archive'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', kiosk.orm.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
