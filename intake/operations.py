"""What operators look at and do: queue lengths, dead letters, callback deliveries, re-sending one.

Functions over the caller's session, like ``intake.service``: they never commit, write an audit
event for each state change, and leave enqueueing to the caller, after its commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from intake.audit import audit
from intake.callbacks import DeliveryStatus
from intake.errors import Conflict, NotFound, ServiceUnavailable
from intake.models import Application, CallbackDelivery, Case, Document, DocumentStatus, utcnow
from intake.queue import Queues


@dataclass(frozen=True)
class QueueCounts:
    queued: int
    started: int
    failed: int


@dataclass(frozen=True)
class DeadLetter:
    """A document that failed every attempt on a fault of ours, with whose it is."""

    id: str
    application_id: str
    channel_id: str
    external_ref: str | None
    filename: str
    round: int
    sha256: str
    attempts: int
    last_fault: str | None
    error: str | None
    error_detail: str | None
    worker: str | None
    created_at: dt.datetime  # received
    started_at: dt.datetime | None  # its last attempt
    updated_at: dt.datetime  # declared dead (nothing changes a dead letter but a re-queue)


@dataclass(frozen=True)
class Callback:
    """One callback delivery: a verdict of one round, to the URL the application gave."""

    id: int
    application_id: str
    channel_id: str
    external_ref: str | None
    round: int
    url: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    created_at: dt.datetime


def queue_counts(queues: Queues) -> dict[str, QueueCounts]:
    """Jobs per queue: waiting, running and failed (rq's failed registry)."""
    try:
        counts = queues.counts()
    except RedisError as exc:
        raise ServiceUnavailable(
            f"Redis is unreachable ({type(exc).__name__}): queue lengths are unknown until it is back; "
            "uploads are still stored and the reconciler enqueues them then",
            what="redis",
        ) from exc
    return {name: QueueCounts(**c) for name, c in counts.items()}


def dead_letters(session: Session, *, limit: int, offset: int) -> list[DeadLetter]:
    """Dead documents, the latest received first."""
    rows = session.execute(
        select(Document, Application.channel_id, Application.external_ref)
        .join(Application, Document.application_id == Application.id)
        .where(Document.status == DocumentStatus.DEAD)
        .order_by(Document.created_at.desc(), Document.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        DeadLetter(
            id=doc.id, application_id=doc.application_id, channel_id=channel_id, external_ref=external_ref,
            filename=doc.filename, round=doc.round, sha256=doc.sha256, attempts=doc.attempts,
            last_fault=doc.last_fault, error=doc.error, error_detail=doc.error_detail, worker=doc.worker,
            created_at=doc.created_at, started_at=doc.started_at, updated_at=doc.updated_at,
        )
        for doc, channel_id, external_ref in rows
    ]


def callbacks(session: Session, *, status: DeliveryStatus | None, limit: int, offset: int) -> list[Callback]:
    """Callback deliveries (of one status, or all), the latest first."""
    query = _callback_query()
    if status is not None:
        query = query.where(CallbackDelivery.status == status)
    rows = session.execute(query.order_by(CallbackDelivery.id.desc()).limit(limit).offset(offset)).all()
    return [_callback(*row) for row in rows]


def resend_callback(session: Session, delivery_id: int, *, actor: str) -> Callback:
    """Give a failed (or still pending) delivery a fresh set of attempts, due now.

    It keeps its id, so the app recognises a repeat by ``X-Intake-Delivery`` if an earlier attempt
    did reach it. The caller enqueues ``delivery_id`` after committing."""
    row = session.execute(_callback_query().where(CallbackDelivery.id == delivery_id)).first()
    if row is None:
        raise NotFound(f"no callback delivery {delivery_id}")
    delivery = row[0]
    if delivery.status == DeliveryStatus.DELIVERED:
        raise Conflict(f"callback delivery {delivery_id} was delivered already; only failed or pending ones are "
                       "re-sent")
    audit(session, actor=actor, action="callback.resent", application_id=delivery.application_id,
          delivery_id=delivery.id, previous_status=delivery.status, previous_attempts=delivery.attempts,
          last_error=delivery.last_error)
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, utcnow()
    delivery.last_error = None
    session.flush()
    return _callback(*row)


def _callback_query() -> Select[CallbackDelivery, str, str | None, int]:
    return (
        select(CallbackDelivery, Application.channel_id, Application.external_ref, Case.round)
        .join(Application, CallbackDelivery.application_id == Application.id)
        .join(Case, CallbackDelivery.case_id == Case.id)
    )


def _callback(delivery: CallbackDelivery, channel_id: str, external_ref: str | None, round_: int) -> Callback:
    return Callback(
        id=delivery.id, application_id=delivery.application_id, channel_id=channel_id, external_ref=external_ref,
        round=round_, url=delivery.url, status=delivery.status, attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at, last_error=delivery.last_error, created_at=delivery.created_at,
    )
