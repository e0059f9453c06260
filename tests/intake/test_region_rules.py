"""The rules the three regions state (issue 14), one test per rule, each quoting its source sentence
from docs/seeds/ (traditional characters, as the seed writes it): review deadlines, 复杂病例, the
restart of the deadline after 补正, the disease lists, 复审 periods and identity proofs.

The sample applications of fixtures/samples/region_rules/ (a disease outside the list, a supplement
that restarts the deadline) run here too: through the API and the `intake` command."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from classifiers.diagnosis import DiseaseCatalogue
from classifiers.types import DocType, IdentityCheck, Outcome
from intake import clock
from intake.application import Application as ApplicationData
from intake.application import validate_application
from intake.assess import satisfies
from intake.db import session_factory
from intake.errors import ApplicationInvalid
from intake.models import Application, ApplicationStatus, Case, Channel, DocumentStatus
from intake.policy import Policy, PolicyBook
from intake.regions import (
    covered_diseases,
    disease_coverage,
    list_problems,
    qualification_valid_until,
)
from intake.report import DocumentReport
from intake.service import (
    add_document,
    assess_if_ready,
    cases_of,
    create_application,
    mark_complex,
    qualifications_due,
    record_qualification,
    submit,
)
from intake.settings import POLICIES_DIR
from tests.api.conftest import Service, db_url, service, shared_prescreener  # noqa: F401  (fixtures)
from tests.intake.test_assess import complete, doc

RULE_SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "region_rules"
OUTSIDE = RULE_SAMPLES / "r01_suihua_disease_outside_list"
RESTART = RULE_SAMPLES / "r02_liupanshui_supplement_restarts_deadline"
TODAY = dt.date(2026, 11, 30)
APPLICANT = {"applicant_name": "张三", "id_number": "11010519491231002X", "application_date": "2026-03-05"}
runner = CliRunner()


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook.load(POLICIES_DIR)


@pytest.fixture(scope="module")
def catalogue() -> DiseaseCatalogue:
    return DiseaseCatalogue.load()


def refusal(book: PolicyBook, catalogue: DiseaseCatalogue, region: str, disease: str) -> str | None:
    """The disease field's error when an application for ``disease`` is made in ``region``."""
    data = ApplicationData.model_validate({**APPLICANT, "region": region, "disease": disease})
    try:
        validate_application(data, policies=book, catalogue=catalogue, today=TODAY, unknown_region="refuse")
    except ApplicationInvalid as exc:
        return next((e.message for e in exc.errors if e.field == "disease"), None)
    return None


# --- review deadlines ------------------------------------------------------------------------------


def test_liupanshui_reviews_within_half_a_working_day(book: PolicyBook) -> None:
    """六盤水: "線上申請：全年365天24小時開放，提交後0.5個工作日內完成審核。"
    Half a working day ends on the day of submission, or on the next working day after a weekend."""
    policy = book.for_region("六盘水市")
    assert policy.review_sla_working_days == 0.5
    assert policy.review_due(dt.date(2026, 3, 5)) == dt.date(2026, 3, 5)  # a Thursday
    assert policy.review_due(dt.date(2026, 3, 7)) == dt.date(2026, 3, 9)  # Saturday -> Monday


def test_suihua_reviews_within_three_working_days_and_five_for_a_complex_case(book: PolicyBook) -> None:
    """綏化: "線上提交後，醫保部門一般在1-3個工作日完成審核，複雜病例可能延長至5個工作日。" """
    policy = book.for_region("绥化市")
    assert (policy.review_sla_working_days, policy.review_sla_complex_working_days) == (3, 5)
    assert policy.review_due(dt.date(2026, 3, 5)) == dt.date(2026, 3, 10)  # Thu -> Fri, Mon, Tue
    assert policy.review_due(dt.date(2026, 3, 5), complex_case=True) == dt.date(2026, 3, 12)


