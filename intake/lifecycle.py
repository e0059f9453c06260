"""Every status change of a document, in one place.

    received ──enqueue──► queued ──claim──► processing ──finish──► done | failed
        ▲                   ▲  ▲                │
        └──enqueue failed───┘  └──release / requeue_stuck (our fault: backoff, attempts left)
                                                │
                               attempts used up ▼
                                              dead ──requeue (operator)──► queued

A document is also *withdrawn* (补正: by the app, or replaced by a later upload) from a round on,
whatever its processing status: ``withdraw``. The API, the jobs and the reconciler call these;
nothing else writes ``Document.status``. Each change writes its audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from intake.audit import audit
from intake.errors import Conflict, NotFound
from intake.models import Document, DocumentStatus, utcnow
from intake.report import DocumentReport

# Shown to the applicant for a document we could not process: it is our fault, not their file's.
DEAD_LETTER_MESSAGE = "材料暂时未能完成识别，工作人员正在处理，无需重新上传。"


def retry_delay(attempts: int, backoff_seconds: list[int]) -> int:
    """Seconds to wait before the next attempt after ``attempts`` tries (the last delay repeats)."""
    if not backoff_seconds or attempts < 1:
        return 0
    return backoff_seconds[min(attempts, len(backoff_seconds)) - 1]


def mark_queued(session: Session, document_ids: list[str]) -> None:
    """Documents ``received`` are now on the queue (the caller enqueues them after committing)."""
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


def requeue(session: Session, doc: Document, *, actor: str, reason: str, fresh_attempts: bool = False) -> None:
    """Put a document back on the queue: the reconciler's lost or stuck documents, an operator's
    dead letter (``fresh_attempts``: a new set of attempts, the error forgotten)."""
    doc.status, doc.queued_at = DocumentStatus.QUEUED, utcnow()
    if fresh_attempts:
        doc.attempts, doc.retry_at = 0, None
        doc.error = doc.error_code = doc.error_detail = doc.last_fault = None
    if reason != "enqueue":  # a first enqueue of a received document is not worth an audit event
        audit(session, actor=actor, action="document.requeued", application_id=doc.application_id,
              document_id=doc.id, reason=reason, worker=doc.worker)


def requeue_by_operator(session: Session, document_id: str, *, actor: str) -> Document:
    """An operator gives a dead (or failed) document a fresh set of attempts."""
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound(f"no document {document_id}")
    if doc.status not in (DocumentStatus.DEAD, DocumentStatus.FAILED):
        raise Conflict(f"document {document_id} is {doc.status}; only dead or failed ones are re-queued")
    requeue(session, doc, actor=actor, reason="operator", fresh_attempts=True)
    return doc


def mark_dead(session: Session, doc: Document, *, actor: str) -> None:
    """Every attempt failed on a fault of ours: a dead letter for operators to look at and re-queue.
    The applicant reads that we are on it; operators read the fault."""
    doc.status = DocumentStatus.DEAD
    doc.error, doc.error_code = DEAD_LETTER_MESSAGE, "dead_letter"
    doc.error_detail = f"processing failed {doc.attempts} times ({doc.last_fault or 'worker lost'})"
    audit(session, actor=actor, action="document.dead", application_id=doc.application_id, document_id=doc.id,
          attempts=doc.attempts, worker=doc.worker, fault=doc.last_fault)


def claim(session: Session, document_id: str, *, worker: str, max_attempts: int) -> Document | None:
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


def release(session: Session, document_id: str, *, worker: str, fault: str, backoff_seconds: list[int]) -> None:
    """Give back a claimed document after a fault of ours, to be retried after the backoff."""
    doc = session.get(Document, document_id)
    if doc is None or doc.status != DocumentStatus.PROCESSING or doc.worker != worker:
        return
    wait = retry_delay(doc.attempts, backoff_seconds)
    doc.status, doc.retry_at, doc.last_fault = DocumentStatus.QUEUED, utcnow() + dt.timedelta(seconds=wait), fault
    audit(session, actor=worker, action="document.retry", application_id=doc.application_id, document_id=doc.id,
          attempt=doc.attempts, fault=fault, retry_in_seconds=wait)


def finish(session: Session, document_id: str, *, worker: str, report: DocumentReport) -> Document | None:
    """Save a processed document's report; None when another worker took it over meanwhile."""
    doc = session.get(Document, document_id)
    if doc is None or doc.status != DocumentStatus.PROCESSING or doc.worker != worker:
        return None
    _record(session, doc, report, actor=worker)
    return doc


def fail_unread(session: Session, doc: Document, *, report: DocumentReport, actor: str) -> None:
    """A document whose bytes never reached us (a folder's file that cannot be read): failed at once."""
    _record(session, doc, report, actor=actor)


def _record(session: Session, doc: Document, report: DocumentReport, *, actor: str) -> None:
    # The report as the API serves it; the technical cause stays on the row, for operators.
    doc.report = report.model_dump(mode="json", exclude={"error_detail"})
    doc.media_type = report.media_type or doc.media_type
    doc.error, doc.error_code, doc.error_detail = report.error, report.error_code, report.error_detail
    doc.status = DocumentStatus.FAILED if report.error else DocumentStatus.DONE
    doc.finished_at, doc.retry_at = utcnow(), None
    audit(session, actor=actor, action=f"document.{doc.status}", application_id=doc.application_id,
          document_id=doc.id, doc_type=report.doc_type, error=report.error, detail=report.error_detail)


def withdraw(session: Session, doc: Document, *, from_round: int, actor: str, replaced_by: str | None = None) -> None:
    """The document no longer counts from ``from_round`` on (the rounds before keep it)."""
    doc.withdrawn_round = from_round
    audit(session, actor=actor, action="document.replaced" if replaced_by else "document.withdrawn",
          application_id=doc.application_id, document_id=doc.id, round=from_round, replaced_by=replaced_by)


def reinstate(session: Session, doc: Document, *, actor: str) -> None:
    """A withdrawn document uploaded again (the same bytes) counts again."""
    doc.withdrawn_round = None
    audit(session, actor=actor, action="document.reinstated", application_id=doc.application_id, document_id=doc.id)
