"""Identity: GB 11643 validity, name and ID number against the application."""

from __future__ import annotations

import datetime as dt

import pytest

from classifiers.fields import Row, build_rows, extract_fields
from classifiers.identity import check_identity as _check
from classifiers.identity import (
    compare_names,
    fold_id_glyphs,
    glyph_similarity,
    holder_name,
    id_repairs,
    names_match,
    validate_id_number,
)
from classifiers.types import DocType, DocumentContext, ExtractedFields, FieldValue, IdentityCheck, Outcome
from ocr.types import Box, OcrLine, OcrPage, OcrResult

VALID_ID = "11010519491231002X"  # GB 11643 example number
OTHER_VALID_ID = "110105194912310038"  # same birth date, another valid number
CTX = DocumentContext(application_date=dt.date(2026, 3, 15), applicant_name="张建国", id_number=VALID_ID)


def fields(name: str | None = None, id_number: str | None = None) -> ExtractedFields:
    return ExtractedFields(
        patient_name=FieldValue(value=name, page=0) if name is not None else None,
        id_number=FieldValue(value=id_number, page=0) if id_number is not None else None,
    )


def check(name: str | None, id_number: str | None, *, identity_doc: bool = True) -> IdentityCheck:
    return _check(fields(name, id_number), CTX, is_identity_document=identity_doc)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (VALID_ID, True),
        ("11010519491231002x", True),  # lower-case check character
        ("110105 19491231 002X", True),  # spaces from OCR
        ("110105194912310021", False),  # wrong checksum
        ("110105194913310021", False),  # month 13
        ("11010516540101001" + "9", False),  # birth year 1654 (韦小宝 specimen): checksum right, date not
        ("1101051949123100", False),
        ("", False),
    ],
)
def test_validate_id_number(value: str, ok: bool) -> None:
    assert OTHER_VALID_ID != VALID_ID and validate_id_number(OTHER_VALID_ID)
    assert validate_id_number(value) is ok


def test_matching_name_and_id_pass() -> None:
    result = check("张建国", VALID_ID.lower())
    assert (result.outcome, result.id_valid, result.name_matches, result.id_matches) == (Outcome.PASS, True, True, True)


def test_names_tolerate_spacing_width_and_middle_dot_only() -> None:
    assert names_match("张 建 国", "张建国")
    assert names_match("买买提•艾力", "买买提·艾力")
    assert names_match("王己", "王已")  # known OCR confusion 己/已
    assert not names_match("张建图", "张建国")  # one arbitrary character off is another person
    assert not names_match("张伟", "张玮")
    assert not names_match("杨伟", "扬伟")  # look-alike surnames are still two surnames
    assert not names_match("张建", "张建国")


def test_name_mismatch_fails() -> None:
    result = check("李建国", VALID_ID)
    assert result.outcome == Outcome.FAIL and result.name_matches is False and "李建国" in (result.reason or "")


def test_other_valid_id_fails_as_mismatch() -> None:
    result = check("张建国", OTHER_VALID_ID)
    assert (result.outcome, result.id_valid, result.id_matches) == (Outcome.FAIL, True, False)


def test_invalid_id_on_identity_document_fails() -> None:
    result = check("张建国", "110105194912310021")
    assert result.outcome == Outcome.FAIL and result.id_valid is False and "校验" in (result.reason or "")


def test_one_digit_misread_on_a_report_is_unknown_not_mismatch() -> None:
    result = check("张建国", "11010519491231003X", identity_doc=False)
    assert result.outcome == Outcome.UNKNOWN and result.id_valid is False and result.id_matches is None


def test_invalid_and_different_id_on_a_report_fails() -> None:
    result = check("张建国", "230102198001011235", identity_doc=False)
    assert result.outcome == Outcome.FAIL


def test_masked_id_is_compared_on_visible_digits() -> None:
    ok = check("张建国", "110105********002X", identity_doc=False)
    assert (ok.outcome, ok.id_valid, ok.id_matches) == (Outcome.PASS, None, True)
    bad = check("张建国", "230102********002X", identity_doc=False)
    assert bad.outcome == Outcome.FAIL and bad.id_matches is False


def test_document_without_name_or_id_is_unknown() -> None:
    result = check(None, None)
    assert result.outcome == Outcome.UNKNOWN and result.reason


def test_name_only_document_passes_on_name() -> None:
    result = check("张建国", None, identity_doc=False)
    assert (result.outcome, result.name_matches, result.id_valid, result.id_matches) == (Outcome.PASS, True, None, None)


