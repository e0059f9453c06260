"""Dates as printed on Chinese medical documents, including OCR noise."""

from __future__ import annotations

import datetime as dt

import pytest

from classifiers.dates import (
    DATE_FIT_MARGIN,
    ParsedDate,
    birth_date_from_id,
    classify_label,
    date_candidates,
    doc_date_not_before,
    find_dates,
    parse_date,
    pick_doc_date,
    unread_date_areas,
)
from classifiers.fields import Row, build_rows
from classifiers.types import DocType
from ocr.types import Box, OcrLine, OcrPage, OcrResult
from tests.classifiers.doc_samples import page, page_lines


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026年3月5日", "2026-03-05"),
        ("2026年03月05日", "2026-03-05"),
        ("2026-03-05", "2026-03-05"),
        ("2026.03.05", "2026-03-05"),
        ("2026/3/5", "2026-03-05"),
        ("20260305", "2026-03-05"),
        ("二〇二六年三月五日", "2026-03-05"),
        ("二零二六年十二月二十一日", "2026-12-21"),
        ("二〇一六年八月三十一日", "2016-08-31"),
        ("二〇二六年十月十日", "2026-10-10"),
        ("2026-03-05 10:23:11", "2026-03-05"),
        ("2026年3月5日 10时23分", "2026-03-05"),
        ("2026 年 3 月 5 日", "2026-03-05"),
        ("2O26-03-05", "2026-03-05"),
        ("2025/t0/26", "2025-10-26"),  # a 1 a seal's ring crosses, read as t
        ("2026-O3-O5", "2026-03-05"),
        ("２０２６－０３－０５", "2026-03-05"),
        ("报告日期：2026-03-05", "2026-03-05"),
        ("2026。03。05", "2026-03-05"),
    ],
)
def test_day_precision_forms(text: str, value: str) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert parsed.value == value
    assert parsed.precision == "day"


@pytest.mark.parametrize(
    ("text", "value"),
    [("2026年3月", "2026-03"), ("2026-03", "2026-03"), ("2026.03", "2026-03"), ("二〇二六年三月", "2026-03")],
)
def test_month_only_forms(text: str, value: str) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert (parsed.value, parsed.precision) == (value, "month")
    assert parsed.as_date() == dt.date(2026, 3, 1)


@pytest.mark.parametrize("text", ["2026-02-30", "2026年13月1日", "2026.00.10", "1850-01-01", "abc", ""])
def test_impossible_or_absent_dates_are_rejected(text: str) -> None:
    assert parse_date(text) is None


def test_invalid_full_date_does_not_fall_back_to_its_month() -> None:
    """GIVEN 2026-02-30 THEN neither the date nor the month 2026-02 is reported."""
    assert find_dates("日期 2026-02-30") == []


def test_compact_digits_need_a_date_label_inside_longer_text() -> None:
    assert find_dates("标本号 20260305") == []
    [(parsed, span)] = find_dates("报告日期:20260305")
    assert parsed.value == "2026-03-05"
    assert "报告日期:20260305"[span[0] : span[1]] == "20260305"


def test_find_dates_returns_every_date_with_spans_into_the_original_text() -> None:
    text = "接收时间 2016-08-24 11:07 检验时间２０１６年８月２５日"
    found = find_dates(text)
    assert [d.value for d, _ in found] == ["2016-08-24", "2016-08-25"]
    assert [text[s:e] for _, (s, e) in found] == ["2016-08-24", "２０１６年８月２５日"]


def test_valid_period_yields_both_dates() -> None:
    assert [d.value for d, _ in find_dates("有效期限 2016.08.01-2036.08.01")] == ["2016-08-01", "2036-08-01"]


def test_lab_values_and_ranges_are_not_dates() -> None:
    assert find_dates("白细胞计数 3.86 4.00-10.00 10^9/L 血小板 171 100-300") == []


def test_parsed_date_value_and_str() -> None:
    assert str(ParsedDate(2026, 3, 5)) == "2026-03-05"
    assert ParsedDate(2026, 3).value == "2026-03"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("报告时间：2026/2/817:31", "2026-02-08"),  # a one-digit day with the time glued on
        ("2026/2/1817:31", "2026-02-18"),
        ("2026/12/3109:05", "2026-12-31"),
        ("2026-03-0510:23:11", "2026-03-05"),
    ],
)
def test_a_time_glued_to_the_day_is_split_off(text: str, value: str) -> None:
    assert [d.value for d, _ in find_dates(text)] == [value]


# --------------------------------------------------------------------------------------------
# OCR-damaged forms: misread separators, dropped units, split boxes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024一03一05", "2024-03-05"),  # the dash read as the CJK "one"
        ("2024-03。05", "2024-03-05"),
        ("2024.03,05", "2024-03-05"),
        ("2024、03、05", "2024-03-05"),
        ("2024 03 05", "2024-03-05"),
        ("报告日期 2024 03 05 14:32", "2024-03-05"),
        ("2024年03 05日", "2024-03-05"),  # 月 lost
    ],
)
def test_misread_separators_are_read_and_marked_repaired(text: str, value: str) -> None:
    parsed = parse_date(text)
    assert parsed is not None and parsed.value == value
    assert parsed.repaired


@pytest.mark.parametrize(
    "text", ["2024年3月5日", "2024-03-05", "2024/3/5", "2024.03.05", "报告日期:20240305", "2024年03月05 日"]
)
def test_ordinary_forms_are_not_marked_repaired(text: str) -> None:
    [(parsed, _)] = find_dates(text)
    assert parsed.value == "2024-03-05" and not parsed.repaired


def test_repaired_flag_does_not_change_equality() -> None:
    assert ParsedDate(2024, 3, 5, repaired=True) == ParsedDate(2024, 3, 5)


def test_arabic_year_with_chinese_month_and_day() -> None:
    assert [d.value for d, _ in find_dates("2024年三月五日")] == ["2024-03-05"]


@pytest.mark.parametrize(
    "text",
    [
        "白细胞 2016 12 35",  # not a day
        "2016 12 05 4.1 3.2",  # a run of numbers in a table row
        "血红蛋白 120 160 2024",
        "14:32 5G 87%",
    ],
)
def test_spaced_numbers_that_are_not_dates(text: str) -> None:
    assert find_dates(text) == []


def test_birth_date_from_id_number() -> None:
    assert birth_date_from_id("320102195001011234") == dt.date(1950, 1, 1)
    assert birth_date_from_id("37078219870917024X") == dt.date(1987, 9, 17)
    assert birth_date_from_id("320102195013011234") is None
    assert birth_date_from_id(None) is None
    assert birth_date_from_id("110105396808049713") is None  # 1968 misread as 3968: no one's birth


def test_a_misread_birth_year_does_not_rule_out_the_documents_date() -> None:
    """GIVEN a front sheet whose ID number was read with 1968 as 3968 THEN its 出院时间 is still its date."""
    rows = build_rows(page("住院病案首页", "身份证号：110105396808049713", "出院时间：2025年04月11日"))
    picked = pick_doc_date(rows, DocType.MEDICAL_RECORD, birth_date=birth_date_from_id("110105396808049713"))
    assert picked is not None and picked.value == "2025-04-11"


# --------------------------------------------------------------------------------------------
# Label classes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("报告日期:", "report"),
        ("报 告 时 间", "report"),
        ("振告日期", "report"),  # 报 misread
        ("审核日期:", "audit"),
        ("检查日期", "exam"),
        ("检验时间", "exam"),
        ("出院日期:", "discharge"),
        ("出院时间", "discharge"),
        ("就诊日期", "visit"),
        ("门诊日期:", "visit"),
        ("开具日期", "issue"),
        ("医师签名:李四", "issue"),
        ("出生日期", "birth"),
        ("生日:", "birth"),
        # A name ending in 生 before 日期 is no 生日: the date beside the signature is the issue date.
        ("医师:向厚生 日期:", "generic"),
        ("入院日期", "admission"),
        ("住院日期", "stay"),
        ("采样时间", "sampling"),
        ("采集时间:", "sampling"),
        ("送检日期", "sampling"),
        ("接收时间", "receipt"),
        ("打印时间", "print"),
        ("有效期限", "valid"),
        ("复诊日期", "appointment"),
        ("确诊日期", "onset"),
        ("日期:", "generic"),
        ("科室:检验科 日期:", "generic"),  # 检验 names the department, not the date
        ("化验报告单", None),  # a title, not a date label
        ("姓名:张三", None),
    ],
)
def test_label_classes(label: str, kind: str | None) -> None:
    assert classify_label(label) == kind


def _kinds(*page_rows: str | list[str]) -> list[tuple[str, str | None]]:
    return [(c.date.value, c.kind) for c in date_candidates(build_rows(page(*page_rows)))]


