"""The whole path: an HTTP upload of a sample application, a real rq worker (burst mode) running the
real OCR, and a case with the right verdict; supplements (补正), callbacks, repeated deliveries."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from intake import clock
from intake.callbacks import verify
from intake.models import AuditEvent, Case, Document
from tests.api.conftest import Service

pytestmark = [pytest.mark.redis, pytest.mark.ocr]

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


def sample(verdict: str, skip: int = 0) -> Path:
    folders = [p for p in sorted(SAMPLES.iterdir()) if (p / "truth.json").is_file()
               and json.loads((p / "truth.json").read_text("utf-8"))["verdict"] == verdict]
    return folders[skip]


def open_application(service: Service, folder: Path, **extra: object) -> str:
    body = json.loads((folder / "application.json").read_text("utf-8"))
    body.pop("case_id", None)
    response = service.client.post("/v1/applications", json={**body, "external_ref": folder.name, **extra},
                                   headers=service.headers("app-a"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def documents(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name not in ("application.json", "truth.json"))


def upload(service: Service, app_id: str, paths: list[Path]) -> None:
    response = service.client.post(
        f"/v1/applications/{app_id}/documents",
        files=[("files", (p.name, p.read_bytes())) for p in paths], headers=service.headers("app-a"),
    )
    assert response.status_code == 201, response.text


def submit(service: Service, app_id: str) -> None:
    """Submit on the sample's own application date: its documents are dated for that day."""
    day = dt.date.fromisoformat(status(service, app_id)["application_date"])
    with clock.frozen(day):
        response = service.client.post(f"/v1/applications/{app_id}/submit", headers=service.headers("app-a"))
    assert response.status_code == 202, response.text


def status(service: Service, app_id: str) -> dict:
    return service.client.get(f"/v1/applications/{app_id}", headers=service.headers("app-a")).json()


def test_upload_to_verdict_through_a_real_worker(service: Service) -> None:
    for folder in (sample("ready_for_review"), sample("needs_supplement")):
        truth = json.loads((folder / "truth.json").read_text("utf-8"))
        app_id = open_application(service, folder)
        upload(service, app_id, documents(folder))
        submit(service, app_id)
        service.work()
        got = status(service, app_id)
        assert got["status"] == truth["verdict"], got
        assert sorted(got["problems"]) == sorted(truth["problems"])
        assert all(d["status"] in ("done", "failed") for d in got["documents"])
        report = service.client.get(f"/v1/applications/{app_id}/report", headers=service.headers("app-a")).json()
        assert report["verdict"] == truth["verdict"] and len(report["documents"]) == len(documents(folder))
        review = service.client.get(f"/v1/review/applications/{app_id}", headers=service.headers("reviewer"))
        assert review.status_code == 200
        actions = [e["action"] for e in review.json()["audit"]]
        assert actions[0] == "application.created" and actions[-1] == "application.assessed"


def test_supplement_is_reassessed_and_history_is_kept(service: Service) -> None:
    folder = sample("ready_for_review")
    paths = documents(folder)
    lab = next(p for p in paths if _truth_type(folder, p.name) == "lab_report")
    app_id = open_application(service, folder)
    upload(service, app_id, [p for p in paths if p != lab])
    submit(service, app_id)
    service.work()
    first = status(service, app_id)
    assert first["status"] == "needs_supplement" and first["problems"] == ["missing:lab_report"]
    assert "检验" in first["notice"]

    upload(service, app_id, [lab])  # 补正
    submit(service, app_id)
    service.work()
    second = status(service, app_id)
    assert second["status"] == "ready_for_review" and second["round"] == 2, second
    history = service.client.get(f"/v1/applications/{app_id}/cases", headers=service.headers("app-a")).json()
    assert [(c["round"], c["verdict"]) for c in history] == [(1, "needs_supplement"), (2, "ready_for_review")]


def _truth_type(folder: Path, name: str) -> str:
    truth = json.loads((folder / "truth.json").read_text("utf-8"))
    return next(d["doc_type"] for d in truth["documents"] if d["file"] == name)


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    failures_left = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.failures_left > 0:
            _Receiver.failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        _Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_callback_is_signed_and_retried(service: Service) -> None:
    from intake.reconcile import reconcile

    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.received, _Receiver.failures_left = [], 1
    try:
        folder = sample("needs_supplement")
        app_id = open_application(service, folder, callback_url=f"http://127.0.0.1:{server.server_port}/hook")
        upload(service, app_id, documents(folder))
        submit(service, app_id)
        service.work()  # the first delivery gets a 503
        assert _Receiver.received == []
        with service.sessions().begin() as session:  # make the retry due now instead of in 15 s
            from intake.models import CallbackDelivery

            delivery = session.scalars(select(CallbackDelivery)).one()
            assert delivery.attempts == 1 and delivery.last_error == "HTTP 503"
            delivery.next_attempt_at = delivery.created_at
        reconcile(service.sessions(), service.queues, service.settings)
        service.work()
    finally:
        server.shutdown()
    assert len(_Receiver.received) == 1
    headers, body = _Receiver.received[0]
    assert verify(service.secrets["app-a"], headers["X-Intake-Timestamp"], body, headers["X-Intake-Signature"])
    assert not verify("wrong-secret", headers["X-Intake-Timestamp"], body, headers["X-Intake-Signature"])
    payload = json.loads(body)
    assert payload["application_id"] == app_id and payload["verdict"] == "needs_supplement"
    assert payload["problems"] and payload["notice"]


def test_the_same_job_delivered_twice_processes_once(service: Service) -> None:
    folder = sample("ready_for_review")
    app_id = open_application(service, folder)
    upload(service, app_id, documents(folder)[:1])
    with service.sessions()() as session:
        doc_id = session.scalars(select(Document.id)).one()
    service.queues.enqueue_document(doc_id)  # a second delivery of the same document
    service.queues.enqueue_document(doc_id)
    service.work()
    with service.sessions()() as session:
        processing = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.document_id == doc_id, AuditEvent.action == "document.processing"))
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.status == "done" and doc.attempts == 1
    assert processing == 1
    submit(service, app_id)
    service.work()
    service.queues.enqueue_assessment(app_id)  # an assessment delivered twice makes one case
    service.work()
    with service.sessions()() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
