"""sales rollup: the dashboard's sales per closed day and month; orders know their buyer's
previous order

`sales_rollup` holds what each closed local day (and calendar month) sold, so that the
dashboard reads a year as twelve months instead of summing 100,000 orders. Each order gets
`previous_order_at`, when the same buyer (account, or a guest's address among guest
orders) ordered before it, so new and returning buyers are counted in one pass over the
period; existing orders are filled in from their buyers' history (ties by id).

Revision ID: 0027_sales_rollup
Revises: 0026_analytics_months
Create Date: 2026-12-04 10:35:46.783262
"""
from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0027_sales_rollup'
down_revision = '0026_analytics_months'
branch_labels = None
depends_on = None

# The order before: the latest earlier order of the same buyer (an earlier id breaks ties).
_PREVIOUS = """
UPDATE customer_order SET previous_order_at = (
    SELECT max(earlier.placed_at) FROM customer_order AS earlier
    WHERE {same_buyer}
      AND (earlier.placed_at < customer_order.placed_at
           OR (earlier.placed_at = customer_order.placed_at AND earlier.id < customer_order.id))
)
WHERE {buyer}
"""


def upgrade():
    op.create_table('sales_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=8), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('order_total_cents', sa.BigInteger(), nullable=False),
    sa.Column('gross_cents', sa.BigInteger(), nullable=False),
    sa.Column('net_cents', sa.BigInteger(), nullable=False),
    sa.Column('credited_orders', sa.Integer(), nullable=False),
    sa.Column('withdrawals', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
    sa.Column('rolled_up_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_rollup')),
    sa.UniqueConstraint('bucket', 'day', 'currency', 'product_id', name='uq_sales_rollup_key')
    )
    op.create_index('ix_sales_rollup_totals', 'sales_rollup', ['bucket', 'product_id', 'day'], unique=False)

    op.add_column('customer_order', sa.Column('previous_order_at', kiosk.orm.UTCDateTime(timezone=True), nullable=True))
    op.execute(_PREVIOUS.format(
        same_buyer="earlier.user_id = customer_order.user_id",
        buyer="customer_order.user_id IS NOT NULL",
    ))
    op.execute(_PREVIOUS.format(
        same_buyer="earlier.user_id IS NULL AND earlier.email = customer_order.email",
        buyer="customer_order.user_id IS NULL",
    ))
    op.drop_index('ix_customer_order_placed_at', table_name='customer_order')
    op.create_index('ix_customer_order_placed_at', 'customer_order', ['placed_at', 'currency', 'total_cents', 'previous_order_at'], unique=False)


def downgrade():
    op.drop_index('ix_customer_order_placed_at', table_name='customer_order')
    op.create_index('ix_customer_order_placed_at', 'customer_order', ['placed_at', 'currency', 'total_cents', 'user_id', 'email'], unique=False)
    op.drop_column('customer_order', 'previous_order_at')
    op.drop_index('ix_sales_rollup_totals', table_name='sales_rollup')
    op.drop_table('sales_rollup')