def test_shennongjia_states_no_deadline_so_the_default_applies(book: PolicyBook) -> None:
    """神農架: "提交申請後，神農架林區的醫療保障經辦機構將對申請材料進行審核。" — no deadline is stated."""
    default, policy = book.for_region("default"), book.for_region("神农架林区")
    assert policy.review_sla_working_days == default.review_sla_working_days == 3
    assert policy.review_sla_complex_working_days is None
    # A complex mark changes nothing where the region states no longer deadline.
    assert policy.review_due(dt.date(2026, 3, 5), complex_case=True) == policy.review_due(dt.date(2026, 3, 5))


def test_every_number_of_the_policies_is_the_seeds_or_the_defaults(book: PolicyBook) -> None:
    """六盤水: "出院小結或門診病歷（近一年內）。" 綏化: "近3個月內相關化驗、影像等報告" and
    "二級及以上定點醫療機構出具的疾病診斷證明"; 六盤水: "疾病證明書（二級及以上醫療機構出具）"."""
    for region in ("六盘水市", "绥化市", "神农架林区", "default"):
        policy = book.for_region(region)
        assert policy.recency_limit_days[DocType.DISCHARGE_SUMMARY] == 365
        assert policy.recency_limit_days[DocType.MEDICAL_RECORD] == 365
        assert policy.recency_limit_days[DocType.LAB_REPORT] == 90
        assert policy.min_grade[DocType.DIAGNOSIS_CERTIFICATE] == "二级"


# --- the deadline restarts after 补正 ----------------------------------------------------------------


@pytest.fixture
def sessions(db_url: str):  # noqa: F811  (db_url: the API tests' fixture, SQLite and PostgreSQL)
    factory = session_factory(db_url)
    with factory.begin() as session:
        session.add(Channel(id="app-r", name="app-r", role="app", api_key_sha256="r" * 64, callback_secret="s"))
        session.add(Channel(id="app-s", name="app-s", role="app", api_key_sha256="s" * 64, callback_secret="s"))
    return factory


def _new_application(session: Session, region: str, disease: str = "糖尿病", channel: str = "app-r") -> Application:
    data = ApplicationData.model_validate({**APPLICANT, "region": region, "disease": disease})
    return create_application(session, channel=session.get_one(Channel, channel), data=data, external_ref=None,
                              callback_url=None)


def _submit_round(session: Session, app: Application, book: PolicyBook, reports: list[DocumentReport],
                  day: dt.date) -> Case:
    """Store ``reports`` as the round's read documents, submit on ``day`` and assess (no OCR)."""
    for report in reports:
        sha256 = hashlib.sha256(f"{report.file}:{app.round + 1}".encode()).hexdigest()
        added = add_document(session, app=app, actor="test", filename=report.file, sha256=sha256, size=1,
                             media_type="image/jpeg", max_files=50)
        added.document.status, added.document.report = DocumentStatus.DONE, report.model_dump(mode="json")
    session.flush()
    session.expire(app, ["documents"])  # the new rows, as a later request would load them
    submit(session, app=app, actor="test", at=clock.start_of_day(day))
    case = assess_if_ready(session, app, policies=book, actor="test", fingerprint="test")
    assert case is not None
    return case


def test_a_supplement_restarts_the_review_deadline(sessions, book: PolicyBook) -> None:
    """六盤水: "補正材料：如材料不全，系統將一次性告知需補正內容，補正後重新計算審核時限。"
    GIVEN round 1 without a lab report, submitted Thursday 2026-03-05 (due that day: 0.5 working day)
    WHEN the lab report is supplied on Saturday 2026-03-07
    THEN round 2's deadline counts from the supplement (Monday 03-09); round 1 keeps its own."""
    with sessions.begin() as session:
        app = _new_application(session, "六盘水市")
        first = _submit_round(session, app, book, complete()[:3], dt.date(2026, 3, 5))
        assert (first.verdict, first.problems, first.review_due) == (
            "needs_supplement", ["missing:lab_report"], dt.date(2026, 3, 5))
        second = _submit_round(session, app, book, complete()[3:], dt.date(2026, 3, 7))
        assert (second.round, second.verdict, second.review_due) == (2, "ready_for_review", dt.date(2026, 3, 9))
        assert second.report["review_due"] == "2026-03-09"
        assert [c.review_due for c in cases_of(session, app)] == [dt.date(2026, 3, 5), dt.date(2026, 3, 9)]


