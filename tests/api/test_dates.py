"""The dates an app sends are data; recency and the review deadline count from the moment the server
received the submission (China time). Through the real API, a real rq worker and the real OCR."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from intake import clock
from intake.policy import load_policies
from tests.api.conftest import Service
from tests.api.test_pipeline import SAMPLES, documents, open_application, status

pytestmark = [pytest.mark.redis, pytest.mark.ocr]

C01 = SAMPLES / "c01_suihua_ready_diabetes"
SAMPLE_DATE = dt.date.fromisoformat(json.loads((C01 / "application.json").read_text("utf-8"))["application_date"])


def _submitted_on(service: Service, day: dt.date, **application: object) -> dict:
    app_id = open_application(service, C01, **application)
    files = [("files", (p.name, p.read_bytes())) for p in documents(C01)]
    assert service.client.post(f"/v1/applications/{app_id}/documents", files=files,
                               headers=service.headers("app-a")).status_code == 201
    with clock.frozen(day):
        answer = service.client.post(f"/v1/applications/{app_id}/submit", headers=service.headers("app-a"))
    assert answer.status_code == 202, answer.text
    service.work()
    return service.client.get(f"/v1/applications/{app_id}/report", headers=service.headers("app-a")).json()


def test_a_backdated_application_date_is_kept_but_not_measured_from(service: Service) -> None:
    """GIVEN an app that sends an application_date ten years early
    WHEN the sample is submitted on its own date THEN its documents are recent, the report keeps
    the app's date as data, and the deadline counts from the submission."""
    report = _submitted_on(service, SAMPLE_DATE, application_date="2016-03-12")
    assert report["verdict"] == "ready_for_review", report["problems"]
    assert report["application_date"] == "2016-03-12" and report["as_of"] == SAMPLE_DATE.isoformat()
    due = load_policies(service.settings.policies_dir).for_region("绥化市").review_due(SAMPLE_DATE)
    assert report["review_due"] == due.isoformat()
    assert f"{due.year}年{due.month}月{due.day}日" in report["notice"]


def test_documents_stale_at_submission_stay_stale_whatever_date_the_app_sends(service: Service) -> None:
    """GIVEN the sample's own application_date WHEN it is submitted eight months later
    THEN its lab report (90 days) is stale (older records may be too): the app's date rescues nothing."""
    report = _submitted_on(service, SAMPLE_DATE + dt.timedelta(days=240))
    assert report["verdict"] == "needs_supplement"
    labs = [d["file"] for d in report["documents"] if d["doc_type"] == "lab_report"]
    assert labs and all(f"stale:{lab}" in report["problems"] for lab in labs)
    assert status(service, report["application_id"])["submitted_at"].startswith(
        (SAMPLE_DATE + dt.timedelta(days=240)).isoformat())