def test_application_without_name_still_validates_the_id() -> None:
    ctx = DocumentContext(application_date=dt.date(2026, 3, 15))
    result = _check(fields("张建国", "110105194912310021"), ctx, is_identity_document=True)
    assert result.outcome == Outcome.FAIL and result.name_matches is None and result.id_valid is False


@pytest.mark.parametrize("number", ["231202198001011232", "230102198001011236"])
def test_real_address_codes_missing_from_stdnum_table_are_valid(number: str) -> None:
    """GIVEN numbers of 绥化市北林区 / 哈尔滨市道里区 with a correct checksum and birth date
    THEN they are valid, although stdnum's address table does not list those codes."""
    assert validate_id_number(number)


def test_future_birth_date_is_invalid() -> None:
    from stdnum.cn import ric

    body = "11010521000101123"
    assert not validate_id_number(body + ric.calc_check_digit(body + "0"))


def test_one_misread_character_of_a_name_on_a_clinical_document_is_for_the_reviewer() -> None:
    """GIVEN a discharge summary photo where OCR read 戴旅薇 for the applicant 戴馥薇
    THEN that is never an identity_mismatch told to the applicant: read poorly it is unknown with a
    reason; read well it is a weak failure (a reviewer flag); two characters off is another person."""
    ctx = DocumentContext(application_date=dt.date(2026, 5, 6), applicant_name="戴馥薇", id_number=None)

    def fields(name: str, confidence: float | None) -> ExtractedFields:
        return ExtractedFields(patient_name=FieldValue(value=name, page=0, confidence=confidence))

    blurred = _check(fields("戴旅薇", 0.8), ctx, is_identity_document=False)
    assert blurred.outcome == Outcome.UNKNOWN and blurred.name_matches is None and "人工核对" in (blurred.reason or "")
    sharp = _check(fields("戴旅薇", 0.99), ctx, is_identity_document=False)
    assert sharp.outcome == Outcome.FAIL and sharp.confidence < 0.8
    on_id_card = _check(fields("戴旅薇", 0.99), ctx, is_identity_document=True)
    assert on_id_card.outcome == Outcome.FAIL and on_id_card.confidence < 0.8
    other = _check(fields("戴旅华", 0.99), ctx, is_identity_document=False)
    assert other.outcome == Outcome.FAIL and other.name_matches is False and other.confidence >= 0.9


# --------------------------------------------------------------------------------------------
# Glyph similarity and graded name comparison
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [("己", "已"), ("未", "末"), ("晴", "睛"), ("俊", "峻"), ("候", "侯"), ("萍", "苹"), ("徽", "微"), ("浩", "皓")],
)
def test_glyphs_ocr_confuses_look_alike(a: str, b: str) -> None:
    assert glyph_similarity(a, b) >= 0.5


@pytest.mark.parametrize(
    ("a", "b"), [("浩", "洋"), ("馥", "旅"), ("华", "国"), ("建", "伟"), ("红", "梅"), ("张", "李")]
)
def test_unrelated_glyphs_do_not_look_alike(a: str, b: str) -> None:
    assert glyph_similarity(a, b) < 0.5


def test_glyph_similarity_is_rare_between_different_given_name_characters() -> None:
    """GIVEN every pair of the given-name characters the generator draws other people's names from
    THEN under 2% of them count as look-alikes, so a different person is rarely excused as a misread."""
    from fixtures.generator.people import GIVEN_FEMALE, GIVEN_MALE

    chars = sorted(set(GIVEN_MALE + GIVEN_FEMALE))
    pairs = [(a, b) for i, a in enumerate(chars) for b in chars[i + 1 :]]
    alike = sum(glyph_similarity(a, b) >= 0.5 for a, b in pairs)
    assert alike / len(pairs) < 0.02


def test_equal_names_are_the_same_person_with_high_confidence() -> None:
    result = compare_names("张 建 国", "张建国", read_confidence=0.97)
    assert result.same is True and result.confidence >= 0.95


@pytest.mark.parametrize(
    ("read", "applicant"),
    [
        ("张晴", "张睛"),  # 日/目 radical
        ("王俊峰", "王峻峰"),  # 亻/山
        ("刘己", "刘已"),  # one stroke
        ("侯伟", "候伟"),  # known PP-OCR confusion, in the surname
        ("殴阳娜娜", "欧阳娜娜"),  # a compound surname misread no longer spells a surname
    ],
)
def test_one_look_alike_glyph_is_a_misreading_not_another_person(read: str, applicant: str) -> None:
    result = compare_names(read, applicant, read_confidence=0.99)
    assert result.same is None and "字形相近" in (result.reason or "")


