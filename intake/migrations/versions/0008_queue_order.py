"""the reviewers' queue in deadline order from an index: applications.review_due (the current case's)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:50:00

"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))
    # Every application's current case: its round, not superseded.
    op.execute(
        "UPDATE applications SET review_due = (SELECT c.review_due FROM cases c WHERE c.application_id = "
        "applications.id AND c.round = applications.round AND c.superseded_by IS NULL ORDER BY c.id DESC LIMIT 1)"
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_tags', sa.Text(), nullable=True))
    _fill_queue_tags()
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_region_status')
        batch_op.create_index('ix_applications_queue', ['region', 'status', 'review_due', 'id'], unique=False)
        batch_op.create_index('ix_applications_region_due', ['region', 'review_due', 'id'], unique=False)
        batch_op.create_index('ix_applications_id_number', ['id_number'], unique=False)
        batch_op.create_index('ix_applications_name', ['applicant_name'], unique=False,
                              postgresql_ops={'applicant_name': 'varchar_pattern_ops'})
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_review_due')
        batch_op.create_index('ix_cases_current', ['application_id', 'round', 'superseded_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_current')
        batch_op.create_index('ix_cases_review_due', ['review_due', 'id'], unique=False)
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_name')
        batch_op.drop_index('ix_applications_id_number')
        batch_op.drop_index('ix_applications_region_due')
        batch_op.drop_index('ix_applications_queue')
        batch_op.create_index('ix_applications_region_status', ['region', 'status'], unique=False)
        batch_op.drop_column('queue_tags')
        batch_op.drop_column('review_due')


def _fill_queue_tags() -> None:
    """Each application's current case's problem and flag kinds (intake.models.queue_tags, as it
    was when this migration was written)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT a.id, c.problems, c.report FROM applications a JOIN cases c ON c.application_id = a.id "
        "AND c.round = a.round AND c.superseded_by IS NULL")).all()
    for app_id, problems, report in rows:
        problems = json.loads(problems) if isinstance(problems, str) else problems or []
        report = json.loads(report) if isinstance(report, str) else report or {}
        flags = [f.get("code") for f in report.get("review_flags") or [] if isinstance(f, dict)]
        kinds = sorted({f"p:{str(c).partition(':')[0]}" for c in problems}
                       | {f"f:{str(c).partition(':')[0]}" for c in flags if c})
        tags = "|" + "|".join(kinds) + "|" if kinds else "|"
        bind.execute(sa.text("UPDATE applications SET queue_tags = :tags WHERE id = :id"), {"tags": tags, "id": app_id})
