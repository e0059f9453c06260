"""Assessment: required materials, problem codes and the 一次性告知 notice, from analysed documents."""

import datetime as dt

import pytest

from classifiers.types import (
    DATE_NOT_BEFORE,
    DiagnosisCheck,
    DocType,
    DocumentChecks,
    HospitalCheck,
    IdentityCheck,
    Outcome,
    QualityCheck,
    RecencyCheck,
    SealCheck,
)
from intake.application import Application
from intake.assess import assess
from intake.policy import PolicyBook
from intake.report import DocumentReport, FieldSource, Verdict, unknown_checks
from intake.settings import POLICIES_DIR

P, F, U, NA = Outcome.PASS, Outcome.FAIL, Outcome.UNKNOWN, Outcome.NOT_APPLICABLE
APP = Application(
    applicant_name="张三", id_number="110105194912310029", disease="糖尿病", region="绥化市",
    application_date=dt.date(2026, 3, 5),
)


def checks(**over: object) -> DocumentChecks:
    base: dict[str, object] = {
        "seal": SealCheck(outcome=NA, present=False),
        "hospital": HospitalCheck(outcome=NA),
        "recency": RecencyCheck(outcome=P, date="2026-03-01", age_days=4, limit_days=365),
        "identity": IdentityCheck(outcome=P),
        "quality": QualityCheck(outcome=P),
        "diagnosis": DiagnosisCheck(outcome=NA),
    }
    base.update(over)
    return DocumentChecks(**base)  # type: ignore[arg-type]


def doc(name: str, doc_type: DocType, kind: str | None = None, text: str = "", **over: object) -> DocumentReport:
    return DocumentReport(file=name, sha256="0" * 64, doc_type=doc_type, kind=kind, checks=checks(**over),
                          text=text, fields={"hospital_name": "绥化市第一医院", "diagnosis": "2型糖尿病"})


def complete() -> list[DocumentReport]:
    return [
        doc("id.jpg", DocType.ID_CARD, "resident_id_front"),
        doc("cert.jpg", DocType.DIAGNOSIS_CERTIFICATE, seal=SealCheck(outcome=P, present=True, matches_issuer=True),
            hospital=HospitalCheck(outcome=P, canonical_name="绥化市第一医院", grade="三级甲等")),
        doc("discharge.pdf", DocType.DISCHARGE_SUMMARY),
        doc("lab.jpg", DocType.LAB_REPORT, seal=SealCheck(outcome=P, present=True, matches_issuer=True)),
    ]


@pytest.fixture(scope="module")
def policy():
    return PolicyBook.load(POLICIES_DIR).for_region("绥化市")


def test_complete_clean_application_is_ready(policy) -> None:
    result = assess(APP, policy, complete(), submitted=APP.application_date)
    assert result.verdict == Verdict.READY_FOR_REVIEW
    assert result.problems == []
    assert result.materials["clinical_record"] == ["discharge.pdf"]
    assert "已转入人工审核" in result.notice


def test_every_defect_is_listed_at_once(policy) -> None:
    docs = complete()
    docs[0] = doc("id.jpg", DocType.ID_CARD, "resident_id_front",
                  identity=IdentityCheck(outcome=F, id_valid=False, name_matches=True, id_matches=False))
    docs[1] = doc("cert.jpg", DocType.DIAGNOSIS_CERTIFICATE,
                  seal=SealCheck(outcome=F, present=True, text="某某药房", matches_issuer=False),
                  hospital=HospitalCheck(outcome=F, canonical_name="津河镇卫生院", grade="一级"),
                  diagnosis=DiagnosisCheck(outcome=F, disease="糖尿病"))
    docs[3] = doc("lab.jpg", DocType.LAB_REPORT, seal=SealCheck(outcome=F, present=False),
                  recency=RecencyCheck(outcome=F, date="2025-10-01", age_days=155, limit_days=90))
    del docs[2]
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.verdict == Verdict.NEEDS_SUPPLEMENT
    assert set(result.problems) == {
        "missing:clinical_record", "id_invalid:id.jpg", "identity_mismatch:id.jpg", "seal_mismatch:cert.jpg",
        "grade_too_low:cert.jpg", "diagnosis_mismatch:cert.jpg", "seal_missing:lab.jpg", "stale:lab.jpg",
    }
    notice = result.notice
    assert "8项问题" in notice and "一次性补正" in notice
    for expected in ("出院小结", "《lab.jpg》", "加盖公章", "155天", "某某药房", "一级", "不符"):
        assert expected in notice, expected
    assert notice.count("\n") == 9  # the header, eight numbered items and the closing line


