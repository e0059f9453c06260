"""The apps' API without OCR: applications, uploads, limits, idempotency, auth boundaries, states.

Runs against real Redis and both databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from sqlalchemy import func, select

from intake.models import Application, AuditEvent, Document, IdempotencyRecord
from intake.service import request_digest
from tests.api.conftest import Service

pytestmark = pytest.mark.redis

APPLICATION = {
    "applicant_name": "张三",
    "id_number": "230102195703152419",
    "disease": "糖尿病",
    "region": "绥化市",
    "application_date": "2026-03-05",
    "external_ref": "LJ-0001",
}


def png(width: int = 64, height: int = 48, color: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def pdf(pages: int) -> bytes:
    buffer = io.BytesIO()
    images = [Image.new("RGB", (60, 80), "white") for _ in range(pages)]
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def create(service: Service, channel: str = "app-a", **over: object) -> dict:
    response = service.client.post("/v1/applications", json={**APPLICATION, **over}, headers=service.headers(channel))
    assert response.status_code == 201, response.text
    return response.json()


def upload(service: Service, app_id: str, files: list[tuple[str, bytes]], channel: str = "app-a", **headers: str):
    return service.client.post(
        f"/v1/applications/{app_id}/documents",
        files=[("files", (name, data)) for name, data in files],
        headers=service.headers(channel, **headers),
    )


def count(service: Service, model: type, **where: object) -> int:
    with service.sessions()() as session:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return session.scalar(stmt) or 0


def test_create_and_read_an_application(service: Service) -> None:
    app = create(service)
    assert app["status"] == "draft" and app["round"] == 0 and app["external_ref"] == "LJ-0001"
    got = service.client.get(f"/v1/applications/{app['id']}", headers=service.headers("app-a"))
    assert got.status_code == 200 and got.json()["applicant_name"] == "张三"


def test_bad_application_body_names_the_field(service: Service) -> None:
    response = service.client.post("/v1/applications", json={**APPLICATION, "application_date": "2026-13-01"},
                                   headers=service.headers("app-a"))
    assert response.status_code == 422
    assert "application_date" in response.text


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-API-Key": "not-a-key"}, 401), ({"Authorization": "Bearer nope"}, 401)],
)
def test_requests_without_a_valid_key_are_refused(service: Service, headers: dict, status: int) -> None:
    response = service.client.post("/v1/applications", json=APPLICATION, headers=headers)
    assert response.status_code == status
    assert "API key" in response.json()["detail"]


def test_bearer_token_works_like_x_api_key(service: Service) -> None:
    response = service.client.post("/v1/applications", json=APPLICATION,
                                   headers={"Authorization": f"Bearer {service.keys['app-a']}"})
    assert response.status_code == 201


def test_a_channel_sees_only_its_own_applications(service: Service) -> None:
    app = create(service, "app-a")
    for method, path in [("get", ""), ("get", "/report"), ("get", "/cases"), ("post", "/submit")]:
        response = getattr(service.client, method)(f"/v1/applications/{app['id']}{path}",
                                                   headers=service.headers("app-b"))
        assert response.status_code == 404, (method, path)
    assert upload(service, app["id"], [("a.png", png())], channel="app-b").status_code == 404
    assert count(service, Document) == 0


def test_reviewer_and_operator_keys_cannot_use_the_apps_endpoints(service: Service) -> None:
    for channel in ("reviewer", "ops"):
        response = service.client.post("/v1/applications", json=APPLICATION, headers=service.headers(channel))
        assert response.status_code == 403
        assert "app keys" in response.json()["detail"]


def test_app_keys_cannot_use_reviewer_or_operator_endpoints(service: Service) -> None:
    assert service.client.get("/v1/review/cases", headers=service.headers("app-a")).status_code == 403
    assert service.client.get("/v1/ops/dead-letters", headers=service.headers("app-a")).status_code == 403
    assert service.client.get("/v1/ops/dead-letters", headers=service.headers("reviewer")).status_code == 403
    assert service.client.get("/v1/review/cases", headers=service.headers("reviewer")).status_code == 200
    assert service.client.get("/v1/ops/queues", headers=service.headers("ops")).status_code == 200


def test_upload_many_files_in_one_request_and_one_at_a_time(service: Service) -> None:
    app = create(service)
    many = upload(service, app["id"], [("a.png", png(color="red")), ("b.pdf", pdf(2))])
    assert many.status_code == 201, many.text
    assert [d["media_type"] for d in many.json()["documents"]] == ["image/png", "application/pdf"]
    one = upload(service, app["id"], [("c.png", png(color="blue"))])
    assert one.status_code == 201
    status = service.client.get(f"/v1/applications/{app['id']}", headers=service.headers("app-a")).json()
    assert len(status["documents"]) == 3
    assert all(d["status"] in ("queued", "received") for d in status["documents"])
    assert status["progress"]["queued"] == 3  # Redis is up: every document was enqueued


def test_the_same_file_uploaded_twice_is_recognised(service: Service) -> None:
    app = create(service)
    first = upload(service, app["id"], [("photo.png", png())]).json()["documents"][0]
    again = upload(service, app["id"], [("another-name.png", png())])
    assert again.status_code == 200
    doc = again.json()["documents"][0]
    assert doc["duplicate"] is True and doc["id"] == first["id"]
    assert count(service, Document) == 1


def test_idempotent_create_retried_after_a_timeout_creates_nothing_twice(service: Service) -> None:
    headers = service.headers("app-a", **{"Idempotency-Key": "create-1"})
    first = service.client.post("/v1/applications", json=APPLICATION, headers=headers)
    second = service.client.post("/v1/applications", json=APPLICATION, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    other = service.client.post("/v1/applications", json={**APPLICATION, "disease": "高血压病"}, headers=headers)
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    # Keys are per channel: another app may use the same key for its own request.
    assert service.client.post("/v1/applications", json=APPLICATION,
                               headers=service.headers("app-b", **{"Idempotency-Key": "create-1"})).status_code == 201


def test_idempotent_upload_retry_returns_the_first_answer(service: Service) -> None:
    app = create(service)
    files = [("a.png", png(color="green")), ("b.png", png(color="yellow"))]
    first = upload(service, app["id"], files, **{"Idempotency-Key": "up-1"})
    second = upload(service, app["id"], files, **{"Idempotency-Key": "up-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert count(service, Document) == 2
    assert count(service, IdempotencyRecord) == 1
    assert count(service, AuditEvent, action="document.received") == 2


def test_an_upload_retried_across_the_upgrade_of_its_request_digest_is_still_replayed(service: Service) -> None:
    """Idempotency records written before the request digest became "upload/2" (one sha256 per
    file) still recognise a retry of their request, and still refuse a different one."""
    app = create(service)
    files = [("a.png", png(color="purple"))]
    first = upload(service, app["id"], files, **{"Idempotency-Key": "old-1"})
    assert first.status_code == 201
    legacy = request_digest("upload", app["id"], *[f"{name}:" + request_digest(data) for name, data in files])
    with service.sessions().begin() as session:
        record = session.get_one(IdempotencyRecord, ("app-a", "old-1"))
        assert record.request_sha256 != legacy
        record.request_sha256 = legacy  # as the previous version stored it
    again = upload(service, app["id"], files, **{"Idempotency-Key": "old-1"})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    other = upload(service, app["id"], [("a.png", png(color="orange"))], **{"Idempotency-Key": "old-1"})
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    assert count(service, Document) == 1


def test_an_upload_is_written_queued_in_one_transaction(service: Service) -> None:
    app = create(service)
    waiting = service.queues.ocr.count
    response = upload(service, app["id"], [("a.png", png(color="navy"))])
    doc = response.json()["documents"][0]
    assert doc["status"] == "queued"
    with service.sessions()() as session:
        row = session.get_one(Document, doc["id"])
        assert row.status == "queued" and row.queued_at is not None
    assert service.queues.ocr.count == waiting + 1


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.jpg", b"not really")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("empty.jpg", b"", 422, "empty_file"),
        ("report.zip", zip_bytes(), 415, "unsupported_type"),
        ("note.jpg", "这不是图片".encode(), 415, "unsupported_type"),  # the extension lies
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415,
         "unsupported_type"),
        ("long.pdf", pdf(60), 422, "too_many_pages"),
        ("huge.png", png(20000, 20000), 422, "image_too_large"),
        ("bad.pdf", b"%PDF-1.7\n1 0 obj <<", 422, "corrupt_file"),
    ],
)
def test_files_that_can_never_be_read_are_refused_with_a_reason(
    service: Service, name: str, data: bytes, status: int, code: str
) -> None:
    app = create(service)
    response = upload(service, app["id"], [("fine.png", png()), (name, data)])
    assert response.status_code == status, response.text
    body = response.json()
    assert [f["file"] for f in body["files"]] == [name]
    assert body["files"][0]["code"] == code
    assert "nothing of this request was stored" in body["detail"]
    assert count(service, Document) == 0  # the good file of the same request is not half-stored


def test_a_file_over_the_size_limit_is_413(service: Service) -> None:
    service.settings.limits.max_file_bytes = 1000
    app = create(service)
    response = upload(service, app["id"], [("big.png", png(400, 400, "gray") + b"\0" * 2000)])
    assert response.status_code == 413
    assert "MB" in response.json()["files"][0]["message"]


def test_files_per_application_and_per_request_limits(service: Service) -> None:
    service.settings.limits.max_files_per_application = 2
    service.settings.limits.max_files_per_request = 3
    app = create(service)
    assert upload(service, app["id"], [("1.png", png(10, 10)), ("2.png", png(11, 10))]).status_code == 201
    third = upload(service, app["id"], [("3.png", png(12, 10))])
    assert third.status_code == 422 and "at most 2 documents" in third.json()["detail"]
    four = upload(service, app["id"], [(f"{i}.png", png(20 + i, 10)) for i in range(4)])
    assert four.status_code == 422 and "at most 3 files per request" in four.json()["detail"]


def test_client_file_names_are_never_paths(service: Service) -> None:
    app = create(service)
    response = upload(service, app["id"], [("../../etc/passwd.png", png(13, 13))])
    assert response.status_code == 201
    doc = response.json()["documents"][0]
    assert doc["filename"] == "passwd.png"
    stored = list((service.settings.storage.root).rglob("*"))
    assert all(".." not in str(p) and "passwd" not in p.name for p in stored)
    assert any(p.name == doc["sha256"] for p in stored)


def test_submission_rules(service: Service) -> None:
    app = create(service)
    empty = service.client.post(f"/v1/applications/{app['id']}/submit", headers=service.headers("app-a"))
    assert empty.status_code == 409 and "upload" in empty.json()["detail"]
    upload(service, app["id"], [("a.png", png(14, 14))])
    submitted = service.client.post(f"/v1/applications/{app['id']}/submit", headers=service.headers("app-a"))
    assert submitted.status_code == 202 and submitted.json()["status"] == "prescreening"
    assert submitted.json()["round"] == 1
    late = upload(service, app["id"], [("b.png", png(15, 15))])
    assert late.status_code == 409 and "needs_supplement" in late.json()["detail"]
    again = service.client.post(f"/v1/applications/{app['id']}/submit", headers=service.headers("app-a"))
    assert again.status_code == 409
    report = service.client.get(f"/v1/applications/{app['id']}/report", headers=service.headers("app-a"))
    assert report.status_code == 404 and "no verdict yet" in report.json()["detail"]


def test_openapi_documents_the_three_audiences(service: Service) -> None:
    spec = service.client.get("/openapi.json").json()
    paths = spec["paths"]
    assert "/v1/applications/{application_id}/documents" in paths
    assert "/v1/review/cases" in paths and "/v1/ops/dead-letters" in paths


def test_creation_names_every_bad_field_at_once(service: Service) -> None:
    bad = {"id_number": "230102195703152416", "application_date": "2099-01-01", "disease": "感冒",
           "region": "火星市", "callback_url": "http://127.0.0.1:9/hook"}
    service.settings.allow_private_callback_urls = False
    response = service.client.post("/v1/applications", json={**APPLICATION, **bad}, headers=service.headers("app-a"))
    assert response.status_code == 422, response.text
    fields = {e["loc"][-1]: e["msg"] for e in response.json()["detail"]}
    assert set(fields) == {"id_number", "application_date", "disease", "region", "callback_url"}
    assert "糖尿病" in fields["disease"] and "绥化市" in fields["region"]  # what to write instead
    assert count(service, Application) == 0


def test_an_app_lists_its_own_applications_paged_and_by_reference(service: Service) -> None:
    for n in range(3):
        create(service, external_ref=f"LJ-{n}")
    create(service, channel="app-b", external_ref="LJ-1")
    headers = service.headers("app-a")
    page = service.client.get("/v1/applications", params={"limit": 2}, headers=headers).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    rest = service.client.get("/v1/applications", params={"limit": 2, "offset": 2}, headers=headers).json()
    assert {a["external_ref"] for a in page["items"] + rest["items"]} == {"LJ-0", "LJ-1", "LJ-2"}
    found = service.client.get("/v1/applications", params={"external_ref": "LJ-1"}, headers=headers).json()
    assert found["total"] == 1 and found["items"][0]["external_ref"] == "LJ-1"
    drafts = service.client.get("/v1/applications", params={"status": "draft"}, headers=headers).json()
    assert drafts["total"] == 3
    for params in ({"limit": -1}, {"limit": 100000}, {"offset": -5}, {"status": "nonsense"}):
        assert service.client.get("/v1/applications", params=params, headers=headers).status_code == 422


def test_the_document_cap_names_the_real_counts(service: Service) -> None:
    service.settings.limits.max_files_per_application = 3
    app = create(service)
    assert upload(service, app["id"], [("a.png", png(color="red")), ("b.png", png(color="blue"))]).status_code == 201
    refused = upload(service, app["id"], [("c.png", png(color="green")), ("d.png", png(color="gray"))])
    assert refused.status_code == 422
    assert "at most 3" in refused.json()["detail"] and "has 2" in refused.json()["detail"]
    assert "adds 2" in refused.json()["detail"]
    assert count(service, Document) == 2  # nothing of the refused request was stored


def test_review_lists_refuse_a_limit_out_of_range(service: Service) -> None:
    for limit in (-1, 0, 100000):
        response = service.client.get("/v1/review/cases", params={"limit": limit}, headers=service.headers("reviewer"))
        assert response.status_code == 422
