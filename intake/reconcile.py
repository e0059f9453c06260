"""The reconciler: makes what Redis carries agree with what the database says must happen.

It (re-)enqueues (a document of a backlog import, ``intake.backlog``, back on the low-priority
``backlog`` queue it came by, never ahead of uploads on the ``ocr`` queue)
- documents ``received`` but never enqueued (Redis was down at upload time);
- documents ``queued`` whose message is no longer in Redis (Redis restarted and lost it);
- documents ``processing`` whose worker died (its process is gone, or it has held the document
  longer than ``processing_timeout_seconds``), after the retry backoff, as long as attempts remain;
- applications submitted whose documents are all processed but that have no case yet;
- callbacks due for another attempt.

Running it twice, or beside another reconciler, is harmless: jobs ignore what is not theirs.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake import lifecycle
from intake.models import (
    Application,
    ApplicationStatus,
    CallbackDelivery,
    Case,
    Document,
    DocumentStatus,
    ImportRecord,
    utcnow,
)
from intake.queue import Queues
from intake.service import TERMINAL, documents_in_effect
from intake.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    enqueued_received: list[str] = field(default_factory=list)
    requeued_lost: list[str] = field(default_factory=list)
    requeued_stuck: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    assessments: list[str] = field(default_factory=list)
    callbacks: list[int] = field(default_factory=list)
    redis_down: bool = False

    @property
    def total(self) -> int:
        return sum(len(v) for v in (self.enqueued_received, self.requeued_lost, self.requeued_stuck,
                                    self.assessments, self.callbacks))


def _worker_gone(worker: str | None) -> bool:
    """True when the worker that claimed a document ran on this host and its process has exited."""
    if not worker or ":" not in worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host.removeprefix("worker:") != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only the timeout can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite returns naive datetimes
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _jobs_in_redis(queues: Queues) -> set[str]:
    """Document ids that a job in Redis will still process (waiting or running)."""
    ids: set[str] = set()
    connection = queues.connection
    job_ids: list[str] = []
    for queue in (queues.ocr, queues.backlog):  # imported applications' documents wait on the backlog
        job_ids += list(queue.get_job_ids()) + list(StartedJobRegistry(queue=queue).get_job_ids())
    for job in Job.fetch_many(job_ids, connection=connection):
        if job is not None and job.args:
            ids.add(str(job.args[0]))
    return ids


def imported_applications(session: Session, application_ids: set[str]) -> set[str]:
    """Which of these applications came in by a backlog import (their documents belong on the
    backlog queue), in one query."""
    if not application_ids:
        return set()
    return set(session.scalars(select(ImportRecord.application_id).where(
        ImportRecord.application_id.in_(application_ids))))


def reconcile(sessions: sessionmaker[Session], queues: Queues, settings: Settings) -> ReconcileReport:
    report = ReconcileReport()
    q = settings.queue
    now = utcnow()
    try:
        in_redis = _jobs_in_redis(queues)
    except RedisError as exc:
        log.warning("reconcile: Redis unreachable (%s); nothing can be enqueued now", exc)
        report.redis_down = True
        return report

    to_enqueue: list[Document] = []
    with sessions.begin() as session:
        docs = session.scalars(
            select(Document).where(
                Document.status.in_([DocumentStatus.RECEIVED, DocumentStatus.QUEUED, DocumentStatus.PROCESSING])
            )
        ).all()
        for doc in docs:
            if doc.status == DocumentStatus.RECEIVED:
                report.enqueued_received.append(doc.id)
                reason = "enqueue"
            elif doc.status == DocumentStatus.QUEUED:
                retry_at = _as_utc(doc.retry_at)
                if doc.id in in_redis or (retry_at is not None and retry_at > now):
                    continue  # still on its way, or backing off after a fault
                report.requeued_lost.append(doc.id)
                reason = "lost"
            else:  # processing
                started = _as_utc(doc.started_at) or now
                timed_out = now - started > dt.timedelta(seconds=q.processing_timeout_seconds)
                if not (timed_out or _worker_gone(doc.worker)):
                    continue
                wait = lifecycle.retry_delay(doc.attempts, q.retry_backoff_seconds)
                if not timed_out and now - started < dt.timedelta(seconds=wait):
                    continue  # back off before the next attempt
                if doc.attempts >= q.max_attempts:
                    lifecycle.mark_dead(session, doc, actor="reconciler")
                    report.dead.append(doc.id)
                    continue
                report.requeued_stuck.append(doc.id)
                reason = "timeout" if timed_out else "worker gone"
            lifecycle.requeue(session, doc, actor="reconciler", reason=reason)
            to_enqueue.append(doc)
        imported = imported_applications(session, {doc.application_id for doc in to_enqueue})
        requeue = [(doc.id, doc.application_id in imported) for doc in to_enqueue]

        waiting = session.scalars(select(Application).where(Application.status == ApplicationStatus.PRESCREENING))
        for app in waiting:
            if not all(d.status in TERMINAL for d in documents_in_effect(app, app.round)):
                continue
            has_case = session.scalars(
                select(Case.id).where(Case.application_id == app.id, Case.round == app.round)
            ).first()
            if has_case is None:
                report.assessments.append(app.id)

        due = session.scalars(
            select(CallbackDelivery).where(CallbackDelivery.status == "pending")
        ).all()
        report.callbacks = [d.id for d in due if (_as_utc(d.next_attempt_at) or now) <= now]

    # After the commit: a document is never in Redis before the database says it is queued.
    for doc_id, backlog in requeue:
        if backlog:
            queues.enqueue_backlog_document(doc_id)
        else:
            queues.enqueue_document(doc_id)
    for app_id in report.assessments:
        queues.enqueue_assessment(app_id)
    for delivery_id in report.callbacks:
        queues.enqueue_callback(delivery_id)
    return report