def test_unreadable_document_satisfies_nothing_and_says_why(policy) -> None:
    docs = complete()
    docs[3] = doc("lab.jpg", DocType.LAB_REPORT,
                  quality=QualityCheck(outcome=F, problems=["blur"], reason="图片模糊，请对焦后重新拍摄"))
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == ["missing:lab_report", "unreadable:lab.jpg"]
    assert "图片模糊" in result.notice


def test_a_file_that_could_not_be_read_is_reported_not_raised(policy) -> None:
    docs = [*complete(), DocumentReport(file="x.zip", sha256="", error="不支持的文件类型", checks=unknown_checks("x"))]
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == ["unreadable:x.zip"]
    assert "不支持的文件类型" in result.notice


def test_other_documents_satisfy_nothing_and_fail_nothing(policy) -> None:
    docs = [*complete()[:3], doc("invoice.jpg", DocType.OTHER, seal=SealCheck(outcome=F, present=False),
                                 recency=RecencyCheck(outcome=F))]
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == ["missing:lab_report"]


def test_id_card_back_side_alone_does_not_prove_identity(policy) -> None:
    docs = complete()
    docs[0] = doc("back.jpg", DocType.ID_CARD, "resident_id_back")
    assert assess(APP, policy, docs, submitted=APP.application_date).problems == ["missing:identity_proof"]
    docs[0] = doc("sscard.jpg", DocType.ID_CARD, "social_security_card")
    assert assess(APP, policy, docs, submitted=APP.application_date).problems == []


def test_unknown_hospital_is_its_own_problem(policy) -> None:
    docs = complete()
    docs[1] = doc("cert.jpg", DocType.DIAGNOSIS_CERTIFICATE, seal=SealCheck(outcome=P, present=True),
                  hospital=HospitalCheck(outcome=U))
    assert assess(APP, policy, docs, submitted=APP.application_date).problems == ["hospital_unknown:cert.jpg"]


def test_disease_extras_need_their_keyword() -> None:
    lps = PolicyBook.load(POLICIES_DIR).for_region("六盘水市")
    app = APP.model_copy(update={"disease": "恶性肿瘤", "region": "六盘水市"})
    assert assess(app, lps, complete(), submitted=app.application_date).problems == ["missing:pathology_report"]
    docs = [*complete(), doc("path.jpg", DocType.LAB_REPORT, text="病理诊断报告 ...",
                             seal=SealCheck(outcome=P, present=True))]
    assert assess(app, lps, docs, submitted=app.application_date).problems == []


# --- one round, measured from its submission; 补正 clears only what it fixes ----------------------------


def lab(name: str, date: str, round_: int = 1) -> DocumentReport:
    report = doc(name, DocType.LAB_REPORT, seal=SealCheck(outcome=P, present=True, matches_issuer=True))
    report.fields = {**report.fields, "doc_date": date}
    report.round = round_
    return report


def test_recency_counts_from_the_submission_not_the_date_the_app_sent(policy) -> None:
    """GIVEN an app that backdates application_date to 2016 and a 2016 lab report
    WHEN the round was submitted in 2026 THEN the lab report is stale."""
    backdated = APP.model_copy(update={"application_date": dt.date(2016, 3, 5)})
    docs = [*complete()[:3], lab("lab.jpg", "2016-03-01")]
    result = assess(backdated, policy, docs, submitted=dt.date(2026, 3, 5))
    assert result.problems == ["stale:lab.jpg"]
    assert docs[3].checks.recency.age_days == (dt.date(2026, 3, 5) - dt.date(2016, 3, 1)).days


def test_the_review_deadline_and_the_notice_count_from_the_submission(policy) -> None:
    submitted = dt.date(2026, 9, 30)  # before the National Day holiday: 3 working days end on 10 October
    result = assess(APP, policy, [*complete()[:3], lab("lab.jpg", "2026-09-20")], submitted=submitted)
    assert result.verdict == Verdict.READY_FOR_REVIEW
    assert result.review_due == policy.review_due(submitted) == dt.date(2026, 10, 10)
    assert "2026年10月10日" in result.notice


def test_a_lab_report_whose_report_date_was_lost_is_recent_by_its_sample(policy) -> None:
    """GIVEN a lab report with no report date read, only its sampling date (kept as the date it cannot
    precede) THEN a sample within 90 days of the submission makes it recent, no flag; an old sample
    proves nothing, so the missing date is a reviewer's flag, never the applicant's problem."""

    def unread(sampled: str) -> DocumentReport:
        report = lab("lab.jpg", "")
        report.fields = {**report.fields, "doc_date": None}
        report.extra_fields = {DATE_NOT_BEFORE: sampled}
        report.field_sources = {DATE_NOT_BEFORE: FieldSource(page=0, box=[1, 2, 3, 4], confidence=0.9)}
        report.checks.recency = RecencyCheck(outcome=U, limit_days=90, reason="未识别到材料日期")  # the worker's
        return report

    docs = [*complete()[:3], unread("2026-02-20")]
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == [] and result.review_flags == []
    assert docs[3].checks.recency.outcome == Outcome.PASS and docs[3].checks.recency.confidence == 0.9
    docs = [*complete()[:3], unread("2025-10-01")]
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == [] and [f.code for f in result.review_flags] == ["stale:lab.jpg"]


