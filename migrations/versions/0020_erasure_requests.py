"""erasure requests (Art. 17 GDPR): who asked, the state, the times, the hashed link

Revision ID: 0020_erasure_requests
Revises: 0019_consent
Create Date: 2026-12-03 22:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0020_erasure_requests'
down_revision = '0019_consent'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('erasure_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('state', sa.Enum('requested', 'confirmed', 'postponed', 'done', name='erasurestate', native_enum=False, length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', kiosk.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('requested_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', kiosk.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('postponed_at', kiosk.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', kiosk.orm.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_erasure_request_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_request')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_erasure_request_token_hash'))
    )
    with op.batch_alter_table('erasure_request', schema=None) as batch_op:
        batch_op.create_index('ix_erasure_request_state', ['state', 'requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_erasure_request_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('erasure_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_request_user_id'))
        batch_op.drop_index('ix_erasure_request_state')
    op.drop_table('erasure_request')
