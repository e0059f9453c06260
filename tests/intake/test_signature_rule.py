"""六盘水's signature and seal rules, as its source states them, through the policy files and the
assessment.

The source (docs/seeds/002_e4ef294f7a8de83a.txt, 六盘水市 materials table; a lossy conversion, in
traditional characters) says, in the row 出院小結/門診病歷:
    "近一年內,包含詳細診療記錄 … 門診病歷需醫(yī)生簽字"   (门诊病历需医生签字)
and in the row 檢查化驗報告:
    "與申請病種相關,如病理、影像、化驗單等 … 報(bào)告需有醫(yī)院蓋章"   (报告需有医院盖章)
"""

from __future__ import annotations

import datetime as dt

import pytest

from classifiers.diagnosis import DiseaseCatalogue
from classifiers.hospital import HospitalRegistry
from classifiers.pipeline import analyse_document
from classifiers.types import DocType, Outcome, SealCheck, SealFinding, SignatureCheck
from intake.application import Application
from intake.assess import assess
from intake.policy import PolicyBook
from intake.report import DocumentReport
from intake.settings import POLICIES_DIR, REPO_ROOT
from tests.intake.test_assess import checks, complete, doc

SEED = REPO_ROOT.parent / "shared" / "docs" / "seeds" / "002_e4ef294f7a8de83a.txt"
LPS = Application(applicant_name="张三", id_number="110105194912310029", disease="糖尿病", region="六盘水市",
                  application_date=dt.date(2026, 3, 5))


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook.load(POLICIES_DIR)


AREA = [700.0, 850.0, 1030.0, 940.0]


def record(outcome: Outcome, confidence: float, kind: str | None, name: str = "门诊病历.jpg", *,
           area: list[float] | None = AREA) -> DocumentReport:
    signature = SignatureCheck(outcome=outcome, confidence=confidence, present=outcome == Outcome.PASS, kind=kind,
                               label="医师签名" if area else None, page=0 if area else None, box=area,
                               reason="“医师签名”处未见医生签字或签章" if outcome != Outcome.PASS else None)
    return doc(name, DocType.MEDICAL_RECORD, signature=signature)


def application(book: PolicyBook, region: str, clinical: DocumentReport):
    docs = [d for d in complete() if d.doc_type != DocType.DISCHARGE_SUMMARY] + [clinical]
    app = LPS.model_copy(update={"region": region})
    return assess(app, book.for_region(region), docs, submitted=dt.date(2026, 3, 5))


def test_the_seed_states_both_rules() -> None:
    """The sentences quoted above are in the source as written (guards against quoting wrongly)."""
    if not SEED.is_file():
        pytest.skip("the seed materials are not on this machine")
    text = SEED.read_text(encoding="utf-8")
    assert "門診病歷需醫(yī)生簽字" in text
    assert "報(bào)告需有醫(yī)院蓋章" in text


def test_liupanshui_requires_a_doctors_signature_on_outpatient_records_only(book: PolicyBook) -> None:
    """门诊病历需医生签字: 六盘水 requires it of medical records (门诊病历, 病案首页), where a printed
    doctor's name (an electronic record's signature) counts; no other region (and not the default)
    states such a rule."""
    lps = book.for_region("六盘水市")
    assert lps.signature_required == [DocType.MEDICAL_RECORD]
    assert lps.signature_accepts_printed_name is True
    for region in ("绥化市", "神农架林区", "default"):
        assert book.for_region(region).signature_required == []
    ctx = lps.context_for(DocType.MEDICAL_RECORD, application_date=LPS.application_date,
                          applicant_name=LPS.applicant_name, id_number=LPS.id_number, disease=LPS.disease)
    assert ctx.signature_required and ctx.printed_signature_ok
    assert not lps.context_for(DocType.DISCHARGE_SUMMARY, application_date=LPS.application_date,
                               applicant_name=None, id_number=None, disease=None).signature_required


def test_liupanshui_requires_the_hospitals_seal_on_lab_reports(book: PolicyBook) -> None:
    """报告需有医院盖章: a 六盘水 lab report without a seal is told to the applicant."""
    lps = book.for_region("六盘水市")
    assert DocType.LAB_REPORT in lps.seal_required and DocType.DIAGNOSIS_CERTIFICATE in lps.seal_required
    docs = complete()
    docs[3] = doc("化验单.jpg", DocType.LAB_REPORT,
                  seal=SealCheck(outcome=Outcome.FAIL, confidence=0.95, present=False, reason="未见医院公章"))
    result = assess(LPS, lps, docs, submitted=dt.date(2026, 3, 5))
    assert "seal_missing:化验单.jpg" in result.problems