def test_one_unrelated_character_read_poorly_is_a_misreading() -> None:
    assert compare_names("张浩", "张洋", read_confidence=0.75).same is None


def test_one_unrelated_character_read_well_in_a_two_character_name_is_another_person() -> None:
    result = compare_names("张浩", "张洋", read_confidence=0.98)
    assert result.same is False and result.confidence >= 0.85


@pytest.mark.parametrize(
    ("read", "applicant"),
    [("李建国", "张建国"), ("王秀英", "张建国"), ("张建", "张建国"), ("欧阳建国", "张建国"), ("赵丽华", "张建国")],
)
def test_another_surname_length_or_name_is_another_person(read: str, applicant: str) -> None:
    result = compare_names(read, applicant, read_confidence=0.98)
    assert result.same is False and result.confidence >= 0.9


def test_confidence_of_another_person_follows_how_well_the_name_was_read() -> None:
    sharp = compare_names("李建国", "张建国", read_confidence=0.98)
    blurred = compare_names("李建国", "张建国", read_confidence=0.72)
    assert sharp.same is blurred.same is False
    assert blurred.confidence < 0.8 <= sharp.confidence


def test_look_alike_surnames_that_are_both_common_stay_apart() -> None:
    """徐 and 余 share components, but only a near-identical surname (候/侯, 李/季) is excused: two families."""
    assert compare_names("余伟", "徐伟", read_confidence=0.99).same is False


@pytest.mark.parametrize(
    "read",
    ["阿依古丽·买买提", "阿依古丽买买提", "阿依古丽.买买提", "阿依古丽•买买提", "阿依古丽・买买提", "阿依古丽一买买提"],
)
def test_minority_name_compares_whatever_became_of_the_middle_dot(read: str) -> None:
    assert compare_names(read, "阿依古丽·买买提", read_confidence=0.95).same is True


def test_minority_name_read_in_part_is_for_the_reviewer() -> None:
    result = compare_names("阿依古丽", "阿依古丽·买买提", read_confidence=0.95)
    assert result.same is None and "少数民族" in (result.reason or "")


@pytest.mark.parametrize("read", ["欧 阳娜娜", "阳娜娜", "欧娜娜"])
def test_compound_surname_split_or_half_dropped_is_not_another_person(read: str) -> None:
    assert compare_names(read, "欧阳娜娜", read_confidence=0.97).same is not False


