"""补正 journeys through the real API, a real rq worker and the real OCR, on SQLite and PostgreSQL.

The committed sample c14 has a stale lab report and a truncated photo. Its supplements come from
the same generator case with those two defects taken out: the same applicant, a clean retake of
the photo and a fresh lab report; plus an invoice, a file unrelated to any material.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from fixtures.generator.samples import SAMPLE_CASES, DocPlan, generate_application
from intake import clock
from intake.local import local_context, prescreen_folder
from tests.api.conftest import Service
from tests.api.test_pipeline import SAMPLES, documents, open_application, status, submit

pytestmark = [pytest.mark.redis, pytest.mark.ocr]

C14 = SAMPLES / "c14_suihua_unreadable_stale_lab"


@pytest.fixture(scope="module")
def supplements(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The clean retake, the fresh lab report and an invoice, for c14's applicant."""
    case = next(c for c in SAMPLE_CASES if c.case_id == C14.name)
    fixed = (
        *(DocPlan({**plan.overrides, "stale": False, "unreadable": False}, other_person=plan.other_person,
                  same_hospital=plan.same_hospital) if plan.overrides.get("doc_type") == "lab_report" else plan
          for plan in case.docs),
        DocPlan({"doc_type": "other", "variant": "invoice", "source": "photo"}),
    )
    out = tmp_path_factory.mktemp("c14-fixed")
    truth = generate_application(dataclasses.replace(case, docs=fixed), out).truth
    original = json.loads((C14 / "application.json").read_text("utf-8"))
    assert json.loads((out / "application.json").read_text("utf-8"))["id_number"] == original["id_number"]
    labs = [d["file"] for d in truth["documents"] if d["doc_type"] == "lab_report"]
    invoice = next(d["file"] for d in truth["documents"] if d["doc_type"] == "other")
    # The generator names files as phones do, so the retake has the photo's name: rename them apart.
    named = {"retake.jpg": labs[1], "fresh-lab.jpg": labs[0], "invoice.jpg": invoice}
    for new, old in named.items():
        (out / old).rename(out / new)
    return {"retake": out / "retake.jpg", "fresh_lab": out / "fresh-lab.jpg", "invoice": out / "invoice.jpg"}


def _doc_id(service: Service, app_id: str, filename: str) -> str:
    return next(d["id"] for d in status(service, app_id)["documents"] if d["filename"] == filename)


def _first_round(service: Service) -> str:
    app_id = open_application(service, C14)
    headers = service.headers("app-a")
    files = [("files", (p.name, p.read_bytes())) for p in documents(C14)]
    assert service.client.post(f"/v1/applications/{app_id}/documents", files=files, headers=headers).status_code == 201
    submit(service, app_id)
    service.work()
    first = status(service, app_id)
    truth = json.loads((C14 / "truth.json").read_text("utf-8"))
    assert first["status"] == "needs_supplement" and sorted(first["problems"]) == sorted(truth["problems"])
    return app_id


def _submit_supplement(service: Service, app_id: str) -> dict:
    day = dt.date.fromisoformat(status(service, app_id)["application_date"])
    with clock.frozen(day + dt.timedelta(days=3)):
        answer = service.client.post(f"/v1/applications/{app_id}/submit", headers=service.headers("app-a"))
    assert answer.status_code == 202, answer.text
    service.work()
    return status(service, app_id)


def test_replacing_the_unreadable_photo_and_adding_a_fresh_lab_report_makes_it_ready(
    service: Service, supplements: dict[str, Path]
) -> None:
    """GIVEN round 1 with a truncated photo and a stale lab report (needs_supplement, both listed)
    WHEN the app replaces the photo and adds a fresh lab report, and submits again
    THEN round 2 is ready_for_review, and round 1's report is kept as it was."""
    app_id = _first_round(service)
    headers = service.headers("app-a")
    broken = next(p.partition(":")[2] for p in status(service, app_id)["problems"] if p.startswith("unreadable:"))
    retake = supplements["retake"]
    replaced = service.client.put(f"/v1/applications/{app_id}/documents/{_doc_id(service, app_id, broken)}",
                                  files={"file": (retake.name, retake.read_bytes())}, headers=headers)
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["documents"][0]["replaces"] == _doc_id(service, app_id, broken)
    fresh = supplements["fresh_lab"]
    added = service.client.post(f"/v1/applications/{app_id}/documents",
                                files=[("files", (fresh.name, fresh.read_bytes()))], headers=headers)
    assert added.status_code == 201, added.text

    second = _submit_supplement(service, app_id)
    assert (second["status"], second["round"], second["problems"]) == ("ready_for_review", 2, [])
    report = service.client.get(f"/v1/applications/{app_id}/report", headers=headers).json()
    files = {d["file"] for d in report["documents"]}
    assert broken not in files and retake.name in files and fresh.name in files
    stale = next(d for d in report["documents"] if d["checks"]["recency"]["outcome"] == "fail")
    # Either lab report of round 2 (the retake is one too) clears it: same material, later, no problem.
    assert stale["cleared_by"] in {fresh.name, retake.name} and stale["problems"] == []
    history = service.client.get(f"/v1/applications/{app_id}/cases", headers=headers).json()
    assert [c["verdict"] for c in history] == ["needs_supplement", "ready_for_review"]
    assert any(p.startswith("unreadable:") for p in history[0]["problems"])


