"""The reviewers' workspace JSON API over real cases: sample applications uploaded through the apps'
API, read by a real rq worker with the real OCR, then worked by reviewers of their regions (SQLite
and PostgreSQL). Region isolation, masking, claims, edits that win over the extraction, re-typing,
decisions with the supplement's callback, the dashboard and the audit trail."""

from __future__ import annotations

import json
import logging
import re
import threading
from http.server import HTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from intake.models import Application, AuditEvent, Case, Document, FieldEdit, queue_tags
from intake.users import issue_token
from intake.workspace import queue as queue_module
from intake.workspace.masking import mask_id_number, mask_name
from tests.api.conftest import Service
from tests.api.test_pipeline import SAMPLES, _Receiver, documents, open_application, submit, upload
from tests.api.test_workspace_auth import make_user

pytestmark = [pytest.mark.redis, pytest.mark.ocr]

C01 = SAMPLES / "c01_suihua_ready_diabetes"  # 绥化市, ready_for_review
C02 = SAMPLES / "c02_shennongjia_ready_hypertension_invoice"  # 神农架林区
C10 = SAMPLES / "c10_suihua_identity_mismatch"  # 绥化市: the discharge summary reads 孙素 for 孙真


def assessed(service: Service, folder: Path, **extra: object) -> str:
    app_id = open_application(service, folder, **extra)
    upload(service, app_id, documents(folder))
    submit(service, app_id)
    service.work()
    return app_id


def token_for(service: Service, username: str, *, role: str = "reviewer", regions: tuple[str, ...] = ("绥化市",),
              name: str | None = None) -> dict[str, str]:
    make_user(service, username, role=role, regions=regions, name=name)
    with service.sessions().begin() as session:
        return {"Authorization": f"Bearer {issue_token(session, username, actor='test').token}"}


def get(service: Service, path: str, who: dict[str, str]):  # type: ignore[no-untyped-def]
    return service.client.get(f"/v1/workspace{path}", headers=who)


def post(service: Service, path: str, who: dict[str, str], body: dict | None = None):  # type: ignore[no-untyped-def]
    return service.client.post(f"/v1/workspace{path}", headers=who, json=body or {})


def doc_id(detail: dict, doc_type: str) -> str:
    return next(d["id"] for d in detail["documents"] if d["report"] and d["report"]["doc_type"] == doc_type)