@pytest.mark.parametrize("surname", ["司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "夏侯"])
def test_compound_surnames_compare_right(surname: str) -> None:
    assert compare_names(f"{surname} 明", f"{surname}明").same is True
    assert compare_names(f"{surname[1]}明", f"{surname}明").same is None
    assert compare_names(f"张{surname[1]}明", f"{surname}明", read_confidence=0.98).same is False


def test_applicant_name_read_exactly_elsewhere_makes_a_look_alike_a_misreading() -> None:
    result = compare_names("张晴", "张睛", read_confidence=0.99, other_names=["张睛", "张睛"])
    assert result.same is None and "其他材料" in (result.reason or "")


def test_another_name_read_the_same_on_two_documents_is_no_misreading() -> None:
    """A blurred read of 李建国 alone would be a flag; read the same on another document it is a person."""
    alone = compare_names("李建国", "张建国", read_confidence=0.72)
    twice = compare_names("李建国", "张建国", read_confidence=0.72, other_names=["李建国"])
    assert alone.confidence < 0.8 <= twice.confidence and twice.same is False


def test_check_identity_passes_other_names_on() -> None:
    fv = ExtractedFields(patient_name=FieldValue(value="李建国", page=0, confidence=0.72))
    alone = _check(fv, CTX, is_identity_document=False)
    twice = _check(fv, CTX, is_identity_document=False, other_names=["李建国"])
    assert alone.outcome == twice.outcome == Outcome.FAIL
    assert alone.confidence < 0.8 <= twice.confidence


# --------------------------------------------------------------------------------------------
# Names in check_identity
# --------------------------------------------------------------------------------------------


def test_look_alike_name_beside_the_right_number_is_a_flag_on_the_identity_document() -> None:
    """GIVEN 张建图 read for 张建国 (囗 in common) and the applicant's own number on the ID card
    THEN unknown (a reviewer looks: the card is what proves the name), not a failure told to the
    applicant. (Off the card the number settles it: see the test after the e-certificate ones.)"""
    identity_doc = True
    fv = ExtractedFields(
        patient_name=FieldValue(value="张建国".replace("国", "图"), page=0, confidence=0.97),
        id_number=FieldValue(value=VALID_ID, page=0, confidence=0.99),
    )
    ctx = DocumentContext(application_date=dt.date(2026, 3, 15), applicant_name="张晴", id_number=VALID_ID)
    result = _check(
        fv.model_copy(update={"patient_name": FieldValue(value="张睛", page=0, confidence=0.97)}),
        ctx,
        is_identity_document=identity_doc,
    )
    assert (result.outcome, result.name_matches, result.id_matches) == (Outcome.UNKNOWN, None, True)
    assert result.id_valid is True and "人工核对" in (result.reason or "")


def test_another_person_with_another_number_fails_confidently() -> None:
    fv = ExtractedFields(
        patient_name=FieldValue(value="李秀英", page=0, confidence=0.98),
        id_number=FieldValue(value=OTHER_VALID_ID, page=0, confidence=0.99),
    )
    result = _check(fv, CTX, is_identity_document=True)
    assert result.outcome == Outcome.FAIL and result.name_matches is False and result.id_matches is False
    assert result.confidence >= 0.9


def test_other_name_beside_the_applicants_own_number_is_weaker() -> None:
    """The applicant's number with another name: more likely a misread name than another person's card."""
    fv = ExtractedFields(
        patient_name=FieldValue(value="李建国", page=0, confidence=0.98),
        id_number=FieldValue(value=VALID_ID, page=0, confidence=0.99),
    )
    result = _check(fv, CTX, is_identity_document=True)
    assert result.outcome == Outcome.FAIL and result.name_matches is False and result.id_matches is True
    assert result.confidence < 0.8


def test_pass_confidence_is_set() -> None:
    fv = ExtractedFields(
        patient_name=FieldValue(value="张建国", page=0, confidence=0.98),
        id_number=FieldValue(value=VALID_ID, page=0, confidence=0.99),
    )
    result = _check(fv, CTX, is_identity_document=True)
    assert result.outcome == Outcome.PASS and result.confidence >= 0.95


# --------------------------------------------------------------------------------------------
# ID numbers: repair and id_invalid
# --------------------------------------------------------------------------------------------


def id_fields(number: str, confidence: float | None = 0.99, raw: str | None = None) -> ExtractedFields:
    return ExtractedFields(
        patient_name=FieldValue(value="张建国", page=0, confidence=0.99),
        id_number=FieldValue(value=number, page=0, confidence=confidence, raw=raw),
    )


def test_one_misread_digit_with_exactly_one_repair_equal_to_the_application_is_repaired() -> None:
    """GIVEN 17010519491231002X read for 11010519491231002X (7 for 1 at the second digit), and that
    1 is the only single OCR confusion that makes the number valid
    THEN the card's number matches, with a lower confidence and the repair said in the reason."""
    misread = "17010519491231002X"
    assert id_repairs(misread) == [VALID_ID]
    result = _check(id_fields(misread), CTX, is_identity_document=True)
    assert (result.outcome, result.id_valid, result.id_matches) == (Outcome.PASS, True, True)
    assert 0.7 <= result.confidence < 0.9 and "第2位" in (result.reason or "")


def test_ambiguous_repair_is_not_accepted_and_not_a_confident_id_invalid() -> None:
    """GIVEN 71010519491231002X: three single confusions make it valid, one of them the application's
    THEN no repair is chosen; the number is invalid as read, but too likely a misreading to tell the
    applicant (confidence under the problem threshold)."""
    misread = "71010519491231002X"
    repairs = id_repairs(misread)
    assert VALID_ID in repairs and len(repairs) > 1
    result = _check(id_fields(misread), CTX, is_identity_document=True)
    assert result.id_valid is False and result.id_matches is None and result.confidence < 0.8
    assert "人工核对" in (result.reason or "")


def test_printed_invalid_number_equal_to_the_application_is_a_confident_id_invalid() -> None:
    """GIVEN a card whose printed number fails its checksum and is the number of the application
    THEN id_invalid, confidently: the reading is confirmed and no repair can match the application."""
    invalid = "110105194912310021"
    ctx = CTX.model_copy(update={"id_number": invalid})
    result = _check(id_fields(invalid), ctx, is_identity_document=True)
    assert (result.outcome, result.id_valid, result.id_matches) == (Outcome.FAIL, False, True)
    assert result.confidence >= 0.95 and "校验" in (result.reason or "")


def test_printed_invalid_number_read_well_without_application_number_is_confident() -> None:
    ctx = CTX.model_copy(update={"id_number": None})
    result = _check(id_fields("110105194912310021"), ctx, is_identity_document=True)
    assert result.outcome == Outcome.FAIL and result.id_valid is False and result.confidence >= 0.9


def test_invalid_number_read_poorly_is_not_confident() -> None:
    ctx = CTX.model_copy(update={"id_number": None})
    result = _check(id_fields("110105194912310021", confidence=0.75), ctx, is_identity_document=True)
    assert result.outcome == Outcome.FAIL and result.id_valid is False and result.confidence < 0.8


def test_invalid_number_far_from_the_application_fails_on_the_card() -> None:
    result = _check(id_fields("230102198001011235"), CTX, is_identity_document=True)
    assert (result.outcome, result.id_valid, result.id_matches) == (Outcome.FAIL, False, False)
    assert result.confidence >= 0.9


def test_letters_read_for_digits_are_folded_with_lower_confidence() -> None:
    result = _check(id_fields("11O1O519491231002x", raw="11O1O519491231002x"), CTX, is_identity_document=True)
    assert (result.outcome, result.id_valid, result.id_matches) == (Outcome.PASS, True, True)
    clean = _check(id_fields(VALID_ID), CTX, is_identity_document=True)
    assert result.confidence < clean.confidence


def test_fold_id_glyphs() -> None:
    assert fold_id_glyphs("11O1O5 1949123lOO2×") == ("11010519491231002X", 6)
    assert fold_id_glyphs(VALID_ID) == (VALID_ID, 0)


def test_two_characters_off_on_a_report_is_for_the_reviewer() -> None:
    result = _check(id_fields("11010519491231012Y".replace("Y", "X")[:17] + "3"), CTX, is_identity_document=False)
    assert result.outcome == Outcome.UNKNOWN and result.id_matches is None


def test_weak_name_failure_is_not_carried_by_a_sure_number_failure() -> None:
    """GIVEN another valid number (sure) and a name one unrelated character off (weak)
    THEN the failure is the number's, and the weak name difference is left as unknown."""
    fv = ExtractedFields(
        patient_name=FieldValue(value="张建华", page=0, confidence=0.99),
        id_number=FieldValue(value=OTHER_VALID_ID, page=0, confidence=0.99),
    )
    result = _check(fv, CTX, is_identity_document=True)
    assert result.outcome == Outcome.FAIL and result.id_matches is False and result.name_matches is None
    assert result.confidence >= 0.9


# --------------------------------------------------------------------------------------------
# Extraction of the name and the number (classifiers/fields.py)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["姓名:", "欧", "阳娜娜", "性别:女"], "欧阳娜娜"),  # compound surname in a box of its own
        (["姓名:", "张 建 国", "性别:男"], "张建国"),  # spaced out
        (["姓名:阿依古丽.买买提", "性别:女"], "阿依古丽·买买提"),  # middle dot read as a full stop
        (["姓名:", "张三", "内科"], "张三"),  # the next cell is not part of the name
        (["姓名:", "张", "男"], None),  # one character and the gender: no name
    ],
)
def test_name_extraction_joins_split_names(cells: list[str], expected: str | None) -> None:
    from classifiers.fields import extract_fields
    from classifiers.types import DocType
    from tests.classifiers.doc_samples import page

    fields = extract_fields(page("出院小结", cells), DocType.DISCHARGE_SUMMARY)
    assert (fields.patient_name.value if fields.patient_name else None) == expected


