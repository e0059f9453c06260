"""submission times, withdrawn and replaced documents, operator-only error detail, revoked keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_applications_channel_ref', ['channel_id', 'external_ref'], unique=False)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_detail', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_round', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('replaces_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('review_due')
        batch_op.drop_column('submitted_at')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('replaces_id')
        batch_op.drop_column('withdrawn_round')
        batch_op.drop_column('error_detail')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_channel_ref')
        batch_op.drop_column('submitted_at')
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
