"""reviewer workspace (issue 12): users, claims, decisions, field edits

Users with argon2 password hashes and personal API tokens; one claim per application; reviewers'
field edits and document marks kept apart from the extraction; decisions per round; the reviewer
flags' codes beside each case and the indexes of the reviewers' queue.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 15:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column:
    return sa.Column('created_at', sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('display_name', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('regions', sa.JSON(), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        _created_at(),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
    )
    op.create_table(
        'user_tokens',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        _created_at(),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_sha256'),
    )
    op.create_index('ix_user_tokens_user_id', 'user_tokens', ['user_id'])
    op.create_table(
        'case_claims',
        sa.Column('application_id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('application_id'),
    )
    op.create_index('ix_case_claims_user_id', 'case_claims', ['user_id'])
    op.create_table(
        'field_edits',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('application_id', sa.String(length=32), nullable=False),
        sa.Column('document_id', sa.String(length=32), nullable=False),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('value', sa.Text(), nullable=True),
        sa.Column('previous', sa.Text(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_field_edits_application_id', 'field_edits', ['application_id'])
    op.create_index('ix_field_edits_document', 'field_edits', ['document_id', 'id'])
    op.create_table(
        'review_decisions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('application_id', sa.String(length=32), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('decision', sa.String(length=32), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('notice', sa.Text(), nullable=True),
        sa.Column('prescreen_verdict', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id', 'round', name='uq_review_decision_round'),
    )
    op.create_index('ix_review_decisions_created', 'review_decisions', ['created_at'])
    op.create_table(
        'document_marks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('application_id', sa.String(length=32), nullable=False),
        sa.Column('document_id', sa.String(length=32), nullable=False),
        sa.Column('mark', sa.String(length=20), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_document_marks_application_id', 'document_marks', ['application_id'])
    op.create_index('ix_document_marks_document', 'document_marks', ['document_id', 'id'])
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_codes', sa.JSON(), nullable=True))
        batch_op.create_index('ix_cases_review_due', ['review_due', 'id'], unique=False)
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_region_status', ['region', 'status'], unique=False)
    _backfill_flag_codes()


def _backfill_flag_codes() -> None:
    """Existing cases: the codes of their reports' reviewer flags (later writes keep them, models.py)."""
    cases = sa.table('cases', sa.column('id', sa.Integer()), sa.column('report', sa.JSON()),
                     sa.column('flag_codes', sa.JSON()))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(cases.c.id, cases.c.report).where(cases.c.id > last)
                            .order_by(cases.c.id).limit(500)).all()
        if not rows:
            return
        for row in rows:
            codes = [flag.get('code') for flag in (row.report or {}).get('review_flags') or []]
            bind.execute(cases.update().where(cases.c.id == row.id).values(flag_codes=codes))
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_region_status')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_review_due')
        batch_op.drop_column('flag_codes')
    for table in ('document_marks', 'review_decisions', 'field_edits', 'case_claims', 'user_tokens', 'users'):
        op.drop_table(table)
