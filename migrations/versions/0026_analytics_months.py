"""analytics: month rows in the rollup (bucket 'month' needs a wider column)

A long dashboard range read hundreds of day rows per report; a month bucket, summed from
the day rows once a month is final, lets it read a dozen. The bucket column was String(4),
which PostgreSQL enforces: it becomes String(8) so the stored value can say 'month' like
the others say 'day' and 'hour'. PostgreSQL widens a varchar in its catalogue only; SQLite
rebuilds the table (batch mode), keeping its rows and indexes.

Revision ID: 0026_analytics_months
Revises: 0025_dashboard_indexes
Create Date: 2026-12-04 11:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_analytics_months'
down_revision = '0025_dashboard_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('analytics_rollup') as batch_op:
        batch_op.alter_column('bucket', existing_type=sa.String(length=4), type_=sa.String(length=8), existing_nullable=False)


def downgrade():
    op.execute("DELETE FROM analytics_rollup WHERE bucket = 'month'")
    with op.batch_alter_table('analytics_rollup') as batch_op:
        batch_op.alter_column('bucket', existing_type=sa.String(length=8), type_=sa.String(length=4), existing_nullable=False)
