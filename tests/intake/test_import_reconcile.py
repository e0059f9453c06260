"""A backlog import's documents that Redis lost go back on the low-priority backlog queue when the
reconciler finds them, never ahead of uploads on the ocr queue; an upload's lost document goes back
on the ocr queue. Real Redis (INTAKE_TEST_REDIS_URL), real SQLite; no OCR (nothing is read)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select

from intake import backlog
from intake.jobs import WorkerContext
from intake.local import read_folder_files, store_folder, submit_folder
from intake.models import Document, DocumentStatus
from intake.queue import Queues
from intake.reconcile import reconcile
from intake.settings import REPO_ROOT, Settings
from tests.services import ensure_redis

SAMPLE = REPO_ROOT / "fixtures" / "samples" / "c01_suihua_ready_diabetes"

pytestmark = pytest.mark.redis


def sample_folder(tmp_path: Path, case_id: str) -> Path:
    """The c01 sample as an application folder of ``case_id`` under ``tmp_path/tree``."""
    folder = tmp_path / "tree" / case_id
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("truth.json"))
    data = json.loads((folder / "application.json").read_text("utf-8"))
    (folder / "application.json").write_text(json.dumps({**data, "case_id": case_id}, ensure_ascii=False), "utf-8")
    return folder


def queued_ids(queue) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(job.args[0]) for job in queue.get_jobs()}


def test_lost_backlog_documents_go_back_on_the_backlog_queue(tmp_path: Path) -> None:
    url = ensure_redis()
    Redis.from_url(url).flushdb()
    settings = Settings(db={"url": f"sqlite:///{tmp_path / 'intake.db'}"}, storage={"root": tmp_path / "files"},
                        redis={"url": url})
    ctx = WorkerContext(settings)
    queues = Queues(settings)
    ctx.queues = queues  # type: ignore[misc]

    # An imported application, queued on the backlog queue …
    outcome = backlog.import_one(ctx, backlog.Candidate("PAPER-1", folder=sample_folder(tmp_path, "PAPER-1")),
                                  local=False)
    assert outcome.status == "queued"
    # … and an ordinary one (an upload's documents: stored, submitted, never enqueued).
    with ctx.sessions.begin() as session:
        upload_id, _ = store_folder(ctx, session, read_folder_files(ctx, sample_folder(tmp_path, "UPLOAD-1")))
    submit_folder(ctx, upload_id)
    with ctx.sessions() as session:
        docs = session.scalars(select(Document)).all()
        imported = {d.id for d in docs if d.application_id == outcome.application_id}
        uploaded = {d.id for d in docs if d.application_id == upload_id}
        assert {d.status for d in docs if d.id in imported} == {DocumentStatus.QUEUED}
    assert len(imported) == len(uploaded) == 4
    assert queued_ids(queues.backlog) == imported and queued_ids(queues.ocr) == set()

    # Redis restarts and loses the backlog queue.
    queues.backlog.empty()
    report = reconcile(ctx.sessions, queues, settings)

    assert set(report.requeued_lost) == imported and set(report.enqueued_received) == uploaded
    assert queued_ids(queues.backlog) == imported  # back where it came from, behind the uploads
    assert queued_ids(queues.ocr) == uploaded
    # Running it again sends nothing twice: every document is on its queue.
    again = reconcile(ctx.sessions, queues, settings)
    assert again.requeued_lost == [] and again.enqueued_received == []
    assert len(queues.backlog.get_job_ids()) == 4 and len(queues.ocr.get_job_ids()) == 4
