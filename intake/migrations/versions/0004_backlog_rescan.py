"""backlog import and re-scan (issue 13): versions per assessment, import records

Cases record the versions they were made with and may have several revisions per round (a re-scan
adds one and keeps the old); imports are keyed for idempotency; re-scan runs keep their progress.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('versions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('superseded_by', sa.Integer(), nullable=True))
        batch_op.drop_constraint('uq_case_round', type_='unique')
        batch_op.create_unique_constraint('uq_case_round_revision', ['application_id', 'round', 'revision'])
    op.create_table(
        'import_records',
        sa.Column('import_key', sa.String(length=64), nullable=False),
        sa.Column('external_ref', sa.String(length=200), nullable=False),
        sa.Column('application_id', sa.String(length=32), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.PrimaryKeyConstraint('import_key'),
    )
    op.create_index('ix_import_records_external_ref', 'import_records', ['external_ref'])
    op.create_index('ix_import_records_application_id', 'import_records', ['application_id'])
    op.create_table(
        'rescan_runs',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('selection', sa.JSON(), nullable=False),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('force_ocr', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('batch_size', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'rescan_items',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('run_id', sa.String(length=32), nullable=False),
        sa.Column('application_id', sa.String(length=32), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('batch', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('worker', sa.String(length=200), nullable=True),
        sa.Column('redone', sa.String(length=20), nullable=True),
        sa.Column('changed', sa.Boolean(), nullable=False),
        sa.Column('decided', sa.Boolean(), nullable=False),
        sa.Column('diff', sa.JSON(), nullable=True),
        sa.Column('documents', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['rescan_runs.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('run_id', 'application_id', name='uq_rescan_item'),
    )
    op.create_index('ix_rescan_items_run_state', 'rescan_items', ['run_id', 'state'])
    op.create_index('ix_rescan_items_batch', 'rescan_items', ['batch'])


def downgrade() -> None:
    op.drop_index('ix_rescan_items_batch', table_name='rescan_items')
    op.drop_index('ix_rescan_items_run_state', table_name='rescan_items')
    op.drop_table('rescan_items')
    op.drop_table('rescan_runs')
    op.drop_index('ix_import_records_application_id', table_name='import_records')
    op.drop_index('ix_import_records_external_ref', table_name='import_records')
    op.drop_table('import_records')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_case_round_revision', type_='unique')
        batch_op.create_unique_constraint('uq_case_round', ['application_id', 'round'])
        batch_op.drop_column('superseded_by')
        batch_op.drop_column('revision')
        batch_op.drop_column('versions')

