"""settings in the database: versioned seller details that invoices refer to

Revision ID: 0011_settings
Revises: 0010
Create Date: 2026-12-03 19:00:00.000000

The first seller version is not written here: it comes from the running shop's
environment (KIOSK_SELLER_*, KIOSK_BANK_*), which a migration does not see; the
first invoice issued or the first save in the back office stores it.
"""
from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0011_settings'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('seller_profile_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('vat_id', sa.String(length=40), nullable=False),
    sa.Column('tax_number', sa.String(length=40), nullable=False),
    sa.Column('account_holder', sa.String(length=200), nullable=False),
    sa.Column('iban', sa.String(length=64), nullable=False),
    sa.Column('bic', sa.String(length=40), nullable=False),
    sa.Column('bank_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('invoice_footer', sa.Text(), nullable=False),
    sa.Column('created_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_seller_profile_version_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seller_profile_version'))
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seller_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_invoice_seller_version_id_seller_profile_version'), 'seller_profile_version', ['seller_version_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invoice_seller_version_id_seller_profile_version'), type_='foreignkey')
        batch_op.drop_column('seller_version_id')

    op.drop_table('seller_profile_version')
