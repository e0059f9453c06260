"""Applications: the model, the check of a new application sent to the service, and the folders
given to the command line."""

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from stdnum.cn import ric

from classifiers.diagnosis import DiseaseCatalogue
from intake import clock
from intake.application import (
    Application,
    check_folder_application,
    id_number_problem,
    load_application,
    parse_application,
    regions_and_diseases,
    validate_application,
)
from intake.errors import ApplicationInvalid, FieldError
from intake.policy import PolicyBook, load_policies
from intake.settings import POLICIES_DIR, REPO_ROOT

GOOD = {
    "applicant_name": "张三",
    "id_number": "11010519491231002x",
    "disease": "糖尿病",
    "region": "绥化市",
    "application_date": "2026-03-05",
}
TODAY = dt.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    """The service's clock reads TODAY (folders' dates are checked against it)."""
    with clock.frozen(TODAY):
        yield


def test_application_and_its_files_are_loaded(tmp_path: Path) -> None:
    (tmp_path / "application.json").write_text(json.dumps(GOOD, ensure_ascii=False), "utf-8")
    (tmp_path / "b.jpg").write_bytes(b"x")
    (tmp_path / "a.pdf").write_bytes(b"x")
    (tmp_path / "truth.json").write_text("{}", "utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"x")
    application, files = load_application(tmp_path)
    assert application.id_number.endswith("X")
    assert application.case_id is None
    assert [f.name for f in files] == ["a.pdf", "b.jpg"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "application.json is missing"),
        ("{not json", "cannot read application.json"),
        (json.dumps({**GOOD, "application_date": "2026-13-40"}), "application_date"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "disease"}), "disease"),
    ],
)
def test_bad_application_json_says_what_to_fix(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "application.json").write_text(content, "utf-8")
    with pytest.raises(ApplicationInvalid, match=message):
        load_application(tmp_path)


# --- the model --------------------------------------------------------------------------------------

SAMPLES = sorted((REPO_ROOT / "fixtures" / "samples").glob("*/application.json"))
# The generator gave this case's applicant the same mistyped number its ID card photo shows.
INVALID_ID_SAMPLE = "c11_shennongjia_id_invalid"


def with_check_digit(first17: str) -> str:
    """A 公民身份号码 with the right check digit for its first 17 digits."""
    return first17 + ric.calc_check_digit(first17 + "0")


def app_of(**changes: object) -> Application:
    return Application.model_validate({**GOOD, **changes})


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "\u3000\u3000"])
def test_a_blank_applicant_name_is_refused_after_stripping(name: str) -> None:
    with pytest.raises(ValidationError, match="applicant_name"):
        app_of(applicant_name=name)


@pytest.mark.parametrize("field", ["id_number", "disease"])
def test_other_blank_required_fields_are_refused_after_stripping(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        app_of(**{field: "  "})


def test_fields_are_stripped_and_the_id_number_upper_cased() -> None:
    application = app_of(applicant_name=" 张三 ", id_number=" 11010519491231002x ", region=" 绥化市 ")
    assert (application.applicant_name, application.id_number, application.region) == (
        "张三", "11010519491231002X", "绥化市")


@pytest.mark.parametrize("date", [0, 20260305, "0", "20260305", "2026/03/05", 1.5e9])
def test_an_application_date_that_is_not_yyyy_mm_dd_is_refused(date: object) -> None:
    """GIVEN a number or "0" (which pydantic would read as a Unix timestamp, 1970-01-01)."""
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        app_of(application_date=date)


def test_an_application_date_may_be_a_date_object() -> None:
    assert app_of(application_date=dt.date(2026, 3, 5)).application_date == dt.date(2026, 3, 5)


# --- validate_application: a new application sent to the service --------------------------------------


@pytest.fixture(scope="module")
def policies() -> PolicyBook:
    return load_policies(POLICIES_DIR)


@pytest.fixture(scope="module")
def catalogue() -> DiseaseCatalogue:
    return DiseaseCatalogue.load()


def problems(application: Application, policies: PolicyBook, catalogue: DiseaseCatalogue, *,
             today: dt.date = TODAY, unknown_region: str = "refuse") -> list[FieldError]:
    """The field errors ``validate_application`` raises, or [] when it accepts the application."""
    try:
        validate_application(application, policies=policies, catalogue=catalogue, today=today,
                             unknown_region=unknown_region)
    except ApplicationInvalid as exc:
        assert exc.errors, "ApplicationInvalid without field errors"
        assert str(exc) == "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        return exc.errors
    return []


def test_a_valid_application_passes(policies: PolicyBook, catalogue: DiseaseCatalogue) -> None:
    assert problems(app_of(), policies, catalogue) == []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.parent.name)
