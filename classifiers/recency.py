"""Is a document recent enough: lab reports within 90 days, the other materials within a year.

Ages are calendar days from the document's date to the application date. When only the month is
known the document is dated to the *last* day of that month: an ambiguous date must not count
against the applicant.

A verdict is only as sure as the date it rests on: the check's ``confidence`` is the date's own
(``FieldValue.confidence``: OCR score times how sure the pick was), lowered further when a small
misreading would flip the outcome (a few days over the limit) or when the date lies in the future,
which is more often a misread or a wrong date on the page than a forgery.

When the document's own date was not read, a date it cannot precede (``not_before``: the sample of
a lab report, the admission of a stay; ``classifiers.dates.doc_date_not_before``) still settles the
question one way: recent enough on that date means recent enough. Too old on it says nothing (the
report may have come much later), so the outcome stays unknown.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from classifiers.types import Outcome, RecencyCheck

__all__ = ["BORDERLINE_DAYS", "FUTURE_GRACE_DAYS", "check_recency", "parse_doc_date"]

# A document dated a day or two after the application is a clock or time-zone slip (or a report
# printed the next morning), not a forgery; more than that is.
FUTURE_GRACE_DAYS = 2

_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?|月?)\s*$")


def parse_doc_date(value: str) -> tuple[dt.date, bool] | None:
    """("YYYY-MM-DD" | "YYYY-MM") -> (date, month_only); month-only gives the month's last day.

    Also accepts ``/``, ``.`` and ``年月日`` separators. ``None`` for anything else or an impossible
    date.
    """
    m = _DATE_RE.match(value or "")
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not (1 <= month <= 12 and 1900 <= year <= 2200):
        return None
    if m.group(3) is None:
        return dt.date(year, month, calendar.monthrange(year, month)[1]), True
    try:
        return dt.date(year, month, int(m.group(3))), False
    except ValueError:
        return None


# A stale FAIL within this many days of the limit turns on a single misread digit of the day.
BORDERLINE_DAYS = 7
_BORDERLINE_FACTOR = 0.85
_FUTURE_FACTOR = 0.8


def check_recency(
    doc_date: str | None,
    as_of: dt.date,
    limit_days: int | None,
    *,
    confidence: float | None = None,
    not_before: str | None = None,
    not_before_confidence: float | None = None,
) -> RecencyCheck:
    """Age of the document on ``as_of`` (the application date) against ``limit_days``.

    ``confidence`` is how sure the date itself is (None: not measured, taken as certain); the
    outcome's confidence follows it. ``not_before`` (with its own confidence) is only used when
    ``doc_date`` is missing.
    """
    sure = 1.0 if confidence is None else max(0.0, min(1.0, confidence))
    if not doc_date or not doc_date.strip():
        if not_before:
            return _recent_by_bound(not_before, as_of, limit_days, not_before_confidence)
        return RecencyCheck(outcome=Outcome.UNKNOWN, limit_days=limit_days, reason="未识别到材料日期")
    parsed = parse_doc_date(doc_date)
    if parsed is None:
        return RecencyCheck(
            outcome=Outcome.UNKNOWN, date=doc_date, limit_days=limit_days, reason=f"无法识别材料日期“{doc_date}”"
        )
    date, month_only = parsed
    age = (as_of - date).days
    if month_only and (date.year, date.month) == (as_of.year, as_of.month):
        # The month's last day lies after as_of: the document is from this month, not the future.
        age = 0
    date_text = doc_date.strip()
    future = age < -FUTURE_GRACE_DAYS
    if limit_days is None:
        reason = "日期晚于申请日期" if future else None
        return RecencyCheck(
            outcome=Outcome.NOT_APPLICABLE,
            confidence=_round(sure),
            reason=reason,
            date=date_text,
            age_days=age,
            limit_days=limit_days,
        )
    if future:
        return RecencyCheck(
            outcome=Outcome.FAIL,
            confidence=_round(sure * _FUTURE_FACTOR),
            reason=f"日期晚于申请日期（材料日期{doc_date}，申请日期{as_of.isoformat()}）",
            date=date_text,
            age_days=age,
            limit_days=limit_days,
        )
    if age > limit_days:
        borderline = age - limit_days <= BORDERLINE_DAYS and not month_only
        return RecencyCheck(
            outcome=Outcome.FAIL,
            confidence=_round(sure * (_BORDERLINE_FACTOR if borderline else 1.0)),
            reason=f"材料日期{doc_date}距申请日期已{age}天，超过{limit_days}天的时限，请提供近期材料",
            date=date_text,
            age_days=age,
            limit_days=limit_days,
        )
    return RecencyCheck(
        outcome=Outcome.PASS, confidence=_round(sure), date=date_text, age_days=age, limit_days=limit_days
    )


def _recent_by_bound(
    not_before: str, as_of: dt.date, limit_days: int | None, confidence: float | None
) -> RecencyCheck:
    parsed = parse_doc_date(not_before)
    if parsed is None or limit_days is None:
        outcome = Outcome.NOT_APPLICABLE if limit_days is None else Outcome.UNKNOWN
        return RecencyCheck(outcome=outcome, limit_days=limit_days, reason="未识别到材料日期")
    date, month_only = parsed
    if month_only:
        date = date.replace(day=1)  # the event may lie anywhere in its month: count from its first day
    age = (as_of - date).days
    if -FUTURE_GRACE_DAYS <= age <= limit_days:
        sure = 1.0 if confidence is None else max(0.0, min(1.0, confidence))
        return RecencyCheck(outcome=Outcome.PASS, confidence=_round(sure), limit_days=limit_days,
                            reason=f"未识别到材料日期；材料所载{not_before.strip()}在{limit_days}天内，材料日期不早于此")
    return RecencyCheck(outcome=Outcome.UNKNOWN, limit_days=limit_days,
                        reason=f"未识别到材料日期（材料所载最近的日期为{not_before.strip()}）")


def _round(value: float) -> float:
    return round(value, 3)