def test_id_extraction_folds_letters_and_lowers_confidence() -> None:
    from classifiers.fields import extract_fields
    from classifiers.types import DocType
    from tests.classifiers.doc_samples import page

    clean = extract_fields(page("出院小结", ["身份证号:", VALID_ID]), DocType.DISCHARGE_SUMMARY).id_number
    folded = extract_fields(page("出院小结", ["身份证号:", "11O1O519491231002X"]), DocType.DISCHARGE_SUMMARY).id_number
    assert clean is not None and folded is not None
    assert folded.value == VALID_ID and folded.confidence is not None and clean.confidence is not None
    assert folded.confidence < clean.confidence


def test_labelled_invalid_number_is_extracted_as_printed_for_id_invalid() -> None:
    """Digits are not repaired at extraction (no application number to check a repair against)."""
    from classifiers.fields import extract_fields
    from classifiers.types import DocType
    from tests.classifiers.doc_samples import page

    fv = extract_fields(page("出院小结", ["身份证号:", "110105194912310021"]), DocType.DISCHARGE_SUMMARY).id_number
    assert fv is not None and fv.value == "110105194912310021"


def test_a_number_cut_short_whose_birth_date_is_impossible_is_confidently_invalid() -> None:
    result = check("张建国", "11204416541220243")  # 韦小宝's card: born 1654, last digit cut off
    assert result.id_valid is False and result.outcome == Outcome.FAIL and result.confidence >= 0.9


