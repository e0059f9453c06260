"""Issue 14 through the API: the agent (代办人) of an application is taken at creation, checked, stored
(both databases), shown to the app, and makes its ID card and a relationship proof required.

六盘水 (002): "如代辦，需提供代辦人身份證及關係證明（如戶口本、出生證明等）。"
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from intake import clock
from intake.models import Application
from tests.api.conftest import Service

pytestmark = pytest.mark.redis

APPLICATION = {
    "applicant_name": "张三",
    "id_number": "230102195703152419",
    "disease": "糖尿病",
    "region": "六盘水市",
    "application_date": "2026-03-05",
}
AGENT = {"name": "张小明", "id_number": "110105198001010032", "relationship": "子女"}
SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "c16_liupanshui_proxy_ready"


def test_an_agent_is_stored_and_shown(service: Service) -> None:
    response = service.client.post("/v1/applications", json={**APPLICATION, "agent": AGENT},
                                   headers=service.headers("app-a"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["agent"] == AGENT
    got = service.client.get(f"/v1/applications/{created['id']}", headers=service.headers("app-a")).json()
    assert got["agent"] == AGENT
    with service.sessions()() as session:
        row = session.scalars(select(Application).where(Application.id == created["id"])).one()
        assert (row.agent_name, row.agent_id_number, row.agent_relationship) == ("张小明", AGENT["id_number"], "子女")


def test_an_application_without_an_agent_has_none(service: Service) -> None:
    response = service.client.post("/v1/applications", json=APPLICATION, headers=service.headers("app-a"))
    assert response.status_code == 201 and response.json()["agent"] is None


@pytest.mark.parametrize(
    ("agent", "field", "words"),
    [
        ({**AGENT, "id_number": "110105198001010031"}, "agent.id_number", "代办人的公民身份号码校验位不符"),
        ({**AGENT, "id_number": APPLICATION["id_number"]}, "agent.id_number", "与申请人相同"),
        ({**AGENT, "name": "   "}, "agent.name", "代办人姓名为空"),
    ],
)
def test_a_wrong_agent_is_refused_naming_the_field_in_chinese(service: Service, agent: dict, field: str,
                                                              words: str) -> None:
    response = service.client.post("/v1/applications", json={**APPLICATION, "agent": agent},
                                   headers=service.headers("app-a"))
    assert response.status_code == 422, response.text
    detail = [d for d in response.json()["detail"] if d["loc"][-1] == field]
    assert detail and words in detail[0]["msg"], response.json()


@pytest.mark.ocr
def test_a_proxy_application_through_a_real_worker(service: Service) -> None:
    """The generated proxy sample uploaded as an app would: the agent's ID card is the agent's (not an
    identity_mismatch), the 户口本 pages prove the relationship, and the verdict is its truth's."""
    body = json.loads((SAMPLE / "application.json").read_text("utf-8"))
    body.pop("case_id")
    truth = json.loads((SAMPLE / "truth.json").read_text("utf-8"))
    headers = service.headers("app-a")
    app_id = service.client.post("/v1/applications", json=body, headers=headers).json()["id"]
    files = sorted(p for p in SAMPLE.iterdir() if p.name not in ("application.json", "truth.json"))
    response = service.client.post(f"/v1/applications/{app_id}/documents",
                                   files=[("files", (p.name, p.read_bytes())) for p in files], headers=headers)
    assert response.status_code == 201, response.text
    with clock.frozen(dt.date.fromisoformat(body["application_date"])):
        assert service.client.post(f"/v1/applications/{app_id}/submit", headers=headers).status_code == 202
    service.work()
    report = service.client.get(f"/v1/applications/{app_id}/report", headers=headers).json()
    assert report["verdict"] == truth["verdict"], report["problems"]
    assert report["agent"] == body["agent"]
    agent_card = next(d for d in report["documents"] if d["file"].startswith("代办人身份证"))
    assert agent_card["checks"]["identity"]["holder"] == "agent"
    assert report["materials"]["agent_identity"] == [agent_card["file"]]
    assert agent_card["file"] not in report["materials"]["identity_proof"]
    # The report contract's six types: the 户口本 pages are `other` documents of kind relationship_proof.
    assert {d["doc_type"] for d in report["documents"]} <= {"id_card", "diagnosis_certificate", "discharge_summary",
                                                           "lab_report", "medical_record", "other"}
    assert {(d["doc_type"], d["kind"]) for d in report["documents"]} >= {("other", "relationship_proof"),
                                                                         ("id_card", "resident_id_front")}
    assert all(d["identity_kind"] is None for d in report["documents"] if d["doc_type"] != "id_card")