def test_a_reviewer_sees_only_the_cases_of_their_regions_masked_in_the_queue(
    service: Service, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    suihua_app, shennongjia_app = assessed(service, C01), assessed(service, C02)
    suihua = token_for(service, "suihua")
    other = token_for(service, "snj", regions=("神农架林区",))
    admin = token_for(service, "admin", role="admin", regions=())

    page = get(service, "/queue", suihua).json()
    assert [i["application_id"] for i in page["items"]] == [suihua_app] and page["total"] == 1
    body = json.loads((C01 / "application.json").read_text("utf-8"))
    item = page["items"][0]
    assert item["applicant_name"] == mask_name(body["applicant_name"]) != body["applicant_name"]
    assert item["id_number"] == mask_id_number(body["id_number"])
    assert re.fullmatch(r"\d{4}\*{10}\w{4}", item["id_number"])
    assert item["review_due"] and item["verdict"] == "ready_for_review" and item["claimed_by"] is None
    assert body["applicant_name"] not in json.dumps(page, ensure_ascii=False)
    beyond = get(service, "/queue?limit=1&offset=5", suihua).json()  # past the last page: still the total
    assert beyond["items"] == [] and beyond["total"] == 1

    # Another region's case: 404 like an unknown id, for reading and for every action; never listed.
    assert get(service, f"/cases/{shennongjia_app}", suihua).status_code == 404
    assert post(service, f"/cases/{shennongjia_app}/claim", suihua).status_code == 404
    assert post(service, f"/cases/{shennongjia_app}/decision", suihua, {"decision": "approve"}).status_code == 404
    assert get(service, "/queue?status=all&q=" + json.loads(
        (C02 / "application.json").read_text("utf-8"))["id_number"], suihua).json()["total"] == 0
    assert [i["application_id"] for i in get(service, "/queue", other).json()["items"]] == [shennongjia_app]
    assert get(service, "/queue", admin).json()["total"] == 2
    monkeypatch.setattr(queue_module, "COUNT_CAP", 1)  # counted up to the cap + 1: "more than 1"
    capped = get(service, "/queue", admin).json()
    assert (capped["total"], capped["total_cap"], len(capped["items"])) == (2, 1, 2)

    # The case view shows everything whole, and is audited.
    detail = get(service, f"/cases/{suihua_app}", suihua).json()
    assert detail["application"]["applicant_name"] == body["applicant_name"]
    assert detail["application"]["id_number"] == body["id_number"]
    assert {d["report"]["doc_type"] for d in detail["documents"]} >= {"id_card", "lab_report"}
    some = next(d["report"] for d in detail["documents"] if d["report"]["doc_type"] == "diagnosis_certificate")
    assert some["field_sources"]["patient_name"]["box"] and some["field_sources"]["patient_name"]["confidence"]
    with service.sessions()() as session:
        viewed = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.viewed")).all()
        assert [(e.actor, e.application_id) for e in viewed] == [("user:suihua", suihua_app)]
    # Search by the whole ID number, the name's start, the external ref.
    for q in (body["id_number"], body["applicant_name"][:1], C01.name):
        assert get(service, f"/queue?q={q}", suihua).json()["total"] == 1, q
    assert get(service, "/queue?disease=高血压", suihua).json()["total"] == 0
    assert get(service, "/queue?verdict=needs_supplement", suihua).json()["total"] == 0
    # Nothing personal in our log messages of all this (the test client's own request log aside).
    for record in (r for r in caplog.records if r.name.startswith(("intake", "api", "rq"))):
        assert body["applicant_name"] not in record.getMessage() and body["id_number"] not in record.getMessage()


def test_two_reviewers_never_hold_one_case(service: Service) -> None:
    app_id = assessed(service, C01)
    first = token_for(service, "first", name="王丽")
    second = token_for(service, "second")
    boss = token_for(service, "boss", role="supervisor")
    assert post(service, f"/cases/{app_id}/claim", first).json()["claimed_by"] == "first"
    assert post(service, f"/cases/{app_id}/claim", first).status_code == 200  # again: a no-op
    taken = post(service, f"/cases/{app_id}/claim", second)
    assert taken.status_code == 409 and "王丽" in taken.json()["detail"]
    assert post(service, f"/cases/{app_id}/release", second).status_code == 409  # not theirs to release
    detail = get(service, f"/cases/{app_id}", second).json()
    edit = post(service, f"/cases/{app_id}/documents/{doc_id(detail, 'lab_report')}/fields", second,
                {"field": "department", "value": "内分泌科"})
    assert edit.status_code == 409
    assert get(service, "/queue", first).json()["items"][0]["claimed_by"] == "first"
    assert get(service, "/queue?mine=true", second).json()["total"] == 0
    assert post(service, f"/cases/{app_id}/reassign", second, {"username": "second"}).status_code == 403
    moved = post(service, f"/cases/{app_id}/reassign", boss, {"username": "second"})
    assert moved.status_code == 200 and moved.json()["claimed_by"] == "second"
    assert post(service, f"/cases/{app_id}/release", second).json()["claimed_by"] is None
    assert post(service, f"/cases/{app_id}/claim", first).status_code == 200
    with service.sessions()() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.application_id == app_id,
                                                                             AuditEvent.action.like("case.%")))]
    assert actions.count("case.claimed") == 2 and "case.reassigned" in actions and "case.released" in actions


