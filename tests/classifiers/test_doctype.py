"""Document type classification: titles (also misread or missing), body keywords and structure."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from classifiers.doctype import classify
from classifiers.types import DocType, OtherKind
from fixtures.realworld import REALWORLD
from ocr.types import Box, OcrLine, OcrPage, OcrResult
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
        (samples.prescription, DocType.OTHER),  # an `other` of kind medication_record (issue 14)
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


def test_a_short_case_front_sheet_with_its_patients_id_number_is_no_id_card() -> None:
    """GIVEN a 病案首页 whose table prints the patient's 民族, 出生日期 and 身份证号, photographed so
    that it reads as a dozen rows, some labels misread (as PaddleOCR read one) WHEN classified THEN
    its title makes it a medical record: an ID card's layout (an ID number beside 民族 and 出生 on a
    short page) is not evidence on a page titled as another document."""
    ocr = page(
        "北京协和医院",
        "住院病案首页",
        ["医疗付款方式：城乡居民基本医疗保险", "第3次住院 病案号：0004584503"],
        ["姓名", "段风义", "性别", "男", "出生日期", "1949年7月9日", "年龄", "76岁"],
        ["民族", "汉族", "国籍", "中国", "身份证号", "110105194907098431"],
        ["入院料别", "内科", "病房", "29病区", "入院时间", "2026年3月10日"],
        ["出院科割", "内科", "病房", "4级区", "出规时间", "2026年3月18日", "实际住院", "8天"],
        ["出院诊断", "疾病编码", "入院病情"],
        ["主要诊断", "慢性风湿性心脏病", "I10.x00", "有"],
        ["其他诊断", "骨质疏松症", "E78.500", "有"],
        "手术及操作：无",
        ["高院方式：医嘱离院", "大"],
        ["科主任：李红梅主治医师：丁鑫芝", "编码员：张敏", "种室哲理专用章"],
    )
    assert classify(ocr).doc_type == DocType.MEDICAL_RECORD


def test_a_case_front_sheet_whose_title_the_photo_cut_off_is_a_medical_record() -> None:
    """GIVEN a 病案首页 photographed with its title cut off: the patient's 民族, 出生日期 and ID number
    as on a card, admission and discharge times as on a summary WHEN classified THEN the front
    sheet's own fields (医疗付款方式, 入院病情, 离院方式, 编码员 …) make it a medical record."""
    ocr = page(
        "大庆油田总医院",
        ["医疗付款方式：城乡居民基本医疗保险", "第4次住院 病案号：1005353"],
        ["姓名", "贺有清", "性别", "男", "出生日期", "1976年7月27日", "年龄", "49岁"],
        ["民族", "汉族", "国籍", "中国", "身份证号", "110101197607279618"],
        ["入院科别", "内科", "病房", "26病区", "入院时间", "2025年9月8日"],
        ["出院科别", "内科", "病房", "17病区", "出院时间", "2025年9月22日", "实际住院", "14天"],
        ["出院诊断", "疾病编码", "入院病情"],
        ["主要诊断", "2型糖尿病", "E11.900", "有"],
        "离院方式：医嘱离院",
        ["科主任：李红梅", "主治医师：黎克言", "编码员：张敏"],
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
# Certificates of non-medical organisations are `other`; a diagnosis certificate needs medical evidence
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(
            (
                "证明",
                "兹证明我村村民张三，身份证号320102195001011234，",
                "系我村常住人口，情况属实。",
                "特此证明。",
                "某某县某某镇某某村民委员会",
                "2026年3月1日",
            ),
            id="村委会证明",
        ),
        pytest.param(
            (
                "证明",
                "兹证明李四居住在本社区，家庭生活困难。",
                "特此证明",
                "某某街道某某社区居民委员会",
                "2026年2月8日",
            ),
            id="居委会证明",
        ),
        pytest.param(
            (
                "在职证明",
                "兹证明张三同志系我公司正式员工，",
                "自2015年起在我公司工作至今。",
                "特此证明。",
                "某某科技有限公司（盖章）",
                "2026年1月5日",
            ),
            id="在职证明",
        ),
        pytest.param(
            ("收入证明", "兹证明张三为我单位职工，月收入人民币5000元。", "特此证明", "某某有限公司人力资源部"),
            id="收入证明",
        ),
        pytest.param(
            (
                "户籍证明",
                "兹证明王五，男，1960年5月1日出生，",
                "系我辖区常住户口。",
                "特此证明",
                "某某市公安局某某派出所",
            ),
            id="派出所户籍证明",
        ),
        pytest.param(
            (
                "证明",
                "兹证明我村村民赵六因患尿毒症，",
                "长期在县人民医院透析治疗，家庭困难。",
                "特此证明",
                "某某村民委员会",
                "2026年4月2日",
            ),
            id="村委会证明提到医院",
        ),
        pytest.param(("证明", "兹证明张三确系本人。", "特此证明", "2026年4月2日"), id="无出具单位的证明"),
        pytest.param(
            ("证明", "兹证明张三系我校2024级学生。", "特此证明", "某某市第一中学", "2026年3月3日"), id="学校证明"
        ),
    ],
)
def test_certificate_of_a_non_medical_organisation_is_other(rows: tuple[str, ...]) -> None:
    result = classify(page(*rows))
    assert result.doc_type == DocType.OTHER, result.scores
    assert result.scores["diagnosis_certificate"] < 0.1
    assert result.confidence > 0.8


