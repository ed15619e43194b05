"""settings in the database: versioned seller details that invoices refer to; shipping methods;
shop name, mail sender and refund limit

Revision ID: 0015_settings
Revises: 0014_import_jobs
Create Date: 2026-12-03 19:00:00.000000

The first seller version is not written here: it comes from the running shop's
environment (KIOSK_SELLER_*, KIOSK_BANK_*), which a migration does not see; the
first invoice issued or the first save in the back office stores it. Likewise the
shipping methods: the table stays empty (the shipping file is the list) until the
owner's first save copies the file into it.
"""
from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0015_settings'
down_revision = '0014_import_jobs'
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

    op.create_table('shipping_method',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('delivery', sa.JSON(), nullable=False),
    sa.Column('countries', sa.JSON(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('free_above_cents', sa.Integer(), nullable=True),
    sa.Column('carrier', sa.String(length=40), nullable=True),
    sa.Column('updated_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('flat', 'weight')", name=op.f('ck_shipping_method_known_kind')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_shipping_method_price_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipping_method')),
    sa.UniqueConstraint('code', name=op.f('uq_shipping_method_code'))
    )
    op.create_table('shop_setting',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_shop_setting_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_shop_setting'))
    )


def downgrade():
    op.drop_table('shop_setting')
    op.drop_table('shipping_method')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invoice_seller_version_id_seller_profile_version'), type_='foreignkey')
        batch_op.drop_column('seller_version_id')

    op.drop_table('seller_profile_version')
