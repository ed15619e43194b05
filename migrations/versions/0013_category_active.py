"""category active: staff can take a category out of the shop without deleting it

Revision ID: 0013_category_active
Revises: 0012_customer_notes_invitations
Create Date: 2026-12-03 19:00:00.000000

Existing categories stay visible (the default is true). The new inventory movement
kinds `count` and `damage` need no change: the kind is a plain string column.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_category_active'
down_revision = '0012_customer_notes_invitations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_active', sa.Boolean(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_column('is_active')
