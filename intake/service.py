"""What the intake service does to applications and documents, over the database.

Every function takes the session of the caller's transaction and writes an audit event for each
state change. No HTTP and no Redis here: the API and the jobs call these, then enqueue ids after
their transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, case, func, select, update
from sqlalchemy.orm import Session

from intake.application import Application as ApplicationData
from intake.assess import document_problems
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
    new_id,
    utcnow,
)
from intake.policy import PolicyBook
from intake.prescreen import assessed_report
from intake.report import DocumentReport, unknown_checks

TERMINAL = (DocumentStatus.DONE, DocumentStatus.FAILED)
OPEN_FOR_UPLOADS = (ApplicationStatus.DRAFT, ApplicationStatus.NEEDS_SUPPLEMENT)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    application_id: str | None = None,
    document_id: str | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(actor=actor, action=action, application_id=application_id, document_id=document_id, detail=detail)
    )


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
    )
    session.add(app)
    session.flush()
    audit(session, actor=channel.id, action="application.created", application_id=app.id,
          region=app.region, disease=app.disease)
    return app


@dataclass(frozen=True)
class Added:
    document: Document
    created: bool  # False: the same bytes were already uploaded to this application


def add_document(
    session: Session, *, app: Application, actor: str, filename: str, sha256: str, size: int,
    media_type: str | None, max_files: int, queued: bool = False,
) -> Added:
    """Record an uploaded file (already in the file store) on the application; same bytes → same row.

    ``queued``: the caller enqueues the document right after committing (and calls ``unmark_queued``
    if that fails), so the row is written ``queued`` at once instead of by a second transaction."""
    if app.status not in OPEN_FOR_UPLOADS:
        raise Conflict(
            f"application {app.id} is {app.status}: documents can be added while it is a draft or after a "
            f"needs_supplement verdict (补正), not now"
        )
    # One round trip for both questions: are these bytes here already, and how many documents are there?
    count, existing_id = session.execute(
        select(func.count(), func.max(case((Document.sha256 == sha256, Document.id))))
        .where(Document.application_id == app.id)
    ).one()
    if existing_id is not None:
        return Added(session.get_one(Document, existing_id), created=False)
    if count >= max_files:
        raise LimitExceeded(f"an application holds at most {max_files} documents; this one has {count}")
    doc = Document(
        id=new_id(), application_id=app.id, sha256=sha256, filename=_display_name(filename), size_bytes=size,
        media_type=media_type, round=app.round + 1,
        status=DocumentStatus.QUEUED if queued else DocumentStatus.RECEIVED, queued_at=utcnow() if queued else None,
    )
    session.add(doc)  # the id is ours already: no flush needed, both rows are written at commit
    audit(session, actor=actor, action="document.received", application_id=app.id, document_id=doc.id,
          sha256=sha256, size=size, media_type=media_type)
    return Added(doc, created=True)


def _display_name(filename: str) -> str:
    # Shown to reviewers only, never a path: keep the last component, printable, bounded.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "upload"
    return name[:200]


def mark_queued(session: Session, document_ids: list[str]) -> None:
    if document_ids:
        session.execute(
            update(Document)
            .where(Document.id.in_(document_ids), Document.status == DocumentStatus.RECEIVED)
            .values(status=DocumentStatus.QUEUED, queued_at=utcnow())
        )


def unmark_queued(session: Session, document_ids: list[str]) -> None:
    """Documents written ``queued`` whose enqueue failed are ``received`` (the reconciler's to send)."""
    if document_ids:
        session.execute(
            update(Document)
            .where(Document.id.in_(document_ids), Document.status == DocumentStatus.QUEUED)
            .values(status=DocumentStatus.RECEIVED, queued_at=None)
        )


def submit(session: Session, *, app: Application, actor: str) -> int:
    """Submit for pre-screening (the first time, or again with supplements after 补正)."""
    if app.status not in OPEN_FOR_UPLOADS:
        raise Conflict(f"application {app.id} is {app.status}; it can be submitted as a draft or after 补正")
    new_docs = [d for d in app.documents if d.round == app.round + 1]
    if app.status == ApplicationStatus.NEEDS_SUPPLEMENT and not new_docs:
        raise Conflict("upload the supplementary documents (补正材料) before submitting again")
    if not app.documents:
        raise Conflict("upload the application's documents before submitting it")
    app.round += 1
    app.status = ApplicationStatus.PRESCREENING
    audit(session, actor=actor, action="application.submitted", application_id=app.id, round=app.round,
          documents=len(app.documents))
    return app.round


# --- worker side ------------------------------------------------------------------------------------


def mark_dead(session: Session, doc: Document, *, actor: str) -> None:
    """Every attempt failed on a fault of ours: a dead letter for operators to look at and re-queue."""
    doc.status = DocumentStatus.DEAD
    doc.error = (f"processing failed {doc.attempts} times; an operator must look at it "
                 f"({doc.last_fault or 'worker lost'})")
    audit(session, actor=actor, action="document.dead", application_id=doc.application_id, document_id=doc.id,
          attempts=doc.attempts, worker=doc.worker)


def claim_document(session: Session, document_id: str, *, worker: str, max_attempts: int) -> Document | None:
    """Take a queued document for processing; None if it is not ours to process (done, taken, gone).

    The conditional UPDATE makes a repeated delivery of the same job a no-op, on SQLite and
    PostgreSQL alike. A document claimed ``max_attempts`` times without finishing is a dead letter."""
    doc = session.get(Document, document_id)
    if doc is None or doc.status not in (DocumentStatus.QUEUED, DocumentStatus.RECEIVED):
        return None
    if doc.attempts >= max_attempts:
        mark_dead(session, doc, actor=worker)
        return None
    claimed = session.execute(
        update(Document)
        .where(Document.id == document_id, Document.status == doc.status, Document.attempts == doc.attempts)
        .values(status=DocumentStatus.PROCESSING, attempts=doc.attempts + 1, started_at=utcnow(), worker=worker)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], claimed).rowcount != 1:
        return None
    session.refresh(doc)
    audit(session, actor=worker, action="document.processing", application_id=doc.application_id,
          document_id=doc.id, attempt=doc.attempts)
    return doc