def test_candidates_from_the_label_before_after_and_above() -> None:
    assert _kinds(["采样时间:2024-03-01 08:00", "报告时间:2024-03-02 15:00"]) == [
        ("2024-03-01", "sampling"),
        ("2024-03-02", "report"),
    ]
    # Narrative: the verb after the date names it.
    assert _kinds("患者于2024年3月1日入院，2024年3月9日出院。") == [
        ("2024-03-01", "admission"),
        ("2024-03-09", "discharge"),
    ]
    # A header cell above, and the header of a table column over several data rows.
    assert _kinds(["送检日期", "审核日期"], ["2024-03-01", "2024-03-04"]) == [
        ("2024-03-01", "sampling"),
        ("2024-03-04", "audit"),
    ]
    assert _kinds(["项目", "结果", "出院时间"], ["甲", "1.0", "2024-03-01"], ["乙", "2.0", "2024-03-05"]) == [
        ("2024-03-01", "discharge"),
        ("2024-03-05", "discharge"),
    ]


def test_a_stay_range_gives_admission_then_discharge() -> None:
    assert _kinds("住院时间:2024-03-01至2024-03-09") == [("2024-03-01", "stay"), ("2024-03-09", "discharge")]


def test_a_date_split_over_two_rows_is_one_date() -> None:
    """GIVEN 报告日期 with "2024年03月" at a line end and "05日" on the next line THEN one day date."""
    rows = build_rows(page(["报告日期:2024年03月"], "05日 审核:王五"))
    [c] = date_candidates(rows)
    assert (c.date.value, c.kind, c.split) == ("2024-03-05", "report", True)
    field = pick_doc_date(rows, DocType.LAB_REPORT)
    assert field is not None and field.value == "2024-03-05"
    assert field.box is not None and field.box.y1 > rows[0].box.y1  # the box spans both lines


def test_status_bar_of_a_phone_screenshot_is_never_the_date() -> None:
    """GIVEN a 医保 app screenshot whose status bar reads "14:32 2024/03/20 5G 87%" and whose
    record shows 就诊日期 2024-03-05 THEN the visit date is picked, the status bar never."""
    lines = page_lines(["14:32 2024/03/20 5G 87%", "门诊就诊记录", "就诊日期:2024-03-05", "诊断:高血压"], top=8)
    ocr = OcrResult(
        media_type="image/png",
        pages=[OcrPage(index=0, width=1080, height=2340, source="ocr", lines=lines)],
        fingerprint="t",
    )
    rows = build_rows(ocr)
    found = date_candidates(rows, page_sizes={0: (1080.0, 2340.0)})
    assert [(c.date.value, c.kind) for c in found] == [("2024-03-20", "status_bar"), ("2024-03-05", "visit")]
    field = pick_doc_date(rows, DocType.MEDICAL_RECORD, page_sizes={0: (1080.0, 2340.0)})
    assert field is not None and field.value == "2024-03-05"
    # Without the visit date there is no document date at all rather than the screenshot's.
    bare = build_rows(page("14:32 2024/03/20 5G 87%", "门诊就诊记录", "诊断:高血压"))
    assert pick_doc_date(bare, DocType.MEDICAL_RECORD) is None


# --------------------------------------------------------------------------------------------
# The document's date per type
# --------------------------------------------------------------------------------------------


def _pick(doc_type: DocType, *page_rows: str | list[str], birth: dt.date | None = None):
    return pick_doc_date(build_rows(page(*page_rows)), doc_type, birth_date=birth)


def test_lab_report_never_takes_sampling_receipt_or_print_dates() -> None:
    picked = _pick(
        DocType.LAB_REPORT,
        "某医院检验报告单",
        ["采集时间:2024-03-01", "接收时间:2024-03-01", "送检日期:2024-03-01"],
        ["检验结果见下表"],
        ["打印时间:2024-03-20 08:00"],
    )
    assert picked is None
    picked = _pick(DocType.LAB_REPORT, ["采样时间:2024-03-01", "审核日期:2024-03-02"], ["打印时间:2024-03-20"])
    assert picked is not None and picked.value == "2024-03-02"


def test_discharge_summary_takes_the_discharge_date_not_admission() -> None:
    picked = _pick(DocType.DISCHARGE_SUMMARY, "出院记录", ["入院日期:2024-02-20", "出院日期:2024-03-01"])
    assert picked is not None and picked.value == "2024-03-01"
    assert picked.confidence is not None and picked.confidence >= 0.9


def test_case_front_sheet_takes_the_discharge_time() -> None:
    picked = _pick(
        DocType.MEDICAL_RECORD,
        "住院病案首页",
        ["入院时间:2024年02月20日10时", "出院时间:2024年03月01日09时"],
        ["门(急)诊诊断:冠心病"],
    )
    assert picked is not None and picked.value == "2024-03-01"


def test_outpatient_record_takes_the_visit_date_not_the_appointment() -> None:
    picked = _pick(DocType.MEDICAL_RECORD, "门诊病历", "就诊时间:2024-03-05 09:12", "复诊日期:2024-04-05")
    assert picked is not None and picked.value == "2024-03-05"


def test_certificate_takes_the_date_by_the_signature_and_seal() -> None:
    """GIVEN an unlabelled narrative date near the top and an unlabelled date under 医师签名
    THEN the one in the signature block is the issue date."""
    picked = _pick(
        DocType.DIAGNOSIS_CERTIFICATE,
        "疾病诊断证明书",
        "姓名:张三",
        "诊断:2型糖尿病",
        "2024年1月3日起规律用药",
        "建议:门诊随访",
        "特此证明",
        ["医师签名:李四", "(医院盖章)"],
        "2023年12月30日",
    )
    assert picked is not None and picked.value == "2023-12-30"
    assert picked.confidence is not None and 0.7 <= picked.confidence < 0.9  # chosen by place


def test_the_birth_date_and_earlier_dates_are_never_the_date() -> None:
    picked = _pick(
        DocType.DIAGNOSIS_CERTIFICATE, "诊断证明书", "1992年3月4日", "2024年3月4日", birth=dt.date(1992, 3, 4)
    )
    assert picked is not None and picked.value == "2024-03-04"
    assert _pick(DocType.LAB_REPORT, "日期:2000-01-01", birth=dt.date(2001, 5, 5)) is None


def test_dates_before_1990_are_implausible() -> None:
    assert _pick(DocType.LAB_REPORT, "报告日期:1985-03-05") is None


def test_confidence_is_high_for_the_right_label_and_lower_when_chosen_or_repaired() -> None:
    labelled = _pick(DocType.LAB_REPORT, "报告日期:2024-03-05")
    by_place = _pick(DocType.LAB_REPORT, "某医院检验报告单", "2024-03-05", "2024-02-01")
    repaired = _pick(DocType.LAB_REPORT, "报告日期:2024一03一05")
    assert labelled is not None and by_place is not None and repaired is not None
    assert labelled.value == by_place.value == repaired.value == "2024-03-05"
    assert labelled.confidence is not None and labelled.confidence >= 0.95
    assert by_place.confidence is not None and by_place.confidence < 0.8
    assert repaired.confidence is not None and repaired.confidence < labelled.confidence


def test_confidence_carries_the_ocr_score() -> None:
    lines = [OcrLine(text="报告日期:2024-03-05", score=0.6, box=Box(x0=10, y0=10, x1=300, y1=40))]
    ocr = OcrResult(
        media_type="image/png",
        pages=[OcrPage(index=0, width=1240, height=1700, source="ocr", lines=lines)],
        fingerprint="t",
    )
    picked = pick_doc_date(build_rows(ocr), DocType.LAB_REPORT)
    assert picked is not None and picked.confidence is not None and 0.55 <= picked.confidence <= 0.6


def test_id_cards_have_no_document_date() -> None:
    assert _pick(DocType.ID_CARD, "签发日期:2020-01-01") is None


