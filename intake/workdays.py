"""Chinese working days for review deadlines: the State Council's holiday and 调休 schedule, one data
file per year (``intake/workdays/<year>.yaml``, or the folder of ``INTAKE_WORKDAYS_DIR``).

Why data files and not a library: ``chinese-calendar`` raises for a year it does not know and
``holidays`` silently guesses one (without the 调休 working weekends), so a deadline that crosses into
a year nobody has entered yet was wrong without anyone knowing. Here a year is known only when its
file is there. The State Council publishes next year's notice (国务院办公厅关于YYYY年部分节假日安排的
通知) around November; an operator copies it into ``<year>.yaml`` and restarts (see ``intake calendar
check``). Until then a deadline that counts a day of the missing year uses Monday–Friday and is marked
as an estimate (``Deadline.estimated``), on the page and in the API.

A notice can also move days at the very end of the year before it (the 2019 notice made 2018-12-29 a
working Saturday and 2018-12-30/31 holidays; the 2024 notice gave 2023-12-30/31 to 元旦). So a file
may list late-December days of the previous year, and a day from ``LATE_DECEMBER`` on is settled only
once the next year's file is there too.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from intake.errors import ConfigurationError
from intake.settings import WORKDAYS_DIR, get_settings

WORKDAYS_SETTING = "INTAKE_WORKDAYS_DIR"
# From this day of December on, next year's notice may still move a day (see the module docstring).
LATE_DECEMBER = 25
# From this month on, next year's notice is due (it has come out between late October and mid-December).
NOTICE_SEASON_MONTH = 11
_KEYS = frozenset({"year", "notice", "source", "holidays", "workdays"})


class CalendarError(ConfigurationError):
    """A working-day file that cannot be used (the process stops at start, naming the file)."""


@dataclass(frozen=True)
class YearSchedule:
    """One year's notice: the days off (``holidays``, weekends inside a holiday period included) and
    the weekend days worked instead (``workdays``, 调休), each with the holiday it belongs to."""

    year: int
    notice: str
    source: str | None
    holidays: dict[dt.date, str]
    workdays: dict[dt.date, str]


@dataclass(frozen=True)
class Deadline:
    """A review deadline, and whether a day it counted lies where the schedule is not yet known (then
    Monday–Friday were assumed: the real deadline may be later, e.g. across a 元旦 holiday)."""

    date: dt.date
    estimated: bool


class WorkCalendar:
    """Working days by the years' schedules; outside them, Monday to Friday (flagged as estimates)."""

    def __init__(self, schedules: dict[int, YearSchedule], directory: Path | None = None) -> None:
        self.schedules = dict(sorted(schedules.items()))
        self.directory = directory  # where the files came from (named in warnings)
        self._holidays: dict[dt.date, str] = {}
        self._workdays: dict[dt.date, str] = {}
        for schedule in self.schedules.values():
            self._holidays.update(schedule.holidays)
            self._workdays.update(schedule.workdays)

    @classmethod
    def load(cls, directory: Path) -> WorkCalendar:
        """Every ``<year>.yaml`` of ``directory``; ``CalendarError`` naming the file and what is wrong."""
        where = f"{WORKDAYS_SETTING}={directory}"
        if not directory.is_dir():
            raise CalendarError(f"{where}: no such directory; set {WORKDAYS_SETTING} to the folder of the "
                                f"working-day files (<year>.yaml; the bundled ones are in {WORKDAYS_DIR})")
        schedules: dict[int, YearSchedule] = {}
        for path in sorted(directory.glob("*.yaml")):
            try:
                schedule = read_year(path)
            except CalendarError as exc:
                raise CalendarError(f"{where}: {exc}") from exc
            schedules[schedule.year] = schedule
        return cls(schedules, directory)

    @property
    def years(self) -> list[int]:
        return list(self.schedules)

    def knows(self, day: dt.date) -> bool:
        """Whether ``day`` is settled by a published schedule (its year's and, for a late-December
        day, the next year's too)."""
        if day.year not in self.schedules:
            return False
        return day.month < 12 or day.day < LATE_DECEMBER or day.year + 1 in self.schedules

    def is_workday(self, day: dt.date) -> bool:
        """A working day: a 调休 weekend day worked, or a weekday that is no holiday. In a year without
        a file, Monday to Friday (see ``knows``)."""
        if day in self._workdays:
            return True
        return day.weekday() < 5 and day not in self._holidays

    def add_working_days(self, start: dt.date, days: float) -> Deadline:
        """The ``days``-th working day after ``start`` (a fraction counts as a whole day); under one
        day, the first working day on or after ``start`` (half a day still ends on a working day)."""
        remaining = max(math.ceil(days), 0)
        day = start
        estimated = False
        if remaining == 0 or days < 1:
            while True:
                estimated = estimated or not self.knows(day)
                if self.is_workday(day):
                    return Deadline(day, estimated)
                day += dt.timedelta(days=1)
        while remaining:
            day += dt.timedelta(days=1)
            estimated = estimated or not self.knows(day)
            if self.is_workday(day):
                remaining -= 1
        return Deadline(day, estimated)

    def missing(self, today: dt.date) -> list[int]:
        """The years an operator must add now: this year, and from November on next year too."""
        wanted = [today.year] + ([today.year + 1] if today.month >= NOTICE_SEASON_MONTH else [])
        return [year for year in wanted if year not in self.schedules]

    def warnings(self, today: dt.date) -> list[str]:
        """What to tell an operator on ``today`` (empty when the schedule is complete)."""
        return [
            f"no working-day file for {year} in {self.directory or WORKDAYS_SETTING}: review deadlines that "
            f"count days of {year} assume Monday to Friday and are marked as estimates. Copy the notice "
            f"(国务院办公厅关于{year}年部分节假日安排的通知) into {year}.yaml there, as the earlier years' files "
            f"show, and restart (`intake calendar check` lists the years present)."
            for year in self.missing(today)
        ]


