"""What the intake service does to applications and documents, over the database.

Every function takes the session of the caller's transaction and writes an audit event for each
state change. No HTTP and no Redis here: the API, the jobs and the command line call these, then
enqueue ids after their transaction has committed. Document status changes are ``intake.lifecycle``'s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from intake import clock, lifecycle
from intake.application import Agent
from intake.application import Application as ApplicationData
from intake.assess import assess_round
from intake.audit import audit
from intake.errors import Conflict, LimitExceeded, NotFound
from intake.models import (
    Application,
    ApplicationStatus,
    AuditEvent,
    CallbackDelivery,
    Case,
    ChannelRef,
    Document,
    DocumentStatus,
    FieldEdit,
    PrescreenReport,
    new_id,
    utcnow,
)
from intake.names import display_name
from intake.policy import Policy, PolicyBook
from intake.regions import qualification_valid_until
from intake.report import DocumentReport, Report, unknown_checks
from intake.workspace.overlay import References, with_reviewer_edits

TERMINAL = (DocumentStatus.DONE, DocumentStatus.FAILED)
OPEN_FOR_UPLOADS = (ApplicationStatus.DRAFT, ApplicationStatus.NEEDS_SUPPLEMENT)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def get_application(session: Session, application_id: str, *, channel: ChannelRef | None = None) -> Application:
    """The application; apps see only their own (another channel's id is simply not found)."""
    app = session.get(Application, application_id)
    if app is None or (channel is not None and channel.role == "app" and app.channel_id != channel.id):
        raise NotFound(f"no application {application_id}")
    return app


def create_application(session: Session, *, channel: ChannelRef, data: ApplicationData, external_ref: str | None,
                       callback_url: str | None) -> Application:
    app = Application(
        channel_id=channel.id,
        external_ref=external_ref,
        applicant_name=data.applicant_name,
        id_number=data.id_number,
        disease=data.disease,
        region=data.region,
        application_date=data.application_date,
        callback_url=callback_url,
        agent_name=data.agent.name if data.agent else None,
        agent_id_number=data.agent.id_number if data.agent else None,
        agent_relationship=data.agent.relationship if data.agent else None,
    )
    session.add(app)
    session.flush()
    audit(session, actor=channel.id, action="application.created", application_id=app.id,
          region=app.region, disease=app.disease)
    return app


def list_applications(session: Session, *, channel: ChannelRef, status: str | None = None,
                      external_ref: str | None = None, limit: int = 50,
                      offset: int = 0) -> tuple[Sequence[Application], int]:
    """An app's own applications, newest first, with the total that match (for paging)."""
    where = [Application.channel_id == channel.id]
    if status:
        where.append(Application.status == status)
    if external_ref:
        where.append(Application.external_ref == external_ref)
    total = session.scalar(select(func.count()).select_from(Application).where(*where)) or 0
    rows = session.scalars(
        select(Application).where(*where).order_by(Application.created_at.desc(), Application.id)
        .limit(limit).offset(offset)
    ).all()
    return rows, total


def _open_for_uploads(app: Application) -> None:
    if app.status not in OPEN_FOR_UPLOADS:
        raise Conflict(
            f"application {app.id} is {app.status}: documents can be added, replaced or withdrawn while it is a "
            f"draft or after a needs_supplement verdict (补正), not now"
        )


def check_capacity(session: Session, *, app: Application, sha256s: list[str], max_files: int) -> None:
    """Refuse, before anything is stored, a request that would take the application over its cap."""
    _open_for_uploads(app)
    held = set(session.scalars(select(Document.sha256).where(Document.application_id == app.id)))
    adding = len(set(sha256s) - held)
    if len(held) + adding > max_files:
        raise LimitExceeded(
            f"an application holds at most {max_files} documents: application {app.id} has {len(held)} and this "
            f"request adds {adding}; withdraw documents that are not needed or send fewer files"
        )


def get_document(session: Session, *, app: Application, document_id: str) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or doc.application_id != app.id:
        raise NotFound(f"application {app.id} has no document {document_id}")
    return doc


@dataclass(frozen=True)
class Added:
    document: Document
    created: bool  # False: the same bytes were already uploaded to this application


def add_document(
    session: Session, *, app: Application, actor: str, filename: str, sha256: str, size: int,
    media_type: str | None, max_files: int, queued: bool = False, replaces: Document | None = None,
) -> Added:
    """Record an uploaded file (already in the file store) on the application; same bytes → same row.

    ``queued``: the caller enqueues the document right after committing (and calls
    ``lifecycle.unmark_queued`` if that fails), so the row is written ``queued`` at once.
    ``replaces``: a document of this application that the upload replaces from the next round on."""
    _open_for_uploads(app)
    next_round = app.round + 1
    if replaces is not None and replaces.withdrawn_round is not None and replaces.withdrawn_round <= next_round:
        raise Conflict(f"document {replaces.id} is already withdrawn or replaced; upload the file as a new document")
    # One round trip for both questions: are these bytes here already, and how many documents are there?
    count, existing_id = session.execute(
        select(func.count(), func.max(case((Document.sha256 == sha256, Document.id))))
        .where(Document.application_id == app.id)
    ).one()
    if existing_id is not None:
        existing = session.get_one(Document, existing_id)
        if existing.withdrawn_round is not None:
            lifecycle.reinstate(session, existing, actor=actor)
        if replaces is not None and replaces.id != existing.id:
            lifecycle.withdraw(session, replaces, from_round=next_round, actor=actor, replaced_by=existing.id)
        return Added(existing, created=False)
    if count >= max_files:
        raise LimitExceeded(f"an application holds at most {max_files} documents; application {app.id} has {count}")
    doc = Document(
        id=new_id(), application_id=app.id, sha256=sha256, filename=_display_name(filename), size_bytes=size,
        media_type=media_type, round=next_round, replaces_id=replaces.id if replaces else None,
        status=DocumentStatus.QUEUED if queued else DocumentStatus.RECEIVED, queued_at=utcnow() if queued else None,
    )
    session.add(doc)  # the id is ours already: no flush needed, both rows are written at commit
    audit(session, actor=actor, action="document.received", application_id=app.id, document_id=doc.id,
          sha256=sha256, size=size, media_type=media_type, replaces=replaces.id if replaces else None)
    if replaces is not None:
        lifecycle.withdraw(session, replaces, from_round=next_round, actor=actor, replaced_by=doc.id)
    return Added(doc, created=True)


def withdraw_document(session: Session, *, app: Application, document_id: str, actor: str) -> Document:
    """The app takes a document back (补正): it no longer counts from the next submission on."""
    _open_for_uploads(app)
    doc = get_document(session, app=app, document_id=document_id)
    if doc.withdrawn_round is not None:
        raise Conflict(f"document {document_id} is already withdrawn or replaced")
    lifecycle.withdraw(session, doc, from_round=app.round + 1, actor=actor)
    return doc


def _display_name(filename: str) -> str:
    # Shown to people (reviewers, the notice, apps), never used as a path: see intake.names.
    return display_name(filename)


def submit(session: Session, *, app: Application, actor: str, at: dt.datetime | None = None) -> int:
    """Submit for pre-screening (the first time, or again after 补正). ``at``: the submission moment,
    the server's clock unless a folder is assessed as of its own date."""
    if app.status not in OPEN_FOR_UPLOADS:
        raise Conflict(f"application {app.id} is {app.status}; it can be submitted as a draft or after 补正")
    next_round = app.round + 1
    in_effect = documents_in_effect(app, next_round)
    if not in_effect:
        raise Conflict("upload the application's documents before submitting it")
    changed = any(d.round == next_round or d.withdrawn_round == next_round for d in app.documents)
    if app.status == ApplicationStatus.NEEDS_SUPPLEMENT and not changed:
        raise Conflict("upload, replace or withdraw documents (补正材料) before submitting again")
    app.round, app.status, app.submitted_at = next_round, ApplicationStatus.PRESCREENING, at or clock.now()
    audit(session, actor=actor, action="application.submitted", application_id=app.id, round=app.round,
          documents=len(in_effect), submitted_at=app.submitted_at.isoformat())
    return app.round


def application_data(app: Application) -> ApplicationData:
    return ApplicationData(
        case_id=app.external_ref or app.id, applicant_name=app.applicant_name, id_number=app.id_number,
        disease=app.disease, region=app.region, application_date=app.application_date,
        agent=Agent(name=app.agent_name, id_number=app.agent_id_number, relationship=app.agent_relationship or "代办人")
        if app.agent_name and app.agent_id_number else None,
    )


def documents_in_effect(app: Application, round_: int) -> list[Document]:
    """The documents a round is assessed on: uploaded for it or before, and not withdrawn or
    replaced by then."""
    return [d for d in app.documents
            if d.round <= round_ and (d.withdrawn_round is None or d.withdrawn_round > round_)]


def report_of(doc: Document) -> DocumentReport:
    """A document's part of the report, as its worker saved it (or its failure)."""
    if doc.report:
        report = DocumentReport.model_validate(doc.report)
    else:
        reason = doc.error or "文件处理失败"
        report = DocumentReport(file=doc.filename, sha256=doc.sha256, error=reason, error_code=doc.error_code,
                                checks=unknown_checks(reason))
    report.document_id, report.round = doc.id, doc.round
    return report


def latest_case(session: Session, app: Application) -> Case | None:
    return session.scalars(
        select(Case).where(Case.application_id == app.id).order_by(Case.round.desc(), Case.revision.desc())
    ).first()


def cases_of(session: Session, app: Application) -> Sequence[Case]:
    return session.scalars(
        select(Case).where(Case.application_id == app.id).order_by(Case.round, Case.revision)
    ).all()


def latest_cases(session: Session, *, verdict: str | None = None, region: str | None = None, limit: int = 100,
                 offset: int = 0) -> Sequence[Case]:
    """The latest assessment of each application, newest first."""
    stmt = select(Case).join(Application, Application.id == Case.application_id).where(
        Case.round == Application.round, Case.superseded_by.is_(None))  # a re-scan's revision replaces it
    if verdict:
        stmt = stmt.where(Case.verdict == verdict)
    if region:
        stmt = stmt.where(Application.region == region)
    return session.scalars(stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit).offset(offset)).all()