def test_a_number_cut_short_is_only_a_weak_invalid() -> None:
    result = check("张建国", "11010519491231002")
    assert result.id_valid is False and result.confidence < 0.8


@pytest.mark.parametrize(("shown", "same"), [("张*国", True), ("*建国", True), ("张*", True), ("张**", True),
                                             ("李*国", False), ("*建华", False)])
def test_a_masked_name_is_compared_on_the_characters_shown(shown: str, same: bool) -> None:
    result = compare_names(shown, "张建国", read_confidence=0.99)
    assert result.same is same
    if not same:
        assert result.confidence >= 0.9


# --------------------------------------------------------------------------------------------
# The holder's name beside the avatar of an e-certificate screen (no 姓名 label)
# --------------------------------------------------------------------------------------------


def _screen(*lines: tuple[str, float, float, float]) -> list[Row]:
    """A 1080x2340 phone screen from (text, x0, y0, x1) boxes, 44 px high, as rows."""
    ocr_lines = [OcrLine(text=t, score=0.96, box=Box(x0=x0, y0=y0, x1=x1, y1=y0 + 44)) for t, x0, y0, x1 in lines]
    page = OcrPage(index=0, width=1080, height=2340, source="ocr", lines=ocr_lines)
    return build_rows(OcrResult(media_type="image/png", pages=[page], fingerprint="screen"))


@pytest.mark.parametrize("shown", ["王秀英", "王*英", "*秀英", "王*", "欧阳**"])
def test_the_name_beside_the_avatar_is_the_holders_name(shown: str) -> None:
    """GIVEN an 电子社保卡 screen: the name alone beside the avatar, a line of the card's use under
    it, then the masked number THEN that name, as shown (masked or not), a little less sure."""
    rows = _screen(
        ("11月17日 周一 18:18", 40, 30, 400),
        ("电子社保卡", 430, 170, 650),
        ("中华人民共和国社会保障卡", 100, 320, 520),
        (shown, 280, 460, 280 + 46 * len(shown)),
        ("已激活", 280, 530, 380),
        ("社会保障号码 429***********8775", 100, 650, 700),
        ("看病购药时出示此码", 390, 1680, 690),
    )
    name = holder_name(rows)
    assert name is not None and name.value == shown
    assert name.confidence is not None and name.confidence < 0.96
    assert name.box is not None and name.box.x0 == 280


def test_screen_words_and_lines_far_from_the_number_are_no_name() -> None:
    """GIVEN a 医保电子凭证 whose short lines are the app's words (首页, 明细, 已激活) and no name
    stands above the number THEN no name at all rather than a word of the screen."""
    rows = _screen(
        ("医保电子凭证", 400, 170, 680),
        ("首页", 100, 300, 190),
        ("明细", 300, 300, 390),
        ("已激活", 280, 460, 380),
        ("2301**********1234", 300, 650, 760),
        ("张建国", 100, 1900, 240),  # far below the number: the footer's contact, not the holder
    )
    assert holder_name(rows) is None


def test_an_e_certificate_without_a_name_label_gives_the_holder_to_extract_fields() -> None:
    lines = [
        OcrLine(text=t, score=0.96, box=Box(x0=x0, y0=y0, x1=x1, y1=y0 + 44))
        for t, x0, y0, x1 in (
            ("医保电子凭证", 400, 170, 680),
            ("张*国", 250, 540, 390),
            ("1101**********002X", 300, 650, 760),
        )
    ]
    ocr = OcrResult(media_type="image/png", pages=[OcrPage(index=0, width=1080, height=2340, source="ocr",
                                                           lines=lines)], fingerprint="screen")
    got = extract_fields(ocr, DocType.ID_CARD, "medical_insurance_code")
    assert got.patient_name is not None and got.patient_name.value == "张*国"
    check = _check(got, CTX, is_identity_document=True)
    assert check.name_matches is True and check.outcome == Outcome.PASS
    # Only the identity document reads a name without its label: a report's lone line is no name.
    assert extract_fields(ocr, DocType.LAB_REPORT).patient_name is None


