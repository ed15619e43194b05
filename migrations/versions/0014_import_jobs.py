"""import jobs: CSV files uploaded in the back office, checked and then written in batches

Revision ID: 0014_import_jobs
Revises: 0013_category_active
Create Date: 2026-12-03 18:45:48.392937

"""
from alembic import op
import sqlalchemy as sa
import kiosk.orm  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0014_import_jobs'
down_revision = '0013_category_active'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('products', 'categories', name='importkind', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('uploaded', 'checking', 'checked', 'applying', 'done', 'failed', name='importstatus', native_enum=False, length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('encoding', sa.String(length=20), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('changed_count', sa.Integer(), nullable=False),
    sa.Column('unchanged_count', sa.Integer(), nullable=False),
    sa.Column('refused_count', sa.Integer(), nullable=False),
    sa.Column('problem_count', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kiosk.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', kiosk.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', kiosk.orm.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['applied_by_id'], ['user_account.id'], name=op.f('fk_import_job_applied_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_import_job_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job'))
    )
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_job_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_job_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_job_status'))
        batch_op.drop_index(batch_op.f('ix_import_job_created_by_id'))

    op.drop_table('import_job')
