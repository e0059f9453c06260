"""Recency: document age against the policy limit, fair to month-only dates."""

from __future__ import annotations

import datetime as dt

import pytest

from classifiers.dates import doc_date_not_before, pick_doc_date
from classifiers.fields import build_rows
from classifiers.recency import check_recency, parse_doc_date
from classifiers.types import DocType, Outcome
from tests.classifiers.doc_samples import page

AS_OF = dt.date(2026, 3, 15)


def test_within_limit_passes_and_reports_age() -> None:
    check = check_recency("2026-01-15", AS_OF, 90)
    assert (check.outcome, check.date, check.age_days, check.limit_days) == (Outcome.PASS, "2026-01-15", 59, 90)


def test_exactly_at_limit_passes_one_day_over_fails() -> None:
    assert check_recency((AS_OF - dt.timedelta(days=90)).isoformat(), AS_OF, 90).outcome == Outcome.PASS
    stale = check_recency((AS_OF - dt.timedelta(days=91)).isoformat(), AS_OF, 90)
    assert stale.outcome == Outcome.FAIL and stale.age_days == 91 and "90" in (stale.reason or "")


def test_month_only_counts_from_last_day_of_month() -> None:
    # 2025-12 -> 2025-12-31: 74 days before 2026-03-15, within 90 (from 12-01 it would be 104).
    check = check_recency("2025-12", AS_OF, 90)
    assert check.outcome == Outcome.PASS and check.age_days == 74
    assert check_recency("2025-11", AS_OF, 90).outcome == Outcome.FAIL  # 2025-11-30: 105 days


def test_month_only_in_the_application_month_is_not_future() -> None:
    check = check_recency("2026-03", AS_OF, 90)
    assert check.outcome == Outcome.PASS and check.age_days == 0


def test_future_date_fails_beyond_grace() -> None:
    assert check_recency("2026-03-17", AS_OF, 90).outcome == Outcome.PASS  # printed a day or two later
    future = check_recency("2026-03-20", AS_OF, 90)
    assert future.outcome == Outcome.FAIL and "日期晚于申请日期" in (future.reason or "")
    assert check_recency("2026-05", AS_OF, 365).outcome == Outcome.FAIL


def test_no_limit_is_not_applicable_but_reports_what_it_found() -> None:
    check = check_recency("2020-01-01", AS_OF, None)
    assert check.outcome == Outcome.NOT_APPLICABLE
    assert check.date == "2020-01-01" and check.age_days == (AS_OF - dt.date(2020, 1, 1)).days


@pytest.mark.parametrize("value", [None, "", "  ", "2026-13-01", "2026-02-30", "昨天", "26-01-01"])
def test_missing_or_unparseable_date_is_unknown_with_reason(value: str | None) -> None:
    check = check_recency(value, AS_OF, 90)
    assert check.outcome == Outcome.UNKNOWN and check.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-05", (dt.date(2026, 1, 5), False)),
        ("2026/1/5", (dt.date(2026, 1, 5), False)),
        ("2026年1月5日", (dt.date(2026, 1, 5), False)),
        ("2024-02", (dt.date(2024, 2, 29), True)),
    ],
)
def test_parse_doc_date(value: str, expected: tuple[dt.date, bool]) -> None:
    assert parse_doc_date(value) == expected


# --------------------------------------------------------------------------------------------
# Confidence: a verdict is only as sure as the date it rests on
# --------------------------------------------------------------------------------------------


def test_confidence_defaults_to_certain_when_the_date_was_not_measured() -> None:
    assert check_recency("2025-01-01", AS_OF, 90).confidence == 1.0


def test_a_stale_fail_is_as_sure_as_its_date() -> None:
    sure = check_recency("2025-06-01", AS_OF, 90, confidence=0.97)
    weak = check_recency("2025-06-01", AS_OF, 90, confidence=0.55)
    assert sure.outcome == weak.outcome == Outcome.FAIL
    assert sure.confidence == pytest.approx(0.97)
    assert weak.confidence == pytest.approx(0.55)


def test_a_borderline_stale_fail_is_less_sure_than_a_clear_one() -> None:
    """GIVEN a date 93 days old against 90 THEN one misread digit of the day could flip it."""
    borderline = check_recency((AS_OF - dt.timedelta(days=93)).isoformat(), AS_OF, 90, confidence=0.95)
    clear = check_recency((AS_OF - dt.timedelta(days=200)).isoformat(), AS_OF, 90, confidence=0.95)
    assert borderline.outcome == clear.outcome == Outcome.FAIL
    assert borderline.confidence < clear.confidence == pytest.approx(0.95)


def test_a_future_date_fail_is_less_sure_than_the_date() -> None:
    future = check_recency("2026-06-01", AS_OF, 90, confidence=0.95)
    assert future.outcome == Outcome.FAIL and future.confidence < 0.8


def test_pass_and_not_applicable_carry_the_date_confidence() -> None:
    assert check_recency("2026-03-01", AS_OF, 90, confidence=0.7).confidence == pytest.approx(0.7)
    assert check_recency("2026-03-01", AS_OF, None, confidence=0.7).confidence == pytest.approx(0.7)


def test_confidence_is_clamped_to_0_1() -> None:
    assert check_recency("2025-01-01", AS_OF, 90, confidence=1.7).confidence == 1.0


def test_a_certificate_dated_only_by_its_lower_bound_passes_or_stays_unknown() -> None:
    """GIVEN a certificate whose issue date the seal hid, bounded by the discharge it reports (it was
    issued that day or later) THEN recent enough on that date is a pass; too old on it says nothing
    about the certificate (it may have been issued much later), so the outcome is unknown, never a
    FAIL the applicant would be told."""
    rows = build_rows(
        page("诊断证明书", "姓名:张三", "患者于2025年11月13日至2025年11月20日在我院住院治疗", "医师签名:李四")
    )
    assert pick_doc_date(rows, DocType.DIAGNOSIS_CERTIFICATE) is None
    bound = doc_date_not_before(rows, DocType.DIAGNOSIS_CERTIFICATE)
    assert bound is not None and bound.value == "2025-11-20"
    recent = check_recency(None, AS_OF, 365, not_before=bound.value, not_before_confidence=bound.confidence)
    assert recent.outcome == Outcome.PASS and recent.date is None and "2025-11-20" in (recent.reason or "")
    assert recent.confidence == bound.confidence
    old = check_recency(None, dt.date(2027, 3, 15), 365, not_before=bound.value)
    assert old.outcome == Outcome.UNKNOWN and "2025-11-20" in (old.reason or "")


def test_a_month_only_bound_counts_from_the_first_day_of_its_month() -> None:
    """The event of "2025-03" may have been on 1 March: 365 days before 2026-03-15 is 2025-03-15, so the
    bound proves nothing, while the same month as a document date would be fair to the applicant."""
    assert check_recency(None, AS_OF, 365, not_before="2025-03").outcome == Outcome.UNKNOWN
    assert check_recency(None, AS_OF, 365, not_before="2025-04").outcome == Outcome.PASS
    assert check_recency("2025-03", AS_OF, 365).outcome == Outcome.PASS
    # The bound only stands in for a missing date: a date read wins.
    assert check_recency("2024-01-01", AS_OF, 365, not_before="2026-03-01").outcome == Outcome.FAIL
