"""Document type classification: titles (also misread or missing), body keywords and structure."""

from __future__ import annotations

import pytest

from classifiers.doctype import classify
from classifiers.types import DocType
from fixtures.realworld import REALWORLD
from tests.classifiers import doc_samples as samples
from tests.classifiers.doc_samples import page, recorded


@pytest.mark.parametrize(
    ("build", "doc_type"),
    [
        (samples.diagnosis_certificate, DocType.DIAGNOSIS_CERTIFICATE),
        (samples.discharge_summary, DocType.DISCHARGE_SUMMARY),
        (samples.outpatient_record, DocType.MEDICAL_RECORD),
        (samples.imaging_report, DocType.LAB_REPORT),
        (samples.hospital_invoice, DocType.OTHER),
        (samples.prescription, DocType.OTHER),
        (samples.id_card_back, DocType.ID_CARD),
        (samples.social_security_card, DocType.ID_CARD),
    ],
)
def test_each_type_of_form(build, doc_type: DocType) -> None:
    result = classify(build())
    assert result.doc_type == doc_type
    assert result.confidence > 0.8
    assert set(result.scores) == {t.value for t in DocType}
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_real_lab_photo_and_cropped_table() -> None:
    assert classify(recorded("lab_np2016_bloodtest2_upright_photo.jpg")).doc_type == DocType.LAB_REPORT
    # The crop has no title at all: the result table alone decides.
    assert classify(recorded("lab_np2016_region_crop.jpg")).doc_type == DocType.LAB_REPORT


def test_real_id_card_front() -> None:
    result = classify(recorded("idcard_front_specimen_chineseocr_card.png"))
    assert (result.doc_type, result.identity_kind) == (DocType.ID_CARD, "resident_id_front")


def test_identity_kinds() -> None:
    assert classify(samples.id_card_back()).identity_kind == "resident_id_back"
    assert classify(samples.social_security_card()).identity_kind == "social_security_card"
    code = page("国家医保服务平台", "医保电子凭证", ["姓名", "张三"], "医保码")
    assert (classify(code).doc_type, classify(code).identity_kind) == (DocType.ID_CARD, "medical_insurance_code")
    assert classify(samples.diagnosis_certificate()).identity_kind is None


@pytest.mark.parametrize(
    ("title", "doc_type"),
    [
        ("诊断证明苦", DocType.DIAGNOSIS_CERTIFICATE),
        ("疾病诊新证明书", DocType.DIAGNOSIS_CERTIFICATE),
        ("出院小洁", DocType.DISCHARGE_SUMMARY),
        ("出院记朵", DocType.DISCHARGE_SUMMARY),
    ],
)
def test_misread_titles_still_count(title: str, doc_type: DocType) -> None:
    build = samples.diagnosis_certificate if doc_type == DocType.DIAGNOSIS_CERTIFICATE else samples.discharge_summary
    assert classify(build(title=title)).doc_type == doc_type


def test_misread_title_alone_decides_a_sparse_page() -> None:
    """GIVEN only a misread title and a name THEN the fuzzy title still beats 'other'."""
    assert classify(page("某某医院", "出院小洁", "姓名:张三")).doc_type == DocType.DISCHARGE_SUMMARY


@pytest.mark.parametrize(
    ("build", "doc_type"),
    [
        (samples.diagnosis_certificate, DocType.DIAGNOSIS_CERTIFICATE),
        (samples.discharge_summary, DocType.DISCHARGE_SUMMARY),
    ],
)
def test_missing_title_is_decided_by_the_body(build, doc_type: DocType) -> None:
    """GIVEN the title row was cut off the photo THEN body keywords and structure still decide."""
    assert classify(build(title="")).doc_type == doc_type


def test_untitled_outpatient_record_by_its_sections() -> None:
    ocr = page("姓名:刘强 性别:男", "主诉:头晕3天", "现病史:3天前无诱因头晕", "既往史:高血压10年", "诊断:高血压病")
    assert classify(ocr).doc_type == DocType.MEDICAL_RECORD


