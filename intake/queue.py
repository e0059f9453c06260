"""The rq queues. They carry ids only; what a job must do is always read from the database, so a
lost or repeated message is harmless (the reconciler re-sends lost ones, jobs ignore repeats).

Three queues so a backlog of OCR never delays the assessment of finished applications:
``ocr`` (one document), ``assess`` (one application), ``callbacks`` (one verdict notification).
A fourth, ``backlog``, is the lowest priority: imported applications' documents and re-scan
batches (``intake.backlog``, ``intake.rescan``); a worker takes from it only when the others are empty.
"""

from __future__ import annotations

import logging
from functools import cache

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from intake.settings import Settings

log = logging.getLogger(__name__)

BACKLOG_QUEUE = "backlog"


@cache
def redis_connection(url: str) -> Redis:
    # Short timeouts: an upload must not hang on a Redis that is down; the reconciler catches up.
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)


class Queues:
    def __init__(self, settings: Settings, connection: Redis | None = None) -> None:
        self.settings = settings
        self.connection = connection or redis_connection(settings.redis.url)
        q = settings.queue
        self.ocr = Queue(q.ocr_queue, connection=self.connection)
        self.assess = Queue(q.assess_queue, connection=self.connection)
        self.callbacks = Queue(q.callback_queue, connection=self.connection)
        self.backlog = Queue(BACKLOG_QUEUE, connection=self.connection)

    @property
    def all(self) -> list[Queue]:
        # A worker on all of them takes them in this order: the backlog only when the rest are empty.
        return [self.assess, self.callbacks, self.ocr, self.backlog]

    def enqueue_document(self, document_id: str) -> bool:
        """Send a document to the OCR workers; False (logged) when Redis cannot be reached."""
        return self._enqueue(
            self.ocr, "intake.jobs.process_document", document_id, timeout=self.settings.queue.job_timeout_seconds
        )

    def enqueue_assessment(self, application_id: str) -> bool:
        return self._enqueue(self.assess, "intake.jobs.assess_application", application_id, timeout=120)

    def enqueue_callback(self, delivery_id: int) -> bool:
        timeout = int(self.settings.queue.callback_timeout_seconds) + 30
        return self._enqueue(self.callbacks, "intake.jobs.deliver_callback", delivery_id, timeout=timeout)

    def enqueue_backlog_document(self, document_id: str) -> bool:
        """An imported application's document: read on the backlog queue, after every upload."""
        return self._enqueue(
            self.backlog, "intake.jobs.process_document", document_id,
            timeout=self.settings.queue.job_timeout_seconds,
        )

    def enqueue_rescan_batch(self, run_id: str, batch: int) -> bool:
        return self._enqueue(self.backlog, "intake.jobs.rescan_batch", run_id, batch, timeout=24 * 3600)

    def urgent_waiting(self) -> bool:
        """Whether uploads, assessments or callbacks wait for a worker (a backlog job then yields)."""
        try:
            return any(q.count for q in (self.assess, self.callbacks, self.ocr))
        except RedisError:
            return False

    def _enqueue(self, queue: Queue, func: str, *items: str | int, timeout: int) -> bool:
        shown = ", ".join(str(item) for item in items)
        try:
            # The job id names the item, so the operator sees what a job is about; repeats are fine.
            queue.enqueue(
                func, *items, job_timeout=timeout, result_ttl=3600, failure_ttl=7 * 86400,
                description=f"{func.rsplit('.', 1)[-1]}({shown})",
            )
        except RedisError as exc:
            log.warning("could not enqueue %s(%s) on %s: %s; the reconciler will", func, shown, queue.name, exc)
            return False
        return True

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            q.name: {
                "queued": q.count,
                "started": q.started_job_registry.count,
                "failed": q.failed_job_registry.count,
            }
            for q in self.all
        }
