"""analytics: raw events, the day's salt, rolled-up figures; invoices store their net sum

The dashboard adds up revenue in SQL, so every invoice and credit note gets the sum of
its VAT breakdown's net amounts (existing documents are filled in from that breakdown).

Revision ID: 0023_analytics
Revises: 0022_audit_chain
Create Date: 2026-12-04 04:30:00.000000
"""
import json

from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0023_analytics'
down_revision = '0022_audit_chain'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('visitor', sa.String(length=32), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('step', sa.String(length=24), nullable=True),
    sa.Column('query', sa.String(length=100), nullable=True),
    sa.Column('results', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_event'))
    )
    op.create_index('ix_analytics_event_occurred_at_kind', 'analytics_event', ['occurred_at', 'kind'], unique=False)
    op.create_table('analytics_salt',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('salt', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_analytics_salt'))
    )
    op.create_table('analytics_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=4), nullable=False),
    sa.Column('start', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=24), nullable=False),
    sa.Column('query', sa.String(length=100), nullable=False),
    sa.Column('zero', sa.Boolean(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('visitors', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('rolled_up_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_rollup')),
    sa.UniqueConstraint('bucket', 'start', 'kind', 'product_id', 'category_id', 'step', 'query', 'zero', name=op.f('uq_analytics_rollup_key')),
    )
    with op.batch_alter_table('invoice') as batch_op:
        batch_op.add_column(sa.Column('net_cents', sa.Integer(), nullable=False, server_default='0'))
    invoice = sa.table('invoice', sa.column('id', sa.Integer()), sa.column('vat_breakdown', sa.JSON()), sa.column('net_cents', sa.Integer()))
    connection = op.get_bind()
    for row in connection.execute(sa.select(invoice.c.id, invoice.c.vat_breakdown)).all():
        lines = row.vat_breakdown if isinstance(row.vat_breakdown, list) else json.loads(row.vat_breakdown or '[]')
        net = sum(int(line.get('net_cents', 0)) for line in lines)
        connection.execute(invoice.update().where(invoice.c.id == row.id).values(net_cents=net))
    with op.batch_alter_table('invoice') as batch_op:
        batch_op.alter_column('net_cents', server_default=None)


def downgrade():
    with op.batch_alter_table('invoice') as batch_op:
        batch_op.drop_column('net_cents')
    op.drop_table('analytics_rollup')
    op.drop_table('analytics_salt')
    op.drop_index('ix_analytics_event_occurred_at_kind', table_name='analytics_event')
    op.drop_table('analytics_event')