def test_dates_split_mid_row_and_mid_number_onto_the_line_below() -> None:
    """GIVEN a discharge summary row "入院日期:2025年4 出院日期:2025年5 住院天数:14天" whose day parts
    wrapped under each value ("月26日", "月10日"), and a lab row whose report time wrapped inside
    the month ("2026.0" / "1.03 16:38") THEN each is one whole date with its own label."""
    lines = page_lines([["入院日期:2025年4", "出院日期:2025年5", "住院天数:14天"]])
    below = page_lines(["月26日"], top=72)
    below += [OcrLine(text="月10日", score=0.99, box=Box(x0=lines[1].box.x0, y0=72, x1=lines[1].box.x0 + 80, y1=102))]
    ocr = OcrResult(
        media_type="image/png",
        pages=[OcrPage(index=0, width=1240, height=1700, source="ocr", lines=lines + below)],
        fingerprint="t",
    )
    rows = build_rows(ocr)
    assert [(c.date.value, c.kind) for c in date_candidates(rows)] == [
        ("2025-04-26", "admission"),
        ("2025-05-10", "discharge"),
    ]
    picked = pick_doc_date(rows, DocType.DISCHARGE_SUMMARY)
    assert picked is not None and picked.value == "2025-05-10" and picked.raw == "出院日期:2025年5 月10日"

    lab = build_rows(page(["报告时间:2026.0", "检验者:梁钧伟"], "1.03 16:38"))
    picked = pick_doc_date(lab, DocType.LAB_REPORT)
    assert picked is not None and picked.value == "2026-01-03"


def test_spaced_one_digit_parts_only_after_a_label() -> None:
    assert [d.value for d, _ in find_dates("就诊日期: 2026 2 10")] == ["2026-02-10"]
    assert find_dates("结果 2026 2 10") == []


# --------------------------------------------------------------------------------------------
# Seal overprints, lost separators and lost years
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2025午7月12日", "2025-07-12"),  # 年 read as a look-alike under the seal's ink
        ("2025牛07月12日", "2025-07-12"),
        ("2025年7目12日", "2025-07-12"),  # 月 as 目
        ("2025年7用12曰", "2025-07-12"),
        ("2025#7月12日", "2025-07-12"),  # 年 lost to a stray glyph; 月 and 日 still say it is a date
        ("2025年07-12", "2025-07-12"),  # a mixed form
        ("诊断证明202507-12", "2025-07-12"),  # the seal's text glued on, a separator lost
        ("2025-0712", "2025-07-12"),
        ("门诊2025:0522", "2025-05-22"),  # the separator left misread, the seal's words glued before
        ("482025年12月26日", "2025-12-26"),  # the seal's ring read as digits glued before the year
        ("医务12025-06-07", "2025-06-07"),
        ("2025 07-12", "2025-07-12"),
        ("〇二五年部一月二十一日", "2025-11-21"),  # 二 of 二〇二五 lost, 十 read as 部
        ("报告日期：二二六年三月五日", "2026-03-05"),  # the small 〇 of 二〇二六 lost
        ("二〇二五午十二月五曰", "2025-12-05"),
        ("二〇二五年三月二部一日", "2025-03-21"),
        ("2025年1 1月21日", "2025-11-21"),  # a box boundary (or the seal) inside the month
        ("2025年11月2 1日", "2025-11-21"),  # ... inside the day: the 日 says where it ends
        ("20 25年3月5日", "2025-03-05"),
    ],
)
def test_dates_damaged_by_a_seal_are_read_and_marked_repaired(text: str, value: str) -> None:
    [(parsed, _)] = find_dates(text)
    assert parsed.value == value
    assert parsed.repaired


@pytest.mark.parametrize(
    "text",
    [
        "血小板 2000 10-20 mg",  # a value and a reference range
        "住院号 8908456 床号 41床",
        "2025年度 共12次",
        "年午月日 12",
        "二〇二五年部月",  # a garbled glyph alone is no number
        "二三六年三月五日",  # no 〇 lost makes 2360 a year of ours
        "2025年7X12",  # a garbled unit with nothing to confirm it
        "12025年度",  # digits before a year with no month and day after it
        "血糖 12.2025-06-07",  # a decimal number runs into it
    ],
)
def test_damage_tolerance_reads_no_date_into_other_numbers(text: str) -> None:
    assert find_dates(text) == []


def test_a_cut_day_keeps_its_ordinary_reading_without_a_unit_to_end_it() -> None:
    """ "2025-07-1 2" may be the 1st followed by another number: no unit says the 2 belongs to it."""
    [(parsed, _)] = find_dates("2025-07-1 2")
    assert parsed.value == "2025-07-01" and not parsed.repaired


def _seal_certificate(*bottom: OcrLine, body: list[str] | None = None) -> OcrResult:
    """A photographed certificate: header and body as cells, then the signature block and the
    boxes given (a red seal's text, the date it overprints) laid by hand."""
    rows: list[str | list[str]] = [
        "六枝特区人民医院",
        "诊断证明书",
        ["姓名", "邓秀莎", "性别", "女", "年龄", "45岁"],
        ["科别", "内科", "住院号", "7900230"],
        "临床诊断 1.高苯丙氨酸血症",
        *(body or ["需长期门诊治疗。规律服药，定期门诊复查，不适随诊。"]),
        "处理意见",
        ["主治医师:陆琴园", "科主任:李红梅"],
    ]
    lines = page_lines(rows) + list(bottom)
    return OcrResult(
        media_type="image/jpeg",
        pages=[OcrPage(index=0, width=1240, height=1700, source="ocr", lines=lines)],
        fingerprint="t",
    )


def _box(text: str, x0: float, y0: float, *, score: float = 0.95, height: float = 30.0) -> OcrLine:
    return OcrLine(text=text, score=score, box=Box(x0=x0, y0=y0, x1=x0 + 26 * len(text), y1=y0 + height))


def test_a_seals_department_text_over_the_date_is_no_visit_label() -> None:
    """GIVEN the seal's "门诊部" read just above the issue date it overprints
    THEN the date is the certificate's issue date, not a 门诊 (visit) date."""
    ocr = _seal_certificate(_box("网", 800, 430, score=0.55), _box("门诊部", 780, 480), _box("2025-07-20", 800, 505))
    rows = build_rows(ocr)
    dates = [(c.date.value, c.kind) for c in date_candidates(rows)]
    assert dates == [("2025-07-20", None)]
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert picked is not None and picked.value == "2025-07-20"
    assert classify_label("门诊部") is None and classify_label("门诊专用章") is None
    assert classify_label("门诊日期") == "visit"


def test_a_seal_garbled_issue_date_is_picked_with_lower_confidence() -> None:
    clean = pick_doc_date(
        build_rows(_seal_certificate(_box("2025年11月21日", 800, 480))), DocType.DIAGNOSIS_CERTIFICATE
    )
    garbled = pick_doc_date(
        build_rows(_seal_certificate(_box("〇二五年部一月二十一日", 800, 480))), DocType.DIAGNOSIS_CERTIFICATE
    )
    assert clean is not None and garbled is not None
    assert clean.value == garbled.value == "2025-11-21"
    assert clean.confidence is not None and garbled.confidence is not None
    assert garbled.confidence < clean.confidence and garbled.confidence < 0.8


def test_body_dates_of_a_stay_a_follow_up_or_a_history_are_never_the_issue_date() -> None:
    """GIVEN a certificate whose body tells of a hospital stay, a treatment begun and a follow-up,
    all unlabelled, and whose issue date at the bottom lies under the seal
    THEN each body date gets its kind, and the issue date is the bottom one."""
    body = [
        "患者于2025年11月13日至2025年11月20日在我院住院治疗",
        "2025年11月15日行胃镜检查，自2025年11月16日起规律用药",
        "建议2025年12月20日复查",
        "建议休息:2025年11月20日至2025年12月4日",
    ]
    ocr = _seal_certificate(_box("日期:2025年11月21日", 760, 480), body=body)
    rows = build_rows(ocr)
    kinds = [(c.date.value, c.kind) for c in date_candidates(rows)]
    assert kinds == [
        ("2025-11-13", "admission"),
        ("2025-11-20", "discharge"),
        ("2025-11-15", "onset"),
        ("2025-11-16", "onset"),
        ("2025-12-20", "appointment"),
        ("2025-11-20", "period"),
        ("2025-12-04", "period"),
        ("2025-11-21", "generic"),
    ]
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert picked is not None and picked.value == "2025-11-21"


def test_without_its_issue_date_a_certificate_is_bounded_by_the_stay_it_certifies() -> None:
    """GIVEN the issue date unread (the seal hid it) and a stay in the body
    THEN the certificate has no date, and the discharge date is the bound it cannot precede."""
    body = ["患者于2025年11月13日至2025年11月20日在我院住院治疗", "建议2025年12月20日复查"]
    rows = build_rows(_seal_certificate(body=body))
    assert pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE) is None
    bound = doc_date_not_before(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert bound is not None and bound.value == "2025-11-20" and bound.box is not None
    # Nothing but a follow-up, a history and a sick leave: no date and no bound.
    body = ["自2025年11月16日起规律用药", "建议2025年12月20日复查", "建议休息:2025年11月20日至2025年12月4日"]
    rows = build_rows(_seal_certificate(body=body))
    assert pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE) is None
    assert doc_date_not_before(rows, DocType.DIAGNOSIS_CERTIFICATE) is None


