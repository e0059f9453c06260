"""Field extraction from OCR rows: real PaddleOCR output and hand-laid forms of each type."""

from __future__ import annotations

import pytest

from classifiers.fields import build_rows, extract_fields
from classifiers.types import DATE_NOT_BEFORE, DocType
from ocr.types import Box, OcrLine, OcrPage, OcrResult
from tests.classifiers import doc_samples as samples
from tests.classifiers.doc_samples import page, recorded


def values(ocr, doc_type: DocType, identity_kind: str | None = None) -> dict[str, str | None]:
    return extract_fields(ocr, doc_type, identity_kind).values()


# --------------------------------------------------------------------------------------------
# Real OCR output
# --------------------------------------------------------------------------------------------


def test_real_lab_photo_header_fields() -> None:
    """GIVEN PaddleOCR's lines of a phone photo of a 2016 blood test, where 姓名 came out as two
    boxes ("姓" / "名孟丁") and the hospital shares its box with the title
    THEN name, gender, department, issuing hospital and the date are all read."""
    got = values(recorded("lab_np2016_bloodtest2_upright_photo.jpg"), DocType.LAB_REPORT)
    assert got["patient_name"] == "孟丁"
    assert got["gender"] == "男"
    assert got["department"] == "儿科"
    assert got["hospital_name"] == "独墅湖科教创新区医院"
    assert got["doc_date"] == "2016-08-24"
    assert got["id_number"] is None  # no ID on the page; No:20160824XXS0025 is not one


def test_fields_carry_the_box_they_were_read_from() -> None:
    ocr = recorded("lab_np2016_bloodtest2_upright_photo.jpg")
    fields = extract_fields(ocr, DocType.LAB_REPORT)
    assert fields.patient_name is not None and fields.patient_name.box is not None
    # "名孟丁" is the box at x 230..328, y 86..120 in the recorded output.
    assert fields.patient_name.box.x1 == pytest.approx(328, abs=1)
    assert fields.patient_name.box.y0 == pytest.approx(85, abs=2)
    assert fields.patient_name.raw is not None and "孟丁" in fields.patient_name.raw
    assert fields.hospital_name is not None and fields.hospital_name.raw == "独墅湖科教创新区医院化验报告单"
    assert fields.doc_date is not None and fields.doc_date.page == 0


def test_cropped_lab_table_without_title_uses_labelled_exam_time() -> None:
    got = values(recorded("lab_np2016_region_crop.jpg"), DocType.LAB_REPORT)
    assert got["doc_date"] == "2016-08-24"
    assert got["patient_name"] == "孟丁"
    assert got["hospital_name"] is None


def test_real_id_card_front() -> None:
    fields = extract_fields(recorded("idcard_front_specimen_chineseocr_card.png"), DocType.ID_CARD, "resident_id_front")
    assert fields.patient_name is not None and fields.patient_name.value == "小静"
    assert fields.gender is not None and fields.gender.value == "女"
    assert fields.id_number is not None and fields.id_number.value == "370782198709170246"
    assert fields.doc_date is None  # an ID card has no document date
    extra = {k: v.value for k, v in fields.extra.items()}
    assert extra["ethnicity"] == "汉"
    assert extra["birth_date"] == "1987-09-17"
    assert extra["address"] == "北京市海淀区西北旺东路100号中关村科技园"  # over two OCR lines


def test_id_card_number_with_a_junk_check_character_is_not_invented() -> None:
    """GIVEN OCR read the last character of the number as ">" THEN the digits are reported as read
    (so the number fails its check) rather than with a made-up check digit."""
    got = values(recorded("idcard_front_specimen_chineseocr_weixiaobao.jpg"), DocType.ID_CARD, "resident_id_front")
    assert got["patient_name"] == "韦小宝"
    assert got["id_number"] == "11204416541220243"


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


def test_rows_join_boxes_on_the_same_line_left_to_right() -> None:
    ocr = page(["性别", "女", "民族汉"], "出生")
    rows = build_rows(ocr)
    assert [r.text for r in rows] == ["性别 女 民族汉", "出生"]


# --------------------------------------------------------------------------------------------
# Per document type
# --------------------------------------------------------------------------------------------


def test_diagnosis_certificate_fields() -> None:
    got = values(samples.diagnosis_certificate(), DocType.DIAGNOSIS_CERTIFICATE)
    assert got == {
        "patient_name": "张三",
        "gender": "男",
        "id_number": "320102195001011234",
        "hospital_name": "苏州市立医院",
        "department": "内分泌科",
        "diagnosis": "1.2型糖尿病 2.高血压病3级(极高危)",
        # The issue date under the signature, not the earlier 就诊日期.
        "doc_date": "2026-01-12",
    }


