"""A reviewer's decisions on a round, and marks on single documents.

- approve: the application is ``approved`` (final); the qualification's valid-until date (复审) is
  recorded on the case.
- reject, with reason codes (``REJECT_REASONS``; "other" needs a note): ``rejected`` (final).
- request a supplement, with the notice as the reviewer edited it: the application goes to
  ``needs_supplement`` and re-opens for uploads exactly as the pre-screen's 补正 does; a new revision
  of the current case carries the reviewer's notice and problems (the pre-screen's plus a
  ``retake:<file>`` for each document marked for a retake), and the app is called back with it
  through its callback URL (``intake.callbacks``), as for a pre-screen verdict.

Per document: ``accepted`` or ``retake`` with reasons (``RETAKE_REASONS``); the newest mark wins.
A decision releases the case's claim. Every decision and mark is in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import clock
from intake.audit import audit
from intake.errors import InvalidInput, NotFound
from intake.models import (
    Application,
    ApplicationStatus,
    CallbackDelivery,
    Case,
    Document,
    DocumentMark,
    ReviewDecision,
    User,
)
from intake.policy import PolicyBook
from intake.reasons import REJECT_REASONS, RETAKE_REASONS
from intake.service import documents_in_effect, record_qualification
from intake.users import actor_of
from intake.workspace.access import require_open
from intake.workspace.claims import ensure_working, release


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_SUPPLEMENT = "request_supplement"


# What each decision makes of the application (and ReviewDecision.decision).
OUTCOME = {
    Decision.APPROVE: ApplicationStatus.APPROVED,
    Decision.REJECT: ApplicationStatus.REJECTED,
    Decision.REQUEST_SUPPLEMENT: ApplicationStatus.NEEDS_SUPPLEMENT,
}

class Mark(StrEnum):
    ACCEPTED = "accepted"
    RETAKE = "retake"


def _codes(reasons: Sequence[str], allowed: dict[str, str], what: str) -> list[str]:
    codes = list(dict.fromkeys(reasons))
    unknown = [c for c in codes if c not in allowed]
    if unknown:
        raise InvalidInput(f"未知的{what}：{', '.join(unknown)}；可选：{', '.join(allowed)}")
    return codes


@dataclass(frozen=True)
class Decided:
    decision: ReviewDecision
    deliveries: list[int]  # callbacks to enqueue once the transaction has committed


def decide(session: Session, app: Application, user: User, decision: Decision, *, reasons: Sequence[str] = (),
           note: str = "", notice: str | None = None, policies: PolicyBook | None = None) -> Decided:
    """Record the decision on the current round and apply it to the application, and call the app
    back with it. An approval records how long the qualification holds (复审), from the region's
    policy in ``policies``, which an approval therefore needs."""
    if decision == Decision.APPROVE and policies is None:
        raise ValueError("an approval needs the region policies to record the qualification's validity")
    case = require_open(session, app)
    ensure_working(session, app, user)
    note = (note or "").strip()[:2000]
    codes: list[str] = []
    if decision == Decision.REJECT:
        codes = _codes(reasons, REJECT_REASONS, "驳回理由")
        if not codes:
            raise InvalidInput("驳回须至少选择一项理由")
        if "other" in codes and not note:
            raise InvalidInput("选择“其他”理由时请填写说明")
    prescreen = str(case.report.get("prescreen_verdict") or case.verdict)
    sent_notice: str | None = None
    deliveries: list[int] = []
    decided_on = case
    if decision == Decision.REQUEST_SUPPLEMENT:
        sent_notice = (notice if notice is not None else case.notice).strip()
        if not sent_notice:
            raise InvalidInput("请填写发给申请人的补正告知")
        decided_on = _supplement_revision(session, app, case, notice=sent_notice, prescreen=prescreen, user=user)
    elif decision == Decision.APPROVE:
        assert policies is not None
        record_qualification(session, app, approved_on=clock.local_date(), policies=policies, actor=actor_of(user))
    if app.callback_url:  # the payload names the decision (intake.callbacks)
        delivery = CallbackDelivery(application_id=app.id, case_id=decided_on.id, url=app.callback_url)
        session.add(delivery)
        session.flush()
        deliveries.append(delivery.id)
    row = ReviewDecision(application_id=app.id, round=app.round, case_id=decided_on.id,
                         decision=OUTCOME[decision].value, reasons=codes, note=note, notice=sent_notice,
                         prescreen_verdict=prescreen, user_id=user.id)
    session.add(row)
    app.status = OUTCOME[decision]
    session.flush()
    audit(session, actor=actor_of(user), action="review.decided", application_id=app.id, round=app.round,
          decision=row.decision, reasons=codes, prescreen_verdict=prescreen, case_id=decided_on.id)
    release(session, app, user, why="decided")
    return Decided(row, deliveries)


def _supplement_revision(session: Session, app: Application, case: Case, *, notice: str, prescreen: str,
                         user: User) -> Case:
    """The current case again as the reviewer sends it: needs_supplement, their notice, problems
    with the retakes they marked."""
    retakes = [f"retake:{name}" for name in retake_files(session, app, case)]
    problems = list(dict.fromkeys([*case.problems, *retakes]))
    report = {**case.report, "verdict": ApplicationStatus.NEEDS_SUPPLEMENT.value, "problems": problems,
              "notice": notice, "prescreen_verdict": prescreen, "reviewed_by": user.username}
    new = Case(application_id=app.id, round=case.round, revision=case.revision + 1,
               verdict=ApplicationStatus.NEEDS_SUPPLEMENT.value, problems=problems, notice=notice, report=report,
               submitted_at=case.submitted_at, review_due=case.review_due, versions=case.versions)
    session.add(new)
    session.flush()
    case.superseded_by = new.id
    return new


def latest_marks(session: Session, document_ids: Sequence[str]) -> dict[str, DocumentMark]:
    found: dict[str, DocumentMark] = {}
    if document_ids:
        for mark in session.scalars(select(DocumentMark).where(DocumentMark.document_id.in_(list(document_ids)))
                                    .order_by(DocumentMark.id)):
            found[mark.document_id] = mark
    return found


def retake_files(session: Session, app: Application, case: Case) -> list[str]:
    """The case's file names (as its problem codes name them) of the documents marked for a retake."""
    names = {d.get("document_id"): d.get("file") for d in case.report.get("documents", [])}
    marks = latest_marks(session, [doc_id for doc_id in names if doc_id])
    return [names[doc_id] for doc_id, mark in marks.items() if mark.mark == Mark.RETAKE and names.get(doc_id)]


def mark_document(session: Session, app: Application, user: User, document_id: str, mark: Mark, *,
                  reasons: Sequence[str] = (), note: str = "") -> DocumentMark:
    """Mark a document of the current round accepted, or needing a retake (with reasons)."""
    require_open(session, app)
    ensure_working(session, app, user)
    doc = session.get(Document, document_id)
    if doc is None or doc not in documents_in_effect(app, app.round):
        raise NotFound(f"本轮材料中没有 {document_id}")
    codes = _codes(reasons, RETAKE_REASONS, "重拍理由") if mark == Mark.RETAKE else []
    if mark == Mark.RETAKE and not codes:
        raise InvalidInput("标记需重拍时请至少选择一项理由")
    row = DocumentMark(application_id=app.id, document_id=doc.id, mark=mark.value, reasons=codes,
                       note=(note or "").strip()[:2000], user_id=user.id)
    session.add(row)
    session.flush()
    audit(session, actor=actor_of(user), action="document.marked", application_id=app.id, document_id=doc.id,
          mark=mark.value, reasons=codes)
    return row