@pytest.mark.parametrize(
    ("doc_type", "lines", "bound"),
    [
        # A scan whose report date was too faint to read: the sample and its receipt remain.
        (DocType.LAB_REPORT, ["某医院检验报告单", "采集时间:2024-03-01 08:00", "接收时间:2024-03-02 09:10"],
         "2024-03-02"),
        (DocType.DISCHARGE_SUMMARY, ["出院记录", "入院日期:2024-02-20", "出院诊断:2型糖尿病"], "2024-02-20"),
        # An ID card, or a lab report whose report date was read: no bound is needed.
        (DocType.LAB_REPORT, ["检验报告单", "采集时间:2024-03-01", "报告时间:2024-03-02"], None),
    ],
)
def test_a_lost_document_date_leaves_the_latest_event_as_its_lower_bound(doc_type, lines, bound) -> None:
    rows = build_rows(page(*lines))
    picked = pick_doc_date(rows, doc_type)
    got = doc_date_not_before(rows, doc_type) if picked is None else None
    assert (got.value if got else None) == bound
    if bound is not None:
        assert picked is None  # never the sampling or admission date as the document's own


def test_a_discharge_summary_reads_an_unlabelled_stay_range_as_before() -> None:
    picked = _pick(DocType.DISCHARGE_SUMMARY, "出院记录", "2025-11-13至2025-11-20")
    assert picked is not None and picked.value == "2025-11-20"
    picked = _pick(DocType.DISCHARGE_SUMMARY, "出院记录", "患者于2025年11月13日至2025年11月20日在我院住院")
    assert picked is not None and picked.value == "2025-11-20" and picked.confidence is not None
    assert picked.confidence >= 0.9  # the verb names it the discharge


def test_a_date_whose_year_the_seal_hid_takes_the_year_of_the_page() -> None:
    """GIVEN "12月24日" under the signature (its year under the seal) and full dates in the body
    THEN the year that puts it nearest them, marked inferred and less sure."""
    body = ["患者于2025年11月13日至2025年11月20日在我院住院治疗"]
    rows = build_rows(_seal_certificate(_box("12月24日", 800, 480), body=body))
    [bottom] = [c for c in date_candidates(rows) if c.date.year_inferred]
    assert bottom.date.value == "2025-12-24" and bottom.date.repaired
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert picked is not None and picked.value == "2025-12-24"
    assert picked.confidence is not None and picked.confidence < 0.8
    # Across the new year: the January after the December stay.
    body = ["患者于2025年12月13日至2025年12月20日在我院住院治疗"]
    picked = pick_doc_date(
        build_rows(_seal_certificate(_box("1月5日", 800, 480), body=body)), DocType.DIAGNOSIS_CERTIFICATE
    )
    assert picked is not None and picked.value == "2026-01-05"
    # A year cut to its last digits keeps them.
    picked = pick_doc_date(
        build_rows(_seal_certificate(_box("025年12月24日", 800, 480))), DocType.DIAGNOSIS_CERTIFICATE
    )
    assert picked is not None and picked.value == "2025-12-24"
    # In Chinese numerals: "二〇二" under the seal, "六年" left; not a span of years in a history.
    body = ["检查日期：二〇二六年二月十九日"]
    picked = pick_doc_date(
        build_rows(_seal_certificate(_box("六年二月二十日", 800, 480), body=body)), DocType.DIAGNOSIS_CERTIFICATE
    )
    assert picked is not None and picked.value == "2026-02-20" and picked.confidence is not None
    assert picked.confidence < 0.8
    assert [c for c in date_candidates(build_rows(page("糖尿病史六年，二月前加重", *body)))
            if c.date.year_inferred] == []


def test_a_year_cut_to_its_last_digit_on_a_page_without_other_dates_is_placed_by_the_submission() -> None:
    """GIVEN "5年8月31日" under the signature (20 of 2025 under the seal) and no other date on the page
    THEN the latest year ending in 5 by the submission date, inferred and less sure; a bare
    "8月31日" (no digit of the year at all) is placed so only right after a date label."""
    rows = build_rows(_seal_certificate(_box("5年8月31日", 800, 480)))
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE, as_of=dt.date(2026, 3, 20),
                           candidates=date_candidates(rows, as_of=dt.date(2026, 3, 20)))
    assert picked is not None and picked.value == "2025-08-31"
    assert picked.confidence is not None and picked.confidence < 0.8
    # The same digit on a page read before the day it names that year: the decade before.
    assert [c.date.value for c in date_candidates(rows, as_of=dt.date(2025, 8, 1))] == ["2015-08-31"]
    assert date_candidates(rows) == []  # nothing to place it by
    bare = build_rows(_seal_certificate(_box("8月31日", 800, 480)))
    assert date_candidates(bare, as_of=dt.date(2026, 3, 20)) == []
    # Right after a date label, a date written without its year is that day's latest by then.
    labelled = build_rows(_seal_certificate(_box("日期：六月八日", 800, 480)))
    assert [c.date.value for c in date_candidates(labelled, as_of=dt.date(2026, 3, 20))] == ["2025-06-08"]
    assert [c.date.value for c in date_candidates(labelled, as_of=dt.date(2026, 6, 9))] == ["2026-06-08"]
    leap = build_rows(_seal_certificate(_box("日期：二月二十九日", 800, 480)))
    assert [c.date.value for c in date_candidates(leap, as_of=dt.date(2026, 3, 20))] == ["2024-02-29"]


@pytest.mark.parametrize(
    ("label", "kind"),
    [("入朝时间", "admission"), ("出阮日期", "discharge"), ("出生日期", "birth"), ("出具日期", "issue"),
     ("出血时间", None), ("入院时间", "admission"), ("出院日期", "discharge")],
)
def test_a_stays_labels_with_the_院_misread_are_still_its_labels(label: str, kind: str | None) -> None:
    assert classify_label(label) == (kind or "generic")


def test_a_seals_words_read_into_the_date_it_covers_are_no_label() -> None:
    """GIVEN the seal's "门诊专用章" read into the issue date under it ("门诊2025年6月19") THEN still the
    certificate's date; 门诊日期 and 门诊： stay the visit's labels."""
    rows = build_rows(_seal_certificate(_box("门诊2025年6月19", 800, 480)))
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert picked is not None and picked.value == "2025-06-19"
    for text in ("门诊日期：2025-06-19", "门诊：2025-06-19", "急诊时间 2025-06-19"):
        [candidate] = date_candidates(build_rows(page(text)))
        assert candidate.kind == "visit", text


def test_a_date_without_year_and_nothing_to_take_it_from_is_no_date() -> None:
    rows = build_rows(_seal_certificate(_box("12月24日", 800, 480)))
    assert date_candidates(rows) == []
    assert pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE) is None


def test_a_date_split_into_two_boxes_on_a_slant_is_one_date() -> None:
    """GIVEN "2025年11月" and "21日" beside it but low enough (a slant, the seal's ink) to fall
    into the next row THEN one date, from both boxes."""
    ocr = _seal_certificate(_box("2025年11月", 760, 480), _box("21日", 760 + 26 * 8 + 6, 498))
    rows = build_rows(ocr)
    assert len({r.box.y0 for r in rows[-2:]}) == 2  # really two rows
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert picked is not None and picked.value == "2025-11-21"
    assert picked.box is not None and picked.box.x1 > 760 + 26 * 8


def test_dates_after_the_submission_give_way_to_any_other() -> None:
    """GIVEN a certificate dated at the bottom and an unlabelled later date in the body
    WHEN the submission date is known THEN the later (future) one is no candidate; alone, it stays."""
    rows = build_rows(page("诊断证明书", "姓名:张三", "2026年3月20日", "2026年3月1日"))
    assert pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE).value == "2026-03-20"  # type: ignore[union-attr]
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE, as_of=dt.date(2026, 3, 10))
    assert picked is not None and picked.value == "2026-03-01"
    alone = build_rows(page("诊断证明书", "姓名:张三", "2026年3月20日"))
    picked = pick_doc_date(alone, DocType.DIAGNOSIS_CERTIFICATE, as_of=dt.date(2026, 3, 10))
    assert picked is not None and picked.value == "2026-03-20"


def test_a_two_digit_year_only_after_a_date_label() -> None:
    assert [d.value for d, _ in find_dates("报告时间: 26-03-05 14:32")] == ["2026-03-05"]
    assert [d.value for d, _ in find_dates("报告时间:26/3/514:32")] == ["2026-03-05"]
    assert find_dates("参考值 26-03-05") == []


