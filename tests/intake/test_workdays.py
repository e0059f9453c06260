"""Working days for review deadlines: the committed schedule files agree with both libraries on every
day they cover; a deadline that counts a day of a year without a file is marked as an estimate; and
operators are warned from November on when next year's file is missing."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import chinese_calendar
import holidays
import pytest
from holidays.countries.china import ChinaStaticHolidays
from typer.testing import CliRunner

from api.schemas import ApplicationOut, CaseOut
from intake.assess import assess_round
from intake.cli import app as cli
from intake.errors import ConfigurationError
from intake.models import Application as ApplicationRow
from intake.models import Case
from intake.policy import Policy, PolicyBook
from intake.settings import POLICIES_DIR, WORKDAYS_DIR, Settings, get_settings
from intake.startup import check_configuration, warn_about_calendar
from intake.workdays import CalendarError, Deadline, WorkCalendar, read_year
from tests.intake.test_assess import APP, complete

COMMITTED = sorted(int(p.stem) for p in WORKDAYS_DIR.glob("*.yaml"))
# A test-only schedule for 2027 (NOT the State Council's, which is not published yet): 元旦 on Friday
# 1 January, and a working Saturday, enough to tell an exact deadline from a Mon–Fri estimate.
FAKE_2027 = """\
year: 2027
notice: 测试用（非国务院通知）
holidays:
  2027-01-01: 元旦
workdays:
  2027-01-09: 测试调休
