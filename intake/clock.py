"""The service's clock. Submission times, recency and review deadlines are measured on it, in the
time zone the regions work in (China Standard Time), so a submission at 23:30 UTC counts for the
next day in 绥化, 神农架 and 六盘水 alike. Tests move it with ``frozen``; nothing else sets it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current moment, timezone-aware (UTC)."""
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


def local_date(moment: dt.datetime | None = None) -> dt.date:
    """The calendar date in China of ``moment`` (default: now); naive moments are taken as UTC."""
    moment = moment or now()
    if moment.tzinfo is None:  # SQLite hands back naive datetimes
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight in China of ``day``, as an aware datetime (an as-of date as a submission moment)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=CHINA).astimezone(dt.UTC)


@contextmanager
def frozen(moment: dt.datetime | dt.date) -> Iterator[None]:
    """Tests only: the clock reads ``moment`` (a date means 10:00 China time that day)."""
    global _frozen
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(10), tzinfo=CHINA)
    previous, _frozen = _frozen, moment.astimezone(dt.UTC)
    try:
        yield
    finally:
        _frozen = previous