def test_a_later_document_of_the_same_material_that_passes_clears_a_stale_one(policy) -> None:
    docs = [*complete()[:3], lab("old-lab.jpg", "2025-10-01"), lab("new-lab.jpg", "2026-03-02", round_=2)]
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == []
    assert docs[3].cleared_by == "new-lab.jpg"


def test_in_the_same_round_every_document_is_checked(policy) -> None:
    docs = [*complete()[:3], lab("old-lab.jpg", "2025-10-01"), lab("new-lab.jpg", "2026-03-02")]
    assert assess(APP, policy, docs, submitted=APP.application_date).problems == ["stale:old-lab.jpg"]


def test_a_later_document_with_its_own_problem_clears_nothing(policy) -> None:
    docs = [*complete()[:3], lab("old-lab.jpg", "2025-10-01"), lab("also-old.jpg", "2025-11-01", round_=2)]
    assert assess(APP, policy, docs, submitted=APP.application_date).problems == [
        "stale:old-lab.jpg", "stale:also-old.jpg"]


def test_an_other_document_clears_nothing(policy) -> None:
    docs = [*complete()[:3], lab("old-lab.jpg", "2025-10-01"), doc("invoice.jpg", DocType.OTHER)]
    docs[-1].round = 2
    assert assess(APP, policy, docs, submitted=APP.application_date).problems == ["stale:old-lab.jpg"]


def test_an_unreadable_document_is_cleared_only_by_its_withdrawal_or_replacement(policy) -> None:
    """A clean retake added beside a truncated photo does not clear it: its material is unknown."""
    broken = DocumentReport(file="blurry.jpg", sha256="1" * 64, error="文件已损坏", checks=unknown_checks("文件已损坏"))
    retake = doc("retake.jpg", DocType.ID_CARD, "resident_id_front")
    retake.round = 2
    assert assess(APP, policy, [*complete(), broken, retake], submitted=APP.application_date).problems == [
        "unreadable:blurry.jpg"]
    # Withdrawn or replaced, it is no longer among the documents in effect:
    assert assess(APP, policy, [*complete(), retake], submitted=APP.application_date).problems == []


# --- evidence, confidence and reviewer flags (issue 11) ------------------------------------------


def test_every_problem_carries_its_evidence_in_order(policy) -> None:
    docs = complete()
    docs[3] = doc("lab.jpg", DocType.LAB_REPORT, seal=SealCheck(outcome=P, present=True, matches_issuer=True),
                  recency=RecencyCheck(outcome=F, date="2025-01-02", age_days=427, limit_days=90, confidence=0.95))
    docs[3].field_sources = {"doc_date": FieldSource(page=0, box=[10, 20, 110, 40], confidence=0.97)}
    result = assess(APP, policy, docs[:3] + docs[3:], submitted=APP.application_date)
    assert result.problems == ["stale:lab.jpg"]
    [evidence] = result.evidence
    assert evidence.code == "stale:lab.jpg" and evidence.file == "lab.jpg"
    assert evidence.page == 0 and evidence.box == [10, 20, 110, 40]
    assert evidence.read == "2025-01-02" and "90" in (evidence.expected or "") and "90" in evidence.rule
    assert evidence.confidence >= 0.8
    assert result.review_flags == []


def test_a_weak_problem_is_a_reviewer_flag_never_told_to_the_applicant(policy) -> None:
    docs = complete()
    docs[0] = doc("id.jpg", DocType.ID_CARD, "resident_id_front",
                  identity=IdentityCheck(outcome=F, name_matches=False, id_matches=True, confidence=0.55,
                                         reason="姓名相差一字"))
    docs[0].fields = {"patient_name": "张叁", "id_number": APP.id_number}
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.verdict == Verdict.READY_FOR_REVIEW
    assert result.problems == [] and result.evidence == []
    assert [f.code for f in result.review_flags] == ["identity_mismatch:id.jpg"]
    assert result.review_flags[0].read and "张叁" in result.review_flags[0].read
    assert "张叁" not in result.notice and "不一致" not in result.notice
    assert docs[0].problems == [] and docs[0].review_flags == ["identity_mismatch:id.jpg"]


def test_the_same_problem_read_clearly_goes_to_the_applicant(policy) -> None:
    docs = complete()
    docs[0] = doc("id.jpg", DocType.ID_CARD, "resident_id_front",
                  identity=IdentityCheck(outcome=F, name_matches=False, id_matches=True, confidence=0.97))
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == ["identity_mismatch:id.jpg"] and result.verdict == Verdict.NEEDS_SUPPLEMENT