def audit_trail(session: Session, app: Application) -> Sequence[AuditEvent]:
    return session.scalars(
        select(AuditEvent).where(AuditEvent.application_id == app.id).order_by(AuditEvent.id)
    ).all()


def case_report_by_reference(session: Session, reference: str) -> dict[str, Any] | None:
    """The latest report of the newest application whose case id (external_ref) or id is
    ``reference``; reports stored by the command line before it stored applications come last."""
    app = session.scalars(
        select(Application).where((Application.external_ref == reference) | (Application.id == reference))
        .order_by(Application.created_at.desc()).limit(1)
    ).first()
    case = latest_case(session, app) if app is not None else None
    if case is not None:
        return case.report
    legacy = session.scalars(
        select(PrescreenReport).where(PrescreenReport.case_id == reference).order_by(PrescreenReport.id.desc())
    ).first()
    return legacy.report if legacy is not None else None


def assess_if_ready(session: Session, app: Application, *, policies: PolicyBook, actor: str,
                    fingerprint: str, versions: dict[str, str] | None = None,
                    references: References | None = None) -> Case | None:
    """Assess the submitted round once every document in effect is processed; None if not ready
    or done already. The one place a case is made, whichever path the documents came by.
    ``versions``: what the assessment is made with (``intake.versions``), recorded on the case;
    ``references``: the registry and catalogue reviewers' edits are checked against."""
    if app.status != ApplicationStatus.PRESCREENING:
        return None
    current = documents_in_effect(app, app.round)
    if any(d.status not in TERMINAL for d in current):
        return None  # still reading (or a dead letter that an operator must re-queue first)
    existing = session.scalars(select(Case).where(Case.application_id == app.id, Case.round == app.round)).first()
    if existing is not None:
        return None
    # The deadline counts from THIS round's submission (app.submitted_at, set by ``submit``): a 补正 round
    # restarts it (补正后重新计算审核时限); earlier rounds keep their own case and deadline.
    report = assess_reports(app, policies.for_region(app.region), round_reports(app), fingerprint=fingerprint,
                            references=references)
    submitted_at = round_submitted_at(app)
    case = Case(application_id=app.id, round=app.round, verdict=report.verdict, problems=report.problems,
                notice=report.notice, report=report.contract(), submitted_at=submitted_at,
                review_due=dt.date.fromisoformat(report.review_due), versions=versions)
    session.add(case)
    app.status = ApplicationStatus(report.verdict)
    session.flush()
    audit(session, actor=actor, action="application.assessed", application_id=app.id, round=app.round,
          verdict=report.verdict, problems=report.problems)
    if app.callback_url:
        session.add(CallbackDelivery(application_id=app.id, case_id=case.id, url=app.callback_url))
    return case


