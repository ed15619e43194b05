"""legal texts in the database: every saved version of the imprint, terms, withdrawal policy,
privacy policy and accessibility statement, per language

Revision ID: 0021_legal_texts
Revises: 0020_erasure_requests
Create Date: 2026-12-03 22:40:00.000000

No text is written here: the initial versions are rendered from the shipped templates
with the running shop's settings, which a migration does not see. The first order placed
or the owner's first save stores them (kiosk.legal.services).
"""
from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0021_legal_texts'
down_revision = '0020_erasure_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('legal_text_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('source_digest', sa.String(length=12), nullable=True),
    sa.Column('created_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('number >= 1', name=op.f('ck_legal_text_version_number_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_legal_text_version_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_text_version')),
    sa.UniqueConstraint('kind', 'language', 'number', name=op.f('uq_legal_text_version_kind_language_number'))
    )


def downgrade():
    op.drop_table('legal_text_version')