def test_a_seals_text_glued_after_the_date_names_no_visit() -> None:
    """GIVEN OCR glued the seal's "门诊部" (or "诊断证明专用章") to the issue date's box
    THEN the date keeps no kind of its own and is the certificate's date."""
    for glued in ("2025年7月20日门诊部", "2025年7月20日诊断证明专用章"):
        rows = build_rows(_seal_certificate(_box(glued, 760, 480)))
        assert [(c.date.value, c.kind) for c in date_candidates(rows)] == [("2025-07-20", None)]
    assert _kinds("2025年7月20日门诊就诊") == [("2025-07-20", "visit")]


def test_a_lab_reports_date_under_its_seal_is_still_the_report_date() -> None:
    """GIVEN a scanned lab report whose 检验专用章 overprints the report date (年 read as 午, the day
    cut in two boxes) beside clean sampling and receipt times
    THEN the report date, never the sampling one, and less sure than a clean one."""
    picked = _pick(
        DocType.LAB_REPORT,
        "检验报告单",
        ["采样时间:2026-03-01 08:00", "接收时间:2026-03-01 09:12"],
        ["报告时间:2026午03月0", "5日 14:32", "检验者:李四"],
    )
    assert picked is not None and picked.value == "2026-03-05"
    assert picked.confidence is not None and picked.confidence < 0.9


# --------------------------------------------------------------------------------------------
# Phone screenshots (1080 x 2340): the status bar, the screenshot's own date, chat timestamps
# --------------------------------------------------------------------------------------------


def _phone(*lines: tuple[str, float, float, float]) -> OcrResult:
    """A 1080x2340 phone screenshot from (text, x0, y0, x1) boxes, 40 px high."""
    ocr_lines = [OcrLine(text=t, score=0.97, box=Box(x0=x0, y0=y0, x1=x1, y1=y0 + 40)) for t, x0, y0, x1 in lines]
    return OcrResult(
        media_type="image/png",
        pages=[OcrPage(index=0, width=1080, height=2340, source="ocr", lines=ocr_lines)],
        fingerprint="phone",
    )


def _phone_pick(ocr: OcrResult, doc_type: DocType = DocType.LAB_REPORT):
    sizes = {p.index: (float(p.width), float(p.height)) for p in ocr.pages}
    return pick_doc_date(build_rows(ocr), doc_type, page_sizes=sizes)


_APP_BODY = (
    ("松柏镇卫生院", 70, 300, 400),
    ("就诊人", 70, 380, 170),
    ("陆言", 940, 380, 1010),
    ("采样时间", 70, 700, 200),
    ("2026-03-15 07:52", 760, 700, 1010),
    ("报告时间", 70, 780, 200),
    ("2026-03-15 17:59", 760, 780, 1010),
    ("白细胞计数(WBC)", 70, 1030, 320),
    ("4.3 10^9/L", 860, 1030, 1010),
)


def test_a_screenshots_own_date_under_the_status_bar_is_not_the_report_date() -> None:
    """GIVEN a hospital app's report page with the screenshot's date and time printed at the top
    THEN the date is the one after 报告时间, with a high confidence."""
    ocr = _phone(
        ("14:32", 50, 30, 140),
        ("5G 86%", 900, 30, 1030),
        ("2026-03-18 14:32", 400, 100, 680),
        ("报告详情", 460, 170, 620),
        *_APP_BODY,
    )
    picked = _phone_pick(ocr)
    assert picked is not None and picked.value == "2026-03-15"
    assert picked.confidence is not None and picked.confidence >= 0.9


def test_a_screenshot_date_in_the_status_bar_is_never_a_date_of_the_document() -> None:
    """GIVEN the status bar carries the date (中国移动 3月18日 周三 14:32) and the report's label is
    unreadable THEN the status bar's date is still not taken."""
    ocr = _phone(
        ("中国移动 3月18日 周三 14:32", 40, 30, 520),
        ("86%", 940, 30, 1030),
        ("报告详情", 460, 170, 620),
        ("松柏镇卫生院", 70, 300, 400),
        ("2026-03-15 17:59", 760, 780, 1010),
    )
    rows = build_rows(ocr)
    kinds = [(c.date.value, c.kind) for c in date_candidates(rows, page_sizes={0: (1080.0, 2340.0)})]
    assert ("2026-03-18", "status_bar") in kinds
    picked = _phone_pick(ocr)
    assert picked is not None and picked.value == "2026-03-15"


def test_wechat_message_timestamps_are_not_the_report_date() -> None:
    """GIVEN a WeChat 服务号 chat: centred message timestamps (3月16日 上午9:05) above template
    messages, the newest a report notice with 报告时间 THEN the report time is the date."""
    ocr = _phone(
        ("9:41", 50, 30, 130),
        ("中国联通 5G 72%", 760, 30, 1030),
        ("松柏镇卫生院", 380, 170, 700),
        ("3月10日 上午8:12", 400, 330, 680),
        ("挂号成功通知", 80, 410, 300),
        ("就诊人：陆言", 80, 490, 300),
        ("就诊时间：2026-03-10 08:30", 80, 570, 560),
        ("3月16日 上午9:05", 400, 800, 680),
        ("检验报告出具通知", 80, 880, 380),
        ("就诊人：陆言", 80, 960, 300),
        ("报告项目：全血检验", 80, 1040, 380),
        ("报告时间：2026-03-15 17:59", 80, 1120, 560),
        ("查看详情", 80, 1220, 220),
    )
    picked = _phone_pick(ocr)
    assert picked is not None and picked.value == "2026-03-15"
    picked_other = _phone_pick(ocr, DocType.OTHER)
    assert picked_other is not None and picked_other.value == "2026-03-15"


def test_a_report_time_stacked_over_its_value_on_a_phone_card() -> None:
    """GIVEN an app card with the label above its value (报告时间 / 2026-03-15 17:59) and the
    screenshot date in a chat-like timestamp above THEN the stacked report time is picked."""
    ocr = _phone(
        ("14:32", 50, 30, 140),
        ("WiFi 40%", 880, 30, 1030),
        ("2026年3月18日 14:32", 380, 110, 700),
        ("采样时间", 70, 600, 200),
        ("2026-03-14 07:52", 70, 650, 330),
        ("报告时间", 70, 760, 200),
        ("2026-03-15 17:59", 70, 810, 330),
    )
    picked = _phone_pick(ocr)
    assert picked is not None and picked.value == "2026-03-15"


def test_an_unlabelled_report_date_wins_over_a_later_screenshot_timestamp() -> None:
    """GIVEN the report's date printed without a label and the screenshot's own later date centred
    under the status bar THEN the screenshot's date is a status-bar date, never the document's."""
    ocr = _phone(
        ("14:32", 50, 30, 140),
        ("2026-03-18 14:32", 400, 100, 680),
        ("松柏镇卫生院", 70, 300, 400),
        ("2026-03-15 17:59", 760, 780, 1010),
    )
    rows = build_rows(ocr)
    kinds = [(c.date.value, c.kind) for c in date_candidates(rows, page_sizes={0: (1080.0, 2340.0)})]
    assert kinds == [("2026-03-18", "status_bar"), ("2026-03-15", None)]
    picked = _phone_pick(ocr)
    assert picked is not None and picked.value == "2026-03-15"
    # The same lone timestamp on an A4 page is a date of the document.
    a4 = OcrResult(
        media_type="image/png",
        fingerprint="a4",
        pages=[ocr.pages[0].model_copy(update={"width": 1240, "height": 1754})],
    )
    kinds_a4 = [c.kind for c in date_candidates(build_rows(a4), page_sizes={0: (1240.0, 1754.0)})]
    assert kinds_a4[0] != "status_bar"


# --------------------------------------------------------------------------------------------
# Faxes, photographed screens, an app's query time
# --------------------------------------------------------------------------------------------


def _sized(lines: list[OcrLine], width: int, height: int) -> tuple[list, dict[int, tuple[float, float]]]:
    ocr = OcrResult(media_type="image/jpeg", pages=[OcrPage(index=0, width=width, height=height, source="ocr",
                                                            lines=lines)], fingerprint="t")
    return build_rows(ocr), {0: (float(width), float(height))}


