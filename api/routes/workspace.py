"""The reviewers' workspace as a JSON API (``/v1/workspace``), for a province's own front end and
for the workspace pages' scripts. A user authenticates with a personal token
(``Authorization: Bearer mtu_…``, ``intake user token``) or the session cookie of the sign-in page
(then every POST carries ``X-CSRFToken``). Everything is scoped to the user's regions: another
region's application is 404, as an unknown one. The service layer is ``intake.workspace``.

Channel keys (``/v1/review/...``) keep working as before for system integrations.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from api.deps import QueuesDep, SessionDep
from api.pages_auth import WorkspaceUser
from api.schemas import ComplexMarkIn
from api.schemas_workspace import (
    CaseDetailOut,
    ClaimOut,
    DashboardOut,
    DecisionIn,
    DecisionOut,
    FieldEditIn,
    MarkIn,
    MeOut,
    QueuePageOut,
    ReasonsOut,
    ReassignIn,
    RetypeIn,
    WeekRowOut,
)
from classifiers.types import DocType, OtherKind
from intake.errors import InvalidInput
from intake.models import Application, User
from intake.reasons import REJECT_REASONS, RETAKE_REASONS
from intake.service import mark_complex
from intake.users import actor_of
from intake.workspace import claims
from intake.workspace.access import require_open, require_supervisor, visible_application
from intake.workspace.casefile import case_file
from intake.workspace.claims import ensure_working
from intake.workspace.dashboard import dashboard
from intake.workspace.decisions import Decision, Mark, decide, mark_document
from intake.workspace.edits import EDITABLE_FIELDS, correct_field
from intake.workspace.overlay import DOC_TYPE, policies
from intake.workspace.page_images import document_pages
from intake.workspace.queue import QueueFilter, queue

router = APIRouter(prefix="/v1/workspace", tags=["reviewers' workspace"])


def case_detail_out(session: Session, app: Application, user: User) -> CaseDetailOut:
    """The whole case as the JSON API gives it, each document with its pages (audited view)."""
    f = case_file(session, app, user)
    fingerprint = str(f.case.report.get("fingerprint") or "") or None
    return CaseDetailOut.of(f, document_pages(session, app.id, [d.document for d in f.documents], fingerprint))


def set_complex(session: Session, app: Application, user: User, complex_case: bool) -> None:
    """复杂病例 on or off, for the JSON API and the case page alike: only on an open case, which the
    user then works (claimed if nobody held it); ``intake.service.mark_complex`` moves the deadline."""
    require_open(session, app)
    ensure_working(session, app, user)
    mark_complex(session, app, policies=policies(), actor=actor_of(user), complex_case=complex_case)


@router.get("/me", response_model=MeOut)
def me(user: WorkspaceUser) -> MeOut:
    """Who is signed in, their role and regions."""
    return MeOut.of(user)


@router.get("/reasons", response_model=ReasonsOut)
def reasons(user: WorkspaceUser) -> ReasonsOut:
    """The reject and retake reason codes with their Chinese labels, the document types and the
    fields a reviewer may correct."""
    return ReasonsOut(reject=REJECT_REASONS, retake=RETAKE_REASONS, doc_types=[t.value for t in DocType],
                      other_kinds=[k.value for k in OtherKind],
                      editable_fields=list(EDITABLE_FIELDS))


@router.get("/queue", response_model=QueuePageOut)
def queue_page(
    user: WorkspaceUser,
    session: SessionDep,
    status: Annotated[str | None, Query(max_length=32, description="Application status; 'all' for every one")] = (
        "ready_for_review"),
    verdict: Annotated[str | None, Query(max_length=32)] = None,
    disease: Annotated[str | None, Query(max_length=100)] = None,
    problem: Annotated[str | None, Query(max_length=200, description="A problem code's kind, e.g. stale")] = None,
    flag: Annotated[str | None, Query(max_length=200, description="A reviewer flag's kind, or 'any'")] = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Name (or its start), ID number or external ref")] = (
        None),
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QueuePageOut:
    """The cases of my regions, soonest review deadline first; names and ID numbers masked."""
    f = QueueFilter(status=status, verdict=verdict, disease=disease, problem=problem, flag=flag, channel=channel,
                    search=q, mine=mine)
    return QueuePageOut.of(queue(session, user, f, limit=limit, offset=offset))


@router.get("/cases/{application_id}", response_model=CaseDetailOut)
def case_detail(application_id: str, user: WorkspaceUser, session: SessionDep) -> CaseDetailOut:
    """The whole case (names and ID numbers unmasked); the view is audited."""
    app = visible_application(session, user, application_id)
    out = case_detail_out(session, app, user)
    session.commit()
    return out


def _claim_out(session: SessionDep, application_id: str, user: WorkspaceUser) -> ClaimOut:
    app = visible_application(session, user, application_id)
    held = claims.holder(session, app)
    return ClaimOut(application_id=app.id, claimed_by=held[1].username if held else None,
                    claimed_by_name=held[1].display_name if held else None)


@router.post("/cases/{application_id}/claim", response_model=ClaimOut)
def claim(application_id: str, user: WorkspaceUser, session: SessionDep) -> ClaimOut:
    """Claim the case; 409 naming the holder when another reviewer has it."""
    claims.claim(session, visible_application(session, user, application_id), user)
    session.commit()
    return _claim_out(session, application_id, user)


@router.post("/cases/{application_id}/release", response_model=ClaimOut)
def release(application_id: str, user: WorkspaceUser, session: SessionDep) -> ClaimOut:
    """Give the case back to the queue (its holder, or a supervisor)."""
    claims.release(session, visible_application(session, user, application_id), user)
    session.commit()
    return _claim_out(session, application_id, user)


@router.post("/cases/{application_id}/reassign", response_model=ClaimOut)
def reassign(application_id: str, body: ReassignIn, user: WorkspaceUser, session: SessionDep) -> ClaimOut:
    """A supervisor gives the case to another reviewer of its region."""
    require_supervisor(user)
    claims.reassign(session, visible_application(session, user, application_id), user, body.username)
    session.commit()
    return _claim_out(session, application_id, user)


@router.post("/cases/{application_id}/documents/{document_id}/fields", response_model=CaseDetailOut)
def edit_field(application_id: str, document_id: str, body: FieldEditIn, user: WorkspaceUser,
               session: SessionDep) -> CaseDetailOut:
    """Correct one extracted field; the case is re-assessed at once (no OCR) and returned."""
    if body.field == DOC_TYPE:
        raise InvalidInput("材料类型请用 …/type 修改")
    app = visible_application(session, user, application_id)
    correct_field(session, app, user, document_id, body.field, body.value, reason=body.reason)
    out = case_detail_out(session, app, user)
    session.commit()
    return out


@router.post("/cases/{application_id}/documents/{document_id}/type", response_model=CaseDetailOut)
def retype(application_id: str, document_id: str, body: RetypeIn, user: WorkspaceUser,
           session: SessionDep) -> CaseDetailOut:
    """Re-type a document (one of the six types; `other` with an optional kind); the case is
    re-assessed at once (no OCR) and returned."""
    app = visible_application(session, user, application_id)
    correct_field(session, app, user, document_id, DOC_TYPE, body.doc_type, reason=body.reason, kind=body.kind)
    out = case_detail_out(session, app, user)
    session.commit()
    return out


@router.post("/cases/{application_id}/documents/{document_id}/mark", response_model=CaseDetailOut)
def mark(application_id: str, document_id: str, body: MarkIn, user: WorkspaceUser,
         session: SessionDep) -> CaseDetailOut:
    """Mark a document accepted, or needing a retake (with reasons)."""
    app = visible_application(session, user, application_id)
    mark_document(session, app, user, document_id, Mark(body.mark), reasons=body.reasons, note=body.note)
    out = case_detail_out(session, app, user)
    session.commit()
    return out


@router.post("/cases/{application_id}/complex", response_model=CaseDetailOut)
def complex_case(application_id: str, body: ComplexMarkIn, user: WorkspaceUser,
                 session: SessionDep) -> CaseDetailOut:
    """复杂病例: mark the case complex (or take the mark back); its review deadline becomes the
    region's longer one (绥化市: 5 working days instead of 3), from the same submission."""
    app = visible_application(session, user, application_id)
    set_complex(session, app, user, body.complex)
    out = case_detail_out(session, app, user)
    session.commit()
    return out