def test_the_sample_applications_pass(sample: Path, policies: PolicyBook, catalogue: DiseaseCatalogue) -> None:
    application = Application.model_validate_json(sample.read_text("utf-8"))
    found = problems(application, policies, catalogue)
    if sample.parent.name == INVALID_ID_SAMPLE:
        assert [e.field for e in found] == ["id_number"]
        assert "校验位" in found[0].message
    else:
        assert found == []


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        ("110105491231002", "15位的第一代身份证号码已停止使用"),
        ("1101051949123100", "应为18位，填写的是16位"),
        ("11010519491231002XX", "应为18位，填写的是19位"),
        ("11010519491231O02X", "只能由数字组成"),
        ("1101051949 231002X", "只能由数字组成"),
        ("１１０１０５１９４９１２３１００２X", "只能由数字组成"),  # full-width digits
        ("X10105194912310020", "只能由数字组成"),
        (with_check_digit("11010519491331002"), "第7至14位的出生日期“19491331”不是有效日期"),
        (with_check_digit("11010520190229002"), "“20190229”不是有效日期"),
        (with_check_digit("11010520261201002"), "出生日期2026年12月1日晚于今天"),
        (with_check_digit("11010519061129002"), "出生日期1906年11月29日距今超过120年"),
        ("110105194912310021", "校验位不符"),
    ],
)
def test_each_id_number_problem_is_named(id_number: str, message: str, policies: PolicyBook,
                                         catalogue: DiseaseCatalogue) -> None:
    found = problems(app_of(id_number=id_number), policies, catalogue)
    assert [e.field for e in found] == ["id_number"]
    assert message in found[0].message
    assert "请" in found[0].message  # followed by what to do


@pytest.mark.parametrize("born", ["19061130", "20261130", "20000229"])
def test_birth_dates_at_the_limits_are_accepted(born: str) -> None:
    """Born exactly 120 years ago, or today, is possible; so is 29 February of a leap year."""
    assert id_number_problem(with_check_digit(f"110105{born}002"), TODAY) is None


def test_an_x_check_digit_is_accepted() -> None:
    assert ric.calc_check_digit("11010519491231002X") == "X"
    assert id_number_problem("11010519491231002X", TODAY) is None


def test_120_years_before_29_february_counts_from_28_february() -> None:
    leap_day = dt.date(2020, 2, 29)  # 1900 was no leap year
    assert id_number_problem(with_check_digit("11010519000228002"), leap_day) is None
    assert "超过120年" in (id_number_problem(with_check_digit("11010519000227002"), leap_day) or "")


def test_an_application_date_after_today_is_refused(policies: PolicyBook, catalogue: DiseaseCatalogue) -> None:
    found = problems(app_of(application_date="2026-12-01"), policies, catalogue)
    assert found == [FieldError("application_date", "申请日期2026年12月1日晚于今天（2026年11月30日），"
                                                    "请填写实际提出申请的日期。")]
    assert problems(app_of(application_date=TODAY.isoformat()), policies, catalogue) == []


