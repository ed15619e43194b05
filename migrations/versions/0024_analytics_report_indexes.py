"""analytics: indexes for the reports over the rollup

The dashboard's reports read a kind's total rows, or all of a kind's rows, over a range of
days; the unique key starts with the period, so it makes them visit every row of the range.

PostgreSQL misjudges how rare a kind's total rows are (their keys are empty, as most other
kinds' are) and starts parallel workers for a few hundred rows, which costs 80 ms instead
of one; these reads are index ranges that never gain from workers.

Revision ID: 0024_analytics_report_indexes
Revises: 0023_analytics
Create Date: 2026-12-04 05:00:00.000000
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0024_analytics_report_indexes'
down_revision = '0023_analytics'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_analytics_rollup_totals', 'analytics_rollup', ['bucket', 'kind', 'product_id', 'category_id', 'step', 'query', 'zero', 'start'], unique=False)
    op.create_index('ix_analytics_rollup_periods', 'analytics_rollup', ['bucket', 'kind', 'start', 'product_id', 'query', 'zero', 'events', 'visitors', 'quantity'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE analytics_rollup SET (parallel_workers = 0)')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE analytics_rollup RESET (parallel_workers)')
    op.drop_index('ix_analytics_rollup_periods', table_name='analytics_rollup')
    op.drop_index('ix_analytics_rollup_totals', table_name='analytics_rollup')
