"""Dates as Chinese medical documents and ID cards write them, read from noisy OCR text.

Handled forms: ``2026年3月5日``, ``2026-03-05``, ``2026.03.05``, ``2026/3/5``, ``二〇二六年三月五日``,
month-only ``2026年3月`` / ``2026-03`` / ``2026.03``, any of these followed by a time, with OCR
spacing (``2026 年 3 月 5 日``) and letter/digit confusions (``2O26-03-05``). ``20260305`` is read
only after a date label (``报告日期:20260305``) or when it is the whole text given to
``parse_date``, because bare 8-digit numbers on these pages are far more often specimen or
record numbers. Impossible dates (``2026-02-30``) are rejected, not corrected.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from classifiers.text import fix_digit_confusions, fold

Precision = Literal["day", "month"]

# Plausible years for any document or birth date we handle; keeps lab values such as "1.2" or
# "3000.5" from ever reading as years.
MIN_YEAR = 1900
MAX_YEAR = 2099


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A calendar date, or a month when the day is not written."""

    year: int
    month: int
    day: int | None = None

    @property
    def precision(self) -> Precision:
        return "day" if self.day is not None else "month"

    @property
    def value(self) -> str:
        """``YYYY-MM-DD`` or ``YYYY-MM``: the report contract's form."""
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def as_date(self) -> dt.date:
        """The date itself, or the first of the month for month precision."""
        return dt.date(self.year, self.month, self.day or 1)

    def __str__(self) -> str:
        return self.value


Span = tuple[int, int]

_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "O": 0,
    "0": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "两": 2,
}
_CN_DIGIT_CLASS = "〇零○O0一二三四五六七八九"
_CN_SMALL_CLASS = "一二三四五六七八九十"

# Year-month-day with 年月日 (the 日 is often dropped or misread as 曰/目).
_YMD_CN_UNITS = re.compile(r"(?<!\d)(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})(?!\d)\s*[日号曰目]?)?")
# Year-month-day with one separator kind; OCR sometimes mixes them, so any of -./ between parts.
# "。" and "," are how OCR sometimes reads a dot. The day must not run into more digits, except a
# time OCR glued on without its space ("2016-08-2411:08"); the day is matched lazily so that
# "2026/2/817:31" is the 8th at 17:31, not an impossible 81st.
_YMD_SEP = re.compile(
    r"(?<![\d.])(?P<y>\d{4})\s*[-./。,]\s*(?P<m>\d{1,2})\s*[-./。,]\s*(?P<d>\d{1,2}?)(?:(?!\d)|(?=\d{1,2}:\d{2}))"
)
# Month-only with a separator: "2026-03", "2026.03". Not followed by another separator and digit
# (that would be a full date we rejected) and not part of a decimal number.
_YM_SEP = re.compile(r"(?<![\d.])(?P<y>\d{4})\s*[-./]\s*(?P<m>\d{1,2})(?![\d]|\s*[-./。]\s*\d)")
_COMPACT = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")
_CN_NUMERALS = re.compile(
    rf"(?P<y>[{_CN_DIGIT_CLASS}]{{4}})\s*年\s*(?P<m>[{_CN_SMALL_CLASS}]{{1,2}})\s*月"
    rf"(?:\s*(?P<d>[{_CN_SMALL_CLASS}]{{1,3}})\s*[日号])?"
)
# A label right before a compact 8-digit date makes it a date.
_DATE_LABEL_BEFORE = re.compile(r"(?:日期|时间|日|date|Date|DATE)\s*[:：]?\s*$")


def _cn_small_number(text: str) -> int | None:
    """十 → 10, 十二 → 12, 二十 → 20, 二十一 → 21, 三十一 → 31, 五 → 5."""
    if not text:
        return None
    if "十" not in text:
        return _CN_DIGITS.get(text) if len(text) == 1 else None
    tens_text, _, units_text = text.partition("十")
    tens = 1 if not tens_text else _CN_DIGITS.get(tens_text)
    units = 0 if not units_text else _CN_DIGITS.get(units_text)
    if tens is None or units is None or len(tens_text) > 1 or len(units_text) > 1:
        return None
    return tens * 10 + units


def _make(year: int, month: int, day: int | None) -> ParsedDate | None:
    if not MIN_YEAR <= year <= MAX_YEAR or not 1 <= month <= 12:
        return None
    if day is not None:
        try:
            dt.date(year, month, day)
        except ValueError:
            return None
    return ParsedDate(year, month, day)


def _overlaps(span: Span, taken: list[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def find_dates(text: str, *, allow_compact: bool = False) -> list[tuple[ParsedDate, Span]]:
    """Every date in ``text`` with its ``(start, end)`` character span in ``text``, in text order.

    ``allow_compact`` accepts a bare ``20260305`` anywhere; without it, only after a date label.
    """
    # Folding and digit-confusion fixes keep the length, so spans found in ``clean`` index ``text``.
    clean = fix_digit_confusions(fold(text))
    found: list[tuple[ParsedDate, Span]] = []
    # Spans already explained by a more specific pattern, valid or not: an invalid "2026-02-30"
    # must not come back as the month "2026-02".
    taken: list[Span] = []

    def int_groups(m: re.Match[str]) -> tuple[int, int, int | None]:
        day = m.group("d")
        return int(m.group("y")), int(m.group("m")), int(day) if day else None

    for pattern in (_YMD_CN_UNITS, _YMD_SEP):
        for m in pattern.finditer(clean):
            if _overlaps(m.span(), taken):
                continue
            taken.append(m.span())
            parsed = _make(*int_groups(m))
            if parsed:
                found.append((parsed, m.span()))

    for m in _CN_NUMERALS.finditer(clean):
        if _overlaps(m.span(), taken):
            continue
        taken.append(m.span())
        year_digits = [_CN_DIGITS.get(c) for c in m.group("y")]
        month = _cn_small_number(m.group("m"))
        day = _cn_small_number(m.group("d")) if m.group("d") else None
        if None in year_digits or month is None or (m.group("d") and day is None):
            continue
        year = int("".join(str(d) for d in year_digits))
        parsed = _make(year, month, day)
        if parsed:
            found.append((parsed, m.span()))

    for m in _COMPACT.finditer(clean):
        if _overlaps(m.span(), taken):
            continue
        if not allow_compact and not _DATE_LABEL_BEFORE.search(clean[max(0, m.start() - 8) : m.start()]):
            continue
        taken.append(m.span())
        parsed = _make(*int_groups(m))
        if parsed:
            found.append((parsed, m.span()))

    for m in _YM_SEP.finditer(clean):
        if _overlaps(m.span(), taken):
            continue
        taken.append(m.span())
        parsed = _make(int(m.group("y")), int(m.group("m")), None)
        if parsed:
            found.append((parsed, m.span()))

    found.sort(key=lambda item: item[1][0])
    return found


def parse_date(text: str) -> ParsedDate | None:
    """The first date in ``text``, or None. A text that is only ``20260305`` counts as a date."""
    dates = find_dates(text, allow_compact=bool(re.fullmatch(r"\s*\d{8}\s*", text)))
    return dates[0][0] if dates else None
