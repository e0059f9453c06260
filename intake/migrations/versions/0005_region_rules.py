"""region rules (issue 14): qualification validity, complex cases

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 15:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 复杂病例: a reviewer's mark that gives the application the policy's longer review deadline.
    with op.batch_alter_table('applications') as batch_op:
        batch_op.add_column(sa.Column('complex_case', sa.Boolean(), nullable=False, server_default=sa.false()))
    # 复审: the valid-until date an approval records, listed by `intake review-due-list`.
    with op.batch_alter_table('cases') as batch_op:
        batch_op.add_column(sa.Column('qualification_valid_until', sa.Date(), nullable=True))
        batch_op.create_index('ix_cases_qualification_valid_until', ['qualification_valid_until'])


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch_op:
        batch_op.drop_index('ix_cases_qualification_valid_until')
        batch_op.drop_column('qualification_valid_until')
    with op.batch_alter_table('applications') as batch_op:
        batch_op.drop_column('complex_case')