def test_a_corrected_name_wins_over_the_extraction_and_its_identity_problem_goes(service: Service) -> None:
    """GIVEN c10, whose discharge summary was read (and written) with another name: identity_mismatch
    WHEN a reviewer corrects the name on it
    THEN the case is re-assessed at once without OCR: no problem left; the extraction is kept as it
    was, the edit apart; every later assessment of the round applies it too."""
    app_id = assessed(service, C10)
    who = token_for(service, "suihua")
    before = get(service, f"/cases/{app_id}", who).json()
    assert before["verdict"] == "needs_supplement"
    assert [p.split(":")[0] for p in before["report"]["problems"]] == ["identity_mismatch"]
    summary = doc_id(before, "discharge_summary")
    applicant = json.loads((C10 / "application.json").read_text("utf-8"))["applicant_name"]
    with service.sessions()() as session:
        processed = session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "document.processing"))

    after = post(service, f"/cases/{app_id}/documents/{summary}/fields", who,
                 {"field": "patient_name", "value": applicant, "reason": "出院小结姓名识别错误"})
    assert after.status_code == 200, after.text
    body = after.json()
    assert body["verdict"] == "ready_for_review" and body["report"]["problems"] == []
    assert body["prescreen_verdict"] == "needs_supplement"
    shown = next(d for d in body["documents"] if d["id"] == summary)
    assert shown["report"]["fields"]["patient_name"] == applicant
    assert shown["report"]["field_sources"]["patient_name"]["confidence"] == 1.0
    assert shown["report"]["checks"]["identity"]["outcome"] == "pass"
    assert [(e["field"], e["value"], e["by"]) for e in shown["edits"]] == [("patient_name", applicant, "suihua")]
    assert shown["edits"][0]["previous"] not in (None, applicant)
    assert [r["revision"] for r in body["rounds"]] == [0, 1] and body["rounds"][0]["superseded_by"]

    with service.sessions()() as session:
        doc = session.get(Document, summary)
        assert doc is not None and doc.report["fields"]["patient_name"] != applicant  # extraction kept
        assert session.scalar(select(func.count()).select_from(FieldEdit)) == 1
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "document.processing")) == processed  # no OCR again
        edited = session.scalars(select(AuditEvent).where(AuditEvent.action == "document.field_edited")).one()
        assert edited.actor == "user:suihua" and applicant not in json.dumps(edited.detail, ensure_ascii=False)
        # Any later assessment of the round (a re-scan's too) goes through assess_reports: the edit wins.
        from intake.service import assess_reports, round_reports
        from intake.workspace.overlay import policies

        app = session.get_one(Application, app_id)
        again = assess_reports(app, policies().for_region(app.region), round_reports(app), fingerprint="x")
        assert again.problems == [] and again.verdict == "ready_for_review"
        # The app's own status is the reviewer's to change, by a decision: untouched by the edit.
        assert app.status == "needs_supplement"


def test_retyping_a_document_re_assesses_the_case_at_once(service: Service) -> None:
    app_id = assessed(service, C01)
    who = token_for(service, "suihua")
    detail = get(service, f"/cases/{app_id}", who).json()
    assert detail["verdict"] == "ready_for_review"
    lab = doc_id(detail, "lab_report")
    wrong = post(service, f"/cases/{app_id}/documents/{lab}/type", who, {"doc_type": "passport"})
    assert wrong.status_code == 422
    after = post(service, f"/cases/{app_id}/documents/{lab}/type", who, {"doc_type": "other", "reason": "是发票"})
    assert after.status_code == 200, after.text
    body = after.json()
    assert body["verdict"] == "needs_supplement"
    assert any(p.startswith("missing:") for p in body["report"]["problems"]), body["report"]["problems"]
    assert next(d for d in body["documents"] if d["id"] == lab)["report"]["doc_type"] == "other"
    # The six types of the report contract; an `other` document may be given its kind (issue 14).
    offered = get(service, "/reasons", who).json()
    assert len(offered["doc_types"]) == 6 and "medication_record" in offered["other_kinds"]
    kinded = post(service, f"/cases/{app_id}/documents/{lab}/type", who,
                  {"doc_type": "other", "kind": "medication_record"}).json()
    shown = next(d for d in kinded["documents"] if d["id"] == lab)["report"]
    assert (shown["doc_type"], shown["kind"]) == ("other", "medication_record")
    not_other = post(service, f"/cases/{app_id}/documents/{lab}/type", who, {"doc_type": "lab_report",
                                                                               "kind": "treatment_record"})
    assert not_other.status_code == 422
    back = post(service, f"/cases/{app_id}/documents/{lab}/type", who, {"doc_type": "lab_report"})
    assert back.json()["verdict"] == "ready_for_review" and back.json()["report"]["problems"] == []
    with service.sessions()() as session:
        revisions = session.scalars(select(Case.revision).where(Case.application_id == app_id)
                                    .order_by(Case.revision)).all()
        assert revisions == [0, 1, 2, 3]
        current = session.scalars(select(Case).where(Case.application_id == app_id, Case.superseded_by.is_(None))).one()
        assert session.get(Application, app_id).review_due == current.review_due is not None
        # doc_type twice with its kind (None, then medication_record), and back to lab_report
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "document.retyped")) == 5