@pytest.mark.parametrize(
    "transmit",
    [
        "FROM : 0858-8223041    2026-03-18 14:22    P.001",
        "2026/03/18 14:22   0858-8223041   盘州市人民医院   #0412 P.001",
        "03月18日 14:22  发自：盘州市人民医院  0858-8223041  第1页/共1页",
        "2026/03/1814:22 0858-8223041 盘州市人民医院 #2443 P.001",  # the space before the time not read
    ],
)
def test_a_fax_transmit_line_is_never_the_documents_date(transmit: str) -> None:
    """GIVEN a faxed lab report whose report date is unlabelled at its foot and whose transmit
    line at the top edge carries the (later) moment it was sent
    THEN the transmit date is of kind transmit and the report's own date is picked."""
    lines = [
        _box(transmit, 20, 12, height=22),
        _box("盘州市人民医院检验报告单", 400, 90),
        _box("姓名:孔香英", 80, 200),
        _box("白细胞计数 5.1 10^9/L", 80, 300),
        _box("检验者:李四", 80, 1500),
        _box("2026-03-05 14:10", 900, 1500),
    ]
    rows, sizes = _sized(lines, 1240, 1754)
    kinds = [c.kind for c in date_candidates(rows, page_sizes=sizes)]
    assert kinds[0] == "transmit"
    picked = pick_doc_date(rows, DocType.LAB_REPORT, page_sizes=sizes)
    assert picked is not None and picked.value == "2026-03-05"


def test_a_date_time_at_the_top_with_no_fax_marks_is_no_transmit_line() -> None:
    """A report whose first line is its own 报告时间 keeps it: only fax marks make a transmit line."""
    rows, sizes = _sized([_box("报告时间:2026-03-05 14:10", 20, 12), _box("检验报告单", 400, 90)], 1240, 1754)
    [c] = date_candidates(rows, page_sizes=sizes)
    assert c.kind == "report"


def test_a_photographed_screens_status_bar_and_stamp_are_not_the_report_date() -> None:
    """GIVEN a hospital app's report photographed off a phone (a 4:3 photo, the screen inside it):
    the status bar and the screenshot's own timestamp are the first lines but not at the photo's
    top edge, and the report's moment is unlabelled at the card's foot
    THEN the card's date, never the status bar's or the stamp's."""
    lines = [
        _box("中国移动 14:32", 420, 300),
        _box("5G 86%", 1000, 300),
        _box("2026-03-18 14:32", 600, 360),
        _box("检验结果", 650, 430),
        _box("松柏镇卫生院", 420, 520),
        _box("就诊人", 420, 600),
        _box("陆言", 1050, 600),
        _box("2026-03-15 17:59", 900, 900),
    ]
    rows, sizes = _sized(lines, 2000, 1500)
    kinds = {(c.date.value, c.kind) for c in date_candidates(rows, page_sizes=sizes)}
    assert ("2026-03-18", "status_bar") in kinds
    picked = pick_doc_date(rows, DocType.LAB_REPORT, page_sizes=sizes)
    assert picked is not None and picked.value == "2026-03-15"


def test_a_photographed_status_bar_split_over_two_rows_is_still_the_status_bar() -> None:
    """GIVEN a screen photographed at a slant, whose status bar OCR groups into two rows (the
    network and battery marks a little above the clock and its yearless date) and whose report's
    moment is unlabelled under the card THEN the clock's date is the status bar's, never the report's."""
    lines = [
        _box("4G 88%", 815, 212, height=24),
        _box("8月24日周一10:08", 342, 226, height=26),
        _box("我的报告", 346, 290),
        _box("海伦人民医院", 354, 370),
        _box("采样时间 2026-08-20 07:02", 354, 525),
        _box("2026年8月20日12时46分", 685, 734),
    ]
    rows, sizes = _sized(lines, 1256, 1638)
    assert [r.text for r in rows[:2]] == ["4G 88%", "8月24日周一10:08"]
    kinds = {(c.date.value, c.kind) for c in date_candidates(rows, page_sizes=sizes)}
    assert ("2026-08-24", "status_bar") in kinds
    picked = pick_doc_date(rows, DocType.LAB_REPORT, page_sizes=sizes)
    assert picked is not None and picked.value == "2026-08-20"


def test_an_apps_query_time_is_the_screenshots_moment_not_the_reports() -> None:
    """GIVEN an app's report card with 审核时间 and, later, 查询时间 (when the page was opened)
    THEN 查询时间 is a print-like time and the audit date is the report's."""
    assert classify_label("查询时间") == "print"
    picked = _pick(DocType.LAB_REPORT, ["采样时间", "2026-03-14 08:01"], ["审核时间", "2026-03-15 16:31"],
                   ["查询时间", "2026-03-27 15:39"])
    assert picked is not None and picked.value == "2026-03-15"


def test_a_certificates_unlabelled_issue_date_under_its_issuer_beats_every_body_date() -> None:
    """GIVEN a certificate whose 病史摘要 narrates an onset, a stay and today's visit, and whose
    issue date stands unlabelled under the issuer's name below the signature
    THEN the issue date, sure enough to tell the applicant."""
    rows = build_rows(page(
        "遵义医科大学附属医院",
        "诊断证明书",
        ["姓名:李栋", "性别:男", "年龄:69岁"],
        "病史摘要:患者于2023年7月2日确诊为双相障碍，长期服药治疗。曾于2025年11月8日至2025年11月",
        "16日在我院住院治疗。本次就诊日期2025年12月16日。",
        "诊断: 1.双相障碍",
        "处理意见:规律服药，精神科随诊。",
        "经治医师:曹飞",
        "遵义医科大学附属医院",
        "2025年12月19日",
    ))
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert picked is not None and picked.value == "2025-12-19"
    assert picked.confidence is not None and picked.confidence >= 0.8


def test_a_numeric_date_whose_year_lost_its_first_digit_takes_the_year_of_the_page() -> None:
    """GIVEN 报告时间 read "026-02-1708:38" (the 2 of 2026 under the seal, the clock glued on)
    beside a clean sampling date THEN the report date 2026-02-17, less sure than a clean read; a
    range or a value of three digits is no such date."""
    picked = _pick(DocType.LAB_REPORT, ["采样时间", "2026-02-16 07:59"], ["报告时间", "026-02-1708:38"])
    assert picked is not None and picked.value == "2026-02-17"
    assert picked.confidence is not None and picked.confidence < 0.9
    assert [c.date.value for c in date_candidates(build_rows(page("2026-02-16", "参考范围 125-35-6")))] == [
        "2026-02-16"
    ]


# --------------------------------------------------------------------------------------------
# Rules that hold on any layout: issued after what it certifies, robust finding, screens, years
# --------------------------------------------------------------------------------------------


def test_an_unlabelled_certificate_date_before_an_event_it_reports_gives_way_to_the_latest() -> None:
    """GIVEN a certificate whose signature block carries the visit date (by the 医师签名, unlabelled)
    while the true issue date stands unlabelled higher up, after the visit
    THEN the certificate is dated on or after every event it reports: the later date, less sure."""
    rows = build_rows(page(
        "疾病诊断证明书",
        "姓名:张三",
        "2025年12月19日",
        "诊断:2型糖尿病",
        "患者于2025年11月2日入院，2025年11月9日出院。",
        ["医师签名:李四", "2025年11月9日"],
    ))
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert picked is not None and picked.value == "2025-12-19"
    assert picked.confidence is not None and picked.confidence < 0.8  # conflicting evidence: a flag only


def test_a_labelled_issue_date_stands_even_before_a_body_date() -> None:
    picked = _pick(DocType.DIAGNOSIS_CERTIFICATE, "诊断证明书", "本次就诊 2025年12月20日", "开具日期:2025年12月19日")
    assert picked is not None and picked.value == "2025-12-19"
    assert picked.confidence is not None and picked.confidence >= 0.9


def test_future_plans_and_follow_ups_never_move_the_issue_date_later() -> None:
    """A follow-up, a sick leave's end, a plan "from … on" and a date after the submission are no
    events the certificate reports."""
    rows = build_rows(page(
        "诊断证明书",
        "建议2026年1月10日复查",
        "建议休息:2025年12月19日至2026年1月2日",
        "2026年1月3日起规律用药",
        "2026年3月30日",
        ["医师签名:李四", "2025年12月19日"],
    ))
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE, as_of=dt.date(2026, 1, 20))
    assert picked is not None and picked.value == "2025-12-19"


def test_a_month_only_issue_date_is_not_moved_by_a_visit_in_the_same_month() -> None:
    picked = _pick(DocType.DIAGNOSIS_CERTIFICATE, "诊断证明书", "就诊 2025年12月10日 门诊", "医师:李四 2025年12月")
    assert picked is not None and picked.value == "2025-12"