def test_a_case_marked_complex_gets_the_longer_deadline_and_keeps_it_after_a_supplement(
    sessions, book: PolicyBook
) -> None:
    """綏化: "複雜病例可能延長至5個工作日。" GIVEN a case due in 3 working days WHEN a reviewer marks it
    complex THEN it is due in 5, counted from the same submission, and a 补正 round keeps the mark."""
    with sessions.begin() as session:
        app = _new_application(session, "绥化市")
        first = _submit_round(session, app, book, complete()[:3], dt.date(2026, 3, 5))
        assert first.review_due == dt.date(2026, 3, 10)
        marked = mark_complex(session, app, policies=book, actor="reviewer")
        assert marked is first and first.review_due == dt.date(2026, 3, 12)
        assert first.report["review_due"] == "2026-03-12"
        second = _submit_round(session, app, book, complete()[3:], dt.date(2026, 3, 9))
        assert second.review_due == book.for_region("绥化市").review_due(dt.date(2026, 3, 9), complex_case=True)
        assert second.review_due == dt.date(2026, 3, 16)  # Mon 03-09 + 5 working days
        unmarked = mark_complex(session, app, policies=book, actor="reviewer", complex_case=False)
        assert unmarked is second and second.review_due == dt.date(2026, 3, 12)


# --- disease lists -------------------------------------------------------------------------------------


def _listed(policy: Policy) -> dict[str, dict[str, str]]:
    return {cls: {entry.disease: entry.basis for entry in c.diseases} for cls, c in policy.disease_list.classes.items()}


def test_liupanshui_lists_49_diseases_in_three_classes_of_which_the_seed_names_examples(book: PolicyBook) -> None:
    """六盤水: "六盤水市將49種門診慢特病納入保障，分為三大類：門診慢性病（19種）：如風濕性心臟病、高血壓（有心、
    腦、腎、眼並發症）、糖尿病（有並發症）等。門診特殊疾病（12種）：如惡性腫瘤、慢性白血病、慢性腎功能衰竭透析
    治療、再生障礙性貧血、器官移植術後抗排異治療等。本地擴展病種（18種）：如支氣管哮喘、重性精神病（含精神分裂症、
    雙相情感障礙等）等。" """
    policy = book.for_region("六盘水市")
    classes = policy.disease_list.classes
    assert {name: c.stated_count for name, c in classes.items()} == {"门诊慢性病": 19, "门诊特殊疾病": 12,
                                                                   "本地扩展病种": 18}
    assert not policy.disease_list.complete  # examples only
    listed = _listed(policy)
    assert listed["门诊慢性病"] == {"风湿性心脏病": "seed", "高血压病": "seed", "糖尿病": "seed"}
    assert set(listed["门诊特殊疾病"]) == {"恶性肿瘤", "慢性白血病", "慢性肾功能衰竭", "再生障碍性贫血",
                                      "器官移植术后抗排异治疗"}
    assert {"支气管哮喘", "重性精神病", "癫痫"} <= set(listed["本地扩展病种"])
    assert {basis for c in listed.values() for basis in c.values()} == {"seed"}