def test_an_unrelated_file_added_beside_the_defects_changes_nothing(
    service: Service, supplements: dict[str, Path]
) -> None:
    app_id = _first_round(service)
    before = status(service, app_id)["problems"]
    invoice = supplements["invoice"]
    added = service.client.post(f"/v1/applications/{app_id}/documents",
                                files=[("files", (invoice.name, invoice.read_bytes()))],
                                headers=service.headers("app-a"))
    assert added.status_code == 201, added.text
    second = _submit_supplement(service, app_id)
    assert second["status"] == "needs_supplement" and second["round"] == 2
    assert sorted(second["problems"]) == sorted(before)


def test_withdrawing_the_unreadable_photo_clears_its_problem_only(service: Service) -> None:
    app_id = _first_round(service)
    headers = service.headers("app-a")
    broken = next(p.partition(":")[2] for p in status(service, app_id)["problems"] if p.startswith("unreadable:"))
    doc_id = _doc_id(service, app_id, broken)
    withdrawn = service.client.delete(f"/v1/applications/{app_id}/documents/{doc_id}", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_round"] == 2
    again = service.client.delete(f"/v1/applications/{app_id}/documents/{doc_id}", headers=headers)
    assert again.status_code == 409
    second = _submit_supplement(service, app_id)
    assert [p.split(":")[0] for p in second["problems"]] == ["stale"]
    # Nothing is deleted: the withdrawn document is still listed, marked.
    assert any(d["id"] == doc_id and d["withdrawn_round"] == 2 for d in second["documents"])
    late = service.client.delete(f"/v1/applications/{app_id}/documents/{doc_id}", headers=headers)
    assert late.status_code == 409


def test_a_submit_key_of_round_one_does_not_replay_round_one_after_a_supplement(
    service: Service, supplements: dict[str, Path]
) -> None:
    app_id = open_application(service, C14)
    headers = service.headers("app-a", **{"Idempotency-Key": "submit-1"})
    files = [("files", (p.name, p.read_bytes())) for p in documents(C14)]
    service.client.post(f"/v1/applications/{app_id}/documents", files=files, headers=service.headers("app-a"))
    with clock.frozen(dt.date(2026, 7, 1)):
        first = service.client.post(f"/v1/applications/{app_id}/submit", headers=headers)
        retry = service.client.post(f"/v1/applications/{app_id}/submit", headers=headers)
    assert first.status_code == retry.status_code == 202 and retry.headers.get("Idempotent-Replayed") == "true"
    service.work()
    fresh = supplements["fresh_lab"]
    service.client.post(f"/v1/applications/{app_id}/documents", files=[("files", (fresh.name, fresh.read_bytes()))],
                        headers=service.headers("app-a"))
    reused = service.client.post(f"/v1/applications/{app_id}/submit", headers=headers)
    assert reused.status_code == 409 and "round 1" in reused.json()["detail"], reused.text
    assert status(service, app_id)["status"] == "needs_supplement"  # nothing was submitted
    new_key = service.client.post(f"/v1/applications/{app_id}/submit",
                                  headers=service.headers("app-a", **{"Idempotency-Key": "submit-2"}))
    assert new_key.status_code == 202 and new_key.json()["round"] == 2


def test_the_command_line_and_the_api_give_the_same_report(service: Service) -> None:
    """The same sample through `intake prescreen`'s flow and through uploads: one report (ids and
    timestamps aside), both stored as applications the reviewers see."""
    folder = SAMPLES / "c01_suihua_ready_diabetes"
    case_id = json.loads((folder / "application.json").read_text("utf-8"))["case_id"]
    ctx = local_context(service.context.prescreener)
    ctx.settings = service.settings
    by_cli = prescreen_folder(ctx, folder).report

    app_id = open_application(service, folder, external_ref=case_id)
    files = [("files", (p.name, p.read_bytes())) for p in documents(folder)]
    service.client.post(f"/v1/applications/{app_id}/documents", files=files, headers=service.headers("app-a"))
    submit(service, app_id)
    service.work()
    by_api = service.client.get(f"/v1/applications/{app_id}/report", headers=service.headers("app-a")).json()

    def comparable(report: dict) -> dict:
        volatile_doc = {"document_id", "ocr_cached", "ocr_seconds"}
        return {**{k: v for k, v in report.items() if k not in {"application_id", "submitted_at"}},
                "documents": [{k: v for k, v in d.items() if k not in volatile_doc} for d in report["documents"]]}

    reviewer = service.client.get(f"/v1/cases/{case_id}/report", headers=service.headers("reviewer"))
    assert reviewer.status_code == 200
    assert comparable(by_cli) == comparable(reviewer.json())
    assert by_cli["verdict"] == "ready_for_review" and by_cli["case_id"] == case_id

    # The app gets the same report without the reviewer flags (possible problems never told to it).
    def without_flags(report: dict) -> dict:
        return {**{k: v for k, v in report.items() if k != "review_flags"},
                "documents": [{k: v for k, v in d.items() if k != "review_flags"} for d in report["documents"]]}

    assert "review_flags" not in by_api and all("review_flags" not in d for d in by_api["documents"])
    assert comparable(without_flags(by_cli)) == comparable(by_api)