def test_a_discharge_summarys_unlabelled_date_before_its_discharge_gives_way() -> None:
    """GIVEN a summary whose discharge label is lost but whose stay is narrated, and an earlier
    unlabelled date THEN the discharge (the latest event), never a date before it."""
    picked = _pick(DocType.DISCHARGE_SUMMARY, "出院记录", "2025-10-01", "患者于2025年11月2日至2025年11月9日在我院住院")
    assert picked is not None and picked.value == "2025-11-09"
    conflict = _pick(DocType.DISCHARGE_SUMMARY, "出院记录", "入院日期:2025-11-12", "出院日期:2025-11-09")
    assert conflict is not None and conflict.value == "2025-11-09"
    assert conflict.confidence is not None and conflict.confidence < 0.8  # discharge before admission


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("报告时间 2025-1 2-19 10:00", "2025-12-19"),  # a box boundary inside a numeric month
        ("2025\\12\\19", "2025-12-19"),  # a slash read as a backslash
        ("2O25年l2月I9日", "2025-12-19"),  # letters for digits
        ("2OZS-1Z-O9", "2025-12-09"),
        ("２０２５／１２／１９", "2025-12-19"),  # full-width digits and punctuation
        ("2025 年 l2 月 1 9 日", "2025-12-19"),
    ],
)
def test_robust_forms_of_one_date(text: str, value: str) -> None:
    assert [d.value for d, _ in find_dates(text)] == [value]


@pytest.mark.parametrize(
    "text",
    ["电话 0858-8223041", "身份证号 520201199003151234", "标本号 20251219001", "金额 2025.12 元 数量 19"],
)
def test_numbers_that_only_look_like_dates_are_none(text: str) -> None:
    assert [d.value for d, _ in find_dates(text) if d.day is not None] == []


def test_a_label_cell_left_of_its_value_on_a_neighbouring_row_names_it() -> None:
    """GIVEN a scanned lab report whose 报告日期 cell sits a little higher than its value across a
    table border (OCR puts them on two rows), and a sampling date labelled the same way
    THEN the report date is picked by its label."""
    lines = [
        _box("检验报告单", 400, 60),
        _box("采样日期", 80, 200), _box("2025-12-17", 300, 222),
        _box("报告日期", 80, 300), _box("2025-12-19", 300, 322),
    ]
    rows, sizes = _sized(lines, 1240, 1754)
    kinds = [(c.date.value, c.kind) for c in date_candidates(rows, page_sizes=sizes)]
    assert kinds == [("2025-12-17", "sampling"), ("2025-12-19", "report")]
    picked = pick_doc_date(rows, DocType.LAB_REPORT, page_sizes=sizes)
    assert picked is not None and picked.value == "2025-12-19" and picked.confidence is not None
    assert picked.confidence >= 0.9


def test_an_apps_refresh_time_is_the_screens_moment() -> None:
    assert classify_label("更新于") == "print"
    assert classify_label("刷新时间") == "print"


def test_on_a_screen_a_report_list_takes_the_report_its_title_names() -> None:
    """GIVEN an app's list of reports (each a heading and a date, the newest first) under the title
    of the report the applicant opened THEN that report's date, not the newest."""
    ocr = _phone(
        ("14:32", 50, 30, 140),
        ("5G 86%", 900, 30, 1030),
        ("血常规报告", 400, 170, 700),
        ("肝功能", 70, 400, 400),
        ("2026-03-16 10:20", 600, 400, 1010),
        ("血常规", 70, 560, 300),
        ("2026-03-09 09:10", 600, 560, 1010),
        ("尿常规", 70, 720, 300),
        ("2026-03-02 08:40", 600, 720, 1010),
    )
    picked = _phone_pick(ocr)
    assert picked is not None and picked.value == "2026-03-09"


def test_on_a_screen_a_report_list_no_title_names_is_a_flag_never_the_latest() -> None:
    ocr = _phone(
        ("14:32", 50, 30, 140),
        ("5G 86%", 900, 30, 1030),
        ("我的报告", 420, 170, 660),
        ("肝功能", 70, 400, 400),
        ("2026-03-16 10:20", 600, 400, 1010),
        ("血常规", 70, 560, 300),
        ("2026-03-09 09:10", 600, 560, 1010),
    )
    picked = _phone_pick(ocr)
    assert picked is not None and picked.value != "2026-03-16"
    assert picked.confidence is not None and picked.confidence <= 0.5


def test_an_unlabelled_date_on_a_screen_is_weak_evidence() -> None:
    ocr = _phone(("14:32", 50, 30, 140), ("5G 86%", 900, 30, 1030), ("检验结果", 420, 170, 660),
                 ("2026-03-15 17:59", 760, 780, 1010))
    picked = _phone_pick(ocr)
    assert picked is not None and picked.value == "2026-03-15"
    assert picked.confidence is not None and picked.confidence < 0.8
    labelled = _phone(("14:32", 50, 30, 140), ("5G 86%", 900, 30, 1030), ("检验结果", 420, 170, 660),
                      ("2026-03-18 09:00", 760, 600, 1010), ("报告时间", 70, 780, 200),
                      ("2026-03-15 17:59", 760, 780, 1010))
    picked = _phone_pick(labelled)
    assert picked is not None and picked.value == "2026-03-15"  # the labelled one, anywhere on screen


def test_a_year_misread_by_one_digit_is_repaired_against_the_page() -> None:
    """GIVEN 报告日期 read 2005-12-19 beside a sampling date of 2025 THEN 2025-12-19, less sure."""
    picked = _pick(DocType.LAB_REPORT, ["采样时间:2025-12-18 08:00", "报告日期:2005-12-19"])
    assert picked is not None and picked.value == "2025-12-19"
    assert picked.confidence is not None and picked.confidence < 0.8
    clean = _pick(DocType.LAB_REPORT, ["采样时间:2025-12-18 08:00", "报告日期:2025-12-19"])
    assert clean is not None and clean.confidence is not None and picked.confidence < clean.confidence


def test_old_years_that_are_history_or_ambiguous_stay_as_read() -> None:
    # A history date (确诊) is old for a reason; no other date to agree with: nothing to repair by.
    rows = build_rows(page("诊断证明书", "患者于2005年3月4日确诊糖尿病", ["医师:李四", "2025年12月19日"]))
    assert [c.date.value for c in date_candidates(rows)] == ["2005-03-04", "2025-12-19"]
    picked = pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert picked is not None and picked.value == "2025-12-19"
    alone = _pick(DocType.LAB_REPORT, "报告日期:2005-12-19")
    assert alone is not None and alone.value == "2005-12-19"
    # No single look-alike digit brings 2008 among the page's years (2028 is not 2025-2026): kept.
    far = _pick(DocType.LAB_REPORT, ["采样时间:2025-12-18 08:00", "报告日期:2008-12-19"])
    assert far is not None and far.value == "2008-12-19"


# --------------------------------------------------------------------------------------------
# Where to read again
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "areas"),
    [
        # The report date's label with nothing read beside or under it: one area, right of the label.
        (["检验报告单", ["姓名:张三", "报告日期:"]], 1),
        # A date too damaged to parse (its month lost under the seal) where the issue date goes.
        (["诊断证明书", "医师签名:李四", "2026年 月5日"], 1),
        # A date whose year lost a digit under the seal's ring; a lab range is no such remnant.
        (["诊断证明书", "医师签名:李四", "202.06.30"], 1),
        (["检验报告单", ["葡萄糖", "3.50-10.00"], "报告日期:2026-03-05"], 0),
        # Its date read beside it, or under it in the table's column: nothing to read again.
        (["检验报告单", ["姓名:张三", "报告日期:2026-03-05"]], 0),
        (["检验报告单", ["采样时间", "报告时间"], ["2026-03-01", "2026-03-02"]], 0),
        # Labels of dates that are never the document's own (print time, birth date).
        (["检验报告单", ["打印时间:"], ["出生日期:"]], 0),
    ],
)
def test_unread_date_areas_are_where_a_document_date_should_be(lines, areas) -> None:
    rows = build_rows(page(*lines))
    found = unread_date_areas(rows)
    assert len(found) == areas
    for page_index, area, height in found:
        assert page_index == 0 and height > 0 and area.width > 4 * height


def test_the_area_beside_a_label_reaches_right_and_one_row_down() -> None:
    rows = build_rows(page("检验报告单", ["姓名:张三", "报告日期:"]))
    [(_, area, height)] = unread_date_areas(rows)
    label = rows[-1].box_for(rows[-1].text.index("报告"), len(rows[-1].text))
    assert area.x0 <= label.x0 and area.x1 >= label.x1 + 8 * height
    assert area.y0 < label.y0 and area.y1 > label.y1 + height


def test_a_page_gets_at_most_a_few_areas() -> None:
    rows = build_rows(page("记录单", *[[f"项目{i}", "日期:"] for i in range(8)]))
    assert len(unread_date_areas(rows)) == 3