def test_hubei_lists_its_special_diseases_and_its_chronic_class(book: PolicyBook) -> None:
    """神農架/湖北: "該目錄包含門診特殊疾病和門診慢性病兩大類。其中，門診特殊疾病通常有11種，例如惡性腫瘤門診治療、
    慢性腎功能衰竭透析、器官移植抗排異治療、重性精神病、血友病等。" """
    policy = book.for_region("神农架林区")
    assert policy.disease_list.classes["门诊特殊疾病"].stated_count == 11
    assert _listed(policy)["门诊特殊疾病"] == dict.fromkeys(
        ["恶性肿瘤", "慢性肾功能衰竭", "器官移植术后抗排异治疗", "重性精神病", "血友病"], "seed")
    # The seed names the 门诊慢性病 class but none of its 病种: what is listed there is marked as ours.
    assert set(_listed(policy)["门诊慢性病"].values()) == {"assumption"}
    assert not policy.disease_list.complete


def test_suihua_names_common_special_diseases_and_says_the_list_is_partial(book: PolicyBook) -> None:
    """綏化: "目前黑龍江省及綏化市線上辦理主要覆蓋部分門診慢性病和門診特殊疾病，具體病種清單需咨詢本地醫保部門"
    and "常見門診特病包括惡性腫瘤、尿毒癥透析、器官移植術後抗排異治療等"."""
    policy = book.for_region("绥化市")
    assert _listed(policy)["门诊特殊疾病"] == dict.fromkeys(["恶性肿瘤", "慢性肾功能衰竭", "器官移植术后抗排异治疗"],
                                                       "seed")
    assert set(_listed(policy)["门诊慢性病"].values()) == {"assumption"}
    assert not policy.disease_list.complete


def test_every_listed_disease_is_a_disease_of_the_catalogue(book: PolicyBook, catalogue: DiseaseCatalogue) -> None:
    for region in book.regions:
        assert list_problems(book.for_region(region).disease_list, catalogue) == [], region


@pytest.mark.parametrize(("region", "claimed", "disease", "disease_class"), [
    ("六盘水市", "高血压（有心、脑、肾、眼并发症）", "高血压病", "门诊慢性病"),
    ("六盘水市", "高血压(有心脑肾眼并发症)", "高血压病", "门诊慢性病"),
    ("六盘水市", "高血压（有并发症）", "高血压病", "门诊慢性病"),
    ("六盘水市", "糖尿病（有并发症）", "糖尿病", "门诊慢性病"),
    ("六盘水市", "慢性肾功能衰竭透析治疗", "慢性肾功能衰竭", "门诊特殊疾病"),
    ("六盘水市", "重性精神病（含精神分裂症、双相情感障碍等）", "重性精神病", "本地扩展病种"),
    ("神农架林区", "恶性肿瘤门诊治疗", "恶性肿瘤", "门诊特殊疾病"),
    ("神农架林区", "慢性肾功能衰竭透析", "慢性肾功能衰竭", "门诊特殊疾病"),
    ("神农架林区", "器官移植抗排异治疗", "器官移植术后抗排异治疗", "门诊特殊疾病"),
    ("神农架林区", "重性精神病", "重性精神病", "门诊特殊疾病"),
    ("绥化市", "尿毒症透析", "慢性肾功能衰竭", "门诊特殊疾病"),
    ("绥化市", "恶性肿瘤", "恶性肿瘤", "门诊特殊疾病"),
])
def test_the_sources_names_and_their_short_forms_are_accepted(
    book: PolicyBook, catalogue: DiseaseCatalogue, region: str, claimed: str, disease: str, disease_class: str
) -> None:
    """六盤水: "高血壓（有心、腦、腎、眼並發症）、糖尿病（有並發症）"; 湖北: "惡性腫瘤門診治療、慢性腎功能衰竭透析、
    器官移植抗排異治療、重性精神病"; 綏化: "尿毒癥透析"."""
    coverage = disease_coverage(book.for_region(region), claimed, catalogue)
    assert coverage.disease is not None and coverage.disease.name == disease
    assert (coverage.disease_class, coverage.covered) == (disease_class, True)
    assert refusal(book, catalogue, region, claimed) is None