def test_a_look_alike_name_beside_the_applicants_exact_number_passes() -> None:
    """GIVEN 张建国 read as 张建囯 (a look-alike glyph) on a report that prints the applicant's full,
    valid number THEN the number settles it: the identity passes, its reason says why; a masked or
    a repaired number settles nothing, and another person's name beside the number still fails."""
    settled = _check(fields("张建囯", VALID_ID), CTX, is_identity_document=False)
    assert settled.outcome == Outcome.PASS and settled.name_matches is True
    assert settled.confidence <= 0.85 and settled.reason and "识别误差" in settled.reason
    masked = _check(fields("张建囯", "110105********002X"), CTX, is_identity_document=False)
    assert masked.outcome == Outcome.UNKNOWN
    alone = _check(fields("张建囯"), CTX, is_identity_document=False)
    assert alone.outcome == Outcome.UNKNOWN
    stranger = _check(fields("李秀英", VALID_ID), CTX, is_identity_document=False)
    assert stranger.outcome == Outcome.FAIL and stranger.name_matches is False


def test_an_apps_patient_row_gives_the_name_but_a_sentence_after_patient_does_not() -> None:
    """GIVEN a hospital app's list row "患者" on the left and the name alone on the right
    THEN that name; a narrative row "患者 因头晕3天入院" (a box break after 患者) names nobody."""
    row = _screen(("患者", 50, 300, 130), ("任欣雪", 780, 300, 870), ("性别", 50, 370, 130), ("女", 830, 370, 870))
    ocr = OcrResult(media_type="image/png", pages=[OcrPage(index=0, width=1080, height=2340, source="ocr",
                                                           lines=[s.line for r in row for s in r.segments])],
                    fingerprint="screen")
    got = extract_fields(ocr, DocType.LAB_REPORT).patient_name
    assert got is not None and got.value == "任欣雪"
    sentence = OcrResult(media_type="image/png", pages=[OcrPage(index=0, width=1240, height=1754, source="ocr", lines=[
        OcrLine(text="患者", score=0.99, box=Box(x0=60, y0=300, x1=112, y1=330)),
        OcrLine(text="因头晕3天入院，查体：血压160/95mmHg", score=0.99, box=Box(x0=120, y0=300, x1=900, y1=330)),
    ])], fingerprint="t")
    assert extract_fields(sentence, DocType.DISCHARGE_SUMMARY).patient_name is None


# --- the name as printed: a misread glyph put right from the line's pixels ----------------------

def one_line(text: str, *, source: str = "ocr") -> OcrResult:
    line = OcrLine(text=text, box=Box(x0=100, y0=100, x1=100 + 30 * len(text), y1=130), score=0.86)
    return OcrResult(media_type="image/jpeg", fingerprint="test",
                     pages=[OcrPage(index=0, width=1000, height=1400, lines=[line], source=source)])


def name_field(ocr: OcrResult, value: str) -> FieldValue:
    line = ocr.pages[0].lines[0]
    return FieldValue(value=value, page=0, box=line.box, raw=line.text if line.text != value else None,
                      confidence=0.86)


