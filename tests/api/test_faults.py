"""Faults never lose an accepted document, and never make one be processed twice.

Each test injects one real fault — a worker SIGKILLed during OCR, Redis killed and restarted empty,
the database connection cut (through a TCP proxy, never by stopping the shared server), the same job
run by two threads at once — then runs the reconciler and a real burst worker, and checks in the
database that every accepted document ended ``done``/``failed`` with the expected ``attempts`` and
``document.processing`` audit events, and that each submitted round has exactly one case.

Nothing here stops or flushes the shared Redis or PostgreSQL: Redis is a private redis-server per
module (see ``faultproxy.service_on_private_redis``), PostgreSQL databases are fresh ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

import intake.prescreen
from api.app import app as fastapi_app
from api.deps import current_settings
from intake.db import get_engine, session_factory
from intake.jobs import WorkerContext, process_document, set_context
from intake.models import AuditEvent, Case, Document
from intake.prescreen import Prescreener
from intake.queue import Queues
from intake.reconcile import reconcile
from intake.settings import (
    REPO_ROOT,
    DatabaseSettings,
    QueueSettings,
    RedisSettings,
    Settings,
    StorageSettings,
)
from intake.worker import run_worker
from tests.api.badinputs import good_pdf, text_image
from tests.api.conftest import Service, _channels
from tests.api.faultproxy import FaultProxy, PrivateRedis, service_on_private_redis
from tests.services import ensure_redis, fresh_postgres_database

pytestmark = [pytest.mark.redis, pytest.mark.ocr]

APPLICATION = {
    "applicant_name": "张三",
    "id_number": "230102195703152419",
    "disease": "糖尿病",
    "region": "绥化市",
    "application_date": "2026-03-05",
}
VERDICTS = ("ready_for_review", "needs_supplement")


@pytest.fixture(scope="module", autouse=True)
def _private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with service_on_private_redis(tmp_path_factory.mktemp("redis")):
        yield


# --- helpers ------------------------------------------------------------------------------------------


@dataclass
class Rig:
    """A service of the test's own making (its own Redis or database path), like the ``service``
    fixture but with the parts the fault needs."""

    settings: Settings
    client: TestClient
    keys: dict[str, str]
    context: WorkerContext

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.keys["app-a"], **extra}

    def sessions(self):  # type: ignore[no-untyped-def]
        return session_factory(self.settings.db.url)

    def work(self, context: WorkerContext | None = None) -> int:
        return run_worker(self.settings, burst=True, context=context or self.context)


def _settings(db_url: str, root: Path, redis_url: str, **queue: Any) -> Settings:
    return Settings(
        db=DatabaseSettings(url=db_url), storage=StorageSettings(root=root / "files"),
        redis=RedisSettings(url=redis_url),
        queue=QueueSettings(**{"retry_backoff_seconds": [0, 0, 0], "processing_timeout_seconds": 60, **queue}),
    )


@pytest.fixture
def make_rig(shared_prescreener: Prescreener) -> Iterator[Any]:
    made: list[TestClient] = []

    def make(settings: Settings) -> Rig:
        keys, _ = _channels(settings)
        fastapi_app.dependency_overrides[current_settings] = lambda: settings
        context = WorkerContext(settings)
        context.prescreener = shared_prescreener  # type: ignore[misc]
        set_context(context)
        # A database fault must come back as an HTTP answer, not as an exception in the test.
        client = TestClient(fastapi_app, raise_server_exceptions=False)
        client.__enter__()
        made.append(client)
        return Rig(settings, client, keys, context)

    try:
        yield make
    finally:
        for client in made:
            client.__exit__(None, None, None)
        fastapi_app.dependency_overrides.clear()
        set_context(None)


def _create(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/v1/applications", json=APPLICATION, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _upload(client: TestClient, headers: dict[str, str], app_id: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/applications/{app_id}/documents", files=[("files", (name, data))], headers=headers)


def _processing_events(session: Any, doc_id: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.document_id == doc_id, AuditEvent.action == "document.processing")) or 0


def _assert_processed_once(sessions: Any, app_id: str, attempts: dict[str, int]) -> None:
    """Every accepted document ended done/failed, with the given attempts and as many
    ``document.processing`` events; the application has its verdict and exactly one case."""
    with sessions() as session:
        docs = session.scalars(select(Document).where(Document.application_id == app_id)).all()
        assert {d.id for d in docs} == set(attempts), "documents appeared or vanished"
        for doc in docs:
            assert doc.status in ("done", "failed"), (doc.filename, doc.status, doc.error)
            assert doc.attempts == attempts[doc.id], (doc.filename, doc.attempts)
            assert _processing_events(session, doc.id) == attempts[doc.id], doc.filename
        cases = session.scalars(select(Case).where(Case.application_id == app_id)).all()
        assert len(cases) == 1, f"{len(cases)} cases"
        assert cases[0].verdict in VERDICTS


# --- a. a worker SIGKILLed in the middle of OCR --------------------------------------------------------


def test_worker_killed_during_ocr_is_detected_and_the_document_read_once_more(service: Service) -> None:
    """GIVEN a real worker process (``intake worker --burst --no-supervise``) OCR-ing a document
    WHEN it is SIGKILLed while the document is ``processing``
    THEN the reconciler sees the dead pid, waits the retry backoff, re-queues the document, and a
    worker reads it: done with attempts == 2, and the application gets its verdict (one case)."""
    app_id = _create(service.client, service.headers("app-a"))
    page = text_image(["疾病诊断证明书", "姓名：张三 性别：男", "诊断：2型糖尿病", "医师：李四 2026年02月20日",
                       "绥化市第一医院 内分泌科", "建议：长期服药，定期复查"], width=1100)
    response = _upload(service.client, service.headers("app-a"), app_id, "诊断证明.png", page)
    assert response.status_code == 201, response.text
    doc_id = response.json()["documents"][0]["id"]
    assert service.client.post(f"/v1/applications/{app_id}/submit", headers=service.headers("app-a")).status_code == 202

    settings = service.settings
    env = {**os.environ, "INTAKE_DB__URL": settings.db.url, "INTAKE_STORAGE__ROOT": str(settings.storage.root),
           "INTAKE_REDIS__URL": settings.redis.url, "INTAKE_QUEUE__PROCESSING_TIMEOUT_SECONDS": "5"}
    worker = subprocess.Popen([sys.executable, "-m", "intake.cli", "worker", "--burst", "--no-supervise"],
                              cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sessions = service.sessions()
    try:
        deadline = time.monotonic() + 300  # the worker loads the OCR models first (slow on a busy machine)
        status = "queued"
        while time.monotonic() < deadline and worker.poll() is None:
            with sessions() as session:
                status = session.get(Document, doc_id).status  # type: ignore[union-attr]
            if status != "queued":
                break
            time.sleep(0.02)
        assert status == "processing" and worker.poll() is None, (
            f"never caught the worker mid-OCR: document {status}, worker exit {worker.poll()}: "
            f"{worker.stderr.read().decode()[-2000:] if worker.poll() is not None and worker.stderr else ''}")
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait(30)  # reaped: a zombie would still answer os.kill(pid, 0)
    assert worker.returncode == -signal.SIGKILL

    with sessions() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.status == "processing" and doc.attempts == 1
        assert doc.worker is not None and doc.worker.endswith(f":{worker.pid}")

    # Within the retry backoff the dead worker's document is left alone …
    patient = settings.model_copy(update={"queue": settings.queue.model_copy(
        update={"retry_backoff_seconds": [300, 300, 300]})})
    early = reconcile(sessions, service.queues, patient)
    assert early.requeued_stuck == [] and early.dead == []
    # … after it (backoff 0 here) it is re-queued because its worker's pid is gone, not by timeout.
    result = reconcile(sessions, service.queues, settings)
    assert result.requeued_stuck == [doc_id], result
    with sessions() as session:
        reasons = [e.detail.get("reason") for e in session.scalars(select(AuditEvent).where(
            AuditEvent.document_id == doc_id, AuditEvent.action == "document.requeued"))]
    assert reasons == ["worker gone"]

    service.work()
    _assert_processed_once(sessions, app_id, {doc_id: 2})
    with sessions() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.status == "done", doc.error
    got = service.client.get(f"/v1/applications/{app_id}", headers=service.headers("app-a")).json()
    assert got["status"] in VERDICTS


# --- b. Redis killed during uploads and restarted empty --------------------------------------------------


def test_redis_killed_during_uploads_and_restarted_empty_loses_nothing(tmp_path: Path, make_rig: Any) -> None:
    """GIVEN a private Redis (the shared one is never stopped)
    WHEN two documents are uploaded (and queued), Redis is killed, two more are uploaded and the
    application submitted, and Redis comes back empty (the first two messages are lost too)
    THEN the later uploads still got 201 (committed, enqueue failed softly: ``received``), the
    reconciler enqueues the received and re-queues the lost queued ones, and one worker run
    processes all four exactly once and assesses the application once."""
    redis = PrivateRedis(tmp_path / "redis").start()
    try:
        rig = make_rig(_settings(f"sqlite:///{tmp_path / 'intake.db'}", tmp_path, redis.url))
        headers = rig.headers()
        app_id = _create(rig.client, headers)
        ids = {}
        for n in (1, 2):
            response = _upload(rig.client, headers, app_id, f"before_{n}.pdf", good_pdf(f"before {n}"))
            assert response.status_code == 201, response.text
            assert response.json()["documents"][0]["status"] == "queued"
            ids[f"before_{n}"] = response.json()["documents"][0]["id"]
        queues = Queues(rig.settings)
        assert queues.ocr.count == 2

        redis.stop()
        for n in (1, 2):
            started = time.monotonic()
            response = _upload(rig.client, headers, app_id, f"during_{n}.pdf", good_pdf(f"during {n}"))
            took = time.monotonic() - started
            assert response.status_code == 201, response.text
            assert took < 15, f"an upload waited {took:.1f} s on a dead Redis"
            assert response.json()["documents"][0]["status"] == "received"  # what the database says too
            ids[f"during_{n}"] = response.json()["documents"][0]["id"]
        submitted = rig.client.post(f"/v1/applications/{app_id}/submit", headers=headers)
        assert submitted.status_code == 202, submitted.text
        with rig.sessions()() as session:
            status = {name: session.get(Document, i).status for name, i in ids.items()}  # type: ignore[union-attr]
        assert status == {"before_1": "queued", "before_2": "queued", "during_1": "received",
                          "during_2": "received"}
        assert reconcile(rig.sessions(), queues, rig.settings).redis_down  # nothing to do until it is back

        redis.start()  # same port, empty
        assert queues.ocr.count == 0, "the restarted Redis must be empty, like a real restart"
        result = reconcile(rig.sessions(), queues, rig.settings)
        assert sorted(result.enqueued_received) == sorted([ids["during_1"], ids["during_2"]])
        assert sorted(result.requeued_lost) == sorted([ids["before_1"], ids["before_2"]])
        assert reconcile(rig.sessions(), queues, rig.settings).total == 0, "a second reconcile re-sent work"

        rig.work()
        _assert_processed_once(rig.sessions(), app_id, dict.fromkeys(ids.values(), 1))
        assert reconcile(rig.sessions(), queues, rig.settings).total == 0
        rig.work()  # nothing left: a further run changes nothing
        _assert_processed_once(rig.sessions(), app_id, dict.fromkeys(ids.values(), 1))
    finally:
        redis.stop()


# --- c. the database unreachable for a moment -------------------------------------------------------------


@dataclass
class CutDatabase:
    proxy: FaultProxy
    rig: Rig


@pytest.fixture
def cut_db(tmp_path: Path, make_rig: Any) -> Iterator[CutDatabase]:
    """A fresh PostgreSQL database reached only through a proxy the test can cut."""
    with fresh_postgres_database() as url:
        direct = make_url(url)
        with FaultProxy(direct.port or 5432, target_host=direct.host or "127.0.0.1") as proxy:
            proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
            settings = _settings(proxied, tmp_path, ensure_redis(), processing_timeout_seconds=1)
            from redis import Redis

            Redis.from_url(settings.redis.url).flushdb()
            try:
                yield CutDatabase(proxy, make_rig(settings))
            finally:
                proxy.restore()
                get_engine(proxied).dispose()



@pytest.mark.postgres
def test_upload_while_the_database_is_cut_gets_503_with_retry_after(cut_db: CutDatabase) -> None:
    """The database going away is the service's fault and temporary: the app must be told to retry
    (503 + Retry-After), quickly, not get a bare 500 or a hang."""
    rig = cut_db.rig
    app_id = _create(rig.client, rig.headers())
    cut_db.proxy.cut()
    started = time.monotonic()
    response = _upload(rig.client, rig.headers(**{"Idempotency-Key": "k-503"}), app_id, "a.pdf", good_pdf("503"))
    took = time.monotonic() - started
    assert cut_db.proxy.refused > 0, "the request never tried the database"
    assert took < 15, f"the upload hung for {took:.1f} s"
    assert response.status_code == 503, f"{response.status_code}: {response.text[:300]}"
    assert response.headers.get("Retry-After"), response.headers


@pytest.mark.postgres
def test_upload_retried_with_its_idempotency_key_after_the_database_returns_is_stored_once(
    cut_db: CutDatabase,
) -> None:
    """GIVEN an upload that failed with a 5xx because the database was cut
    WHEN the app retries it with the same Idempotency-Key after the database is back (twice)
    THEN the first retry stores it (201), the second replays that answer, and there is one
    document, read once by the worker."""
    rig = cut_db.rig
    key = {"Idempotency-Key": "retry-after-cut"}
    app_id = _create(rig.client, rig.headers())
    cut_db.proxy.cut()
    failed = _upload(rig.client, rig.headers(**key), app_id, "a.pdf", good_pdf("retried"))
    assert 500 <= failed.status_code < 600, failed.status_code
    cut_db.proxy.restore()

    first = _upload(rig.client, rig.headers(**key), app_id, "a.pdf", good_pdf("retried"))
    assert first.status_code == 201, first.text
    again = _upload(rig.client, rig.headers(**key), app_id, "a.pdf", good_pdf("retried"))
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    doc_id = first.json()["documents"][0]["id"]
    with rig.sessions()() as session:
        received = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "document.received"))
        assert received == 1
    assert rig.client.post(f"/v1/applications/{app_id}/submit", headers=rig.headers()).status_code == 202
    rig.work()
    _assert_processed_once(rig.sessions(), app_id, {doc_id: 1})


class _CutDuringOcr:
    """The shared prescreener, but the database is cut while the file is being read."""

    def __init__(self, inner: Prescreener, proxy: FaultProxy) -> None:
        self._inner, self._proxy = inner, proxy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def analyse_file(self, *args: Any, **kwargs: Any) -> Any:
        self._proxy.cut()
        return self._inner.analyse_file(*args, **kwargs)


@pytest.mark.postgres
def test_job_that_loses_the_database_mid_ocr_fails_and_is_finished_once_after_restore(
    cut_db: CutDatabase, shared_prescreener: Prescreener,
) -> None:
    """GIVEN a document claimed by a worker
    WHEN the database is cut while it is being read (so the result cannot be saved)
    THEN the job fails and rq records it; after the database is back the reconciler re-queues the
    document (its worker held it past ``processing_timeout_seconds``) and a worker finishes it:
    done, attempts == 2, one case."""
    rig = cut_db.rig
    app_id = _create(rig.client, rig.headers())
    response = _upload(rig.client, rig.headers(), app_id, "门诊病历.pdf", good_pdf("mid-ocr cut"))
    assert response.status_code == 201, response.text
    doc_id = response.json()["documents"][0]["id"]
    assert rig.client.post(f"/v1/applications/{app_id}/submit", headers=rig.headers()).status_code == 202

    cutting = WorkerContext(rig.settings)
    cutting.prescreener = _CutDuringOcr(shared_prescreener, cut_db.proxy)  # type: ignore[misc,assignment]
    rig.work(cutting)
    queues = Queues(rig.settings)
    assert queues.ocr.failed_job_registry.count == 1, "rq did not record the failed job"
    cut_db.proxy.restore()
    set_context(rig.context)

    with rig.sessions()() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.status == "processing" and doc.attempts == 1
    time.sleep(rig.settings.queue.processing_timeout_seconds + 0.5)
    result = reconcile(rig.sessions(), queues, rig.settings)
    assert result.requeued_stuck == [doc_id], result
    rig.work()
    _assert_processed_once(rig.sessions(), app_id, {doc_id: 2})
    with rig.sessions()() as session:
        assert session.get(Document, doc_id).status == "done"  # type: ignore[union-attr]


@pytest.mark.postgres
def test_database_blip_while_saving_the_ocr_cache_does_not_fail_the_applicants_document(
    cut_db: CutDatabase, shared_prescreener: Prescreener, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN a worker whose OCR cache lives in the service database (as in production)
    WHEN the database is unreachable just while the OCR result is cached, and back right after
    THEN the document is not marked ``failed`` as if the applicant's file were bad: a fault of ours
    must be retried (or the cache write skipped), and the document ends done."""
    rig = cut_db.rig
    prescreener = Prescreener(rig.settings)  # OCR cache in the (proxied) service database
    for heavy in ("engine", "seal_reader", "registry", "catalogue", "policies"):
        prescreener.__dict__[heavy] = getattr(shared_prescreener, heavy)  # models loaded once
    context = WorkerContext(rig.settings)
    context.prescreener = prescreener  # type: ignore[misc]
    original = intake.prescreen.put_cached_ocr

    def put_during_blip(*args: Any, **kwargs: Any) -> None:
        cut_db.proxy.cut()
        try:
            original(*args, **kwargs)
        finally:
            cut_db.proxy.restore()

    monkeypatch.setattr(intake.prescreen, "put_cached_ocr", put_during_blip)
    app_id = _create(rig.client, rig.headers())
    response = _upload(rig.client, rig.headers(), app_id, "门诊病历.pdf", good_pdf("cache blip"))
    assert response.status_code == 201, response.text
    doc_id = response.json()["documents"][0]["id"]
    assert rig.client.post(f"/v1/applications/{app_id}/submit", headers=rig.headers()).status_code == 202
    rig.work(context)
    monkeypatch.setattr(intake.prescreen, "put_cached_ocr", original)
    with rig.sessions()() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        status, attempts, error, code = doc.status, doc.attempts, doc.error, doc.error_code
    if status == "processing":  # the job raised and could not give the document back: the timeout does
        time.sleep(rig.settings.queue.processing_timeout_seconds + 0.5)
        reconcile(rig.sessions(), Queues(rig.settings), rig.settings)
        rig.work(context)
    elif status == "queued":  # the job raised and gave the document back, to be retried after its backoff
        time.sleep(rig.settings.queue.retry_backoff_seconds[0] + 0.5)
        reconcile(rig.sessions(), Queues(rig.settings), rig.settings)
        rig.work(context)
    with rig.sessions()() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        assert doc.status == "done", (
            f"a database blip became the applicant's problem: {doc.status} {doc.error_code}: {doc.error} "
            f"(after the blip: {status}, attempts {attempts}, {code}: {error})")