def test_discharge_summary_prefers_discharge_diagnosis_and_date() -> None:
    got = values(samples.discharge_summary(), DocType.DISCHARGE_SUMMARY)
    assert got["diagnosis"] == "1.冠状动脉粥样硬化性心脏病 2.高血压病2级"  # not 入院诊断 胸痛待查
    assert got["doc_date"] == "2025-11-15"  # 出院日期, not 入院日期 2025-11-02
    assert got["department"] == "心血管内科"
    assert got["patient_name"] == "王芳"


def test_outpatient_record_uses_visit_date_not_birth_date() -> None:
    got = values(samples.outpatient_record(), DocType.MEDICAL_RECORD)
    assert got["doc_date"] == "2026-02-03"
    assert got["diagnosis"] == "慢性阻塞性肺疾病"
    assert got["hospital_name"] == "江苏省人民医院"


def test_imaging_report_reads_impression_and_report_date() -> None:
    got = values(samples.imaging_report(), DocType.LAB_REPORT)
    assert got["diagnosis"] == "左侧基底节区腔隙性脑梗死"
    assert got["doc_date"] == "2026-02-02"  # 报告日期 beats 检查日期


def test_lab_report_date_skips_sampling_and_birth_dates() -> None:
    ocr = page(
        "某某市第二人民医院检验报告单",
        ["姓名:李雷", "出生日期:2026-01-01"],
        ["采样时间:2026-03-01 08:00", "接收时间:2026-03-01 09:00"],
        ["报告时间:2026-03-02 15:00"],
    )
    assert values(ocr, DocType.LAB_REPORT)["doc_date"] == "2026-03-02"


def test_date_label_in_a_header_cell_above_the_value() -> None:
    ocr = page(["采样日期", "报告日期"], ["2026-03-01", "2026-03-04"])
    assert values(ocr, DocType.LAB_REPORT)["doc_date"] == "2026-03-04"


def test_unlabelled_date_fallback_ignores_old_years() -> None:
    ocr = page("某医院疾病诊断证明书", "姓名:韩梅梅", "1962年5月1日", "2026年3月1日")
    assert values(ocr, DocType.DIAGNOSIS_CERTIFICATE)["doc_date"] == "2026-03-01"


def test_month_only_date_is_kept_with_month_precision() -> None:
    ocr = page("某医院门诊病历", "就诊日期:2026年3月")
    assert values(ocr, DocType.MEDICAL_RECORD)["doc_date"] == "2026-03"


def test_id_card_back_extras() -> None:
    fields = extract_fields(samples.id_card_back(), DocType.ID_CARD, "resident_id_back")
    extra = {k: v.value for k, v in fields.extra.items()}
    assert extra["issuing_authority"] == "苏州市公安局姑苏分局"
    assert extra["valid_period"] == "2016-08-01/2036-08-01"
    assert fields.patient_name is None


def test_valid_period_long_term() -> None:
    ocr = page(["签发机关", "某县公安局"], ["有效期限", "2010.01.05-长期"])
    extra = extract_fields(ocr, DocType.ID_CARD, "resident_id_back").extra
    assert extra["valid_period"].value == "2010-01-05/长期"


def test_social_security_number_is_the_id_number() -> None:
    got = values(samples.social_security_card(), DocType.ID_CARD, "social_security_card")
    assert got["id_number"] == "320102195001011234"
    assert got["patient_name"] == "张三"


# --------------------------------------------------------------------------------------------
# Single fields
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "name"),
    [
        (["姓名：张三"], "张三"),
        (["患者姓名: 欧阳娜娜 性别:女"], "欧阳娜娜"),
        ([["姓", "名孟丁", "性别男"]], "孟丁"),
        ([["姓 名", "李四"]], "李四"),
        (["姓名王五性别男年龄30岁"], "王五"),
        (["患者：赵六"], "赵六"),
        (["姓名:买买提·艾力"], "买买提·艾力"),
        (["医师姓名:钱七", "病人姓名:孙八"], "孙八"),
    ],
)
def test_patient_name_forms(rows: list, name: str) -> None:
    assert values(page(*rows), DocType.LAB_REPORT)["patient_name"] == name


def test_id_number_confusions_fixed_only_when_checksum_becomes_valid() -> None:
    # "O" for 0 and "l" for 1: fixed, since the result passes the GB 11643 checksum.
    got = values(page("身份证号:3201021950O1Ol1234"), DocType.DIAGNOSIS_CERTIFICATE)
    assert got["id_number"] == "320102195001011234"