def test_an_unsigned_outpatient_record_is_told_to_the_applicant_in_liupanshui(book: PolicyBook) -> None:
    """门诊病历需医生签字: a clearly empty signature area is a problem with its evidence and a notice line."""
    result = application(book, "六盘水市", record(Outcome.FAIL, 0.95, "none"))
    assert result.verdict.value == "needs_supplement"
    assert result.problems == ["signature_missing:门诊病历.jpg"]
    evidence = result.evidence[0]
    assert (evidence.page, evidence.box) == (0, [700.0, 850.0, 1030.0, 940.0])
    assert evidence.read == "签名处空白" and evidence.confidence == 0.95
    assert "《门诊病历.jpg》（门诊病历）未见医生签字或签章" in result.notice
    assert "接诊医生签字" in result.notice


@pytest.mark.parametrize(("outcome", "confidence", "kind"), [
    (Outcome.UNKNOWN, 0.4, None),  # a signature area found but not judged
    (Outcome.FAIL, 0.55, "none"),  # an empty area on a page read poorly
])
def test_a_doubtful_signature_is_a_reviewer_flag_not_a_problem(book: PolicyBook, outcome, confidence, kind) -> None:
    result = application(book, "六盘水市", record(outcome, confidence, kind))
    assert result.problems == [] and result.verdict.value == "ready_for_review"
    assert [f.code for f in result.review_flags] == ["signature_missing:门诊病历.jpg"]
    assert "签字" not in result.notice


def test_a_record_without_any_signature_area_found_is_neither_problem_nor_flag(book: PolicyBook) -> None:
    """Many records sign without a printed 医师签名 label: finding none says nothing either way, so the
    check stays "unknown" on the case page without flagging every such record."""
    result = application(book, "六盘水市", record(Outcome.UNKNOWN, 0.4, None, area=None))
    assert result.problems == [] and result.review_flags == []
    assert result.verdict.value == "ready_for_review"


def test_a_signed_record_or_another_region_raises_nothing(book: PolicyBook) -> None:
    assert application(book, "六盘水市", record(Outcome.PASS, 0.9, "handwritten")).problems == []
    unsigned_in_suihua = application(book, "绥化市", record(Outcome.FAIL, 0.95, "none"))
    assert unsigned_in_suihua.problems == [] and unsigned_in_suihua.review_flags == []


def test_the_pipeline_judges_the_signature_only_where_the_policy_requires_it(book: PolicyBook) -> None:
    """analyse_document runs the signature check with the policy's context for the found type."""
    from tests.classifiers.test_signature import draw

    registry = HospitalRegistry.from_csv(REPO_ROOT / "fixtures" / "registry" / "hospitals.csv")

    def run(region: str, kind: str = "empty"):
        image, ocr = draw(kind)
        title = ocr.pages[0].lines[0].model_copy(update={"text": "门诊病历"})
        top = title.box.model_copy(update={"y0": 100, "y1": 130})
        ocr.pages[0].lines.insert(0, title.model_copy(update={"box": top}))
        policy = book.for_region(region)

        def context_for(doc_type: DocType):
            return policy.context_for(doc_type, application_date=LPS.application_date, applicant_name="张三",
                                      id_number=LPS.id_number, disease="糖尿病")

        return analyse_document(ocr, [image], SealFinding(present=False), context_for, registry=registry,
                                catalogue=DiseaseCatalogue.load())

    lps = run("六盘水市")
    assert lps.classification.doc_type == DocType.MEDICAL_RECORD
    assert lps.checks.signature.outcome == Outcome.FAIL and lps.checks.signature.kind == "none"
    assert run("绥化市").checks.signature.outcome == Outcome.NOT_APPLICABLE
    # A printed doctor's name is the electronic record's signature: signed in 六盘水, its kind kept.
    printed = run("六盘水市", "printed").checks.signature
    assert (printed.outcome, printed.kind, printed.present) == (Outcome.PASS, "printed_name", False)
    assert checks().signature.outcome == Outcome.NOT_APPLICABLE  # older reports without the key stay valid
