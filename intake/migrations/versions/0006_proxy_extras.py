"""proxy applications and extra materials (issue 14): the agent (代办人) of an application

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:30:00

The per-disease extra materials are policy data (intake/policies/*.yaml) and new document types are
values of the documents' JSON report: neither needs a column.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('agent_id_number', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('agent_relationship', sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('agent_relationship')
        batch_op.drop_column('agent_id_number')
        batch_op.drop_column('agent_name')