def test_a_partial_list_does_not_refuse_a_disease_of_the_catalogue(book: PolicyBook,
                                                                 catalogue: DiseaseCatalogue) -> None:
    """六盤水 names 49 病种 by example only ("如…等"): 帕金森病 is not among the examples, but refusing it
    would turn away applicants the region may cover; it is taken, and marked as not listed."""
    coverage = disease_coverage(book.for_region("六盘水市"), "帕金森病", catalogue)
    assert coverage.covered and not coverage.listed
    assert refusal(book, catalogue, "六盘水市", "帕金森病") is None


def test_a_disease_outside_the_catalogue_is_refused_with_the_diseases_the_region_takes(
    book: PolicyBook, catalogue: DiseaseCatalogue
) -> None:
    """綏化: "審核不通過 … 材料不全、診斷不符、病種不在線上辦理範圍" — refused at creation, with what it takes."""
    message = refusal(book, catalogue, "绥化市", "颈椎病")
    assert message is not None and message.startswith("病种不在线上办理范围：“颈椎病”不是门诊慢特病病种目录中的病种")
    names = covered_diseases(book.for_region("绥化市"), catalogue)
    assert names[:3] == ["恶性肿瘤", "慢性肾功能衰竭", "器官移植术后抗排异治疗"]  # the region's own first
    assert all(name in message for name in names) and len(names) == len(catalogue.diseases)
    assert "黑龙江省绥化市" in message and "医保经办机构" in message


def test_a_complete_list_refuses_a_catalogue_disease_it_does_not_name(tmp_path: Path,
                                                                     catalogue: DiseaseCatalogue) -> None:
    """A province that loads its full list (complete: true) refuses what the list leaves out."""
    for path in POLICIES_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    text = (tmp_path / "liupanshui.yaml").read_text("utf-8")
    (tmp_path / "liupanshui.yaml").write_text(text.replace("  complete: false\n", "  complete: true\n", 1), "utf-8")
    book = PolicyBook.load(tmp_path)
    assert book.for_region("六盘水市").disease_list.complete
    message = refusal(book, catalogue, "六盘水市", "帕金森病")
    assert message is not None and "不在贵州省六盘水市的门诊慢特病病种清单中" in message
    assert "风湿性心脏病" in message and "冠心病" not in message
    assert refusal(book, catalogue, "六盘水市", "糖尿病（有并发症）") is None
    assert refusal(book, catalogue, "绥化市", "帕金森病") is None  # other regions keep their partial lists



def test_a_list_naming_a_disease_the_catalogue_lacks_stops_the_service_at_start(tmp_path: Path,
                                                                             catalogue: DiseaseCatalogue) -> None:
    """A province edits its list: a 病种 written other than the catalogue writes it is named at start-up."""
    from intake.errors import PolicyError
    from intake.startup import check_policies

    for path in POLICIES_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    text = (tmp_path / "suihua.yaml").read_text("utf-8")
    (tmp_path / "suihua.yaml").write_text(text.replace("{disease: 恶性肿瘤, names: [恶性肿瘤]",
                                                       "{disease: 癌症, names: [恶性肿瘤]", 1), "utf-8")
    with pytest.raises(PolicyError, match="disease_list: 门诊特殊疾病: '癌症' is not a 病种 name of the catalogue"):
        check_policies(tmp_path, catalogue)

# --- qualification validity and 复审 ---------------------------------------------------------------


def test_hubei_qualifications_expire_after_two_three_or_five_years(book: PolicyBook) -> None:
    """神農架/湖北: "門診慢特病資格並非永久有效，部分病種有固定的復審期限，例如2年、3年或5年，到期後需按規定
    重新申請或復審。" Which 病种 has which period is this project's assumption (marked in the file)."""
    policy = book.for_region("神农架林区")
    approved = dt.date(2026, 3, 5)
    periods = {name: p.years for name, p in policy.qualification_validity.diseases.items()}
    assert sorted(periods.values()) == [2, 3, 5]
    assert {p.basis for p in policy.qualification_validity.diseases.values()} == {"assumption"}
    assert qualification_valid_until(policy, "恶性肿瘤门诊治疗", approved) == dt.date(2028, 3, 4)
    assert qualification_valid_until(policy, "重性精神病", approved) == dt.date(2029, 3, 4)
    assert qualification_valid_until(policy, "器官移植抗排异治疗", approved) == dt.date(2031, 3, 4)
    assert qualification_valid_until(policy, "糖尿病", approved) is None  # 部分病種: the others do not expire


