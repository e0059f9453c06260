"""Identity: GB 11643 validity, name and ID number against the application."""

from __future__ import annotations

import datetime as dt

import pytest

from classifiers.identity import check_identity as _check
from classifiers.identity import names_match, validate_id_number
from classifiers.types import DocumentContext, ExtractedFields, FieldValue, IdentityCheck, Outcome

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
    THEN that is not an identity_mismatch told to the applicant, but unknown with a reason;
    a two-character difference, or the same misread on the ID card itself, still fails."""
    ctx = DocumentContext(application_date=dt.date(2026, 5, 6), applicant_name="戴馥薇", id_number=None)

    def fields(name: str) -> ExtractedFields:
        return ExtractedFields(patient_name=FieldValue(value=name, page=0))

    misread = _check(fields("戴旅薇"), ctx, is_identity_document=False)
    assert misread.outcome == Outcome.UNKNOWN and misread.name_matches is None and "人工核对" in (misread.reason or "")
    other = _check(fields("戴旅华"), ctx, is_identity_document=False)
    assert other.outcome == Outcome.FAIL and other.name_matches is False
    on_id_card = _check(fields("戴旅薇"), ctx, is_identity_document=True)
    assert on_id_card.outcome == Outcome.FAIL and on_id_card.name_matches is False
