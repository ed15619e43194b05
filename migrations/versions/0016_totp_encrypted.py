"""TOTP secrets encrypted at rest: a wider column, and every stored secret encrypted

Revision ID: 0016_totp_encrypted
Revises: 0015_settings
Create Date: 2026-12-03 22:30:00.000000

The secrets are encrypted with the running shop's keys (KIOSK_DATA_KEYS, or in
development the key derived from SECRET_KEY), read by `kiosk.encryption` from the
app that runs the migration, exactly as the shop reads them. The downgrade
decrypts them again. Neither can be written as SQL (`flask db upgrade --sql`):
the encryption happens in Python, so offline mode refuses this revision.
"""
from alembic import context, op
import sqlalchemy as sa

from kiosk import encryption


# revision identifiers, used by Alembic.
revision = '0016_totp_encrypted'
down_revision = '0015_settings'
branch_labels = None
depends_on = None

_user = sa.table('user_account', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def _rewrite(change):
    """Apply `change` to every stored secret; a None result leaves that secret as it is."""
    if context.is_offline_mode():
        raise RuntimeError(
            "0016_totp_encrypted encrypts stored TOTP secrets with KIOSK_DATA_KEYS and"
            " cannot be written as SQL: run `flask db upgrade` against the database"
        )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_user.c.id, _user.c.totp_secret).where(_user.c.totp_secret.is_not(None))
    ).all()
    for user_id, secret in rows:
        new = change(secret)
        if new is not None:
            connection.execute(
                _user.update().where(_user.c.id == user_id).values(totp_secret=new)
            )


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('totp_secret',
               existing_type=sa.String(length=64),
               type_=sa.String(length=255),
               existing_nullable=True)
    # A secret a listed key already decrypts is left alone, so a rerun after a failure is safe.
    _rewrite(lambda secret: None if encryption.is_encrypted(secret) else encryption.encrypt(secret))


def downgrade():
    _rewrite(encryption.decrypt)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('totp_secret',
               existing_type=sa.String(length=255),
               type_=sa.String(length=64),
               existing_nullable=True)
