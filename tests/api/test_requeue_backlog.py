"""An operator's re-queue of a dead letter sends it back where it came from: a backlog import's
document on the low-priority backlog queue (behind every upload), an upload's on the ocr queue.
Real Redis (INTAKE_TEST_REDIS_URL), real SQLite and PostgreSQL, the real API; no OCR (nothing is read)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from intake import backlog, lifecycle
from intake.local import read_folder_files, store_folder, submit_folder
from intake.models import Document, DocumentStatus
from intake.settings import REPO_ROOT
from tests.api.conftest import Service
from tests.intake.test_import_reconcile import queued_ids, sample_folder

SAMPLE = REPO_ROOT / "fixtures" / "samples" / "c01_suihua_ready_diabetes"

pytestmark = pytest.mark.redis


def test_a_requeued_dead_letter_goes_back_on_its_own_queue(service: Service, tmp_path: Path) -> None:
    ctx, queues = service.context, service.queues
    ctx.queues = queues  # type: ignore[misc]
    imported = backlog.import_one(ctx, backlog.Candidate("PAPER-1", folder=sample_folder(tmp_path, "PAPER-1")),
                                  local=False)
    assert imported.status == "queued"
    with ctx.sessions.begin() as session:
        upload_id, _ = store_folder(ctx, session, read_folder_files(ctx, sample_folder(tmp_path, "UPLOAD-1")))
    submit_folder(ctx, upload_id)

    # One document of each failed every attempt: both dead letters, neither on any queue.
    with ctx.sessions.begin() as session:
        from_import = session.scalars(select(Document).where(Document.application_id == imported.application_id)
                                      .order_by(Document.id)).first()
        from_upload = session.scalars(select(Document).where(Document.application_id == upload_id)
                                      .order_by(Document.id)).first()
        assert from_import is not None and from_upload is not None
        for doc in (from_import, from_upload):
            lifecycle.mark_dead(session, doc, actor="test")
        dead = {"import": from_import.id, "upload": from_upload.id}
    queues.backlog.empty()
    queues.ocr.empty()

    for doc_id in dead.values():
        answer = service.client.post(f"/v1/ops/documents/{doc_id}/requeue", headers=service.headers("ops"))
        assert answer.status_code == 200 and answer.json()["status"] == "queued"

    assert queued_ids(queues.backlog) == {dead["import"]}
    assert queued_ids(queues.ocr) == {dead["upload"]}
    with ctx.sessions() as session:
        assert {session.get(Document, d).status for d in dead.values()} == {DocumentStatus.QUEUED}