@router.post("/cases/{application_id}/decision", response_model=DecisionOut)
def decision(application_id: str, body: DecisionIn, user: WorkspaceUser, session: SessionDep,
             queues: QueuesDep) -> DecisionOut:
    """Approve, reject (reason codes) or request a supplement (the notice is sent to the app through
    its callback and the application re-opens for uploads). Approve and reject are final."""
    app = visible_application(session, user, application_id)
    decided = decide(session, app, user, Decision(body.decision), reasons=body.reasons, note=body.note,
                     notice=body.notice, policies=policies())
    out = DecisionOut.of(decided.decision, user.username)
    session.commit()
    for delivery_id in decided.deliveries:  # if Redis is down, the reconciler sends it later
        queues.enqueue_callback(delivery_id)
    return out


@router.get("/dashboard", response_model=DashboardOut)
def dashboard_data(user: WorkspaceUser, session: SessionDep,
                   weeks: Annotated[int, Query(ge=1, le=104)] = 12) -> DashboardOut:
    """Per region and ISO week: received, pre-screen verdicts, decisions, agreement, median time to
    decision, SLA compliance (supervisors and administrators)."""
    require_supervisor(user)
    return DashboardOut(weeks=weeks, rows=[WeekRowOut.of(r) for r in dashboard(session, user, weeks=weeks)])