def test_untitled_hospital_certificate_is_still_a_diagnosis_certificate() -> None:
    """GIVEN a bare 证明 from a hospital WHEN the page shows medical evidence THEN it is a diagnosis certificate."""
    ocr = page(
        "苏州市立医院",
        "证明",
        "兹证明患者张三于2026年1月10日在我院内分泌科就诊，",
        "诊断为2型糖尿病。",
        "特此证明",
        "医师：王五",
    )
    assert classify(ocr).doc_type == DocType.DIAGNOSIS_CERTIFICATE


def test_certificate_with_its_title_cut_off_is_a_diagnosis_certificate_but_unsure() -> None:
    """GIVEN a hospital's certificate whose title row was cut off: diagnosis, advice, signature THEN
    it is a diagnosis certificate, with a confidence that asks for a reviewer's look."""
    ocr = page(
        "盘州市人民医院",
        ["姓名：戴庆", "性别：男", "年龄：77岁"],
        ["就诊科室：普外科", "门诊号：01235329"],
        "诊断结果：",
        "1、急性阑尾炎",
        "建议：",
        "需长期门诊治疗，定期复查。",
        "医师：袁韵黛",
    )
    result = classify(ocr)
    assert result.doc_type == DocType.DIAGNOSIS_CERTIFICATE
    assert result.confidence < 0.8


def test_diagnosis_certificate_for_a_school_or_employer_stays_one() -> None:
    """An exact medical title outweighs an issuer word in the text ("供学校请假用")."""
    ocr = page(
        "苏州市立医院",
        "疾病诊断证明书",
        ["姓名：张三", "科室：呼吸内科"],
        "诊断：支气管哮喘",
        "建议休息一周，仅供学校请假用。",
        "特此证明",
    )
    result = classify(ocr)
    assert result.doc_type == DocType.DIAGNOSIS_CERTIFICATE and result.confidence > 0.9


def test_two_types_equally_supported_give_a_low_confidence() -> None:
    result = classify(page("出院记录", "门诊病历"))
    assert result.doc_type in (DocType.DISCHARGE_SUMMARY, DocType.MEDICAL_RECORD)
    assert result.confidence < 0.6


def test_confidence_grows_with_the_margin() -> None:
    sparse = classify(page("某某医院", "出院小洁", "姓名:张三"))  # a misread title alone
    full = classify(samples.discharge_summary())
    assert sparse.doc_type == full.doc_type == DocType.DISCHARGE_SUMMARY
    assert sparse.confidence < full.confidence


# --------------------------------------------------------------------------------------------
# Blank pages
# --------------------------------------------------------------------------------------------