def test_liupanshui_qualifications_last_except_after_cancer_surgery(book: PolicyBook) -> None:
    """六盤水: "大部分病種長期有效，部分病種需定期復審（如惡性腫瘤術後），具體以醫保部門通知為準。" """
    policy = book.for_region("六盘水市")
    assert qualification_valid_until(policy, "恶性肿瘤", dt.date(2024, 2, 29)) == dt.date(2026, 2, 28)
    assert qualification_valid_until(policy, "高血压（有心、脑、肾、眼并发症）", dt.date(2026, 3, 5)) is None
    assert qualification_valid_until(book.for_region("绥化市"), "恶性肿瘤", dt.date(2026, 3, 5)) is None


def test_approved_qualifications_are_listed_for_re_review_in_a_date_range(
    sessions, book: PolicyBook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str  # noqa: F811
) -> None:
    """An approved case records its valid-until date; operators (all apps) and each app (its own) list
    those due in a range, and so does `intake review-due-list`."""
    with sessions.begin() as session:
        cancer = _new_application(session, "神农架林区", "恶性肿瘤门诊治疗")
        psych = _new_application(session, "神农架林区", "重性精神病", channel="app-s")
        diabetes = _new_application(session, "神农架林区", "糖尿病")
        for app in (cancer, psych, diabetes):
            _submit_round(session, app, book, complete(), dt.date(2026, 3, 5))
            app.status = ApplicationStatus.APPROVED  # the reviewer's decision (intake.workspace)
        assert record_qualification(session, cancer, approved_on=dt.date(2026, 3, 6), policies=book,
                                    actor="reviewer") == dt.date(2028, 3, 5)
        assert record_qualification(session, psych, approved_on=dt.date(2026, 3, 6), policies=book,
                                    actor="reviewer") == dt.date(2029, 3, 5)
        assert record_qualification(session, diabetes, approved_on=dt.date(2026, 3, 6), policies=book,
                                    actor="reviewer") is None
        ids = {"cancer": cancer.id, "psych": psych.id}
    with sessions() as session:
        every = qualifications_due(session, start=dt.date(2028, 1, 1), end=dt.date(2029, 12, 31))
        assert [(a.id, c.qualification_valid_until) for a, c in every] == [
            (ids["cancer"], dt.date(2028, 3, 5)), (ids["psych"], dt.date(2029, 3, 5))]
        assert [a.id for a, _ in qualifications_due(session, start=dt.date(2028, 1, 1), end=dt.date(2028, 12, 31))
                ] == [ids["cancer"]]
        own = qualifications_due(session, start=dt.date(2028, 1, 1), end=dt.date(2029, 12, 31),
                                 channel=session.get_one(Channel, "app-s"))
        assert [a.id for a, _ in own] == [ids["psych"]]
        assert qualifications_due(session, start=dt.date(2028, 1, 1), end=dt.date(2029, 12, 31), region="绥化市") == []

    from intake.cli import app as cli
    from intake.settings import get_settings

    monkeypatch.setenv("INTAKE_DB__URL", db_url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["review-due-list", "--from", "2028-01-01", "--to", "2028-12-31",
                                     "--region", "神农架林区", "--json"])
        wrong = runner.invoke(cli, ["review-due-list", "--from", "2028-12-31", "--to", "2028-01-01"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert [(r["application_id"], r["valid_until"]) for r in json.loads(result.stdout)] == [
        (ids["cancer"], "2028-03-05")]
    assert wrong.exit_code == 2 and "before --from" in wrong.output


# --- identity proofs -------------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "kind", "accepted"), [
    ("绥化市", "medical_insurance_code", True),
    ("绥化市", "social_security_card", True),
    ("六盘水市", "medical_insurance_code", False),
    ("六盘水市", "social_security_card", True),
    ("神农架林区", "medical_insurance_code", False),
    ("神农架林区", "social_security_card", True),
    ("default", "medical_insurance_code", True),
    ("绥化市", "resident_id_back", False),
])
def test_identity_proofs_each_region_accepts(book: PolicyBook, region: str, kind: str, accepted: bool) -> None:
    """綏化: "身份證正反面、醫保電子憑證或社保卡"; 六盤水: "身份證或社會保障卡電子版/復印件。";
    神農架: "本人身份證或社會保障卡(醫保卡)". A 医保电子凭证 screenshot proves identity only where named."""
    rule = book.for_region(region).required_materials["identity_proof"]
    assert satisfies(doc("proof.jpg", DocType.ID_CARD, kind), rule) is accepted