def test_invalid_labelled_id_number_is_reported_as_read() -> None:
    got = values(page("身份证号:320102195001011231"), DocType.DIAGNOSIS_CERTIFICATE)
    assert got["id_number"] == "320102195001011231"


def test_labelled_number_cut_short_is_reported_as_read() -> None:
    # The 韦小宝 specimen: the photo's edge cut the last digit off; the card shows no valid number.
    got = values(page("公民身份证号码11204416541220243"), DocType.ID_CARD, "resident_id_front")
    assert got["id_number"] == "11204416541220243"
    assert values(page("门诊号 1120441654122024"), DocType.MEDICAL_RECORD)["id_number"] is None


def test_unlabelled_invalid_18_digit_number_is_ignored() -> None:
    got = values(page("条码:320102195001011231"), DocType.LAB_REPORT)
    assert got["id_number"] is None


def test_id_number_with_lowercase_x_and_spaces() -> None:
    got = values(page("公民身份号码 1101 0519 4912 3100 2x"), DocType.ID_CARD)
    assert got["id_number"] == "11010519491231002X"


@pytest.mark.parametrize(
    ("row", "hospital"),
    [
        ("独墅湖科教创新区医院化验报告单", "独墅湖科教创新区医院"),
        ("苏州大学附属第一医院(平江院区)检验报告单", "苏州大学附属第一医院(平江院区)"),
        ("北京协和医院东院区疾病诊断证明书", "北京协和医院东院区"),
        ("某某镇卫生院门诊病历", "某某镇卫生院"),
        ("姑苏区双塔街道社区卫生服务中心", "姑苏区双塔街道社区卫生服务中心"),
        ("医疗机构名称：六盘水市人民医院", "六盘水市人民医院"),
        ("绥化市妇幼保健院出院记录", "绥化市妇幼保健院"),
    ],
)
def test_hospital_name_strips_title_and_label(row: str, hospital: str) -> None:
    assert values(page(row, "姓名:张三"), DocType.LAB_REPORT)["hospital_name"] == hospital


def test_hospital_is_the_header_not_an_address_or_narrative() -> None:
    ocr = page("南京市第一医院", "出院记录", "地址:南京市长乐路68号(第一医院旁)", "患者曾在鼓楼医院就诊")
    assert values(ocr, DocType.DISCHARGE_SUMMARY)["hospital_name"] == "南京市第一医院"


def test_diagnosis_on_the_label_row_stops_at_the_next_label() -> None:
    ocr = page(["临床诊断：2型糖尿病", "送检医生：张三"])
    assert values(ocr, DocType.LAB_REPORT)["diagnosis"] == "2型糖尿病"


def test_certificate_title_is_not_a_diagnosis_label() -> None:
    ocr = page("疾病诊断证明书", "诊断：高血压病3级")
    assert values(ocr, DocType.DIAGNOSIS_CERTIFICATE)["diagnosis"] == "高血压病3级"


def test_full_width_text_is_normalised() -> None:
    ocr = page("姓名：张三", "性别：女", "诊断：慢性肾脏病５期", "日期：２０２６年３月５日")
    got = values(ocr, DocType.DIAGNOSIS_CERTIFICATE)
    assert got["diagnosis"] == "慢性肾脏病5期"
    assert got["doc_date"] == "2026-03-05"
    assert got["gender"] == "女"


def test_empty_ocr_gives_empty_fields() -> None:
    ocr = page()
    assert all(v is None for v in values(ocr, DocType.OTHER).values())


# --------------------------------------------------------------------------------------------
# The document's date (classifiers/dates.py picks it)
# --------------------------------------------------------------------------------------------

LAB_PHOTOS_2016 = [
    "lab_np2016_bloodtest2_upright_photo.jpg",
    "lab_np2016_region_crop.jpg",
    "lab_np2016_bloodtest1_rot90_photo.jpg",
    "lab_np2016_bloodtest4_rot90b_photo.jpg",
    "lab_np2016_bloodtest5_skewed_photo.jpg",
    "lab_np2016_bloodtest6_skewed_photo.jpg",
]


@pytest.mark.parametrize("name", LAB_PHOTOS_2016)
def test_real_lab_photos_report_date_with_confidence(name: str) -> None:
    """GIVEN PaddleOCR's lines of the real 2016 blood tests (upright, rotated, skewed, cropped),
    which print 接收时间, 检验时间 and 打印时间 side by side
    THEN the date is 2016-08-24, read from a label that counts (never 接收 or 打印), and sure."""
    doc_date = extract_fields(recorded(name), DocType.LAB_REPORT).doc_date
    assert doc_date is not None and doc_date.value == "2016-08-24"
    assert doc_date.confidence is not None and doc_date.confidence >= 0.85
    assert "打印" not in (doc_date.raw or "") and "接收" not in (doc_date.raw or "")