def test_request_supplement_sends_the_edited_notice_and_reopens_uploads(service: Service) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.received, _Receiver.failures_left = [], 0
    try:
        app_id = assessed(service, C01, callback_url=f"http://127.0.0.1:{server.server_port}/hook")
        who = token_for(service, "suihua")
        detail = get(service, f"/cases/{app_id}", who).json()
        lab = doc_id(detail, "lab_report")
        marked = post(service, f"/cases/{app_id}/documents/{lab}/mark", who,
                      {"mark": "retake", "reasons": ["unclear"], "note": "化验单右侧被遮挡"})
        assert marked.status_code == 200 and next(
            d for d in marked.json()["documents"] if d["id"] == lab)["mark"]["mark"] == "retake"
        assert post(service, f"/cases/{app_id}/documents/{lab}/mark", who,
                    {"mark": "retake", "reasons": []}).status_code == 422
        notice = "您好：您上传的检查检验报告右侧被遮挡，请重新拍摄完整清晰的照片后提交。"
        decided = post(service, f"/cases/{app_id}/decision", who,
                       {"decision": "request_supplement", "notice": notice})
        assert decided.status_code == 200, decided.text
        assert decided.json()["decision"] == "needs_supplement"
        service.work()  # the callback job
    finally:
        server.shutdown()
    payloads = [json.loads(body) for _, body in _Receiver.received]
    assert [p["verdict"] for p in payloads] == ["ready_for_review", "needs_supplement"]
    assert [p["event"] for p in payloads] == ["application.assessed", "application.decided"]
    assert payloads[-1]["decision"] == "needs_supplement" and payloads[-1]["notice"] == notice
    assert any(p.startswith("retake:") for p in payloads[-1]["problems"])
    status = service.client.get(f"/v1/applications/{app_id}", headers=service.headers("app-a")).json()
    assert status["status"] == "needs_supplement" and status["notice"] == notice
    # Uploads re-open exactly as after the pre-screen's 补正; the round is decided, so no second decision.
    retake = documents(C01)[0]
    again = service.client.post(f"/v1/applications/{app_id}/documents",
                                files=[("files", ("retake-" + retake.name, retake.read_bytes() + b"\0"))],
                                headers=service.headers("app-a"))
    assert again.status_code == 201, again.text
    assert post(service, f"/cases/{app_id}/decision", who, {"decision": "approve"}).status_code == 409
    assert get(service, "/queue", who).json()["total"] == 0  # waits for the applicant, not a reviewer


