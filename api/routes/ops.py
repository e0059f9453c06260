"""The operators' API: queues, dead letters, callback deliveries, re-queueing, reconciling."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import OperatorChannel, QueuesDep, SessionDep, SettingsDep
from api.schemas import DocumentOut
from api.schemas_ops import CallbackOut, CallbackResentOut, DeadLetterOut, QueueCountsOut, ReconcileOut
from intake import lifecycle, operations
from intake.callbacks import DeliveryStatus
from intake.db import session_factory
from intake.errors import ServiceUnavailable
from intake.reconcile import imported_applications, reconcile

router = APIRouter(prefix="/v1/ops", tags=["operators"])

MAX_ID = 2**31 - 1  # the database's integer: a larger id or offset is a 422, not a database error
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Skip this many items (paging)")]


@router.get("/queues", response_model=dict[str, QueueCountsOut])
def queue_counts(channel: OperatorChannel, queues: QueuesDep) -> dict[str, QueueCountsOut]:
    """Jobs per queue (ocr, assess, callbacks); 503 while Redis is unreachable."""
    return {name: QueueCountsOut.model_validate(c) for name, c in operations.queue_counts(queues).items()}


@router.get("/dead-letters", response_model=list[DeadLetterOut])
def dead_letters(channel: OperatorChannel, session: SessionDep, limit: Limit = 100,
                 offset: Offset = 0) -> list[DeadLetterOut]:
    """Documents that failed every retry on a fault of ours, with the application and app they belong to."""
    return [DeadLetterOut.model_validate(d) for d in operations.dead_letters(session, limit=limit, offset=offset)]


@router.get("/callbacks", response_model=list[CallbackOut])
def callbacks(channel: OperatorChannel, session: SessionDep, status: DeliveryStatus | None = None,
              limit: Limit = 100, offset: Offset = 0) -> list[CallbackOut]:
    """Callback deliveries, the latest first: all of them, or those of one ``status``."""
    found = operations.callbacks(session, status=status, limit=limit, offset=offset)
    return [CallbackOut.model_validate(c) for c in found]


@router.post("/callbacks/{delivery_id}/resend", response_model=CallbackResentOut)
def resend_callback(delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)], channel: OperatorChannel,
                    session: SessionDep, queues: QueuesDep) -> CallbackResentOut:
    """Send a failed (or pending) callback again, with a fresh set of attempts; 409 if it was delivered."""
    delivery = operations.resend_callback(session, delivery_id, actor=channel.id)
    session.commit()
    enqueued = queues.enqueue_callback(delivery.id)  # if not, the reconciler sends it: it is due now
    return CallbackResentOut(**asdict(delivery), enqueued=enqueued)


@router.post("/documents/{document_id}/requeue", response_model=DocumentOut)
def requeue(document_id: str, channel: OperatorChannel, session: SessionDep, queues: QueuesDep):
    """Give a dead (or failed) document a fresh set of attempts: on the backlog queue if its
    application came in by a backlog import (as the reconciler requeues it), so it never delays uploads."""
    doc = lifecycle.requeue_by_operator(session, document_id, actor=channel.id)
    backlog = doc.application_id in imported_applications(session, {doc.application_id})
    session.commit()
    if backlog:
        queues.enqueue_backlog_document(doc.id)
    else:
        queues.enqueue_document(doc.id)
    return DocumentOut.of(doc)


@router.post("/reconcile", response_model=ReconcileOut)
def run_reconcile(channel: OperatorChannel, settings: SettingsDep, queues: QueuesDep) -> ReconcileOut:
    """Enqueue what the database says must happen and Redis does not hold; 503 while Redis is unreachable."""
    result = reconcile(session_factory(settings.db.url), queues, settings)
    if result.redis_down:
        raise ServiceUnavailable("Redis is unreachable: nothing could be enqueued; run the reconciler again once "
                                 "it is back", what="redis")
    return ReconcileOut(**{**asdict(result), "total": result.total})