def test_birth_date_in_the_id_number_on_the_page_is_never_the_doc_date() -> None:
    """GIVEN a certificate whose only unlabelled dates are the birth date written in its ID number
    and the issue date THEN the issue date; with the birth date alone, no date."""
    ocr = page("疾病诊断证明书", ["姓名：张三", "身份证号：320102195001011234"], "1950年1月1日", "2026年3月1日")
    assert values(ocr, DocType.DIAGNOSIS_CERTIFICATE)["doc_date"] == "2026-03-01"
    ocr = page("疾病诊断证明书", ["姓名：张三", "身份证号：320102195001011234"], "1950年1月1日")
    assert values(ocr, DocType.DIAGNOSIS_CERTIFICATE)["doc_date"] is None


def test_doc_date_confidence_by_how_it_was_found() -> None:
    labelled = extract_fields(samples.discharge_summary(), DocType.DISCHARGE_SUMMARY).doc_date
    by_place = extract_fields(samples.diagnosis_certificate(), DocType.DIAGNOSIS_CERTIFICATE).doc_date
    assert labelled is not None and labelled.confidence is not None and labelled.confidence >= 0.95
    # The unlabelled date under the signature and seal, the last on the page: sure, if less so.
    assert (
        by_place is not None and by_place.confidence is not None and 0.85 <= by_place.confidence < labelled.confidence
    )


def test_screenshot_status_bar_date_is_not_the_doc_date() -> None:
    ocr = page("14:32 2026/03/20 5G 87%", "检验报告", "姓名:李雷", "报告日期:2026-03-02")
    got = values(ocr, DocType.LAB_REPORT)
    assert got["doc_date"] == "2026-03-02"


@pytest.mark.ocr
def test_real_skewed_lab_photo_date_with_real_ocr() -> None:
    """The real OCR engine on a skewed phone photo (the recorded test above runs without it)."""
    ocr_pkg = pytest.importorskip("ocr")
    from fixtures.realworld import REALWORLD

    path = REALWORLD / "lab_np2016_bloodtest5_skewed_photo.jpg"
    if not path.exists():
        pytest.skip(f"{path} not present")
    result = ocr_pkg.read_document(path.read_bytes(), ocr_pkg.OcrEngine(ocr_pkg.OcrOptions())).ocr
    doc_date = extract_fields(result, DocType.LAB_REPORT).doc_date
    assert doc_date is not None and doc_date.value == "2016-08-24"
    assert doc_date.confidence is not None and doc_date.confidence >= 0.8


def _certificate_photo(bottom: list[tuple[str, float, tuple[float, float, float, float]]]) -> OcrResult:
    """A photographed 诊断证明书 as PaddleOCR boxed it (header, body, signature block), with the
    bottom boxes given: the seal's own text and the issue date it overprints."""
    header = [
        ("绥化市第二医院", 1.0, (290, 229, 527, 271)),
        ("诊断证明书", 1.0, (562, 316, 786, 360)),
        ("No.27840359", 1.0, (1024, 380, 1140, 407)),
        ("姓名", 1.0, (216, 410, 276, 447)),
        ("邹德晨", 1.0, (355, 414, 420, 443)),
        ("性别", 1.0, (550, 417, 596, 447)),
        ("男", 1.0, (656, 421, 683, 448)),
        ("科别", 1.0, (219, 457, 279, 492)),
        ("神经内科", 1.0, (353, 460, 442, 494)),
        ("1. 癫痫大发作", 0.97, (366, 515, 505, 543)),
        ("临床诊断", 1.0, (237, 571, 321, 599)),
        ("患者于2025年7月1日至2025年7月10日在我院住院治疗。", 0.98, (376, 640, 1066, 672)),
        ("需长期门诊治疗。规律服用抗癫痫药物，建议2025年8月20日复查。", 1.0, (376, 693, 1066, 725)),
        ("处理意见", 1.0, (244, 754, 329, 782)),
        ("主治医师：卢飞", 1.0, (231, 918, 395, 949)),
        ("科主任：王建国", 1.0, (600, 922, 770, 952)),
        ("(此证明加盖医院公章后有效，复印无效)", 0.99, (246, 1061, 533, 1088)),
    ]
    lines = [
        OcrLine(text=text, score=score, box=Box(x0=x0, y0=y0, x1=x1, y1=y1))
        for text, score, (x0, y0, x1, y1) in header + bottom
    ]
    return OcrResult(
        media_type="image/jpeg",
        pages=[OcrPage(index=0, width=1374, height=1810, source="ocr", lines=lines)],
        fingerprint="t",
    )


