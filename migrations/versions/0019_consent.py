"""consent: a record of every visitor's choice about cookies, and the optional categories
the owner uses

Revision ID: 0019_consent
Revises: 0018_privacy_exports
Create Date: 2026-12-03 22:40:00.000000

No category is in use after the upgrade: a shop shows no banner until the owner picks one.
"""
from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0019_consent'
down_revision = '0018_privacy_exports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_category',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('in_use', sa.Boolean(), nullable=False),
    sa.Column('updated_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_consent_category_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_consent_category'))
    )
    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.String(length=32), nullable=False),
    sa.Column('banner_version', sa.String(length=16), nullable=False),
    sa.Column('granted', sa.String(length=100), nullable=False),
    sa.Column('choice', sa.String(length=16), nullable=False),
    sa.Column('created_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_consent_record_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_record'))
    )
    op.create_index('ix_consent_record_consent_id', 'consent_record', ['consent_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_consent_record_consent_id', table_name='consent_record')
    op.drop_table('consent_record')
    op.drop_table('consent_category')