def test_an_e_certificate_where_the_region_names_only_cards_is_a_flag_not_a_demand(book: PolicyBook) -> None:
    """六盤水: "身份證或社會保障卡電子版/復印件。" A 医保电子凭证 that shows the applicant's own number is
    not a form the source names, but it does identify them: the reviewer decides, the applicant is
    not told to upload an ID card they may already have shown in substance."""
    from intake.assess import assess
    from tests.intake.test_assess import APP, checks

    docs = [d for d in complete() if d.doc_type != DocType.ID_CARD]
    app = APP.model_copy(update={"region": "六盘水市"})
    e_cert = doc("医保码.jpg", DocType.ID_CARD, "medical_insurance_code")
    result = assess(app, book.for_region("六盘水市"), [*docs, e_cert], submitted=app.application_date)
    assert result.problems == [] and [f.code for f in result.review_flags] == ["missing:identity_proof"]
    # Its number not confirmed (another person's screen, or unread): a demand as before.
    unconfirmed = e_cert.model_copy(update={"checks": checks(identity=IdentityCheck(outcome=Outcome.UNKNOWN))})
    result = assess(app, book.for_region("六盘水市"), [*docs, unconfirmed], submitted=app.application_date)
    assert result.problems == ["missing:identity_proof"]
    # The back of the ID card shows no number at all: a demand.
    back = doc("背面.jpg", DocType.ID_CARD, "resident_id_back")
    assert assess(app, book.for_region("六盘水市"), [*docs, back],
                  submitted=app.application_date).problems == ["missing:identity_proof"]


# --- the sample applications (fixtures/samples/region_rules) ---------------------------------------


def _sample(folder: Path) -> tuple[dict, dict]:
    return (json.loads((folder / "application.json").read_text("utf-8")),
            json.loads((folder / "truth.json").read_text("utf-8")))


@pytest.mark.redis
def test_the_api_refuses_the_outside_list_sample_at_creation(service: Service) -> None:  # noqa: F811
    """綏化: "病種不在線上辦理範圍" — the POST of the application answers 422, naming the disease field."""
    body, truth = _sample(OUTSIDE)
    body.pop("case_id")
    answer = service.client.post("/v1/applications", json=body, headers=service.headers("app-a"))
    assert answer.status_code == truth["refusal"]["http_status"] == 422, answer.text
    assert truth["refusal"]["reason"] in answer.text and body["disease"] in answer.text
    assert service.client.get("/v1/applications", headers=service.headers("app-a")).json()["total"] == 0