# --- d. the same job delivered twice, concurrently ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_same_job_run_concurrently_by_two_workers_is_processed_once(service: Service) -> None:
    """GIVEN documents queued once
    WHEN two threads run ``process_document`` for the same id at the same moment (on PostgreSQL)
    THEN one processes it and the other skips it: one ``document.processing`` event, attempts 1,
    done; draining the queue afterwards (the original deliveries) changes nothing."""
    app_id = _create(service.client, service.headers("app-a"))
    doc_ids = []
    for n in range(4):
        response = _upload(service.client, service.headers("app-a"), app_id, f"病历{n}.pdf", good_pdf(f"race {n}"))
        assert response.status_code == 201, response.text
        doc_ids.append(response.json()["documents"][0]["id"])
    service.context.sessions, service.context.queues  # noqa: B018  # built before the race, not in it

    for doc_id in doc_ids:
        barrier = threading.Barrier(2)
        results: list[str] = []
        errors: list[BaseException] = []

        def run(doc_id: str = doc_id, barrier: threading.Barrier = barrier,
                results: list[str] = results, errors: list[BaseException] = errors) -> None:
            try:
                barrier.wait(10)
                results.append(process_document(doc_id))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert sorted(results) == ["done", "skipped"], results

    service.work()  # the original deliveries: every one a no-op now
    assert service.client.post(f"/v1/applications/{app_id}/submit", headers=service.headers("app-a")).status_code == 202
    service.work()
    _assert_processed_once(service.sessions(), app_id, dict.fromkeys(doc_ids, 1))
