"""Everything the case page (and the JSON case view) shows of one application, whole: the applicant
(name and ID number unmasked), the current case's report (problems, evidence, reviewer flags, the
notice, materials) with every document's part (fields with reviewer edits applied, each with
where it was read and how sure, the checks), each document's edits and latest mark, every round
and revision, the decisions, the claim and the audit trail. Opening it is audited (``case.viewed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import clock
from intake.audit import audit
from intake.models import (
    Application,
    AuditEvent,
    Case,
    Document,
    DocumentMark,
    FieldEdit,
    ReviewDecision,
    User,
)
from intake.service import audit_trail, cases_of, documents_in_effect
from intake.users import actor_of
from intake.workspace.access import REVIEWABLE, current_case, decision_of_round
from intake.workspace.claims import holder
from intake.workspace.decisions import latest_marks


@dataclass
class DocumentView:
    document: Document
    in_effect: bool  # assessed in the current round
    report: dict[str, Any] | None  # its part of the current case's report (edits applied)
    edits: list[tuple[FieldEdit, str]]  # every edit, oldest first, with its author's username
    mark: DocumentMark | None


@dataclass
class CaseFile:
    application: Application
    case: Case
    documents: list[DocumentView]
    rounds: list[Case]
    decisions: list[ReviewDecision]
    claimed_by: User | None
    open_for_review: bool
    overdue: bool
    due_today: bool
    history: list[AuditEvent]
    usernames: dict[int, str]


def case_file(session: Session, app: Application, user: User) -> CaseFile:
    """The whole case as ``user`` opens it (the caller checked they may see it); audited."""
    case = current_case(session, app)
    in_effect = {d.id for d in documents_in_effect(app, app.round)}
    shown = {d.get("document_id"): d for d in case.report.get("documents", [])}
    ids = [d.id for d in app.documents]
    edits_by_doc: dict[str, list[FieldEdit]] = {}
    for edit in session.scalars(select(FieldEdit).where(FieldEdit.document_id.in_(ids)).order_by(FieldEdit.id)):
        edits_by_doc.setdefault(edit.document_id, []).append(edit)
    marks = latest_marks(session, ids)
    decisions = list(session.scalars(select(ReviewDecision).where(ReviewDecision.application_id == app.id)
                                     .order_by(ReviewDecision.id)))
    user_ids = {e.user_id for es in edits_by_doc.values() for e in es} | {m.user_id for m in marks.values()} | {
        d.user_id for d in decisions}
    usernames = {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    documents = [
        DocumentView(document=doc, in_effect=doc.id in in_effect, report=shown.get(doc.id),
                     edits=[(e, usernames.get(e.user_id, "")) for e in edits_by_doc.get(doc.id, [])],
                     mark=marks.get(doc.id))
        for doc in app.documents
    ]
    held = holder(session, app)
    today = clock.local_date()
    waiting = app.status in REVIEWABLE and decision_of_round(session, app) is None
    audit(session, actor=actor_of(user), action="case.viewed", application_id=app.id, round=app.round)
    return CaseFile(
        application=app, case=case, documents=documents, rounds=list(cases_of(session, app)), decisions=decisions,
        claimed_by=held[1] if held else None, open_for_review=waiting,
        overdue=waiting and case.review_due is not None and case.review_due < today,
        due_today=waiting and case.review_due == today,
        history=list(audit_trail(session, app)), usernames=usernames,
    )
