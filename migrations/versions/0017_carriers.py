"""carriers in the database, edited by the owner in the back office

Revision ID: 0017_carriers
Revises: 0016_totp_encrypted
Create Date: 2026-12-03 22:30:00.000000

Like the shipping methods of 0015, the table stays empty here: the shipping file
(KIOSK_SHIPPING_FILE), which a migration does not see, is the list of carriers
until the owner's first save of a carrier copies it into the table.
"""
from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0017_carriers'
down_revision = '0016_totp_encrypted'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('carrier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('tracking_url', sa.String(length=500), nullable=False),
    sa.Column('updated_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier')),
    sa.UniqueConstraint('code', name=op.f('uq_carrier_code'))
    )


def downgrade():
    op.drop_table('carrier')
