"""dashboard: indexes for the sums of a period (orders placed, documents issued,
withdrawals received, a buyer's earlier orders)

With 100,000 orders the dashboard must answer in under 300 ms for any range, so every
figure it sums reads an index range instead of the whole table; the indexes of orders and documents
cover the columns summed, so the wide rows (addresses, PDFs) are not read at all.

Revision ID: 0025_dashboard_indexes
Revises: 0024_analytics_report_indexes
Create Date: 2026-12-04 04:45:00.000000
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025_dashboard_indexes'
down_revision = '0024_analytics_report_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_customer_order_placed_at', 'customer_order', ['placed_at', 'currency', 'total_cents', 'user_id', 'email'], unique=False)
    op.create_index('ix_customer_order_email', 'customer_order', ['email', 'placed_at'], unique=False)
    op.create_index('ix_invoice_issued_at', 'invoice', ['issued_at', 'currency', 'kind', 'amount_cents', 'net_cents', 'order_id'], unique=False)
    op.create_index('ix_order_event_kind_created_at', 'order_event', ['kind', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_order_event_kind_created_at', table_name='order_event')
    op.drop_index('ix_invoice_issued_at', table_name='invoice')
    op.drop_index('ix_customer_order_email', table_name='customer_order')
    op.drop_index('ix_customer_order_placed_at', table_name='customer_order')