def test_a_year_read_in_the_future_is_put_right_only_when_one_look_alike_fits() -> None:
    """GIVEN 报告日期 read as 2036-02-19 (a 2 read as 3) on a report submitted 2026-03-20
    THEN the year is repaired to 2026, less sure than a clean reading; without the submission date
    nothing says it is wrong, and 2027 (no look-alike digit gives 2025 or 2026) stays as read."""
    rows = build_rows(page("检验报告单", "报告日期:2036-02-19"))
    clean = build_rows(page("检验报告单", "报告日期:2026-02-19"))
    as_of = dt.date(2026, 3, 20)
    picked = pick_doc_date(rows, DocType.LAB_REPORT, as_of=as_of)
    sure = pick_doc_date(clean, DocType.LAB_REPORT, as_of=as_of)
    assert picked is not None and picked.value == "2026-02-19"
    assert sure is not None and picked.confidence is not None and sure.confidence is not None
    assert picked.confidence < sure.confidence
    assert pick_doc_date(rows, DocType.LAB_REPORT).value == "2036-02-19"  # type: ignore[union-attr]
    later = pick_doc_date(build_rows(page("检验报告单", "报告日期:2027-02-19")), DocType.LAB_REPORT, as_of=as_of)
    assert later is not None and later.value == "2027-02-19"


def test_a_discharge_read_before_its_admission_has_its_year_put_right_when_one_look_alike_fits() -> None:
    """GIVEN a 病案首页 whose 出院时间 reads 2025.02.26 under 入院时间 2026.02.08 (a 6 read as 5)
    THEN the discharge is 2026-02-26, marked repaired and less sure than a clean reading; a
    discharge no single look-alike puts after the admission, or only far after it, stays as read."""
    def front_sheet(discharge: str) -> list[Row]:
        return build_rows(page("住院病案首页", ["入院时间", "2026.02.08"], ["出院时间", discharge]))

    as_of = dt.date(2026, 3, 20)
    picked = pick_doc_date(front_sheet("2025.02.26"), DocType.MEDICAL_RECORD, as_of=as_of)
    clean = pick_doc_date(front_sheet("2026.02.26"), DocType.MEDICAL_RECORD, as_of=as_of)
    assert picked is not None and clean is not None and picked.value == "2026-02-26"
    assert picked.confidence is not None and clean.confidence is not None and picked.confidence < clean.confidence
    # 2024: no look-alike of one digit gives 2026 (4 reads as 1 or 9): as read, and less sure.
    kept = pick_doc_date(front_sheet("2024.02.26"), DocType.MEDICAL_RECORD, as_of=as_of)
    assert kept is not None and kept.value == "2024-02-26"
    # A 2005 no look-alike puts after the admission is still a year of the 2000s among 2020s dates.
    rows = build_rows(page("住院病案首页", ["入院时间", "2025.06.29"], ["出院时间", "2005.01.06"]))
    old = pick_doc_date(rows, DocType.MEDICAL_RECORD, as_of=as_of)
    assert old is not None and old.value == "2025-01-06"


def test_a_lab_report_without_its_report_date_takes_the_latest_date_of_its_exam() -> None:
    """GIVEN an imaging report with 检查日期 at its head and a bare 日期 by the signature at its foot
    (the report's own), or a report whose foot date lost its label on the scan
    THEN the later date: a report is never issued before its exam."""
    picked = _pick(DocType.LAB_REPORT, "CT检查报告单", ["科室:内科", "检查日期:2026.03.04"], "影像所见:未见异常",
                   ["报告医师:王五", "日期:2026.03.05"])
    assert picked is not None and picked.value == "2026-03-05"
    picked = _pick(DocType.LAB_REPORT, "病理检查报告单", ["送检科室:肿瘤科", "检查日期:2026年3月10日"], "病理诊断:腺癌",
                   "2026年3月14日")
    assert picked is not None and picked.value == "2026-03-14"
    # A labelled report date still wins over a later unlabelled one.
    picked = _pick(DocType.LAB_REPORT, "检验报告单", ["报告日期:2026-03-05"], "2026-03-09")
    assert picked is not None and picked.value == "2026-03-05"


# --- a document date's year read from the line's pixels (years_as_printed) ---------------------

class _Fit:
    """A stand-in for the recogniser: fixed log-likelihoods by text; records what it was asked."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores, self.asked = scores, []

    def __call__(self, page: int, box: Box, texts):  # type: ignore[no-untyped-def]
        self.asked.append(list(texts))
        return [self.scores.get(t) for t in texts]


AS_OF = dt.date(2026, 12, 1)


def _lab(date_line: str, sampled: str = "") -> OcrResult:
    """A lab report whose only other date is ``sampled`` (a page of other years would repair a year
    by those, ``repair_misread_years``)."""
    return page("检验报告单", "姓名：王明 性别：男", "葡萄糖 7.8 mmol/L", f"采样时间：{sampled}", date_line)


def test_a_year_read_through_look_alike_digits_is_read_as_the_pixels_fit() -> None:
    """报告日期 2006-11-21 on a 2026 submission: 2026 fits the line's pixels nearly as well, so the
    report is of 2026, less sure than a plain reading; 2016 (no look-alike of 2006's 0) is never tried."""
    from classifiers.fields import extract_fields

    fit = _Fit({"报告日期：2006-11-21": -5.0, "报告日期：2026-11-21": -7.0, "报告日期：2025-11-21": -20.0})
    fields = extract_fields(_lab("报告日期：2006-11-21"), DocType.LAB_REPORT, as_of=AS_OF, text_fit=fit)
    assert fields.doc_date is not None and fields.doc_date.value == "2026-11-21"
    assert fields.doc_date.confidence is not None and fields.doc_date.confidence < 0.8
    assert fit.asked == [["报告日期：2006-11-21", "报告日期：2025-11-21", "报告日期：2026-11-21"]]
    # Without the pixels, or when they fit no other year well enough, the year stays as read.
    assert extract_fields(_lab("报告日期：2006-11-21"), DocType.LAB_REPORT, as_of=AS_OF).doc_date.value == "2006-11-21"
    far = _Fit({"报告日期：2006-11-21": -5.0, "报告日期：2026-11-21": -5.0 - DATE_FIT_MARGIN - 0.5})
    assert extract_fields(_lab("报告日期：2006-11-21"), DocType.LAB_REPORT, as_of=AS_OF,
                          text_fit=far).doc_date.value == "2006-11-21"


def test_a_year_token_no_parse_reads_is_read_as_the_year_the_pixels_fit() -> None:
    """报告日期，206-11-29: no date for any parse; the line with 2026 fits, so that is the report date.
    The sampling time (not a report date) is never tried."""
    from classifiers.fields import extract_fields

    fit = _Fit({"报告日期，206-11-29": -9.0, "报告日期，2026-11-29": -8.0, "报告日期，2025-11-29": -15.0})
    fields = extract_fields(_lab("报告日期，206-11-29"), DocType.LAB_REPORT, as_of=AS_OF, text_fit=fit)
    assert fields.doc_date is not None and fields.doc_date.value == "2026-11-29"
    assert all(texts[0] == "报告日期，206-11-29" for texts in fit.asked)
    assert extract_fields(_lab("报告日期，206-11-29"), DocType.LAB_REPORT, as_of=AS_OF).doc_date is None
    with_sampling = _lab("报告日期，206-11-29", sampled="2026-11-20 08:12")
    assert extract_fields(with_sampling, DocType.LAB_REPORT, as_of=AS_OF, text_fit=fit).doc_date.value == "2026-11-29"


def test_a_plausible_year_and_a_date_after_the_submission_are_not_tried() -> None:
    from classifiers.fields import extract_fields

    fit = _Fit({})
    assert extract_fields(_lab("报告日期：2024-11-21"), DocType.LAB_REPORT, as_of=AS_OF,
                          text_fit=fit).doc_date.value == "2024-11-21"  # old, but a year a report may be of
    assert fit.asked == []
    fit = _Fit({"报告日期：2006-12-21": -5.0, "报告日期：2026-12-21": -4.0, "报告日期：2025-12-21": -30.0})
    assert extract_fields(_lab("报告日期：2006-12-21"), DocType.LAB_REPORT, as_of=AS_OF,
                          text_fit=fit).doc_date.value == "2006-12-21"  # 2026-12-21 is after the submission
    assert fit.asked == [["报告日期：2006-12-21", "报告日期：2025-12-21"]]


def test_a_text_layers_year_is_exact() -> None:
    from classifiers.fields import extract_fields

    layer = _lab("报告日期：2006-11-21")
    layer.pages[0].source = "text_layer"
    fit = _Fit({"报告日期：2006-11-21": -5.0, "报告日期：2026-11-21": -5.0})
    assert extract_fields(layer, DocType.LAB_REPORT, as_of=AS_OF, text_fit=fit).doc_date.value == "2006-11-21"
    assert fit.asked == []
