"""picture variants: the key that names a product picture's sized variants

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 15:40:00.000000

Width and height were there already (and empty); `flask kiosk picture-variants`
fills all three for pictures added before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product_image', schema=None) as batch_op:
        batch_op.add_column(sa.Column('picture_key', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('product_image', schema=None) as batch_op:
        batch_op.drop_column('picture_key')