def test_the_threshold_is_the_policys(policy) -> None:
    docs = complete()
    docs[1] = doc("cert.jpg", DocType.DIAGNOSIS_CERTIFICATE, seal=SealCheck(outcome=P, present=True),
                  hospital=HospitalCheck(outcome=P, canonical_name="绥化市第一医院", grade="三级甲等"),
                  diagnosis=DiagnosisCheck(outcome=F, disease="糖尿病", confidence=0.85))
    assert assess(APP, policy, docs, submitted=APP.application_date).problems == ["diagnosis_mismatch:cert.jpg"]
    strict = policy.model_copy(update={"problem_confidence": {"default": 0.8, "diagnosis_mismatch": 0.9}})
    result = assess(APP, strict, docs, submitted=APP.application_date)
    assert result.problems == [] and [f.code for f in result.review_flags] == ["diagnosis_mismatch:cert.jpg"]


def test_unknown_wording_is_a_flag_and_nothing_read_is_nothing(policy) -> None:
    docs = complete()
    docs[1] = doc("cert.jpg", DocType.DIAGNOSIS_CERTIFICATE, seal=SealCheck(outcome=P, present=True),
                  hospital=HospitalCheck(outcome=P, canonical_name="绥化市第一医院", grade="三级甲等"),
                  diagnosis=DiagnosisCheck(outcome=U, disease="糖尿病", confidence=0.9, reason="无法归类"))
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == []
    [flag] = result.review_flags
    assert flag.code == "diagnosis_mismatch:cert.jpg" and flag.confidence <= 0.5 and flag.read == "2型糖尿病"
    docs[1].fields = {"diagnosis": None}
    assert assess(APP, policy, docs, submitted=APP.application_date).review_flags == []


def test_a_missing_material_is_weak_when_a_document_was_nearly_typed_as_it(policy) -> None:
    docs = complete()[:3]  # no lab report
    assert assess(APP, policy, docs, submitted=APP.application_date).problems == ["missing:lab_report"]
    doubtful = doc("scan.jpg", DocType.OTHER)
    doubtful.type_scores = {"other": 0.55, "lab_report": 0.45}
    result = assess(APP, policy, [*docs, doubtful], submitted=APP.application_date)
    assert result.problems == [] and [f.code for f in result.review_flags] == ["missing:lab_report"]
    assert result.review_flags[0].file is None and result.review_flags[0].confidence == pytest.approx(0.55)


def test_policy_thresholds_must_be_fractions_with_a_default() -> None:
    from pydantic import ValidationError

    book = PolicyBook.load(POLICIES_DIR)
    raw = book.for_region("default").model_dump()
    with pytest.raises(ValidationError, match="default"):
        type(book.for_region("default")).model_validate({**raw, "problem_confidence": {"stale": 0.9}})
    with pytest.raises(ValidationError, match="between 0 and 1"):
        type(book.for_region("default")).model_validate({**raw, "problem_confidence": {"default": 1.5}})


def test_another_name_read_the_same_way_on_two_documents_is_no_misreading(policy) -> None:
    docs = complete()
    for i in (2, 3):  # the discharge summary and the lab report both show 李四, read at a middling score
        docs[i].checks.identity = IdentityCheck(outcome=F, name_matches=False, confidence=0.6)
        docs[i].fields = {**docs[i].fields, "patient_name": "李四"}
        docs[i].field_sources = {"patient_name": FieldSource(page=0, confidence=0.85)}
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == ["identity_mismatch:discharge.pdf", "identity_mismatch:lab.jpg"]
    assert all("其他材料上也识别为" in (e.reason or "") for e in result.evidence)
    docs[3].fields = {**docs[3].fields, "patient_name": "张三"}  # only one document shows 李四: a flag
    docs[3].checks.identity = IdentityCheck(outcome=P, name_matches=True)
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == [] and [f.code for f in result.review_flags] == ["identity_mismatch:discharge.pdf"]


def test_a_material_in_a_doubtfully_unreadable_document_is_not_told_missing(policy) -> None:
    docs = complete()
    docs[3] = doc("lab.jpg", DocType.LAB_REPORT, seal=SealCheck(outcome=P, present=True),
                  quality=QualityCheck(outcome=F, problems=["blur"], confidence=0.6, reason="照片模糊"))
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == []
    assert sorted(f.code for f in result.review_flags) == ["missing:lab_report", "unreadable:lab.jpg"]
    docs[3].checks.quality = QualityCheck(outcome=F, problems=["blur"], confidence=0.95, reason="照片模糊")
    result = assess(APP, policy, docs, submitted=APP.application_date)
    assert result.problems == ["missing:lab_report", "unreadable:lab.jpg"]