@pytest.mark.parametrize(
    ("bottom", "value", "most"),
    [
        # The seal's "门诊部" read over the date: no 门诊 (visit) label.
        ([("门诊部", 1.0, (1000, 961, 1078, 1010)), ("2025-07-20", 1.0, (1036, 988, 1158, 1022))], "2025-07-20", 1.0),
        # Chinese numerals under the ink: the year's 二 lost, 十 read as 部.
        ([("〇二五年七月二部一日", 0.94, (867, 969, 1145, 1014))], "2025-07-21", None),
        # The seal's text glued to the date and a separator lost.
        ([("诊断证明专用章202507-22", 0.77, (1000, 1012, 1275, 1058))], "2025-07-22", 0.8),
        # The year under the seal: taken from the stay in the body.
        ([("网", 0.55, (1038, 852, 1089, 902)), ("7月23日", 0.9, (1036, 988, 1120, 1022))], "2025-07-23", 0.8),
    ],
)
def test_certificate_issue_date_under_the_seal(bottom: list, value: str, most: float | None) -> None:
    """GIVEN a certificate photo whose body tells of a stay and a follow-up and whose issue date at
    the bottom the red seal overprints THEN the issue date, never the stay's or the follow-up's,
    less sure when it had to be repaired."""
    doc_date = extract_fields(_certificate_photo(bottom), DocType.DIAGNOSIS_CERTIFICATE).doc_date
    assert doc_date is not None and doc_date.value == value
    assert doc_date.confidence is not None and doc_date.confidence <= (most or 0.85)
    assert doc_date.box is not None and doc_date.box.y0 > 950  # read at the bottom, not in the body


def test_certificate_whose_issue_date_the_seal_hid_entirely() -> None:
    """GIVEN the issue date not read at all THEN the certificate has no date, and the discharge of
    the stay in the body is kept, with its box, as the date it cannot precede."""
    fields = extract_fields(_certificate_photo([]), DocType.DIAGNOSIS_CERTIFICATE)
    assert fields.doc_date is None
    bound = fields.extra[DATE_NOT_BEFORE]
    assert bound.value == "2025-07-10" and bound.box is not None


def _phone_page(*lines: tuple[str, float, float, float]) -> OcrResult:
    """A 1080x2340 phone screenshot from (text, x0, y0, x1) boxes, 40 px high."""
    ocr_lines = [OcrLine(text=t, score=0.96, box=Box(x0=x0, y0=y0, x1=x1, y1=y0 + 40)) for t, x0, y0, x1 in lines]
    return OcrResult(
        media_type="image/png",
        fingerprint="phone",
        pages=[OcrPage(index=0, width=1080, height=2340, source="ocr", lines=ocr_lines)],
    )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([("就诊人", 70, 380, 170), ("陆言", 940, 380, 1010)], "陆言"),
        ([("参保人：张建国", 100, 560, 420)], "张建国"),
        ([("持卡人", 100, 560, 200), ("欧阳娜娜", 860, 560, 1000)], "欧阳娜娜"),
        ([("用户:王芳", 100, 560, 300)], "王芳"),
        ([("参保人：张*", 100, 560, 330)], "张*"),
        ([("持卡人", 100, 560, 200), ("*建国", 880, 560, 980)], "*建国"),
        ([("就诊人：张*国", 80, 960, 330)], "张*国"),
        ([("姓名：李＊", 80, 960, 300)], "李*"),
    ],
)
def test_app_name_labels_and_masked_names(lines: list[tuple[str, float, float, float]], expected: str) -> None:
    """GIVEN a phone page naming the patient after 就诊人/参保人/持卡人/用户 (beside or after the label),
    masked or not THEN the name is read as shown, '*' kept."""
    ocr = _phone_page(("9:41", 50, 30, 130), ("医保电子凭证", 420, 170, 660), *lines)
    fields = extract_fields(ocr, DocType.ID_CARD, "medical_insurance_code")
    assert fields.patient_name is not None and fields.patient_name.value == expected
    assert fields.patient_name.confidence == pytest.approx(0.96)


def test_app_labels_do_not_take_other_words_as_names() -> None:
    """GIVEN 用户 or 患者 inside other text (用户协议, 患者须知) THEN no name is read from it."""
    ocr = _phone_page(("9:41", 50, 30, 130), ("用户协议 隐私政策", 300, 2200, 780), ("患者须知", 70, 1500, 230))
    assert extract_fields(ocr, DocType.OTHER).patient_name is None