"""
runner = CliRunner()


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.load(WORKDAYS_DIR)


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook.load(POLICIES_DIR)


def sla(book: PolicyBook, days: float) -> Policy:
    """The default policy with a review SLA of ``days`` working days (regions' own SLAs may change)."""
    return book.for_region("default").model_copy(update={"review_sla_working_days": days})


@pytest.fixture
def with_2027(tmp_path: Path) -> Path:
    """A data folder holding the committed files plus a 2027 one, as an operator would drop it in."""
    folder = tmp_path / "workdays"
    shutil.copytree(WORKDAYS_DIR, folder)
    (folder / "2027.yaml").write_text(FAKE_2027, encoding="utf-8")
    return folder


def days_of(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    return [first + dt.timedelta(days=n) for n in range((dt.date(year + 1, 1, 1) - first).days)]


# --- the committed files --------------------------------------------------------------------------------


def test_every_year_chinese_calendar_covers_from_2020_has_a_file() -> None:
    """When chinese-calendar learns a new year, this fails: run scripts/workdays_from_chinese_calendar.py."""
    last = max(chinese_calendar.constants.holidays).year
    assert set(range(2020, last + 1)) <= set(COMMITTED)
    assert set(range(2020, 2027)) <= set(COMMITTED)


@pytest.mark.parametrize("year", COMMITTED)
def test_a_committed_year_agrees_with_both_libraries_on_every_day(calendar: WorkCalendar, year: int) -> None:
    """Each library where it knows the year: chinese-calendar raises outside its years, and holidays
    guesses a year (without 调休 weekends) unless the notice is in its table of special days."""
    ours = {day: calendar.is_workday(day) for day in days_of(year)}
    checked = 0
    if year <= max(chinese_calendar.constants.holidays).year:
        assert ours == {day: chinese_calendar.is_workday(day) for day in days_of(year)}
        checked += 1
    if year in ChinaStaticHolidays.special_public_holidays:
        china = holidays.China(years=year)
        assert ours == {day: china.is_working_day(day) for day in days_of(year)}
        checked += 1
    if year <= 2026:
        assert checked == 2  # both libraries know 2020–2026
    assert sum(not w and d.weekday() < 5 for d, w in ours.items()) >= 10  # the file really holds holidays


@pytest.mark.parametrize("year", COMMITTED)
def test_a_committed_file_cites_its_notice(year: int) -> None:
    path = WORKDAYS_DIR / f"{year}.yaml"
    title = f"国务院办公厅关于{year}年部分节假日安排的通知"
    schedule = read_year(path)
    assert schedule.notice == title
    assert schedule.source and schedule.source.startswith("https://www.gov.cn/")
    assert path.read_text(encoding="utf-8").startswith(f"# {title}\n")


def test_2027_is_missing_because_no_library_has_its_schedule(calendar: WorkCalendar) -> None:
    """The 2027 notice is not in chinese-calendar, and holidays only guesses 2027 (no 调休 weekends):
    nothing to copy honestly, so there is no file. When this fails, a library has it: generate the file."""
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(2027, 1, 4))
    assert 2027 not in calendar.years
    assert 2026 in calendar.years


def test_a_notice_may_set_the_last_days_of_the_year_before(calendar: WorkCalendar) -> None:
    """The 2024 notice gave 2023-12-30/31 to 元旦: they are in 2024.yaml, and still count as days off."""
    assert dt.date(2023, 12, 31) in read_year(WORKDAYS_DIR / "2024.yaml").holidays
    assert not calendar.is_workday(dt.date(2023, 12, 29) + dt.timedelta(days=3))  # 2024-01-01


# --- deadlines ----------------------------------------------------------------------------------------------


def test_a_deadline_across_the_year_end_is_an_estimate_without_next_years_file(book: PolicyBook,
                                                                              calendar: WorkCalendar) -> None:
    """GIVEN 3 working days from Wednesday 2026-12-30 and no 2027 file THEN Thu 31, Fri 1 Jan (元旦 in
    truth, but unknown) and Mon 4 Jan: 2027-01-04, marked as an estimate."""
    policy = sla(book, 3)
    assert policy.review_deadline(dt.date(2026, 12, 30), calendar) == Deadline(dt.date(2027, 1, 4), estimated=True)
    assert policy.review_due(dt.date(2026, 12, 30), calendar) == dt.date(2027, 1, 4)


def test_the_same_deadline_is_exact_once_next_years_file_is_there(book: PolicyBook, with_2027: Path) -> None:
    """GIVEN the operator's 2027 file (1 January off) THEN Thu 31, Mon 4, Tue 5: 2027-01-05, exact."""
    calendar = WorkCalendar.load(with_2027)
    policy = sla(book, 3)
    assert policy.review_deadline(dt.date(2026, 12, 30), calendar) == Deadline(dt.date(2027, 1, 5), estimated=False)
    # …and the 2027 file's working Saturday counts.
    assert calendar.add_working_days(dt.date(2027, 1, 8), 1) == Deadline(dt.date(2027, 1, 9), estimated=False)


def test_late_december_is_an_estimate_until_next_years_notice(calendar: WorkCalendar, with_2027: Path) -> None:
    """Next year's notice may still move the last days of December (it did in 2018): a deadline that
    counts them is an estimate until that file is there; one that ends before is not."""
    assert calendar.add_working_days(dt.date(2026, 12, 14), 3) == Deadline(dt.date(2026, 12, 17), estimated=False)
    assert calendar.add_working_days(dt.date(2026, 12, 28), 1) == Deadline(dt.date(2026, 12, 29), estimated=True)
    later = WorkCalendar.load(with_2027)
    assert later.add_working_days(dt.date(2026, 12, 28), 1) == Deadline(dt.date(2026, 12, 29), estimated=False)


def test_a_tiaoxiu_saturday_is_a_working_day(book: PolicyBook, calendar: WorkCalendar) -> None:
    """Saturday 2026-02-28 is worked for the Spring Festival (and Saturday 2026-03-07 is not)."""
    assert calendar.is_workday(dt.date(2026, 2, 28)) and not calendar.is_workday(dt.date(2026, 3, 7))
    one_day = sla(book, 1)
    assert one_day.review_deadline(dt.date(2026, 2, 27), calendar) == Deadline(dt.date(2026, 2, 28), False)
    # Saturday 2026-10-10 is worked after National Day: 3 days from 30 September end on it.
    assert sla(book, 3).review_due(dt.date(2026, 9, 30), calendar) == dt.date(2026, 10, 10)


def test_half_a_day_submitted_on_a_holiday_ends_on_the_first_working_day_after(book: PolicyBook,
                                                                               calendar: WorkCalendar) -> None:
    half_day = sla(book, 0.5)
    # 国庆节 2026: 1–7 October off.
    assert half_day.review_deadline(dt.date(2026, 10, 1), calendar) == Deadline(dt.date(2026, 10, 8), False)
    # Submitted on a working day, it ends that day.
    assert half_day.review_due(dt.date(2026, 10, 8), calendar) == dt.date(2026, 10, 8)


def test_a_year_with_no_file_falls_back_to_monday_to_friday(calendar: WorkCalendar) -> None:
    assert calendar.add_working_days(dt.date(2019, 10, 1), 1) == Deadline(dt.date(2019, 10, 2), estimated=True)
    assert calendar.is_workday(dt.date(2027, 1, 1)) and not calendar.knows(dt.date(2027, 1, 1))


# --- the estimate reaches the report and the API ---------------------------------------------------------


def test_the_estimate_flag_reaches_the_report_and_the_api(book: PolicyBook) -> None:
    """Through the default calendar (INTAKE_WORKDAYS_DIR): a round submitted on 2026-12-30 gets an
    estimated deadline in its report, the app's view and the case's."""
    policy = sla(book, 3)
    submitted_at = dt.datetime(2026, 12, 30, 2, tzinfo=dt.UTC)
    report = assess_round(APP, policy, complete(), case_id="c1", submitted_at=submitted_at,
                          submitted=dt.date(2026, 12, 30), fingerprint="f")
    assert report.review_due_estimated is True and report.review_due == "2027-01-04"
    row = ApplicationRow(id="a1", channel_id="app-a", applicant_name="张三", id_number=APP.id_number, disease="糖尿病",
                         region="绥化市", application_date=APP.application_date, status="ready_for_review", round=1,
                         created_at=submitted_at)
    case = Case(application_id="a1", round=1, verdict=report.verdict, problems=report.problems, notice=report.notice,
                report=report.contract(), submitted_at=submitted_at, review_due=dt.date(2027, 1, 4),
                created_at=submitted_at)
    assert case.review_due_estimated is True
    app_view = ApplicationOut.of(row, case, with_documents=False).model_dump(mode="json")
    assert app_view["review_due"] == "2027-01-04" and app_view["review_due_estimated"] is True
    case_view = CaseOut.of(case).model_dump(mode="json")
    assert case_view["review_due"] == "2027-01-04" and case_view["review_due_estimated"] is True
    case.set_review_deadline(dt.date(2027, 1, 8), estimated=False)  # e.g. recounted once 2027's file is in
    assert case.review_due_estimated is False and case.report["review_due"] == "2027-01-08"
    assert CaseOut.of(case).review_due == dt.date(2027, 1, 8)
    exact = assess_round(APP, policy, complete(), case_id="c2", submitted_at=submitted_at,
                         submitted=dt.date(2026, 3, 5), fingerprint="f")
    assert exact.review_due_estimated is False and exact.contract()["review_due_estimated"] is False


# --- operators ----------------------------------------------------------------------------------------------


def test_operators_are_warned_from_november_when_next_year_is_missing(caplog: pytest.LogCaptureFixture,
                                                                      with_2027: Path) -> None:
    settings = Settings(workdays_dir=WORKDAYS_DIR)
    with caplog.at_level(logging.WARNING, logger="intake.startup"):
        assert warn_about_calendar(settings, today=dt.date(2026, 10, 31)) == []
        assert caplog.records == []
        warnings = warn_about_calendar(settings, today=dt.date(2026, 11, 1))
    assert len(warnings) == 1 and "2027" in warnings[0] and "estimate" in warnings[0]
    assert [r.getMessage() for r in caplog.records] == warnings
    assert warn_about_calendar(Settings(workdays_dir=with_2027), today=dt.date(2026, 11, 30)) == []
    # A year already begun without its file: warned whatever the month.
    assert "2027" in warn_about_calendar(settings, today=dt.date(2027, 3, 1))[0]


def test_calendar_check_lists_the_years_and_fails_from_november(monkeypatch: pytest.MonkeyPatch,
                                                                with_2027: Path) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("INTAKE_WORKDAYS_DIR", str(WORKDAYS_DIR))
        get_settings.cache_clear()
        before = runner.invoke(cli, ["calendar", "check", "--today", "2026-10-31"])
        assert before.exit_code == 0, before.output
        assert all(str(year) in before.output for year in COMMITTED)
        november = runner.invoke(cli, ["calendar", "check", "--today", "2026-11-30"])
        assert november.exit_code == 1 and "2027" in november.output
        monkeypatch.setenv("INTAKE_WORKDAYS_DIR", str(with_2027))
        get_settings.cache_clear()
        dropped_in = runner.invoke(cli, ["calendar", "check", "--today", "2026-11-30"])
        assert dropped_in.exit_code == 0, dropped_in.output
        (with_2027 / "2028.yaml").write_text("year: 2028\nnotice: x\nworkdays:\n  2028-01-05: 元旦\n", "utf-8")
        broken = runner.invoke(cli, ["calendar", "check"])
        assert broken.exit_code == 2 and "2028.yaml" in broken.output and "weekday" in broken.output
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(("name", "text", "says"), [
    ("2027.yaml", "year: 2026\nnotice: x\n", "year of the file name"),
    ("2027.yaml", "year: 2027\nholidays: {}\n", "notice"),
    ("2027.yaml", "year: 2027\nnotice: x\nholidays:\n  2026-06-01: 元旦\n", "not in 2027"),
    ("2027.yaml", "year: 2027\nnotice: x\nworkdays:\n  2027-01-04: 元旦\n", "weekday"),
    ("2027.yaml", "year: 2027\nnotice: x\nholiday:\n  2027-01-01: 元旦\n", "unknown key holiday"),
    ("2027.yaml", "year: 2027\nnotice: x\nholidays:\n  2027-01-01:\n", "needs the name"),
])
def test_a_wrong_file_is_named_with_what_to_fix(tmp_path: Path, name: str, text: str, says: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError, match=says) as caught:
        WorkCalendar.load(tmp_path)
    assert name in str(caught.value) and "INTAKE_WORKDAYS_DIR" in str(caught.value)


def test_a_wrong_calendar_folder_stops_the_process_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="INTAKE_WORKDAYS_DIR"):
        check_configuration(Settings(workdays_dir=tmp_path / "nope"))