def test_intake_prescreen_refuses_the_outside_list_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.cli import app as cli
    from intake.settings import get_settings

    _, truth = _sample(OUTSIDE)
    monkeypatch.setenv("INTAKE_DB__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["prescreen", str(OUTSIDE), "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == truth["refusal"]["cli_exit_code"] == 2, result.output
    assert "病种不在线上办理范围" in result.output and "恶性肿瘤" in result.output


@pytest.mark.redis
def test_reviewers_mark_a_case_complex_and_apps_and_operators_list_re_reviews(service: Service) -> None:  # noqa: F811
    body = {**APPLICANT, "region": "绥化市", "disease": "恶性肿瘤"}
    created = service.client.post("/v1/applications", json=body, headers=service.headers("app-a"))
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    not_yet = service.client.post(f"/v1/review/applications/{app_id}/complex", json={"complex": True},
                                  headers=service.headers("reviewer"))
    assert not_yet.status_code == 404  # nothing assessed yet: no deadline to move
    book = PolicyBook.load(service.settings.policies_dir)
    with service.sessions().begin() as session:
        app = session.get_one(Application, app_id)
        _submit_round(session, app, book, complete(), dt.date(2026, 3, 5))
    marked = service.client.post(f"/v1/review/applications/{app_id}/complex", json={"complex": True},
                                 headers=service.headers("reviewer"))
    assert marked.status_code == 200, marked.text
    assert marked.json()["review_due"] == "2026-03-12"
    assert service.client.get(f"/v1/applications/{app_id}", headers=service.headers("app-a")).json()[
        "review_due"] == "2026-03-12"
    forbidden = service.client.post(f"/v1/review/applications/{app_id}/complex", json={},
                                    headers=service.headers("app-a"))
    assert forbidden.status_code == 403

    with service.sessions().begin() as session:
        app = session.get_one(Application, app_id)
        app.status = ApplicationStatus.APPROVED
        # 绥化 states no 复审 period: nothing is due; give the qualification one to list it.
        assert record_qualification(session, app, approved_on=dt.date(2026, 3, 6), policies=book, actor="r") is None
        cases_of(session, app)[-1].qualification_valid_until = dt.date(2027, 3, 5)
    query = {"from": "2027-01-01", "to": "2027-12-31"}
    for channel, expected in (("app-a", [app_id]), ("app-b", []), ("ops", [app_id])):
        listed = service.client.get("/v1/applications/qualifications/due", params=query,
                                    headers=service.headers(channel))
        assert listed.status_code == 200, listed.text
        assert [q["application_id"] for q in listed.json()] == expected
    assert service.client.get("/v1/applications/qualifications/due", params=query,
                              headers=service.headers("reviewer")).status_code == 403
    backwards = service.client.get("/v1/applications/qualifications/due", params={"from": "2027-12-31",
                                                                                  "to": "2027-01-01"},
                                   headers=service.headers("ops"))
    assert backwards.status_code == 422


@pytest.mark.redis
@pytest.mark.ocr
def test_the_supplement_sample_restarts_the_deadline_through_the_api(service: Service) -> None:  # noqa: F811
    """六盤水: "補正後重新計算審核時限。" Round 1 of the sample (no lab report) is due the day it is
    submitted; the lab report in supplement/, submitted on the 端午 holiday, restarts the deadline."""
    body, truth = _sample(RESTART)
    body.pop("case_id")
    headers = service.headers("app-a")
    app_id = service.client.post("/v1/applications", json=body, headers=headers).json()["id"]
    for round_ in truth["rounds"]:
        files = [("files", (Path(name).name, (RESTART / name).read_bytes())) for name in round_["files"]]
        uploaded = service.client.post(f"/v1/applications/{app_id}/documents", files=files, headers=headers)
        assert uploaded.status_code == 201, uploaded.text
        with clock.frozen(dt.date.fromisoformat(round_["submitted_on"])):
            submitted = service.client.post(f"/v1/applications/{app_id}/submit", headers=headers)
        assert submitted.status_code == 202, submitted.text
        service.work()
        status = service.client.get(f"/v1/applications/{app_id}", headers=headers).json()
        assert (status["round"], status["verdict"], status["problems"], status["review_due"]) == (
            round_["round"], round_["verdict"], round_["problems"], round_["review_due"])
    history = service.client.get(f"/v1/applications/{app_id}/cases", headers=headers).json()
    assert [c["review_due"] for c in history] == [r["review_due"] for r in truth["rounds"]]