def test_an_unknown_disease_is_refused_with_the_catalogue(policies: PolicyBook, catalogue: DiseaseCatalogue) -> None:
    found = problems(app_of(disease="感冒"), policies, catalogue)
    assert [e.field for e in found] == ["disease"]
    assert found[0].message.startswith("病种不在线上办理范围：“感冒”不是门诊慢特病病种目录中的病种。")
    for disease in catalogue.diseases:
        assert disease.name in found[0].message


@pytest.mark.parametrize("disease", ["2型糖尿病", "高血压", " 糖尿病 ", "慢性阻塞性肺疾病"])
def test_a_catalogue_name_or_alias_is_accepted(disease: str, policies: PolicyBook,
                                               catalogue: DiseaseCatalogue) -> None:
    assert problems(app_of(disease=disease), policies, catalogue) == []


def test_a_region_without_a_policy_is_refused_with_the_regions(policies: PolicyBook,
                                                               catalogue: DiseaseCatalogue) -> None:
    found = problems(app_of(region="哈尔滨市"), policies, catalogue)
    assert found == [FieldError("region", "参保地区“哈尔滨市”没有对应的门诊慢特病政策，请填写以下地区之一："
                                          "default、六盘水市、神农架林区、绥化市。")]


def test_a_blank_region_is_refused_as_not_filled_in(policies: PolicyBook, catalogue: DiseaseCatalogue) -> None:
    found = problems(app_of(region="  "), policies, catalogue)
    assert [e.field for e in found] == ["region"]
    assert found[0].message.startswith("未填写参保地区，请填写以下地区之一：")


@pytest.mark.parametrize("region", ["default", "绥化市", "神农架林区", "六盘水市"])
def test_every_region_with_a_policy_is_accepted(region: str, policies: PolicyBook,
                                                catalogue: DiseaseCatalogue) -> None:
    assert problems(app_of(region=region), policies, catalogue) == []


def test_with_unknown_region_default_an_unknown_region_is_accepted(policies: PolicyBook,
                                                                   catalogue: DiseaseCatalogue) -> None:
    application = app_of(region="哈尔滨市")
    assert problems(application, policies, catalogue, unknown_region="default") == []
    assert policies.for_region(application.region).region == "default"  # the policy it is assessed under


def test_an_unknown_unknown_region_mode_is_a_programming_error(policies: PolicyBook,
                                                               catalogue: DiseaseCatalogue) -> None:
    with pytest.raises(ValueError, match="unknown_region"):
        validate_application(app_of(), policies=policies, catalogue=catalogue, today=TODAY, unknown_region="accept")


def test_every_problem_is_reported_at_once(policies: PolicyBook, catalogue: DiseaseCatalogue) -> None:
    """GIVEN an application wrong in four fields WHEN it is validated THEN one error names each."""
    application = app_of(id_number="110105194912310021", application_date="2027-01-01", disease="感冒",
                         region="哈尔滨市")
    found = problems(application, policies, catalogue)
    assert [e.field for e in found] == ["id_number", "application_date", "disease", "region"]
    assert all("请" in e.message for e in found)


def test_the_problems_depend_on_today(policies: PolicyBook, catalogue: DiseaseCatalogue) -> None:
    application = app_of(application_date="2026-12-01")
    assert problems(application, policies, catalogue, today=dt.date(2026, 12, 1)) == []


def test_regions_and_diseases_lists_what_an_application_may_name(policies: PolicyBook,
                                                                 catalogue: DiseaseCatalogue) -> None:
    listed = regions_and_diseases(policies, catalogue)
    assert listed["regions"] == ["default", "六盘水市", "神农架林区", "绥化市"]
    assert listed["diseases"][:2] == ["高血压病", "糖尿病"]
    assert len(listed["diseases"]) == len(catalogue.diseases)


# --- application folders given to the command line ---------------------------------------------------


@pytest.mark.parametrize("date", ["2027-11-30", "2026-11-30", "1990-01-01", "2024-02-29"])
def test_a_folder_date_within_the_bounds_is_accepted(date: str) -> None:
    check_folder_application(app_of(application_date=date), TODAY)