def release_document(session: Session, document_id: str, *, worker: str, fault: str,
                     backoff_seconds: list[int]) -> None:
    """Give back a claimed document after a fault of ours, to be retried after the backoff."""
    doc = session.get(Document, document_id)
    if doc is None or doc.status != DocumentStatus.PROCESSING or doc.worker != worker:
        return
    wait = backoff_seconds[min(doc.attempts, len(backoff_seconds)) - 1] if backoff_seconds else 0
    doc.status, doc.retry_at, doc.last_fault = DocumentStatus.QUEUED, utcnow() + dt.timedelta(seconds=wait), fault
    audit(session, actor=worker, action="document.retry", application_id=doc.application_id, document_id=doc.id,
          attempt=doc.attempts, fault=fault, retry_in_seconds=wait)


def finish_document(session: Session, document_id: str, *, worker: str, report: DocumentReport) -> bool:
    """Save a processed document's report; False when another worker took it over meanwhile."""
    doc = session.get(Document, document_id)
    if doc is None or doc.status != DocumentStatus.PROCESSING or doc.worker != worker:
        return False
    doc.report = report.model_dump(mode="json")
    doc.media_type = report.media_type or doc.media_type
    doc.error, doc.error_code = report.error, report.error_code
    doc.status = DocumentStatus.FAILED if report.error else DocumentStatus.DONE
    doc.finished_at, doc.retry_at = utcnow(), None
    audit(session, actor=worker, action=f"document.{doc.status}", application_id=doc.application_id,
          document_id=doc.id, doc_type=report.doc_type, error=report.error)
    return True


def application_data(app: Application) -> ApplicationData:
    return ApplicationData(
        case_id=app.external_ref or app.id, applicant_name=app.applicant_name, id_number=app.id_number,
        disease=app.disease, region=app.region, application_date=app.application_date,
    )


def documents_in_effect(app: Application) -> list[Document]:
    """The documents a round is assessed on. A defective document of an earlier round is replaced
    by any later document of the same type (补正); everything else still counts."""
    docs = [d for d in app.documents if d.round <= app.round]
    latest_round_of_type: dict[str | None, int] = {}
    for d in docs:
        doc_type = (d.report or {}).get("doc_type")
        latest_round_of_type[doc_type] = max(latest_round_of_type.get(doc_type, 0), d.round)
    in_effect = []
    for d in docs:
        doc_type = (d.report or {}).get("doc_type")
        superseded = d.round < latest_round_of_type[doc_type] and (
            d.status == DocumentStatus.FAILED or document_problems(_report_of(d))
        )
        if not superseded:
            in_effect.append(d)
    return in_effect


def _report_of(doc: Document) -> DocumentReport:
    if doc.report:
        return DocumentReport.model_validate(doc.report)
    reason = doc.error or "文件处理失败"
    return DocumentReport(file=doc.filename, sha256=doc.sha256, error=reason, checks=unknown_checks(reason))


def assess_if_ready(session: Session, app: Application, *, policies: PolicyBook, actor: str,
                    fingerprint: str) -> Case | None:
    """Assess the submitted round once every document is processed; None if not ready or done already."""
    if app.status != ApplicationStatus.PRESCREENING:
        return None
    current = [d for d in app.documents if d.round <= app.round]
    if any(d.status not in TERMINAL for d in current):
        return None  # still reading (or a dead letter that an operator must re-queue first)
    existing = session.scalars(select(Case).where(Case.application_id == app.id, Case.round == app.round)).first()
    if existing is not None:
        return None
    data = application_data(app)
    policy = policies.for_region(app.region)
    reports: list[DocumentReport] = []
    for doc in documents_in_effect(app):
        doc_report = _report_of(doc)
        doc_report.file = _unique_name(doc, reports)
        reports.append(doc_report)
    report = assessed_report(data, policy, reports, as_of=app.application_date, submitted=dt.date.today(),
                             fingerprint=fingerprint)
    contract = report.contract()
    contract["application_id"], contract["round"] = app.id, app.round
    case = Case(application_id=app.id, round=app.round, verdict=report.verdict, problems=report.problems,
                notice=report.notice, report=contract)
    session.add(case)
    app.status = ApplicationStatus(report.verdict)
    session.flush()
    audit(session, actor=actor, action="application.assessed", application_id=app.id, round=app.round,
          verdict=report.verdict, problems=report.problems)
    if app.callback_url:
        session.add(CallbackDelivery(application_id=app.id, case_id=case.id, url=app.callback_url))
    return case


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
