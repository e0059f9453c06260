"""The operators' re-scan and import API over real Redis and a real rq worker: a run's batches go
to the low-priority backlog queue, survive Redis losing them (resume), never delay an upload, and
the finished run reports exactly the expected diff. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select

from intake.local import InlineDispatch, prescreen_folder
from intake.models import Case, Document, RescanItem
from intake.settings import REPO_ROOT
from tests.api.conftest import Service
from tests.intake.test_rescan import LOW_GRADE, LOW_GRADE_CERT, READY, copy_case, upgraded_registry, variant

pytestmark = [pytest.mark.redis, pytest.mark.ocr]
SAMPLES = REPO_ROOT / "fixtures" / "samples"


def assessed_backlog(service: Service, tmp_path: Path) -> None:
    """Two applications pre-screened in-process into the service's database."""
    from intake.jobs import WorkerContext

    ctx = WorkerContext(service.settings)
    ctx.prescreener = service.context.prescreener  # type: ignore[misc]
    ctx.dispatch = InlineDispatch(ctx)  # type: ignore[misc]
    for sample, case_id in ((READY, "R-1"), (LOW_GRADE, "L-1")):
        prescreen_folder(ctx, copy_case(tmp_path, sample, case_id))


def test_rescan_on_the_backlog_queue_resumes_after_redis_lost_it(service: Service, tmp_path: Path) -> None:
    assessed_backlog(service, tmp_path)
    # The workers now run with an upgraded registry: L-1's community centre is 二级甲等.
    service.context.prescreener = variant(service.context.prescreener,  # type: ignore[misc]
                                          registry=upgraded_registry(tmp_path))
    ops = service.headers("ops")
    assert service.client.post("/v1/ops/rescans", json={}, headers=service.headers("app-a")).status_code == 403

    started = service.client.post("/v1/ops/rescans", json={"dry_run": False, "batch_size": 1}, headers=ops)
    assert started.status_code == 202, started.text
    body = started.json()
    run_id = body["run_id"]
    assert (body["total"], body["done"], body["enqueued"], body["status"]) == (2, 0, 2, "running")
    assert service.queues.backlog.count == 2

    # Redis restarts and loses every job: nothing happens until the run is resumed.
    Redis.from_url(service.settings.redis.url).flushdb()
    service.work()
    assert service.client.get(f"/v1/ops/rescans/{run_id}", headers=ops).json()["done"] == 0
    resumed = service.client.post(f"/v1/ops/rescans/{run_id}/resume", headers=ops).json()
    assert resumed["enqueued"] == 2

    # An upload arrives while the re-scan waits: the worker serves it first.
    data = json.loads((SAMPLES / READY / "application.json").read_text("utf-8"))
    fields = {k: data[k] for k in ("applicant_name", "id_number", "disease", "region", "application_date")}
    created = service.client.post("/v1/applications", json=fields, headers=service.headers("app-a")).json()
    photo = next(p for p in sorted((SAMPLES / READY).iterdir()) if p.suffix == ".jpg")
    uploaded = service.client.post(f"/v1/applications/{created['id']}/documents",
                                   files=[("files", (photo.name, photo.read_bytes(), "image/jpeg"))],
                                   headers=service.headers("app-a"))
    assert uploaded.status_code in (200, 201), uploaded.text
    assert service.client.post(f"/v1/applications/{created['id']}/submit",
                               headers=service.headers("app-a")).status_code in (200, 202)
    service.work()

    done = service.client.get(f"/v1/ops/rescans/{run_id}", headers=ops).json()
    assert (done["status"], done["done"], done["failed"]) == ("done", 2, 0)
    assert done["rate_per_minute"] and done["eta_seconds"] == 0
    result = done["result"]
    assert (result["selected"], result["unchanged"]) == (2, 1)
    [changed] = result["changed"]
    assert {k: changed[k] for k in ("case_id", "old_verdict", "new_verdict", "problems_added", "problems_removed",
                                    "decided", "redone")} == {
        "case_id": "L-1", "old_verdict": "needs_supplement", "new_verdict": "ready_for_review",
        "problems_added": [], "problems_removed": [f"grade_too_low:{LOW_GRADE_CERT}"], "decided": False,
        "redone": "assessment"}
    assert set(result["versions"]) == {"before", "after"}
    with service.sessions()() as session:
        upload_done = session.scalar(select(func.max(Document.finished_at)).where(
            Document.application_id == created["id"]))
        rescan_done = session.scalar(select(func.min(RescanItem.finished_at)).where(RescanItem.run_id == run_id))
        assert upload_done is not None and rescan_done is not None and upload_done <= rescan_done
        assert session.scalar(select(func.count()).select_from(Case).where(Case.revision == 1)) == 1


def test_import_through_the_api_reads_on_the_backlog_queue(service: Service, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    copy_case(tmp_path, LOW_GRADE, "P-1")
    shutil.move(tmp_path / "backlog", tree)
    (tree / "broken").mkdir()
    ops = service.headers("ops")

    first = service.client.post("/v1/ops/imports", json={"root": str(tree)}, headers=ops)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == {"queued": 1, "bad": 1}
    assert service.queues.backlog.count == 4 and service.queues.ocr.count == 0
    service.work()
    again = service.client.post("/v1/ops/imports", json={"root": str(tree)}, headers=ops).json()
    assert again["status"] == {"already": 1, "bad": 1}
    assert again["verdicts"] == {"needs_supplement": 1} and again["problems"] == {"grade_too_low": 1}
    assert service.queues.backlog.count == 0
