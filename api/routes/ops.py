"""The operators' API: queues, dead letters, re-queueing, reconciling."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy import select

from api.deps import OperatorChannel, QueuesDep, SessionDep, SettingsDep
from api.schemas import DocumentOut
from intake.db import session_factory
from intake.models import Document, DocumentStatus, utcnow
from intake.reconcile import reconcile
from intake.service import audit

router = APIRouter(prefix="/v1/ops", tags=["operators"])


@router.get("/queues")
def queue_counts(channel: OperatorChannel, queues: QueuesDep) -> dict[str, Any]:
    return queues.counts()


@router.get("/dead-letters", response_model=list[DocumentOut])
def dead_letters(channel: OperatorChannel, session: SessionDep):
    """Documents that failed every retry on a fault of ours."""
    docs = session.scalars(select(Document).where(Document.status == DocumentStatus.DEAD)).all()
    return [DocumentOut.of(d) for d in docs]


@router.post("/documents/{document_id}/requeue", response_model=DocumentOut)
def requeue(document_id: str, channel: OperatorChannel, session: SessionDep, queues: QueuesDep):
    """Give a dead (or failed) document a fresh set of attempts."""
    doc = session.get(Document, document_id)
    if doc is None:
        raise HTTPException(404, f"no document {document_id}")
    if doc.status not in (DocumentStatus.DEAD, DocumentStatus.FAILED):
        raise HTTPException(409, f"document {document_id} is {doc.status}; only dead or failed ones are re-queued")
    doc.status, doc.attempts, doc.queued_at, doc.retry_at = DocumentStatus.QUEUED, 0, utcnow(), None
    doc.error = doc.error_code = doc.last_fault = None
    audit(session, actor=channel.id, action="document.requeued", application_id=doc.application_id,
          document_id=doc.id, reason="operator")
    session.commit()
    queues.enqueue_document(doc.id)
    return DocumentOut.of(doc)


@router.post("/reconcile")
def run_reconcile(channel: OperatorChannel, settings: SettingsDep, queues: QueuesDep) -> dict[str, Any]:
    result = reconcile(session_factory(settings.db.url), queues, settings)
    return result.__dict__
