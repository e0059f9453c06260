"""Issue 14: proxy applications (代办) and per-disease extra materials, each rule with the sentence of
the source material (docs/seeds/) it comes from, through the real policy files and assessment."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from classifiers.doctype import classify
from classifiers.fields import extract_fields
from classifiers.pipeline import identity_check
from classifiers.types import (
    DocType,
    DocumentContext,
    ExtractedFields,
    FieldValue,
    IdentityCheck,
    Outcome,
    RecencyCheck,
    SealCheck,
)
from intake.application import Agent, Application, read_folder, validate_application
from intake.assess import assess, name_shown
from intake.errors import ApplicationInvalid
from intake.policy import PolicyBook
from intake.report import DocumentReport, Verdict
from intake.settings import POLICIES_DIR
from tests.classifiers.doc_samples import page
from tests.intake.test_assess import complete, doc

APPLICANT = ("张三", "11010519491231002X")
AGENT = Agent(name="张小明", id_number="110105198001010032", relationship="子女")


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook.load(POLICIES_DIR)


def app(region: str = "六盘水市", disease: str = "糖尿病", agent: Agent | None = AGENT) -> Application:
    return Application(applicant_name=APPLICANT[0], id_number=APPLICANT[1], disease=disease, region=region,
                       application_date=dt.date(2026, 3, 5), agent=agent)


def card(name: str, holder: str | None, outcome: Outcome = Outcome.PASS) -> DocumentReport:
    report = doc(name, DocType.ID_CARD, "resident_id_front",
                 identity=IdentityCheck(outcome=outcome, holder=holder, name_matches=outcome == Outcome.PASS))
    return report


def relation(name: str, text: str) -> DocumentReport:
    return doc(name, DocType.OTHER, "relationship_proof", text=text)


def proxy_docs(*relations: DocumentReport) -> list[DocumentReport]:
    docs = complete()
    docs[0] = card("id.jpg", "applicant")
    return [*docs, card("agent_id.jpg", "agent"), *relations]


def check(application: Application, book: PolicyBook, docs: list[DocumentReport]):
    return assess(application, book.for_region(application.region), docs, submitted=application.application_date)


# --- 代办 ---------------------------------------------------------------------------------------------


def test_an_agent_needs_their_id_card_and_a_proof_of_relationship(book: PolicyBook) -> None:
    """六盘水 (002): "如代辦，需提供代辦人身份證及關係證明（如戶口本、出生證明等）。" An application naming an
    agent without those two is told exactly which are missing; one without an agent needs neither."""
    result = check(app(), book, complete())
    assert result.problems == ["missing:agent_identity", "missing:relationship_proof"]
    assert "代办人身份证件" in result.notice and "户口本相关页、出生医学证明或亲属关系证明" in result.notice
    assert check(app(agent=None), book, complete()).problems == []


def test_a_complete_proxy_application_is_ready(book: PolicyBook) -> None:
    """六盘水 (002): "關係證明（代辦） 否 戶口本、出生證明等 僅代辦時需要": both names on the 户口本 page."""
    docs = proxy_docs(relation("hukou.jpg", "常住人口登记卡 户主姓名 张小明 与户主关系 父 姓名 张三"))
    result = check(app(), book, docs)
    assert result.verdict == Verdict.READY_FOR_REVIEW, result.problems
    assert result.materials["agent_identity"] == ["agent_id.jpg"]
    assert result.materials["identity_proof"] == ["id.jpg"]
    assert result.materials["relationship_proof"] == ["hukou.jpg"]


def test_the_agents_card_never_proves_the_applicants_identity(book: PolicyBook) -> None:
    """六盘水 (002): "身份證/社保卡 是 … 如代辦需同時提供代辦人證件": both cards, each for its holder."""
    docs = proxy_docs(relation("hukou.jpg", "户主 张小明 姓名 张三"))
    docs.pop(0)  # the applicant's own card
    assert check(app(), book, docs).problems == ["missing:identity_proof"]


def test_identity_check_ties_each_card_to_its_holder() -> None:
    """The agent's card is checked against the agent (no identity_mismatch against the applicant);
    the applicant's against the applicant; without an agent on the application, a stranger's card is
    another person's."""
    ctx = DocumentContext(application_date=dt.date(2026, 3, 5), applicant_name=APPLICANT[0], id_number=APPLICANT[1],
                          agent_name=AGENT.name, agent_id_number=AGENT.id_number)

    def fields(name: str, number: str) -> ExtractedFields:
        return ExtractedFields(patient_name=FieldValue(value=name, page=0, confidence=0.99),
                               id_number=FieldValue(value=number, page=0, confidence=0.99))

    agents = identity_check(DocType.ID_CARD, fields(AGENT.name, AGENT.id_number), ctx)
    assert (agents.outcome, agents.holder) == (Outcome.PASS, "agent")
    own = identity_check(DocType.ID_CARD, fields(*APPLICANT), ctx)
    assert (own.outcome, own.holder) == (Outcome.PASS, "applicant")
    alone = ctx.model_copy(update={"agent_name": None, "agent_id_number": None})
    stranger = identity_check(DocType.ID_CARD, fields(AGENT.name, AGENT.id_number), alone)
    assert (stranger.outcome, stranger.holder) == (Outcome.FAIL, None)


