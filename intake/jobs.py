"""Queue jobs: thin adapters that take an id, load from the database, run the pure pipeline and
persist. Each is idempotent: running one twice gives the same result and no duplicate rows.

A job raises only on faults of ours (database or file store unreachable …): rq records the failure
and the reconciler retries the document with backoff, up to ``max_attempts`` (then a dead letter).
A bad *file* is not a fault: it is a document-level failure with a reason.

Each job takes an optional ``WorkerContext``: rq calls them with the id alone (the process's
context), the command line with its own, whose ``dispatch`` runs the next job at once in-process
instead of sending it to Redis. Either way the same functions change the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake import lifecycle
from intake.callbacks import deliver
from intake.db import session_factory
from intake.files import LocalFileStore
from intake.models import Application, CallbackDelivery
from intake.prescreen import Prescreener
from intake.queue import Queues
from intake.service import application_data, assess_if_ready, worker_name
from intake.settings import Settings, get_settings
from intake.versions import current_versions
from intake.workspace.overlay import References

log = logging.getLogger(__name__)


class Dispatch(Protocol):
    """Where a job sends the work that follows it: rq's queues, or the same process."""

    def enqueue_assessment(self, application_id: str) -> bool: ...

    def enqueue_callback(self, delivery_id: int) -> bool: ...


@dataclass
class WorkerContext:
    """Loaded once per worker process: models, registry, database and file store."""

    settings: Settings

    @cached_property
    def prescreener(self) -> Prescreener:
        return Prescreener(self.settings)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.settings.db.url)

    @cached_property
    def files(self) -> LocalFileStore:
        return LocalFileStore(self.settings.storage.root)

    @cached_property
    def queues(self) -> Queues:
        return Queues(self.settings)

    @cached_property
    def dispatch(self) -> Dispatch:
        return self.queues

    @property
    def name(self) -> str:
        return f"worker:{worker_name()}"


_context: WorkerContext | None = None


def get_context() -> WorkerContext:
    global _context
    if _context is None:
        _context = WorkerContext(get_settings())
    return _context


def set_context(context: WorkerContext | None) -> None:
    """For tests and embedded use: run jobs against these settings."""
    global _context
    _context = context


def process_document(document_id: str, ctx: WorkerContext | None = None) -> str:
    ctx = ctx or get_context()
    me = ctx.name
    with ctx.sessions.begin() as session:
        doc = lifecycle.claim(session, document_id, worker=me, max_attempts=ctx.settings.queue.max_attempts)
        if doc is None:
            return "skipped"
        app = session.get(Application, doc.application_id)
        assert app is not None
        data = application_data(app)
        policy = ctx.prescreener.policies.for_region(app.region)
        sha256, filename, application_id = doc.sha256, doc.filename, doc.application_id
    try:
        blob = ctx.files.get(sha256)
        report = ctx.prescreener.analyse_file(filename, blob, data, policy)
        with ctx.sessions.begin() as session:
            if lifecycle.finish(session, document_id, worker=me, report=report) is None:
                return "taken over"
    except Exception as exc:
        _release(ctx, document_id, me, exc)
        raise  # rq records the failure; the reconciler re-sends the document after the backoff

    ctx.dispatch.enqueue_assessment(application_id)  # a no-op job unless the whole round is processed
    return "done"


def _release(ctx: WorkerContext, document_id: str, worker: str, exc: Exception) -> None:
    fault = f"{type(exc).__name__}: {exc}"[:500]
    try:
        with ctx.sessions.begin() as session:
            lifecycle.release(session, document_id, worker=worker, fault=fault,
                              backoff_seconds=ctx.settings.queue.retry_backoff_seconds)
    except Exception:  # the database itself is down: the processing timeout will catch the document
        log.warning("could not release %s after %s", document_id, fault, exc_info=True)


def assess_application(application_id: str, ctx: WorkerContext | None = None) -> str:
    ctx = ctx or get_context()
    with ctx.sessions.begin() as session:
        app = session.get(Application, application_id, with_for_update=True)
        if app is None:
            return "gone"
        case = assess_if_ready(
            session, app, policies=ctx.prescreener.policies, actor=ctx.name,
            fingerprint=ctx.prescreener.fingerprint,
            versions=current_versions(ctx.prescreener, app.region).as_dict(),
            references=References(ctx.prescreener.registry, ctx.prescreener.catalogue),
        )
        if case is None:
            return "not ready"
        delivery_ids = [d.id for d in _pending_deliveries(session, app.id)]
    for delivery_id in delivery_ids:
        ctx.dispatch.enqueue_callback(delivery_id)
    return "assessed"


def _pending_deliveries(session: Session, application_id: str) -> Sequence[CallbackDelivery]:
    session.flush()
    return session.scalars(
        select(CallbackDelivery).where(
            CallbackDelivery.application_id == application_id, CallbackDelivery.status == "pending"
        )
    ).all()


def deliver_callback(delivery_id: int, ctx: WorkerContext | None = None) -> str:
    ctx = ctx or get_context()
    return deliver(ctx.sessions, delivery_id, settings=ctx.settings)


def rescan_batch(run_id: str, batch: int, ctx: WorkerContext | None = None) -> str:
    """One batch of a re-scan run (``intake.rescan``), on the low-priority ``backlog`` queue: its
    items not done yet, one after another; it hands the rest of the batch back to the queue as soon
    as an upload or an assessment is waiting, so the backlog never delays them."""
    from intake.rescan import run_batch

    ctx = ctx or get_context()
    return run_batch(ctx, run_id, batch, queues=ctx.queues)  # the queues tell it when to yield