def read_year(path: Path) -> YearSchedule:
    """One year's file, checked: ``CalendarError`` says what is wrong in words an operator can fix."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CalendarError(f"{path.name}: cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CalendarError(f"{path.name}: is not UTF-8 text ({exc.reason})") from exc
    except yaml.YAMLError as exc:
        raise CalendarError(f"{path.name}: is not valid YAML: {exc}") from exc
    problem = _problem(path, data)
    if problem:
        raise CalendarError(f"{path.name}: {problem}")
    return YearSchedule(year=data["year"], notice=data["notice"], source=data.get("source"),
                        holidays=dict(data.get("holidays") or {}), workdays=dict(data.get("workdays") or {}))


def _problem(path: Path, data: Any) -> str | None:
    if not isinstance(data, dict):
        return "must hold a mapping with year, notice, holidays and workdays"
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        return f"unknown key {', '.join(unknown)} (the keys are {', '.join(sorted(_KEYS))})"
    year = data.get("year")
    if not isinstance(year, int) or path.stem != str(year):
        return f"year: must be the year of the file name ({path.stem}), not {year!r}"
    if not isinstance(data.get("notice"), str) or not data["notice"].strip():
        return "notice: name the State Council notice the file copies (国务院办公厅关于…年部分节假日安排的通知)"
    for key in ("holidays", "workdays"):
        days = data.get(key) or {}
        if not isinstance(days, dict):
            return f"{key}: must map dates (YYYY-MM-DD) to the holiday's name"
        for day, name in days.items():
            if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                return f"{key}: {day!r} is not a date; write it as YYYY-MM-DD"
            if not (day.year == year or (day.year == year - 1 and day.month == 12 and day.day >= LATE_DECEMBER)):
                return f"{key}: {day} is not in {year} (only the last days of December {year - 1} may be listed)"
            if not isinstance(name, str) or not name.strip():
                return f"{key}: {day} needs the name of its holiday (e.g. 春节)"
            if key == "workdays" and day.weekday() < 5:
                return f"workdays: {day} is a weekday; list only the weekend days worked instead (调休上班)"
    both = sorted(set(data.get("holidays") or {}) & set(data.get("workdays") or {}))
    if both:
        return f"{', '.join(map(str, both))} listed both as holiday and as working day"
    return None


@cache
def load_calendar(directory: Path) -> WorkCalendar:
    return WorkCalendar.load(directory)


def default_calendar() -> WorkCalendar:
    """The calendar of the process's settings (``INTAKE_WORKDAYS_DIR``)."""
    return load_calendar(get_settings().workdays_dir)