def round_reports(app: Application) -> list[DocumentReport]:
    """The stored reports of the documents the current round is assessed on, named uniquely."""
    reports: list[DocumentReport] = []
    for doc in documents_in_effect(app, app.round):
        doc_report = report_of(doc)
        doc_report.file = _unique_name(doc, reports)
        reports.append(doc_report)
    return reports


def round_submitted_at(app: Application) -> dt.datetime:
    submitted_at = app.submitted_at or app.created_at
    if submitted_at.tzinfo is None:  # SQLite returns naive datetimes (stored as UTC)
        submitted_at = submitted_at.replace(tzinfo=dt.UTC)
    return submitted_at


def assess_reports(app: Application, policy: Policy, reports: list[DocumentReport], *, fingerprint: str,
                   references: References | None = None,
                   edits: dict[str, dict[str, FieldEdit]] | None = None) -> Report:
    """The current round's report from its documents' reports: the assessment of a submission, and
    of a re-scan (``intake.rescan``), which passes reports it has re-made. Reviewers' edits of the
    documents win over their extraction here, whichever path the reports came by, and the edited
    documents are checked against ``references`` (the caller's registry and catalogue: a re-scan's
    may be new; default, the process's). ``edits``: the documents' latest edits, when the caller read
    them for many applications at once (``overlay.latest_edits``); default, read here."""
    submitted_at = round_submitted_at(app)
    data = application_data(app)
    reports = with_reviewer_edits(app, policy, reports, data, refs=references, edits=edits)
    return assess_round(
        data, policy, reports, case_id=data.case_id or app.id, application_id=app.id, round_=app.round,
        submitted_at=submitted_at, submitted=clock.local_date(submitted_at), fingerprint=fingerprint,
        complex_case=bool(app.complex_case),
    )


