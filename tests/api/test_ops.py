"""The operators' API: queue lengths (503 while Redis is down), dead letters with whose they are,
callback deliveries listed and a failed one re-sent and delivered by a real worker, typed and paged
answers. The data is made directly in the database, as the jobs would leave it."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select

from intake.callbacks import DELIVERY_HEADER
from intake.models import Application, AuditEvent, CallbackDelivery, Case, Document, utcnow
from tests.api.conftest import Service
from tests.api.faultproxy import PrivateRedis, service_on_private_redis

pytestmark = [pytest.mark.redis, pytest.mark.ocr]


def application(service: Service, *, channel: str = "app-a", external_ref: str | None = "REF-1",
                callback_url: str | None = None) -> str:
    with service.sessions().begin() as session:
        app = Application(channel_id=channel, external_ref=external_ref, applicant_name="张三",
                          id_number="230102195703152419", disease="糖尿病", region="绥化市",
                          application_date=dt.date(2026, 3, 5), status="prescreening", round=1,
                          callback_url=callback_url)
        session.add(app)
        session.flush()
        return app.id


def dead_document(service: Service, application_id: str, name: str, *, received: dt.datetime) -> str:
    with service.sessions().begin() as session:
        doc = Document(application_id=application_id, sha256=name.encode().hex().ljust(64, "0"), filename=name,
                       size_bytes=100, round=1, status="dead", attempts=3, last_fault="NotFound: file store",
                       error="材料暂时未能完成识别", error_detail="processing failed 3 times (NotFound: file store)",
                       worker="worker:host:1", created_at=received, started_at=received)
        session.add(doc)
        session.flush()
        return doc.id


def delivery(service: Service, application_id: str, url: str, *, status: str, attempts: int,
             last_error: str | None = None, round_: int = 1) -> int:
    with service.sessions().begin() as session:
        case = Case(application_id=application_id, round=round_, verdict="needs_supplement",
                    problems=["missing:lab_report"], notice="请补充检验报告。", report={})
        session.add(case)
        session.flush()
        row = CallbackDelivery(application_id=application_id, case_id=case.id, url=url, status=status,
                               attempts=attempts, last_error=last_error)
        session.add(row)
        session.flush()
        return row.id


def ops(service: Service) -> dict[str, str]:
    return service.headers("ops")


# --- queues -------------------------------------------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis | None]:
    """A redis-server of this test's own (requested before ``service``, which then uses it)."""
    with service_on_private_redis(tmp_path / "redis") as redis:
        yield redis


def test_queues_answer_503_naming_redis_while_it_is_down(private_redis: PrivateRedis | None,
                                                        service: Service) -> None:
    if private_redis is None:
        pytest.skip("needs redis-server to run a private Redis (the shared one is never stopped)")
    assert service.settings.redis.url == private_redis.url
    up = service.client.get("/v1/ops/queues", headers=ops(service))
    assert up.status_code == 200
    assert up.json()["callbacks"] == {"queued": 0, "started": 0, "failed": 0}

    private_redis.stop()
    down = service.client.get("/v1/ops/queues", headers=ops(service))
    assert down.status_code == 503, down.text
    assert down.json()["unavailable"] == "redis" and "Redis is unreachable" in down.json()["detail"]
    assert down.headers["Retry-After"]
    reconciled = service.client.post("/v1/ops/reconcile", headers=ops(service))
    assert reconciled.status_code == 503 and reconciled.json()["unavailable"] == "redis"


# --- dead letters -------------------------------------------------------------------------------------


def test_dead_letters_name_their_application_and_app_latest_first_and_paged(service: Service) -> None:
    first = application(service, channel="app-a", external_ref="REF-A")
    second = application(service, channel="app-b", external_ref=None)
    start = utcnow() - dt.timedelta(hours=3)
    old = dead_document(service, first, "old.pdf", received=start)
    middle = dead_document(service, second, "middle.png", received=start + dt.timedelta(hours=1))
    new = dead_document(service, first, "new.jpg", received=start + dt.timedelta(hours=2))

    response = service.client.get("/v1/ops/dead-letters", headers=ops(service))
    assert response.status_code == 200
    dead = response.json()
    assert [d["id"] for d in dead] == [new, middle, old]
    assert {k: dead[1][k] for k in ("application_id", "channel_id", "external_ref", "filename", "attempts")} == {
        "application_id": second, "channel_id": "app-b", "external_ref": None, "filename": "middle.png",
        "attempts": 3}
    assert dead[0]["channel_id"] == "app-a" and dead[0]["external_ref"] == "REF-A"
    assert dead[0]["last_fault"] == "NotFound: file store" and "3 times" in dead[0]["error_detail"]
    assert dead[0]["created_at"] and dead[0]["started_at"] and dead[0]["updated_at"]

    page = service.client.get("/v1/ops/dead-letters?limit=2&offset=1", headers=ops(service)).json()
    assert [d["id"] for d in page] == [middle, old]
    assert service.client.get("/v1/ops/dead-letters?offset=3", headers=ops(service)).json() == []