@pytest.mark.parametrize(("date", "message"), [
    ("2027-12-01", "more than a year after today (2026-11-30)"),
    ("9999-12-31", "more than a year after today"),
    ("1989-12-31", "before 1990"),
    ("1970-01-01", "before 1990"),
])
def test_an_absurd_folder_date_is_refused(date: str, message: str) -> None:
    with pytest.raises(ApplicationInvalid, match=re.escape(message)) as info:
        check_folder_application(app_of(application_date=date), TODAY)
    assert [e.field for e in info.value.errors] == ["application_date"]


def test_a_folder_is_not_checked_like_a_new_application(tmp_path: Path) -> None:
    """The folder's details are operator data: a bad check digit, unknown 病种 or region pass."""
    odd = {**GOOD, "id_number": "110105194912310021", "disease": "感冒", "region": "哈尔滨市"}
    (tmp_path / "application.json").write_text(json.dumps(odd, ensure_ascii=False), "utf-8")
    application, _ = load_application(tmp_path)
    assert application.disease == "感冒"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({**GOOD, "application_date": "9999-12-31"}), "more than a year after today"),
        (json.dumps({**GOOD, "application_date": "1970-01-01"}), "before 1990"),
        (json.dumps({**GOOD, "application_date": 0}), "application_date: Value error, 0 is not a date; write it as "
                                                     "YYYY-MM-DD"),
        (json.dumps({**GOOD, "application_date": "0"}), "'0' is not a date"),
        (json.dumps({**GOOD, "applicant_name": "   "}), "applicant_name"),
        ("[]", "must hold one JSON object .* not a list"),
        ('"张三"', "not a string"),
        ("42", "not a number"),
        ("null", "not null"),
        ("[" * 100_000, "cannot read application.json"),
        ('{"application_date": ' + "9" * 5000 + "}", "cannot read application.json"),
        (b"\xff\xfe{}", "cannot read application.json"),
    ],
    ids=["date-9999", "date-1970", "date-0", "date-string-0", "blank-name", "list", "string", "number", "null",
         "deeply-nested", "huge-number", "not-utf8"],
)
def test_odd_application_json_gives_a_clear_error(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "application.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    with pytest.raises(ApplicationInvalid, match=message) as info:
        load_application(tmp_path)
    assert str(info.value).startswith(str(tmp_path))


def test_an_application_json_that_is_a_folder_is_explained(tmp_path: Path) -> None:
    (tmp_path / "application.json").mkdir()
    with pytest.raises(ApplicationInvalid, match=r"application\.json is not a file"):
        load_application(tmp_path)


def test_a_folder_date_error_keeps_its_field(tmp_path: Path) -> None:
    (tmp_path / "application.json").write_text(json.dumps({**GOOD, "application_date": "9999-12-31"}), "utf-8")
    with pytest.raises(ApplicationInvalid) as info:
        load_application(tmp_path)
    assert [e.field for e in info.value.errors] == ["application_date"]


# --- parse_application: a request's fields --------------------------------------------------------------


def test_parse_application_names_each_bad_field_in_chinese() -> None:
    fields = {**GOOD, "applicant_name": "   ", "disease": "", "application_date": "2026/03/05"}
    del fields["id_number"]
    with pytest.raises(ApplicationInvalid) as info:
        parse_application(fields)
    assert info.value.errors == [
        FieldError("applicant_name", "申请人姓名为空，请填写申请人姓名。"),
        FieldError("id_number", "公民身份号码为空，请填写公民身份号码。"),
        FieldError("disease", "病种为空，请填写病种。"),
        FieldError("application_date", "申请日期格式不对，请按YYYY-MM-DD填写，例如2026-03-05。"),
    ]


def test_parse_application_accepts_the_api_body_fields() -> None:
    fields = {**GOOD, "application_date": dt.date(2026, 3, 5)}
    assert parse_application(fields) == app_of()