def _unique_name(doc: Document, earlier: list[DocumentReport]) -> str:
    # Problem codes name files; two uploads may share a client file name, so add a short suffix.
    if all(r.file != doc.filename for r in earlier):
        return doc.filename
    return f"{doc.filename}#{doc.sha256[:8]}"


def request_digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\x00")
    return h.hexdigest()


# --- 复杂病例 and 复审 (issue 14: region rules) -------------------------------------------------------


def mark_complex(session: Session, app: Application, *, policies: PolicyBook, actor: str,
                 complex_case: bool = True) -> Case | None:
    """A reviewer marks the application a complex case (复杂病例), or takes the mark back: its latest
    case's deadline becomes the policy's longer one (绥化: 5 working days instead of 3), counted from
    the same submission, and every later round keeps it. A region without a longer deadline keeps
    its own. Returns the latest case (None before the first assessment)."""
    app.complex_case = complex_case
    case = latest_case(session, app)
    if case is not None:
        submitted = clock.local_date(case.submitted_at or round_submitted_at(app))
        deadline = policies.for_region(app.region).review_deadline(submitted, complex_case=complex_case)
        case.set_review_deadline(deadline.date, deadline.estimated)
    audit(session, actor=actor, action="application.complex_marked" if complex_case else "application.complex_unmarked",
          application_id=app.id, review_due=case.review_due.isoformat() if case and case.review_due else None)
    return case


def is_approved(app: Application) -> bool:
    """Whether a reviewer approved the application (the workspace's final decision)."""
    return app.status == ApplicationStatus.APPROVED


def record_qualification(session: Session, app: Application, *, approved_on: dt.date, policies: PolicyBook,
                         actor: str) -> dt.date | None:
    """Record on the approved case how long the qualification holds (复审 is due after it): the
    decision code calls this when a reviewer approves. Returns the valid-until date, None for a
    qualification without expiry (长期有效)."""
    case = latest_case(session, app)
    if case is None:
        raise Conflict(f"application {app.id} has no assessed case to approve")
    valid_until = qualification_valid_until(policies.for_region(app.region), app.disease, approved_on)
    case.qualification_valid_until = valid_until
    audit(session, actor=actor, action="qualification.recorded", application_id=app.id, round=case.round,
          approved_on=approved_on.isoformat(), valid_until=valid_until.isoformat() if valid_until else None)
    return valid_until


def qualifications_due(session: Session, *, start: dt.date, end: dt.date, region: str | None = None,
                       channel: ChannelRef | None = None, limit: int = 1000,
                       offset: int = 0) -> Sequence[tuple[Application, Case]]:
    """Approved qualifications whose validity ends between ``start`` and ``end`` (inclusive), the
    soonest first: whom to remind of 复审. An app (``channel`` of role app) sees only its own."""
    stmt = (
        select(Application, Case).join(Case, Case.application_id == Application.id)
        .where(Case.qualification_valid_until >= start, Case.qualification_valid_until <= end,
               Case.superseded_by.is_(None), Application.status == ApplicationStatus.APPROVED)
    )
    if region:
        stmt = stmt.where(Application.region == region)
    if channel is not None and channel.role == "app":
        stmt = stmt.where(Application.channel_id == channel.id)
    stmt = stmt.order_by(Case.qualification_valid_until, Application.id).limit(limit).offset(offset)
    return [(app, case) for app, case in session.execute(stmt).all()]