def test_approve_and_reject_are_final_and_feed_the_dashboard(service: Service) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.received, _Receiver.failures_left = [], 0
    hook = f"http://127.0.0.1:{server.server_port}/hook"
    approved, rejected = assessed(service, C01, callback_url=hook), assessed(service, C10, callback_url=hook)
    who = token_for(service, "suihua")
    boss = token_for(service, "boss", role="supervisor")
    # 绥化市: 1–3 working days, up to 5 for a complex case (a reviewer marks it so).
    before = get(service, f"/cases/{approved}", who).json()
    marked = post(service, f"/cases/{approved}/complex", who, {"complex": True}).json()
    assert marked["application"]["complex_case"] and marked["review_due"] > before["review_due"]
    with service.sessions()() as session:  # the queue's copy of the current deadline follows
        assert session.get(Application, approved).review_due.isoformat() == marked["review_due"]
    assert post(service, f"/cases/{approved}/decision", who, {"decision": "approve"}).status_code == 200
    detail = get(service, f"/cases/{approved}", who).json()
    assert detail["application"]["status"] == "approved" and not detail["open_for_review"]
    assert detail["claimed_by"] is None  # a decision releases the claim
    assert post(service, f"/cases/{approved}/documents/{doc_id(detail, 'lab_report')}/fields", who,
                {"field": "department", "value": "内科"}).status_code == 409
    assert post(service, f"/cases/{approved}/decision", who, {"decision": "reject",
                                                              "reasons": ["unclear"]}).status_code == 409

    assert post(service, f"/cases/{rejected}/decision", who, {"decision": "reject"}).status_code == 422
    assert post(service, f"/cases/{rejected}/decision", who, {"decision": "reject",
                                                              "reasons": ["other"]}).status_code == 422
    assert post(service, f"/cases/{rejected}/decision", who, {"decision": "reject",
                                                              "reasons": ["bogus"]}).status_code == 422
    no = post(service, f"/cases/{rejected}/decision", who, {"decision": "reject", "reasons": ["diagnosis_mismatch"]})
    assert no.status_code == 200 and no.json()["reasons"] == ["diagnosis_mismatch"]
    app_view = service.client.get(f"/v1/applications/{rejected}", headers=service.headers("app-a")).json()
    assert app_view["status"] == "rejected"
    assert service.client.post(f"/v1/applications/{rejected}/submit",
                               headers=service.headers("app-a")).status_code == 409
    try:
        service.work()  # the decisions' callbacks
    finally:
        server.shutdown()
    decided_events = {(p["application_id"], p["decision"]): p for _, body in _Receiver.received
                      if (p := json.loads(body))["event"] == "application.decided"}
    assert set(decided_events) == {(approved, "approved"), (rejected, "rejected")}
    assert decided_events[(rejected, "rejected")]["reasons"] == [{"code": "diagnosis_mismatch", "label": "诊断不符"}]
    assert decided_events[(approved, "approved")]["valid_until"] is None  # 绥化市 states no 复审 period

    assert get(service, "/dashboard", who).status_code == 403
    rows = get(service, "/dashboard", boss).json()["rows"]
    assert {r["region"] for r in rows} == {"绥化市"}
    # Received in the weeks the samples were submitted (their own dates), decided this week.
    assert sum(r["received"] for r in rows) == 2
    assert sum(r["prescreen"].get("ready_for_review", 0) for r in rows) == 1
    assert sum(r["prescreen"].get("needs_supplement", 0) for r in rows) == 1
    row = next(r for r in rows if r["decisions"])
    assert row["decisions"] == {"approved": 1, "rejected": 1}
    assert row["agreement"] == 1.0  # approved a ready case, rejected a defective one
    assert row["median_hours_to_decision"] > 24 * 7 and row["sla_met"] == 0.0  # the samples are months old
    with service.sessions()() as session:
        decided = session.scalars(select(AuditEvent).where(AuditEvent.action == "review.decided")).all()
        assert sorted(e.detail["decision"] for e in decided) == ["approved", "rejected"]
        assert {e.actor for e in decided} == {"user:suihua"}


def test_problem_and_flag_filters_read_the_current_cases_kinds(service: Service) -> None:
    """The queue filters by a problem or flag kind on the application's row (kept equal to its current
    case's codes by intake.models._current_deadlines), and by a whole code in the case's codes."""
    app_id = assessed(service, C10)
    who = token_for(service, "suihua")
    with service.sessions()() as session:
        app = session.get(Application, app_id)
        case = session.scalars(select(Case).where(Case.application_id == app_id)).one()
        assert app.queue_tags == queue_tags(case.problems, case.flag_codes or [])
    problems = get(service, f"/cases/{app_id}", who).json()["report"]["problems"]
    assert any(p.startswith("identity_mismatch:") for p in problems)

    def total(query: str) -> int:
        return get(service, f"/queue?status=all&{query}", who).json()["total"]

    assert total("problem=identity_mismatch") == 1 and total("problem=stale") == 0
    assert total("problem=seal%25") == 0  # a LIKE wildcard is a character, not a pattern
    whole = next(p for p in problems if p.startswith("identity_mismatch:"))
    assert total(f"problem={quote(whole)}") == 1
    assert total("flag=any") == (1 if case.flag_codes else 0)
    # A reviewer's re-typing changes the current case, and the row's kinds follow it.
    detail = get(service, f"/cases/{app_id}", who).json()
    lab = doc_id(detail, "lab_report")
    post(service, f"/cases/{app_id}/documents/{lab}/type", who, {"doc_type": "other"})
    assert total("problem=missing") == 1