# --- callbacks ----------------------------------------------------------------------------------------


class _App(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        _App.received.append(dict(self.headers))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_failed_callback_is_listed_resent_and_delivered_by_a_worker(service: Service) -> None:
    """GIVEN a callback that failed every attempt (the app was down), to an app in our own network
    WHEN an operator lists the failed callbacks and re-sends it
    THEN it is pending with fresh attempts, a real worker delivers it with its delivery id, it is
    listed as delivered, and re-sending it again is a conflict."""
    service.settings.allow_private_callback_urls = True  # the app is a local HTTP server
    server = HTTPServer(("127.0.0.1", 0), _App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _App.received = []
    try:
        app_id = application(service, callback_url=f"http://127.0.0.1:{server.server_port}/hook")
        failed = delivery(service, app_id, f"http://127.0.0.1:{server.server_port}/hook", status="failed",
                          attempts=8, last_error="HTTP 503")
        done = delivery(service, app_id, "https://hooks.example.com/x", status="delivered", attempts=1,
                        round_=2)

        listed = service.client.get("/v1/ops/callbacks?status=failed", headers=ops(service))
        assert listed.status_code == 200
        [row] = listed.json()
        assert row["id"] == failed and row["application_id"] == app_id and row["channel_id"] == "app-a"
        assert row["external_ref"] == "REF-1" and row["attempts"] == 8 and row["last_error"] == "HTTP 503"
        assert service.client.get("/v1/ops/callbacks?status=pending", headers=ops(service)).json() == []
        everything = service.client.get("/v1/ops/callbacks", headers=ops(service)).json()
        assert [c["id"] for c in everything] == [done, failed]

        resent = service.client.post(f"/v1/ops/callbacks/{failed}/resend", headers=ops(service))
        assert resent.status_code == 200, resent.text
        body = resent.json()
        assert body["status"] == "pending" and body["attempts"] == 0 and body["enqueued"] is True
        assert _App.received == []  # not sent by the request: by a worker

        service.work()
    finally:
        server.shutdown()
        server.server_close()
    assert [h[DELIVERY_HEADER] for h in _App.received] == [str(failed)]
    delivered = service.client.get("/v1/ops/callbacks?status=delivered", headers=ops(service)).json()
    assert [c["id"] for c in delivered] == [done, failed]
    with service.sessions()() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "callback.resent")).one()
        assert event.actor == "ops" and event.application_id == app_id
        assert event.detail["previous_status"] == "failed" and event.detail["last_error"] == "HTTP 503"

    again = service.client.post(f"/v1/ops/callbacks/{failed}/resend", headers=ops(service))
    assert again.status_code == 409 and "delivered already" in again.json()["detail"]
    assert service.client.post("/v1/ops/callbacks/987654/resend", headers=ops(service)).status_code == 404
    assert service.client.post(f"/v1/ops/callbacks/{failed}/resend",
                               headers=service.headers("app-a")).status_code == 403


def test_reconcile_answers_what_it_enqueued(service: Service) -> None:
    app_id = application(service, callback_url="https://hooks.example.com/x")
    due = delivery(service, app_id, "https://hooks.example.com/x", status="pending", attempts=1)
    response = service.client.post("/v1/ops/reconcile", headers=ops(service))
    assert response.status_code == 200, response.text
    assert response.json()["callbacks"] == [due] and response.json()["total"] == 1


# --- typed, paged answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["limit=-1", "limit=0", "limit=100000", "offset=-1", "offset=100000000000000",
                                   "limit=abc"])
@pytest.mark.parametrize("path", ["/v1/ops/dead-letters", "/v1/ops/callbacks"])
def test_a_limit_or_offset_out_of_range_is_a_422(service: Service, path: str, query: str) -> None:
    response = service.client.get(f"{path}?{query}", headers=ops(service))
    assert response.status_code == 422, response.text


def test_an_unknown_status_or_a_huge_id_is_a_422(service: Service) -> None:
    assert service.client.get("/v1/ops/callbacks?status=lost", headers=ops(service)).status_code == 422
    huge = service.client.post("/v1/ops/callbacks/100000000000000000000/resend", headers=ops(service))
    assert huge.status_code == 422


def test_every_operator_answer_is_documented_in_openapi(service: Service) -> None:
    paths = service.client.get("/openapi.json").json()["paths"]
    expected = {
        ("/v1/ops/queues", "get"): "QueueCountsOut",
        ("/v1/ops/dead-letters", "get"): "DeadLetterOut",
        ("/v1/ops/callbacks", "get"): "CallbackOut",
        ("/v1/ops/callbacks/{delivery_id}/resend", "post"): "CallbackResentOut",
        ("/v1/ops/reconcile", "post"): "ReconcileOut",
    }
    for (path, method), model in expected.items():
        schema = paths[path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert model in str(schema), (path, schema)