class Fit:
    """A stand-in for the recogniser: fixed log-likelihoods by text; records what it was asked."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores, self.asked = scores, []

    def __call__(self, page: int, box: Box, texts):
        self.asked.append(list(texts))
        return [self.scores.get(t) for t in texts]


def test_a_misread_glyph_the_pixels_fit_as_well_is_read_as_the_applicants() -> None:
    from classifiers.identity import name_as_printed

    ocr = one_line("姓名：陶媛蛟")
    fit = Fit({"姓名：陶媛蛟": -1.7, "姓名：陶媛姣": -1.2})
    out = name_as_printed(name_field(ocr, "陶媛蛟"), ocr, ["陶媛姣"], fit)
    assert (out.value, out.raw) == ("陶媛姣", "姓名：陶媛蛟")
    assert fit.asked == [["姓名：陶媛蛟", "姓名：陶媛姣"]]  # the name replaced in its line, label kept
    # Within the margin but less likely: taken, less sure than the reading.
    fit = Fit({"姓名：陶媛蛟": -1.0, "姓名：陶媛姣": -4.0})
    out = name_as_printed(name_field(ocr, "陶媛蛟"), ocr, ["陶媛姣"], fit)
    assert out.value == "陶媛姣" and out.confidence is not None and out.confidence < 0.86


def test_a_name_the_pixels_do_not_fit_stays_as_read() -> None:
    from classifiers.identity import NAME_FIT_MARGIN, name_as_printed

    ocr = one_line("姓名：张伟华")
    field = name_field(ocr, "张伟华")
    fit = Fit({"姓名：张伟华": -0.1, "姓名：张伟明": -0.1 - NAME_FIT_MARGIN - 0.5})
    assert name_as_printed(field, ocr, ["张伟明"], fit) == field
    # Nothing in common in place, another length, a masked name, a text layer: not even tried.
    fit = Fit({})
    assert name_as_printed(field, ocr, ["李明华"[::-1]], fit) == field
    assert name_as_printed(field, ocr, ["张伟"], fit) == field
    masked = one_line("姓名：张*华")
    assert name_as_printed(name_field(masked, "张*华"), masked, ["张伟华"], fit).value == "张*华"
    layer = one_line("姓名：张伟华", source="text_layer")
    assert name_as_printed(name_field(layer, "张伟华"), layer, ["张伟明"], fit).value == "张伟华"
    assert fit.asked == []


def test_the_agents_name_is_tried_too_and_the_better_fit_wins() -> None:
    from classifiers.identity import name_as_printed

    ocr = one_line("姓名：王小明")
    fit = Fit({"姓名：王小明": -2.0, "姓名：王小朋": -3.5, "姓名：王小阴": -2.5})
    assert name_as_printed(name_field(ocr, "王小明"), ocr, ["王小朋", "王小阴"], fit).value == "王小阴"


def test_a_name_whose_label_was_not_read_is_found_as_written() -> None:
    """No labelled name read: the applicant's name written in the certificate's running text is the
    document's name (less sure); not where it only starts a longer name, and not a name not there."""
    from classifiers.identity import name_on_page

    def rows_of(*texts: str) -> list[Row]:
        lines = [OcrLine(text=t, box=Box(x0=100, y0=100 + 50 * i, x1=100 + 30 * len(t), y1=130 + 50 * i), score=0.97)
                 for i, t in enumerate(texts)]
        return build_rows(OcrResult(media_type="image/jpeg", fingerprint="test",
                                    pages=[OcrPage(index=0, width=1000, height=1400, lines=lines, source="ocr")]))

    rows = rows_of("诊断证明书", "兹有患者陶媛姣，女，因头晕于我院就诊")
    found = name_on_page(rows, ["陶媛姣"])
    assert found is not None and (found.value, found.page) == ("陶媛姣", 0)
    assert found.confidence is not None and found.confidence <= 0.85
    assert found.box is not None and found.box.y0 == 150
    assert name_on_page(rows_of("主治医师：张明华"), ["张明"]) is None
    assert name_on_page(rows_of("兹有患者李四因头晕就诊"), ["张三", "王五"]) is None
    assert name_on_page(rows_of("代办人王五"), ["张三", "王五"]).value == "王五"  # the agent's, for its check


def test_the_pipeline_reads_an_unlabelled_applicants_name() -> None:
    from classifiers.diagnosis import DiseaseCatalogue
    from classifiers.hospital import HospitalRegistry
    from classifiers.pipeline import analyse_document
    from classifiers.types import SealFinding
    from intake.settings import REPO_ROOT

    lines = ["XX市人民医院", "诊断证明书", "兹有患者陶媛姣，女，45岁，因头晕于我院就诊", "诊断：高血压病3级",
             "日期：2026年3月1日"]
    ocr = OcrResult(media_type="image/jpeg", fingerprint="test", pages=[OcrPage(
        index=0, width=1000, height=1400, source="ocr",
        lines=[OcrLine(text=t, box=Box(x0=100, y0=100 + 60 * i, x1=100 + 28 * len(t), y1=130 + 60 * i), score=0.98)
               for i, t in enumerate(lines)])])
    ctx = DocumentContext(application_date=dt.date(2026, 3, 20), applicant_name="陶媛姣",
                          id_number="110101198001010016", disease="高血压")
    registry = HospitalRegistry.from_csv(REPO_ROOT / "fixtures" / "registry" / "hospitals.csv")
    analysis = analyse_document(ocr, [], SealFinding(present=False), lambda _t: ctx, registry=registry,
                                catalogue=DiseaseCatalogue.load())
    assert analysis.fields.patient_name is not None and analysis.fields.patient_name.value == "陶媛姣"
    assert analysis.checks.identity.name_matches is True