def test_case_front_sheet_is_a_medical_record_despite_discharge_words() -> None:
    ocr = page(
        "住院病案首页",
        ["医疗付费方式:城镇职工基本医疗保险", "病案号:123456"],
        ["入院日期:2025-10-01", "出院日期:2025-10-12"],
        "出院诊断:2型糖尿病",
        "离院方式:医嘱离院",
    )
    assert classify(ocr).doc_type == DocType.MEDICAL_RECORD


def test_admission_record_is_not_a_discharge_summary() -> None:
    ocr = page("某某医院", "入院记录", "主诉:胸闷1周", "现病史:1周前出现胸闷", "初步诊断:冠心病")
    assert classify(ocr).doc_type == DocType.MEDICAL_RECORD


def test_hospital_invoice_is_other_even_with_hospital_and_diagnosis_words() -> None:
    ocr = page(
        "苏州市立医院",
        "门诊收费票据",
        ["姓名:张三", "科室:内分泌科", "诊断:2型糖尿病"],
        ["检验费", "¥120.00"],
        ["合计", "¥120.00"],
    )
    assert classify(ocr).doc_type == DocType.OTHER


def test_invoice_number_on_a_lab_report_does_not_make_it_other() -> None:
    """The real lab report prints 发票号码 at the bottom; it stays a lab report."""
    result = classify(recorded("lab_np2016_bloodtest2_upright_photo.jpg"))
    assert result.doc_type == DocType.LAB_REPORT
    assert result.scores["other"] < 0.05


def test_page_without_evidence_is_other_with_low_confidence() -> None:
    result = classify(page("欢迎关注我们的公众号", "扫码了解更多"))
    assert result.doc_type == DocType.OTHER
    assert result.confidence < 0.6


def test_empty_page_is_other() -> None:
    assert classify(page()).doc_type == DocType.OTHER


def test_pathology_report() -> None:
    ocr = page(
        "某某大学附属医院",
        "病理诊断报告",
        "病理号:P2026-0012",
        "肉眼所见:灰白组织一块",
        "镜下所见:异型细胞",
        "病理诊断:(胃窦)中分化腺癌",
        "报告日期:2026-03-01",
    )
    assert classify(ocr).doc_type == DocType.LAB_REPORT


# --------------------------------------------------------------------------------------------
# The real OCR pipeline on the real-world photos (needs the models: seconds per file)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    ocr = pytest.importorskip("ocr")
    return ocr.OcrEngine(ocr.OcrOptions())


def _read(engine, name: str):
    from ocr import read_document

    path = REALWORLD / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return read_document(path.read_bytes(), engine).ocr


@pytest.mark.ocr
@pytest.mark.parametrize(
    "name",
    [
        "lab_np2016_bloodtest2_upright_photo.jpg",
        "lab_np2016_bloodtest1_rot90_photo.jpg",
        "lab_np2016_bloodtest4_rot90b_photo.jpg",
        "lab_np2016_bloodtest6_skewed_photo.jpg",
    ],
)
def test_real_lab_photos_end_to_end(engine, name: str) -> None:
    from classifiers.fields import extract_fields

    ocr = _read(engine, name)
    result = classify(ocr)
    assert result.doc_type == DocType.LAB_REPORT
    fields = extract_fields(ocr, result.doc_type, result.identity_kind)
    assert fields.values()["doc_date"] == "2016-08-24"
    assert fields.values()["hospital_name"] == "独墅湖科教创新区医院"


@pytest.mark.ocr
@pytest.mark.parametrize(
    "name",
    [
        "idcard_front_specimen_chineseocr_card.png",
        "idcard_front_specimen_chineseocr_upsidedown.jpg",
        "idcard_front_specimen_chineseocr_weixiaobao.jpg",
    ],
)
def test_real_id_card_specimens_end_to_end(engine, name: str) -> None:
    result = classify(_read(engine, name))
    assert (result.doc_type, result.identity_kind) == (DocType.ID_CARD, "resident_id_front")
