"""The rq queues. They carry ids only; what a job must do is always read from the database, so a
lost or repeated message is harmless (the reconciler re-sends lost ones, jobs ignore repeats).

Three queues so a backlog of OCR never delays the assessment of finished applications:
``ocr`` (one document), ``assess`` (one application), ``callbacks`` (one verdict notification).
"""

from __future__ import annotations

import logging
from functools import cache

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from intake.settings import Settings

log = logging.getLogger(__name__)


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

    @property
    def all(self) -> list[Queue]:
        return [self.assess, self.callbacks, self.ocr]  # a worker on all three takes them in this order

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

    def _enqueue(self, queue: Queue, func: str, item: str | int, *, timeout: int) -> bool:
        try:
            # The job id names the item, so the operator sees what a job is about; repeats are fine.
            queue.enqueue(
                func, item, job_timeout=timeout, result_ttl=3600, failure_ttl=7 * 86400,
                description=f"{func.rsplit('.', 1)[-1]}({item})",
            )
        except RedisError as exc:
            log.warning("could not enqueue %s(%s) on %s: %s; the reconciler will", func, item, queue.name, exc)
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