def test_a_relationship_proof_without_either_name_is_told_to_the_applicant(book: PolicyBook) -> None:
    """A page read well that names neither person is another family's: a strong problem."""
    docs = proxy_docs(relation("hukou.jpg", "常住人口登记卡 户主姓名 李四 与户主关系 户主 姓名 李四 籍贯 贵州省"))
    result = check(app(), book, docs)
    assert result.problems == ["relation_unproven:hukou.jpg"]
    assert "张三" in result.notice and "张小明" in result.notice and "户口本" in result.notice


def test_one_name_per_page_is_enough_when_the_pages_together_show_both(book: PolicyBook) -> None:
    """A 户口本 page is one person's: two pages together show the relationship; one page with one name
    only is a reviewer's flag, never the applicant's problem."""
    both = proxy_docs(relation("p1.jpg", "常住人口登记卡 户主姓名 张小明 姓名 张小明"),
                      relation("p2.jpg", "常住人口登记卡 姓名 张三 与户主关系 父"))
    assert check(app(), book, both).problems == []
    single = proxy_docs(relation("p1.jpg", "常住人口登记卡 户主姓名 张小明 姓名 张小明 籍贯 贵州"))
    result = check(app(), book, single)
    assert result.problems == []
    assert [f.code for f in result.review_flags] == ["relation_unproven:p1.jpg"]


def test_a_household_page_of_the_agent_is_checked_against_the_agent() -> None:
    """An `other` document of kind relationship_proof may be the agent's own (a 户口本 page naming the
    agent); an `other` document of another kind (a prescription) is always the applicant's."""
    ctx = DocumentContext(application_date=dt.date(2026, 3, 5), applicant_name=APPLICANT[0], id_number=APPLICANT[1],
                          agent_name=AGENT.name, agent_id_number=AGENT.id_number)
    agents = ExtractedFields(patient_name=FieldValue(value=AGENT.name, page=0, confidence=0.99))
    page_ = identity_check(DocType.OTHER, agents, ctx, kind="relationship_proof")
    assert (page_.holder, page_.outcome) == ("agent", Outcome.PASS)
    prescription = identity_check(DocType.OTHER, agents, ctx, kind="medication_record")
    assert prescription.holder is None and prescription.name_matches is False


def test_names_on_a_page_are_found_exactly_or_nearly() -> None:
    assert name_shown("张小明", "户主 张 小明") == 1.0
    assert name_shown("张小明", "户主 张小朋") == 0.5
    assert name_shown("张小明", "户主 李四") == 0.0


def test_agent_is_checked_at_creation(book: PolicyBook) -> None:
    """The agent's number is checked like the applicant's, and an agent is somebody else."""
    from classifiers.diagnosis import DiseaseCatalogue

    catalogue = DiseaseCatalogue.load()
    bad = app(agent=Agent(name="张小明", id_number="110105198001010031", relationship="子女"))
    same = app(agent=Agent(name="张三", id_number=APPLICANT[1], relationship="本人"))
    for application, words in ((bad, "代办人的公民身份号码校验位不符"), (same, "与申请人相同")):
        with pytest.raises(ApplicationInvalid) as err:
            validate_application(application, policies=book, catalogue=catalogue, today=dt.date(2026, 3, 5),
                                 unknown_region="refuse")
        assert [(e.field, words in e.message) for e in err.value.errors] == [("agent.id_number", True)]


