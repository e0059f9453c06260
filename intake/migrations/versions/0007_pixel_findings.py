"""pixel findings cached beside the OCR result (issue 13: re-classification without redrawing pages)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:40:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # What the page pixels showed (blank-page ink, quality measures, signature areas), keyed inside
    # by the pixel findings' version: NULL until a document is analysed, which then fills it.
    with op.batch_alter_table('ocr_cache', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pixels', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ocr_cache', schema=None) as batch_op:
        batch_op.drop_column('pixels')