def _white(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    paper = np.clip(np.full((1754, 1240, 1), 248.0) + rng.normal(0, 3, (1754, 1240, 1)), 0, 255)
    return np.repeat(paper.astype(np.uint8), 3, axis=2)


def test_blank_page_is_other_with_a_blank_score() -> None:
    ocr = OcrResult(
        media_type="image/jpeg",
        pages=[OcrPage(index=0, width=1240, height=1754, source="ocr", lines=[])],
        fingerprint="t",
    )
    result = classify(ocr, [_white()])
    assert result.doc_type == DocType.OTHER and result.identity_kind is None
    assert result.scores["blank"] >= 0.85 and result.confidence == result.scores["blank"]


def test_page_number_only_is_blank_but_a_blurred_printed_page_is_not() -> None:
    numbered = _white()
    cv2.putText(numbered, "- 3 -", (580, 1700), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2)
    line = OcrLine(text="-3-", score=0.9, box=Box(x0=575, y0=1682, x1=650, y1=1706))
    ocr = OcrResult(
        media_type="image/jpeg",
        pages=[OcrPage(index=0, width=1240, height=1754, source="ocr", lines=[line])],
        fingerprint="t",
    )
    assert "blank" in classify(ocr, [numbered]).scores

    printed = _white()
    for i in range(30):
        cv2.putText(printed, "Patient 2026-01-10", (80, 120 + 50 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    blurred = cv2.GaussianBlur(printed, (0, 0), 8)
    assert "blank" not in classify(ocr, [blurred]).scores


def test_without_images_no_page_is_called_blank() -> None:
    assert "blank" not in classify(page()).scores


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


# --- issue 14: relationship proofs (代办) and per-disease extra materials ----------------------------


@pytest.mark.parametrize(
    ("rows", "kind"),
    [
        pytest.param(
            ("常住人口登记卡", ["户别", "家庭户"], ["户主姓名", "王建国"], ["户号", "520201001234"],
             ["姓名", "王小红", "与户主关系", "女"], ["性别", "女", "民族", "汉"],
             ["出生日期", "1980年5月1日"], ["出生地", "贵州省六盘水市"], ["籍贯", "贵州省水城县"],
             ["公民身份号码", "520201198005011229"], ["文化程度", "大学", "婚姻状况", "已婚"],
             ["服务处所", "六盘水市某公司"], ["何时由何地迁来本市", "—"], ["登记事项变更和更正记载", ""]),
            OtherKind.RELATIONSHIP_PROOF, id="户口本 常住人口登记卡 (prints an ID number like a card)"),
        pytest.param(
            ("居民户口簿", ["户别", "家庭户"], ["户主姓名", "王建国"], ["户号", "520201001234"],
             ["住址", "六盘水市钟山区荷城街道"], ["承办人签章", "李明"], "六盘水市公安局钟山分局"),
            OtherKind.RELATIONSHIP_PROOF, id="户口簿 首页"),
        pytest.param(
            ("出生医学证明", ["新生儿姓名", "王小红", "性别", "女"], ["出生时间", "2010年3月1日"],
             ["出生孕周", "39周", "出生体重", "3200克"], ["出生地点", "贵州省六盘水市"],
             ["母亲姓名", "李秀英", "身份证号", "520201198201011224"], ["父亲姓名", "王建国"],
             ["接生机构名称", "六盘水市人民医院"], "签发日期：2010年3月5日"),
            OtherKind.RELATIONSHIP_PROOF, id="出生医学证明 (a hospital's certificate)"),
        pytest.param(
            ("亲属关系证明", "兹证明王建国与王小红系父女关系。", "特此证明", "六盘水市公安局荷城派出所",
             "2026年4月2日"),
            OtherKind.RELATIONSHIP_PROOF, id="派出所 亲属关系证明"),
        pytest.param(
            ("六盘水市人民医院", "血液透析记录单", ["姓名", "王建国", "性别", "男", "住院号", "123456"],
             ["治疗日期", "2026-03-02"], ["透析方式", "HD", "透析器", "F6"],
             ["透前体重", "62.5kg", "透后体重", "60.1kg"],
             ["超滤量", "2.4L", "血流量", "250ml/min"], ["抗凝剂", "低分子肝素"], ["护士签名", "张敏"]),
            OtherKind.TREATMENT_RECORD, id="透析记录单"),
        pytest.param(
            ("绥化市第一医院", "放化疗记录", ["姓名", "王建国", "科别", "肿瘤科"], ["诊断", "右肺上叶腺癌"],
             ["化疗方案", "培美曲塞+顺铂", "治疗周期", "第3周期"], ["治疗日期", "2026-03-02"], ["不良反应", "恶心"],
             ["医师签名", "李四"]),
            OtherKind.TREATMENT_RECORD, id="放化疗记录"),
        pytest.param(
            ("绥化市第一医院", "门诊用药清单", ["姓名", "王建国", "科别", "器官移植科"], ["诊断", "肾移植术后"],
             ["药品名称", "规格", "用法", "频次"], ["他克莫司胶囊", "1mg", "口服", "每12小时一次"],
             ["吗替麦考酚酯片", "0.25g", "口服", "一日两次"], ["开具日期", "2026-03-02"]),
            OtherKind.MEDICATION_RECORD, id="用药清单"),
        pytest.param(
            ("绥化市第一医院", "长期医嘱单", ["姓名", "王建国", "科别", "肾内科", "床号", "12"],
             ["开始时间", "医嘱内容", "停止时间"], ["2026-03-01", "他克莫司胶囊 1mg 口服 q12h", ""],
             ["2026-03-01", "泼尼松片 5mg 口服 qd", ""]),
            OtherKind.MEDICATION_RECORD, id="长期医嘱单"),
    ],
)
def test_issue14_document_kinds(rows: tuple, kind: OtherKind) -> None:
    """GIVEN the lines of a 户口本 page, an 出生医学证明, a 亲属关系证明, a dialysis / chemotherapy record
    or a medication list WHEN classified THEN it is an `other` document (the report contract's six
    types stay six) of the kind the proxy and extras rules count (六盘水: 关系证明（代办）: 户口本、出生证明等;
    绥化: 部分病种需提供特殊治疗记录、长期用药证明等), and that kind is the likeliest one."""
    result = classify(page(*rows))
    assert (result.doc_type, result.kind) == (DocType.OTHER, kind), (result.scores, result.kind_scores)
    assert result.confidence > 0.7, result.scores
    assert set(result.scores) == {t.value for t in DocType}
    assert max(result.kind_scores, key=result.kind_scores.__getitem__) == kind
    assert result.identity_kind is None


def test_only_other_documents_have_a_kind_of_other() -> None:
    """GIVEN an invoice, a discharge summary and an ID card WHEN classified THEN the invoice is
    `other` with no kind, the summary has none, and the card's kind is its identity kind."""
    invoice, summary, card = (classify(samples.hospital_invoice()), classify(samples.discharge_summary()),
                              classify(samples.id_card_back()))
    assert (invoice.doc_type, invoice.kind) == (DocType.OTHER, None)
    assert (summary.doc_type, summary.kind) == (DocType.DISCHARGE_SUMMARY, None)
    assert (card.kind, card.identity_kind) == ("resident_id_back", "resident_id_back")
    assert classify(samples.prescription()).kind == OtherKind.MEDICATION_RECORD


def test_a_short_id_card_front_is_still_an_id_card_beside_household_words() -> None:
    """GIVEN an ID card front (no household words) WHEN classified THEN the 户口本 structure does not
    take it: only a page naming the household (户主, 户号 …) is a relationship proof."""
    front = page(["姓名", "王小红"], ["性别", "女", "民族", "汉"], ["出生", "1980年5月1日"],
                 ["住址", "贵州省六盘水市钟山区荷城街道1号"], ["公民身份号码", "520201198005011229"])
    assert classify(front).doc_type == DocType.ID_CARD
