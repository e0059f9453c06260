"""A document that fails on a fault of ours at every attempt becomes a dead letter: the application
waits (no verdict is made from our own failure), operators see it and re-queue it, and it is then
processed once."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from intake.models import AuditEvent, Document
from intake.reconcile import reconcile
from tests.api.conftest import Service

pytestmark = [pytest.mark.redis, pytest.mark.ocr]


def page() -> bytes:
    image = Image.new("RGB", (600, 400), "white")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_a_document_failing_every_attempt_is_a_dead_letter_operators_can_requeue(service: Service) -> None:
    headers = service.headers("app-a")
    app = service.client.post("/v1/applications", headers=headers, json={
        "applicant_name": "张三", "id_number": "230102195703152419", "disease": "糖尿病",
        "application_date": "2026-03-05"}).json()
    data = page()
    upload = service.client.post(f"/v1/applications/{app['id']}/documents", headers=headers,
                                 files=[("files", ("scan.png", data))])
    assert upload.status_code == 201
    doc = upload.json()["documents"][0]
    assert service.client.post(f"/v1/applications/{app['id']}/submit", headers=headers).status_code == 202

    # The shared file store loses the file (a fault of ours, not the applicant's).
    stored = service.settings.storage.root / doc["sha256"][:2] / doc["sha256"][2:4] / doc["sha256"]
    moved = stored.with_name("elsewhere")
    stored.rename(moved)
    for _attempt in range(service.settings.queue.max_attempts + 1):
        # Each attempt raises: rq records the failure, the job gives the document back for a retry,
        # and the reconciler re-sends it; the claim after the last attempt makes it a dead letter.
        service.work()
        reconcile(service.sessions(), service.queues, service.settings)
    with service.sessions()() as session:
        events = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.document_id == doc["id"]))]
    assert events.count("document.processing") == 3 and events.count("document.retry") == 3
    assert events[-1] == "document.dead"

    status = service.client.get(f"/v1/applications/{app['id']}", headers=headers).json()
    assert status["status"] == "prescreening" and status["verdict"] is None  # waits for the operator
    assert status["documents"][0]["status"] == "dead" and status["dead_letters"] == [doc["id"]]
    # The applicant reads, in Chinese, that it is ours to fix; the fault itself is for operators only.
    assert "无需重新上传" in status["documents"][0]["error"] and "NotFound" not in status["documents"][0]["error"]
    dead = service.client.get("/v1/ops/dead-letters", headers=service.headers("ops")).json()
    assert [d["id"] for d in dead] == [doc["id"]]
    assert dead[0]["application_id"] == app["id"] and dead[0]["channel_id"] == "app-a"
    assert "3 times" in dead[0]["error_detail"] and "NotFound" in dead[0]["error_detail"]

    moved.rename(stored)  # the operator fixes the store, then re-queues
    requeued = service.client.post(f"/v1/ops/documents/{doc['id']}/requeue", headers=service.headers("ops"))
    assert requeued.status_code == 200 and requeued.json()["status"] == "queued"
    service.work()
    status = service.client.get(f"/v1/applications/{app['id']}", headers=headers).json()
    assert status["documents"][0]["status"] == "done"
    assert status["verdict"] == "needs_supplement"  # a blank page proves nothing: every material missing
    with service.sessions()() as session:
        assert session.scalars(select(Document.attempts)).one() == 1
    again = service.client.post(f"/v1/ops/documents/{doc['id']}/requeue", headers=service.headers("ops"))
    assert again.status_code == 409