def test_the_folder_format_carries_the_agent(tmp_path: Path) -> None:
    data = {"applicant_name": "张三", "id_number": APPLICANT[1], "disease": "糖尿病", "region": "六盘水市",
            "application_date": "2026-03-05", "agent": AGENT.model_dump()}
    (tmp_path / "application.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert read_folder(tmp_path).application.agent == AGENT


def test_a_household_page_read_from_text_is_a_relationship_proof_whose_fields_name_the_household() -> None:
    """GIVEN a 户口本 page (it prints an ID number like a card) WHEN classified THEN it is an `other`
    document of kind relationship_proof, never an id_card, and its fields still name the person."""
    ocr = page("常住人口登记卡", ["户主姓名", "张小明", "与户主关系", "父"], ["姓名", "张三", "性别", "男"],
               ["民族", "汉", "出生日期", "1949年12月31日"], ["公民身份号码", APPLICANT[1]], ["户号", "520201001"])
    result = classify(ocr)
    assert (result.doc_type, result.kind, result.identity_kind) == (DocType.OTHER, "relationship_proof", None)
    assert extract_fields(ocr, result.doc_type).id_number.value == APPLICANT[1]


# --- per-disease extras ----------------------------------------------------------------------------------


def test_dialysis_needs_dialysis_records(book: PolicyBook) -> None:
    """绥化 (000): "部分病種需提供特殊治療記錄或長期用藥證明" … "常見門診特病包括惡性腫瘤、尿毒癥透析、器官移植術後
    抗排異治療等": a 尿毒症透析 claim needs a dialysis record; 慢性肾功能衰竭 without dialysis does not."""
    claim = app(region="绥化市", disease="尿毒症透析", agent=None)
    result = check(claim, book, complete())
    assert result.problems == ["missing:dialysis_record"]
    assert "缺少近一年的透析治疗记录（血液透析或腹膜透析记录单）" in result.notice
    record = doc("dialysis.jpg", DocType.OTHER, "treatment_record", text="血液透析记录单 透析方式 HD 超滤量 2.4L")
    assert check(claim, book, [*complete(), record]).problems == []
    assert check(app(region="绥化市", disease="慢性肾功能衰竭", agent=None), book, complete()).problems == []
    assert check(claim.model_copy(update={"disease": "慢性肾功能衰竭（透析）"}), book, complete()).problems == [
        "missing:dialysis_record"]


def test_transplant_needs_proof_of_anti_rejection_medication(book: PolicyBook) -> None:
    """绥化 (000): "其他材料 部分病種需提供特殊治療記錄、長期用藥證明等" for 器官移植術後抗排異治療: a medication
    list or prescription naming an anti-rejection drug; one of other drugs does not prove it."""
    claim = app(region="绥化市", disease="器官移植术后抗排异治疗", agent=None)
    statins = doc("rx.jpg", DocType.OTHER, "medication_record", text="处方笺 阿托伐他汀钙片 口服")
    assert check(claim, book, [*complete(), statins]).problems == ["missing:anti_rejection_medication"]
    tacrolimus = doc("list.jpg", DocType.OTHER, "medication_record", text="门诊用药清单 他克莫司胶囊 1mg 口服 一日两次")
    assert check(claim, book, [*complete(), tacrolimus]).verdict == Verdict.READY_FOR_REVIEW


def test_cancer_in_suihua_needs_a_treatment_record_or_long_term_medication(book: PolicyBook) -> None:
    """绥化 (000): "部分病種需提供特殊治療記錄或長期用藥證明", 惡性腫瘤 among its 門診特病."""
    claim = app(region="绥化市", disease="恶性肿瘤门诊治疗", agent=None)
    assert check(claim, book, complete()).problems == ["missing:special_treatment"]
    chemo = doc("chemo.jpg", DocType.OTHER, "treatment_record", text="放化疗记录 化疗方案 培美曲塞+顺铂")
    assert check(claim, book, [*complete(), chemo]).problems == []


def test_an_other_document_is_checked_only_where_a_material_names_its_kind(book: PolicyBook) -> None:
    """`other` documents satisfy nothing and fail nothing, except where a material names their kind:
    a stale prescription of another person in a 糖尿病 application is ignored; in a 器官移植 one (绥化:
    长期用药证明) it is checked like any material, against its kind's recency limit (365 days)."""
    old = RecencyCheck(outcome=Outcome.PASS, date="2024-01-01", age_days=10, limit_days=None)
    stranger = IdentityCheck(outcome=Outcome.FAIL, name_matches=False, confidence=0.95)

    def rx() -> DocumentReport:
        report = doc("rx.jpg", DocType.OTHER, "medication_record", text="处方笺 他克莫司胶囊 口服",
                     recency=old, identity=stranger)
        report.fields = {**report.fields, "doc_date": "2024-01-01", "patient_name": "李四"}
        return report

    plain = check(app(region="绥化市", agent=None), book, [*complete(), rx()])
    assert plain.problems == [] and plain.review_flags == []
    claim = app(region="绥化市", disease="器官移植术后抗排异治疗", agent=None)
    docs = [*complete(), rx()]
    result = check(claim, book, docs)
    assert result.problems == ["identity_mismatch:rx.jpg", "stale:rx.jpg"]
    assert docs[-1].checks.recency.limit_days == 365
    assert "《rx.jpg》（用药证明）" in result.notice and "近一年内的用药证明" in result.notice
    assert result.materials["anti_rejection_medication"] == ["rx.jpg"]


def test_a_missing_kind_is_weak_when_a_document_nearly_was_one(book: PolicyBook) -> None:
    """A dialysis record the classifier typed as an outpatient record with some doubt: the missing
    dialysis record is a reviewer's flag, as sure as that doubt allows."""
    claim = app(region="绥化市", disease="尿毒症透析", agent=None)
    doubtful = doc("scan.jpg", DocType.OTHER, text="透析")
    doubtful.kind_scores = {"treatment_record": 0.4, "medication_record": 0.01}
    result = check(claim, book, [*complete(), doubtful])
    assert result.problems == [] and [f.code for f in result.review_flags] == ["missing:dialysis_record"]
    assert result.review_flags[0].confidence == pytest.approx(0.6)


def test_cancer_in_shennongjia_needs_pathology_genetic_or_imaging(book: PolicyBook) -> None:
    """神农架 (001): "檢查報告 | 與申請病種直接相關的檢查資料，如病理報告、基因檢測、影像學報告等 | 上傳近期內能支持
    診斷的關鍵報告": a blood test alone does not support a 恶性肿瘤 claim; a 基因检测 report does."""
    claim = app(region="神农架林区", disease="恶性肿瘤", agent=None)
    assert check(claim, book, complete()).problems == ["missing:diagnosis_support_report"]
    genetic = doc("gene.jpg", DocType.LAB_REPORT, text="基因检测报告 EGFR 19外显子缺失",
                  seal=SealCheck(outcome=Outcome.PASS, present=True, matches_issuer=True))
    assert check(claim, book, [*complete(), genetic]).problems == []


SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


@pytest.mark.parametrize("case", ["c16_liupanshui_proxy_ready", "c17_suihua_dialysis_ready",
                                  "c18_suihua_transplant_missing_medication"])
def test_the_issue14_samples_state_their_expected_verdicts(case: str) -> None:
    """The generated sample folders (their OCR run is tests/e2e/test_samples.py): a proxy case with the
    agent in application.json, a disease with its extra present, one with it missing."""
    truth = json.loads((SAMPLES / case / "truth.json").read_text("utf-8"))
    application = read_folder(SAMPLES / case).application
    assert (truth["verdict"] == "ready_for_review") == (truth["problems"] == [])
    if case.startswith("c16"):
        assert application.agent is not None
        assert {d["doc_type"] for d in truth["documents"]} <= {"id_card", "diagnosis_certificate", "discharge_summary",
                                                              "lab_report", "medical_record", "other"}
        assert {"relationship_proof", "resident_id_front"} <= {d.get("kind") for d in truth["documents"]}
    if case.startswith("c18"):
        assert truth["problems"] == ["missing:anti_rejection_medication"]
