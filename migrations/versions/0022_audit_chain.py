"""audit log: append-only triggers, hash chain, chain head

The triggers refuse DELETE and every UPDATE of audit_event but one that changes
nothing except ip_address (the retention job shortening it). audit_event loses its
foreign keys to user_account: the log outlives an erased account, and ON DELETE SET
NULL would be an update. Existing entries are chained in id order.

On SQLite a later batch migration of audit_event rebuilds the table, which drops its
triggers: such a migration must create them again (see SQLITE_TRIGGERS).

Revision ID: 0022_audit_chain
Revises: 0021_legal_texts
Create Date: 2026-12-03 22:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)
from kiosk.audit.models import GENESIS_HASH, chain_hash


# revision identifiers, used by Alembic.
revision = '0022_audit_chain'
down_revision = '0021_legal_texts'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: entries are never deleted'); END""",
    # Every column but ip_address (a new column of audit_event belongs in this list).
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
WHEN NEW.id IS NOT OLD.id OR NEW.occurred_at IS NOT OLD.occurred_at
  OR NEW.event IS NOT OLD.event OR NEW.actor_id IS NOT OLD.actor_id
  OR NEW.subject_id IS NOT OLD.subject_id OR NEW.details IS NOT OLD.details
  OR NEW.prev_hash IS NOT OLD.prev_hash OR NEW.hash IS NOT OLD.hash
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: only ip_address may be shortened'); END""",
)

# The row as JSON without ip_address: any new column is covered without a new function.
POSTGRESQL_FUNCTION = """
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_event is append-only: entries are never deleted';
    END IF;
    IF (to_jsonb(NEW) - 'ip_address') IS DISTINCT FROM (to_jsonb(OLD) - 'ip_address') THEN
        RAISE EXCEPTION 'audit_event is append-only: only ip_address may be shortened';
    END IF;
    RETURN NEW;
END
$$"""
POSTGRESQL_TRIGGER = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"""

audit_event = sa.table(
    'audit_event',
    sa.column('id', sa.Integer()),
    sa.column('occurred_at', kiosk.orm.UTCDateTime(timezone=True)),
    sa.column('event', sa.String()),
    sa.column('actor_id', sa.Integer()),
    sa.column('subject_id', sa.Integer()),
    sa.column('ip_address', sa.String()),
    sa.column('details', sa.JSON()),
    sa.column('prev_hash', sa.String()),
    sa.column('hash', sa.String()),
)


def upgrade():
    head = op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_audit_event_actor_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_audit_event_subject_id_user_account'), type_='foreignkey')

    last_hash, length = _chain_existing(op.get_bind())
    op.bulk_insert(head, [{'id': 1, 'last_hash': last_hash, 'length': length}])

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_hash'), ['hash'])

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def _chain_existing(bind):
    """Chain the entries there are, in id order; the chain's last hash and length."""
    prev, length = GENESIS_HASH, 0
    rows = bind.execute(sa.select(audit_event).order_by(audit_event.c.id)).mappings().all()
    for row in rows:
        digest = chain_hash(
            prev,
            occurred_at=row['occurred_at'],
            event=row['event'],
            actor_id=row['actor_id'],
            subject_id=row['subject_id'],
            ip_address=row['ip_address'],
            details=row['details'],
        )
        bind.execute(
            audit_event.update()
            .where(audit_event.c.id == row['id'])
            .values(prev_hash=prev, hash=digest)
        )
        prev, length = digest, length + 1
    return prev, length


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_event_append_only ON audit_event')
        op.execute('DROP FUNCTION audit_event_append_only()')
    else:
        op.execute('DROP TRIGGER audit_event_no_update')
        op.execute('DROP TRIGGER audit_event_no_delete')
    # The foreign keys come back: ids of accounts that are gone become NULL, as they would have.
    for column in ('actor_id', 'subject_id'):
        op.execute(
            f'UPDATE audit_event SET {column} = NULL WHERE {column} IS NOT NULL '
            f'AND {column} NOT IN (SELECT id FROM user_account)'
        )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_hash'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_subject_id_user_account'), 'user_account', ['subject_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_actor_id_user_account'), 'user_account', ['actor_id'], ['id'], ondelete='SET NULL')
    op.drop_table('audit_chain_head')
