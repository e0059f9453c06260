"""Dates as Chinese medical documents and ID cards write them, read from noisy OCR text.

Handled forms: ``2026年3月5日``, ``2026-03-05``, ``2026.03.05``, ``2026/3/5``, ``二〇二六年三月五日``,
month-only ``2026年3月`` / ``2026-03`` / ``2026.03``, any of these followed by a time, with OCR
spacing (``2026 年 3 月 5 日``) and letter/digit confusions (``2O26-03-05``). ``20260305`` is read
only after a date label (``报告日期:20260305``) or when it is the whole text given to
``parse_date``, because bare 8-digit numbers on these pages are far more often specimen or
record numbers; a two-digit year (``26-03-05``) likewise only after a date label. Impossible dates
(``2026-02-30``) are rejected, not corrected.

OCR also misreads the separators: ``2026一03一05`` (the CJK "one"), ``2026-03。05``, ``2026 03 05``,
``2026年03 05日``. A red seal printed over a date, blur and low-resolution scans do worse: units read
as look-alikes (``2025午7目12曰``) or any glyph, a separator lost (``202507-12``), Chinese numerals
with the year's 二 lost or 十 misread (``〇二五年部一月二十一日``), a number cut by a box boundary
(``2025年1 1月21日``). All these are read but marked ``repaired``, so whoever relies on them can
lower its confidence. A date whose year is lost or cut (``12月24日``, ``025年12月24日``) is read only
by ``date_candidates``, which takes the year from the other dates of the page (``year_inferred``).

The second half picks *the* date of a document from its rows (``date_candidates``,
``pick_doc_date``): each date gets the class of the label that names it (报告日期, 出院日期, 出生日期 …)
or of the narrative around it (``于…至…在我院住院`` a stay, ``…复查`` a follow-up, ``…起`` history,
an unlabelled range a period), and each document type accepts only some classes, best first. A
certificate whose issue date is lost falls back to the latest event it reports (the discharge, the
visit) as a bound its date cannot precede (``doc_date_not_before``), never as its date.

Where a page shows the label of a document's own date but no date was read beside or under it (a
faint scan, a seal over the date), or a date too damaged to read, ``unread_date_areas`` says where
to look again, larger (``intake.prescreen`` re-reads those areas before the page is cached).

Rules that hold whatever the layout, each lowering the confidence when it has to decide: a
certificate is issued on or after every event it reports (a summary written on or after its
discharge), so an unnamed pick earlier than such an event gives way to the latest one; on a phone
screen an unlabelled date is weak, and of several listed reports the one the screen's title names
is taken, never the newest by default; a year misread by one look-alike digit (2005 for 2025) is
repaired only when exactly one substitution makes it agree with the page's other years.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from classifiers.identity import TextFit, best_fit, possible_birth_date
from classifiers.text import fix_digit_confusions, fold
from classifiers.types import DocType, FieldValue
from ocr.types import Box

if TYPE_CHECKING:
    from classifiers.fields import Row

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
    # Read through a misrecognised separator ("2026一03一05", "2026 03 05"): right more often than
    # not, but less sure. Not part of equality: the date is the same date.
    repaired: bool = field(default=False, compare=False)
    # The year was not read but taken from the other dates of the page ("12月24日" under a seal).
    year_inferred: bool = field(default=False, compare=False)
    # The year was read with one digit misrecognised (2005 for 2025) and repaired against the page.
    year_repaired: bool = field(default=False, compare=False)

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
# Beyond "-./" OCR reads the dot or dash as 。 , 、 一 _ · : ' (kept apart as misread separators).
_SEPARATOR = r"[-./。,、一_·:'\\]"
_YMD_SEP = re.compile(
    rf"(?<![\d.])(?P<y>\d{{4}})\s*(?P<s1>{_SEPARATOR})\s*(?P<m>\d{{1,2}})\s*(?P<s2>{_SEPARATOR})\s*"
    r"(?P<d>\d{1,2}?)(?:(?!\d)|(?=\d{1,2}:\d{2}))"
)
# "2026 03 05": the separators lost altogether. Only a 19xx/20xx year with two-digit month and day,
# and not inside a run of numbers (a lab table's "2016 12 35 4.1").
_YMD_SPACED = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d{2})\s+(?P<m>[01]\d)\s+(?P<d>[0-3]\d)(?![\d.:]|\s+\d(?!\d?:\d{2}))"
)
# "2026年03 05日", "2026年3月5": 月 dropped or misread, the 日 (or 月) still there to say it is a date.
# "就诊日期: 2026 2 10": one-digit parts only right after a date label.
_YMD_SPACED_LOOSE = re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})\s+(?P<m>\d{1,2})\s+(?P<d>\d{1,2})(?![\d.]|\s*\d)")
_YMD_CN_DAMAGED = re.compile(
    r"(?<!\d)(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*(?:[^\d\s月]|\s)\s*(?P<d>\d{1,2})\s*[日号曰目]"
)
# Month-only with a separator: "2026-03", "2026.03". Not followed by another separator and digit
# (that would be a full date we rejected) and not part of a decimal number.
_YM_SEP = re.compile(r"(?<![\d.])(?P<y>\d{4})\s*[-./]\s*(?P<m>\d{1,2})(?![\d]|\s*[-./。]\s*\d)")
_COMPACT = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")
_CN_NUMERALS = re.compile(
    rf"(?P<y>[{_CN_DIGIT_CLASS}]{{4}}|(?<!\d)\d{{4}})\s*年\s*(?P<m>[{_CN_SMALL_CLASS}]{{1,2}})\s*月"
    rf"(?:\s*(?P<d>[{_CN_SMALL_CLASS}]{{1,3}})\s*[日号])?"
)
# A red seal printed over the date, blur or a low-resolution scan: the units read as look-alikes
# (年 → 午/牛/车, 月 → 目/用/日, 日 → 曰/目/口/E) or as any other glyph. Read when the other units and
# a full day say it is a date, always marked repaired.
_YEAR_UNITS = "年午牛车丰"
_MONTH_UNITS = "月目用円冃日"
_DAY_UNITS = "日曰目口E田白号"
_YMD_UNITS_LOOSE = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d{2})\s*(?P<u1>[^\d\s])\s*(?P<m>\d{1,2})\s*(?P<u2>[^\d\s])\s*(?P<d>\d{1,2})(?!\d)"
    r"(?:\s*(?P<u3>[^\d\s]))?"
)
# One separator lost between glued parts: "202507-12", "2025-0712", "2025 07-12"; the one left may
# be misread too ("2025:0522" under a seal).
_YMD_GLUED = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)\s*[-./]\s*(?P<d>[0-3]?\d)(?![\d.])"
    rf"|(?<![\d.])(?P<y2>(?:19|20)\d{{2}})\s*{_SEPARATOR}\s*(?P<m2>[01]\d)(?P<d2>[0-3]\d)(?![\d.])"
    r"|(?<![\d.])(?P<y3>(?:19|20)\d{2})\s+(?P<m3>[01]\d)\s*[-./]\s*(?P<d3>[0-3]\d)(?![\d.]|\s*[A-Za-z%/^×μ])"
)
# A seal's ring or text read as a digit or two glued before the year ("482025年12月26日",
# "12025-06-07"): the year is the four digits next to the rest of a whole date.
_YMD_STRAY_LEAD = re.compile(
    r"(?<![\d.])\d{1,2}(?P<y>(?:19|20)\d{2})(?:\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号曰]"
    r"|(?P<s>[-./])(?P<m2>[01]?\d)(?P=s)(?P<d2>[0-3]?\d)(?![\d.]))"
)
# Chinese numerals read through a seal: the year's leading 二 lost ("〇二五年"), 十 read as another
# glyph ("部一月" for 十一月, "二部一日" for 二十一日), the units as look-alikes.
_CN_GARBLE = r"[^\s\d年月日号:,.]"
_CN_NUMERALS_DAMAGED = re.compile(
    rf"(?P<y>[{_CN_DIGIT_CLASS}]{{3,4}})\s*[{_YEAR_UNITS}]\s*(?P<m>(?:[{_CN_SMALL_CLASS}]|{_CN_GARBLE}){{1,3}}?)"
    rf"\s*[月目用円冃](?:\s*(?P<d>(?:[{_CN_SMALL_CLASS}]|{_CN_GARBLE}){{1,3}}?)\s*[{_DAY_UNITS}])?"
)
# A date whose year is lost under a seal or cut off ("12月24日", "025年12月24日", "25年12月24日"):
# only read by ``date_candidates``, which takes the year from the other dates of the page.
_MD_PARTIAL = re.compile(
    r"(?<![\d.\-/年])(?:(?P<ys>\d{1,3})\s*[年午牛车])?\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号曰]"
)
_MD_PARTIAL_CN = re.compile(
    rf"(?<![{_CN_DIGIT_CLASS}年])(?:(?P<ys>[{_CN_DIGIT_CLASS}]{{1,3}})\s*[{_YEAR_UNITS}]\s*)?"
    rf"(?P<m>[{_CN_SMALL_CLASS}]{{1,2}})\s*月\s*(?P<d>[{_CN_SMALL_CLASS}]{{1,3}})\s*[日号]"
)
# "026-02-17": a numeric date whose year lost its first digit under a seal or at a box's edge (the
# "0" of 20xx kept, so no lab value or range reads as one); a clock glued on is allowed.
_YMD_CUT_YEAR = re.compile(
    r"(?<![\d.])(?P<ys>0\d{2})(?P<s>[-./])(?P<m>[01]?\d)(?P=s)(?P<d>[0-3]?\d)(?:(?![\d.])|(?=\d{1,2}:\d{2}))"
)
# "报告时间: 26-03-05 14:32": a laboratory system's two-digit year, only right after a date label.
_YMD_SHORT_YEAR = re.compile(
    r"(?<![\d.])(?P<y>\d{2})(?P<s>[-./])(?P<m>[01]?\d)(?P=s)(?P<d>[0-3]?\d)(?:(?![\d.])|(?=\d{1,2}:\d{2}))"
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


def _make(year: int, month: int, day: int | None, *, repaired: bool = False) -> ParsedDate | None:
    if not MIN_YEAR <= year <= MAX_YEAR or not 1 <= month <= 12:
        return None
    if day is not None:
        try:
            dt.date(year, month, day)
        except ValueError:
            return None
    return ParsedDate(year, month, day, repaired=repaired)


def _is_repaired(pattern: re.Pattern[str], m: re.Match[str]) -> bool:
    if pattern is _YMD_SEP:
        s1, s2 = m.group("s1"), m.group("s2")
        return s1 != s2 or s1 not in "-./"
    return pattern in (_YMD_SPACED, _YMD_CN_DAMAGED)


def _overlaps(span: Span, taken: list[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _unit_cost(unit: str | None, canonical: str, lookalikes: str) -> int:
    """0 for the unit itself, 1 for a look-alike (or a date separator), 2 for any other glyph."""
    if unit is not None and unit in canonical:
        return 0
    if unit is not None and (unit in lookalikes or unit in "-./"):
        return 1
    return 2


def _cn_damaged_number(token: str) -> tuple[int | None, bool]:
    """A small Chinese number with at most one glyph misread for 十 ("部一" → 11); (value, repaired)."""
    garbled = [c for c in token if c not in _CN_SMALL_CLASS]
    if not garbled:
        return _cn_small_number(token), False
    if len(garbled) > 1 or len(token) < 2:
        return None, True
    return _cn_small_number(token.replace(garbled[0], "十")), True


def _damaged_dates(
    clean: str, taken: list[Span], found: list[tuple[ParsedDate, Span]], *, glued: bool = True
) -> list[tuple[ParsedDate, Span]]:
    """Dates read through a seal or blur (look-alike units, a lost separator, a garbled 十, a lost
    leading 二 of the year): every one marked repaired. Invalid readings claim no span. A full
    date replaces the month-only reading of its own beginning (``found`` and ``taken`` edited)."""
    out: list[tuple[ParsedDate, Span]] = []

    def keep(parsed: ParsedDate | None, span: Span) -> None:
        if not parsed or parsed.day is None or _overlaps(span, [s for _, s in out]):
            return
        inner = [f for f in found if f[0].day is None and span[0] <= f[1][0] and f[1][1] <= span[1]]
        for f in inner:
            found.remove(f)
            taken.remove(f[1])
        if not _overlaps(span, taken):
            out.append((parsed, span))

    for m in _YMD_UNITS_LOOSE.finditer(clean):
        c1 = _unit_cost(m.group("u1"), "年", _YEAR_UNITS)
        c2 = _unit_cost(m.group("u2"), "月", _MONTH_UNITS)
        day_unit = m.group("u3") is not None and m.group("u3") in _DAY_UNITS
        if not (
            (min(c1, c2) == 0 and max(c1, c2) <= 1)
            or (max(c1, c2) <= 1 and day_unit)
            or (min(c1, c2) == 0 and day_unit)
        ):
            continue
        end = m.end() if day_unit else m.end("d")
        keep(_make(int(m.group("y")), int(m.group("m")), int(m.group("d")), repaired=True), (m.start(), end))

    for m in _YMD_GLUED.finditer(clean) if glued else ():
        y, mo, d = (m.group("y"), m.group("m"), m.group("d"))
        if y is None:
            y, mo, d = (
                (m.group("y2"), m.group("m2"), m.group("d2"))
                if m.group("y2")
                else (m.group("y3"), m.group("m3"), m.group("d3"))
            )
        keep(_make(int(y), int(mo), int(d), repaired=True), m.span())

    for m in _YMD_STRAY_LEAD.finditer(clean):
        month, day = (m.group("m"), m.group("d")) if m.group("m") else (m.group("m2"), m.group("d2"))
        keep(_make(int(m.group("y")), int(month), int(day), repaired=True), (m.start("y"), m.end()))

    for m in _CN_NUMERALS_DAMAGED.finditer(clean):
        year_text = m.group("y")
        if len(year_text) == 3:
            if _CN_DIGITS.get(year_text[0]) == 0:
                year_text = "二" + year_text  # "〇二五年": the 二 of 二〇二五 lost
            elif year_text[0] == "二" and _CN_DIGITS.get(year_text[1]) in (1, 2):
                year_text = "二〇" + year_text[1:]  # "二二六年": the small 〇 of 二〇二六 lost
            else:
                continue
        digits = [_CN_DIGITS.get(c) for c in year_text]
        if None in digits:
            continue
        month, _ = _cn_damaged_number(m.group("m"))
        day, _ = _cn_damaged_number(m.group("d")) if m.group("d") else (None, False)
        if month is None or (m.group("d") and day is None):
            continue
        keep(_make(int("".join(str(d) for d in digits)), month, day, repaired=True), m.span())
    return out


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

    for pattern in (_YMD_CN_UNITS, _YMD_SEP, _YMD_SPACED, _YMD_CN_DAMAGED):
        for m in pattern.finditer(clean):
            if _overlaps(m.span(), taken):
                continue
            taken.append(m.span())
            parsed = _make(*int_groups(m), repaired=_is_repaired(pattern, m))
            if parsed:
                found.append((parsed, m.span()))

    for m in _CN_NUMERALS.finditer(clean):
        if _overlaps(m.span(), taken):
            continue
        taken.append(m.span())
        year_text = m.group("y")
        year_digits = [_CN_DIGITS.get(c) for c in year_text] if not year_text.isdigit() else [int(year_text)]
        month = _cn_small_number(m.group("m"))
        day = _cn_small_number(m.group("d")) if m.group("d") else None
        if None in year_digits or month is None or (m.group("d") and day is None):
            continue
        year = int("".join(str(d) for d in year_digits))
        parsed = _make(year, month, day)
        if parsed:
            found.append((parsed, m.span()))

    for parsed, span in _damaged_dates(clean, taken, found):
        taken.append(span)
        found.append((parsed, span))

    for m in _YMD_SPACED_LOOSE.finditer(clean):
        if _overlaps(m.span(), taken) or not _DATE_LABEL_BEFORE.search(clean[max(0, m.start() - 8) : m.start()]):
            continue
        taken.append(m.span())
        parsed = _make(*int_groups(m), repaired=True)
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

    for m in _YMD_SHORT_YEAR.finditer(clean):
        if _overlaps(m.span(), taken) or not _DATE_LABEL_BEFORE.search(clean[max(0, m.start() - 8) : m.start()]):
            continue
        taken.append(m.span())
        parsed = _make(2000 + int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if parsed:
            found.append((parsed, m.span()))

    for m in _YM_SEP.finditer(clean):
        if _overlaps(m.span(), taken):
            continue
        taken.append(m.span())
        parsed = _make(int(m.group("y")), int(m.group("m")), None)
        if parsed:
            found.append((parsed, m.span()))

    if _DIGIT_GAP.search(clean):
        found = _rejoin_cut_numbers(clean, found, taken)
    found.sort(key=lambda item: item[1][0])
    return found


_DIGIT_GAP = re.compile(r"(?<=\d)\s+(?=\d)")


def _rejoin_cut_numbers(
    clean: str, found: list[tuple[ParsedDate, Span]], taken: list[Span]
) -> list[tuple[ParsedDate, Span]]:
    """Dates whose number a box boundary or a seal cut in two ("2025年1 1月21日", "2025年11月2 1日"):
    read again with the gaps between digits closed, marked repaired. Such a reading replaces a
    shorter one it contains only when it ends on a unit (月/日), which says where the number ends."""
    squeezed_chars: list[str] = []
    origin: list[int] = []  # index in ``clean`` of each squeezed character
    gaps = {i for m in _DIGIT_GAP.finditer(clean) for i in range(m.start(), m.end())}
    for i, c in enumerate(clean):
        if i not in gaps:
            squeezed_chars.append(c)
            origin.append(i)
    squeezed = "".join(squeezed_chars)
    readings: list[tuple[ParsedDate | None, int, int]] = []
    for pattern in (_YMD_CN_UNITS, _YMD_SEP):
        for m in pattern.finditer(squeezed):
            day = m.group("d")
            readings.append((_make(int(m.group("y")), int(m.group("m")), int(day) if day else None), *m.span()))
    # Not a lost separator as well: "2000 10-20" closed up is a value and a range, not a date.
    readings += [(date, *span) for date, span in _damaged_dates(squeezed, [], [], glued=False)]
    out = list(found)
    for date, sq_start, sq_end in readings:
        start, end = origin[sq_start], origin[sq_end - 1] + 1
        if date is None or not any(start < g < end for g in gaps):
            continue  # invalid, or no cut inside: the ordinary reading stands
        inner = [f for f in out if start <= f[1][0] and f[1][1] <= end]
        others = [f for f in out if f not in inner]
        if _overlaps((start, end), [sp for _, sp in others]):
            continue
        # A full date may replace a month-only reading it contains ("2025-1 2-19" is no month
        # "2025-1" followed by a number): a month never runs on into "2-19".
        month_only_inside = bool(inner) and all(f[0].day is None for f in inner) and date.day is not None
        if inner and not month_only_inside and (squeezed[sq_end - 1] not in "月日号曰" or date.day is None):
            continue
        if not inner and _overlaps((start, end), taken):
            continue
        out = [*others, (_make(date.year, date.month, date.day, repaired=True) or date, (start, end))]
    return out


def parse_date(text: str) -> ParsedDate | None:
    """The first date in ``text``, or None. A text that is only ``20260305`` counts as a date."""
    dates = find_dates(text, allow_compact=bool(re.fullmatch(r"\s*\d{8}\s*", text)))
    return dates[0][0] if dates else None


def birth_date_from_id(id_number: str | None) -> dt.date | None:
    """The birth date written in an 18-digit resident ID number (digits 7-14), or None (also when
    a misread digit writes no possible birth date: no date of the page is judged against 3968)."""
    if not re.fullmatch(r"\d{17}[\dXx]", id_number or ""):
        return None
    return possible_birth_date(id_number or "")


# --------------------------------------------------------------------------------------------
# Which date a label names
# --------------------------------------------------------------------------------------------

DateKind = Literal[
    "report",  # 报告日期/报告时间/发布
    "audit",  # 审核日期/复核
    "exam",  # 检查日期/检验时间/检测
    "issue",  # 开具/出具/签发日期, the date beside 医师签名 and the seal
    "discharge",  # 出院日期/出院时间
    "visit",  # 就诊日期/门诊日期/挂号
    "record",  # 记录日期/书写时间
    "generic",  # 日期/时间/Date with nothing more specific
    "birth",  # 出生日期
    "admission",  # 入院日期
    "stay",  # 住院日期 (a range: admission to discharge)
    "sampling",  # 采样/采集/送检/采血
    "receipt",  # 接收/签收/核收/登记
    "order",  # 开单/申请
    "appointment",  # 预约/复诊日期/下次随访
    "onset",  # 发病/确诊/手术, "于…", "…起": history, not the document
    "period",  # either end of a from-to range no label names (a stay, a sick leave)
    "valid",  # 有效期/截止
    "print",  # 打印/导出
    "status_bar",  # a phone screenshot's status bar, its own date, a chat's message time
    "transmit",  # a fax's transmit line across the top edge (sender's number, time sent, page count)
]

# Checked all together; the label whose match ends nearest to the date wins, and on a tie the
# earlier entry (more specific) wins.
_LABEL_PATTERNS: tuple[tuple[DateKind, str], ...] = (
    # 生日 (a birthday), not the 生 ending a name or 医生 before 日期 ("医师：向厚生 日期：…").
    ("birth", r"出\s*生|生\s*日(?!\s*期)"),
    ("valid", r"有\s*效\s*期|有\s*效\s*日\s*期|有\s*效\s*至|截\s*止|到\s*期|失\s*效"),
    ("appointment", r"预\s*约|复\s*诊\s*(?:日|时)|随\s*访\s*(?:日|时)|下\s*次|复\s*查\s*(?:日|时)"),
    # 入院/出院 with the 院 misread (入朝时间, 出阮日期): any one other character before 时间/日期, but
    # not 出生, 出具, 出诊, 出报 or the lab's 出血时间, which are other dates or no date.
    ("admission", r"入\s*院|入\s*[^\s\d\W生具诊出]\s*(?:时\s*间|日\s*期)"),
    ("stay", r"住\s*院\s*(?:日\s*期|时\s*间|期\s*间)"),
    ("discharge", r"出\s*院|出\s*[^\s\d\W生具诊报入血]\s*(?:时\s*间|日\s*期)"),
    ("sampling", r"采\s*样|采\s*集|送\s*检|收\s*样|留\s*样|取\s*样|采\s*血|标\s*本\s*(?:日|时)"),
    ("receipt", r"接\s*收|核\s*收|送\s*达|收\s*到|签\s*收|登\s*记|收\s*费|挂\s*号\s*时"),
    ("order", r"开\s*单|申\s*请|医\s*嘱"),
    ("onset", r"发\s*病|起\s*病|确\s*诊|手\s*术"),
    ("audit", r"审\s*核|复\s*核"),
    # "告日期" alone: OCR misread the 报 (振告日期).
    # Not the title's 报告单/报告书, which says what the page is, not what a date is.
    ("report", r"报\s*告(?!\s*[单书])|发\s*布|告\s*(?:日\s*期|时\s*间)"),
    ("exam", r"检\s*验|检\s*查|检\s*测|化\s*验|测\s*定|分\s*析|上\s*机|拍\s*片|扫\s*描"),
    # 门诊/急诊 only as 门诊日期, 门诊时间, 门诊：: not 门诊部/门诊号/急诊科, a department or a number, and
    # not a seal's "门诊专用章" read into the date it covers ("门诊2025年6月19").
    ("visit", r"就\s*诊|门\s*诊(?=\s*[日时:：])|初\s*诊|复\s*诊|挂\s*号|看\s*诊|急\s*诊(?=\s*[日时:：])"),
    (
        "issue",
        r"开\s*具|出\s*具|开\s*证|证\s*明|签\s*名|签\s*字|签\s*发|发\s*放|填\s*写|填\s*报|医\s*师|医\s*生|开\s*票"
        r"|盖\s*章|诊\s*断\s*(?:日|时)",
    ),
    # 查询/刷新/更新/截图/当前时间: the moment an app's page was opened, i.e. the screenshot's.
    (
        "print",
        r"打\s*印|导\s*出|下\s*载|生\s*成|查\s*询|刷\s*新|更\s*新\s*(?:日|时|于)|截\s*图|当\s*前\s*(?:日|时)"
        r"|同\s*步\s*(?:日|时|于)|推\s*送\s*(?:日|时|于)",
    ),
    ("record", r"记\s*录|书\s*写|录\s*入"),
)
_DATE_LABEL_CLASSES = tuple((kind, re.compile(pattern)) for kind, pattern in _LABEL_PATTERNS)
_GENERIC_DATE_LABEL = re.compile(r"日\s*期|时\s*间|[Dd]ate|DATE|年\s*月\s*日")
_LABEL_WINDOW = 10
_TITLE = re.compile(
    r"[\u4e00-\u9fff]{0,6}(?:报\s*告\s*[单书]|化\s*验\s*单|检\s*验\s*单|证\s*明\s*书|病\s*历|记\s*录\s*单|小\s*结)"
)
# "…于2025年11月2日入院": a narrative date named by the verb after it.
_LABEL_AFTER = re.compile(
    r"^\s*(?:在|于|来|到|至|经)?\s*(?:我|本|外)?\s*院?\s*"
    r"(?P<w>入院|住院(?![部号])|出院|就诊|门诊(?![部号科楼室办病专])|手术|发病|起病|确诊|诊断(?![证专])|出生)"
)
_AFTER_KINDS: dict[str, DateKind] = {
    "入院": "admission",
    "住院": "admission",
    "出院": "discharge",
    "就诊": "visit",
    "门诊": "visit",
    "出生": "birth",
}
# "2025年12月5日复查", "…前来院随访": a follow-up date, not the document's.
_APPOINTMENT_AFTER = re.compile(
    r"^\s*(?:前|后|左右)?\s*(?:来|到|返|回)?\s*(?:我|本)?\s*(?:院|门诊)?\s*(?:复查|复诊|随访|复检|取药|换药|拆线)"
)
# "2024年1月3日起规律用药", "…行手术", "患者于2025年7月…": something that happened, not the document.
_EVENT_AFTER = re.compile(r"^\s*(?:起|开始|以来|至今|行|做|曾|因|后出现|出现|发现|前后|左右)")
_EVENT_BEFORE = re.compile(r"(?:于|自|从|曾|截至|截止)\s*$")
# "2025-11-02至2025-11-15": the second date of a range.
_RANGE_JOIN = re.compile(r"^\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*(?:至|到|-|~|—|－|起至)\s*$")
# A phone's status bar: time, network, battery, carrier, weekday.
_STATUS_TOKENS = re.compile(
    r"\d{1,3}\s*%|(?<![A-Za-z])(?:[2345]G|LTE|VoLTE|HD|WiFi|Wi-Fi)(?![A-Za-z])|中国移动|中国联通|中国电信"
    r"|星期[一二三四五六日天]|周[一二三四五六日天]"
)
_PHONE_TOKENS = re.compile(
    r"\d{1,3}\s*%|(?<![A-Za-z])(?:[2345]G|LTE|VoLTE|WiFi|Wi-Fi)(?![A-Za-z])|中国移动|中国联通|中国电信"
)
# A clock time; also one glued to the day before it when the space between was not read (a fax's
# "2026/04/2612:03").
_CLOCK = re.compile(r"(?:(?<!\d)|(?<=[-/.]\d\d)|(?<=[-/.]\d))\d{1,2}:\d{2}(?!\d)")
# Rows of a certificate's signature block: the issue date is printed beside or under them.
_SIGNATURE_ROW = re.compile(
    r"签\s*名|签\s*字|签\s*章|盖\s*章|公\s*章|专\s*用\s*章|\(\s*章\s*\)|医\s*师|医\s*生|特\s*此\s*证\s*明|此\s*证"
)
_CASE_FRONT_SHEET = re.compile(r"病\s*案\s*首\s*页")


def classify_label(text: str) -> DateKind | None:
    """The kind of date a label names (``报告日期`` → report), judged from the text right before
    the date; ``generic`` for a bare 日期/时间, None when there is no date label."""
    # A title (化验报告单, 诊断证明书) says what the page is, not what a date is.
    text = _TITLE.sub(lambda m: " " * len(m.group(0)), text)
    best: tuple[int, int, DateKind] | None = None
    for order, (kind, pattern) in enumerate(_DATE_LABEL_CLASSES):
        for m in pattern.finditer(text):
            key = (m.end(), -order)
            if best is None or key > best[:2]:
                best = (m.end(), -order, kind)
    generic = list(_GENERIC_DATE_LABEL.finditer(text))
    if best and generic and best[0] <= generic[-1].start():
        # "检验科 日期:" names no exam date: the class word must belong to the 日期's own label
        # ("报告日期", "报 告 日 期", "报告发出时间"), not to another field before it.
        gap = text[best[0] : generic[-1].start()]
        if gap.strip() and (re.search(r"[\s:;,\d]", gap) or len(gap) > 2):
            return "generic"
    if best:
        return best[2]
    return "generic" if generic else None


# --------------------------------------------------------------------------------------------
# Date candidates on a page
# --------------------------------------------------------------------------------------------

LabelSource = Literal["before", "after", "above", "column", "range", "place"]


@dataclass(frozen=True, slots=True)
class DateCandidate:
    """One date on the page, the kind its label names and where it was read.

    ``row_index``/``start``/``end`` index the rows given to ``date_candidates``; a date split over
    two rows (``2026年03月`` / ``05日``) also names the row and end of its second half."""

    date: ParsedDate
    kind: DateKind | None
    row_index: int
    start: int
    end: int
    source: LabelSource | None = None
    next_row: int | None = None
    next_start: int = 0
    next_end: int = 0

    @property
    def split(self) -> bool:
        return self.next_row is not None


def _label_in_column(rows: Sequence[Row], i: int, start: int, end: int) -> tuple[DateKind | None, LabelSource | None]:
    """The kind named by a header cell above a date: the row right above, or the header of the
    table column the date sits in (data rows of dates or numbers in between)."""
    row = rows[i]
    column = row.segments.index(row.segments_in(start, end)[0])
    box = row.box_for(start, end)
    line_h = max(box.height, 1.0)
    lowest = box.y0
    for j in range(i - 1, max(-1, i - 8), -1):
        above = rows[j]
        if above.page != rows[i].page or lowest - above.box.y1 > 2.5 * line_h:
            break
        if len(above.segments) == len(row.segments) > 1:
            # A header row of as many cells as the date's row: the cell of the same column.
            cell = above.segments[column]
        else:
            cells = [s for s in above.segments if s.line.box.x1 > box.x0 - 0.5 * line_h and box.x1 > s.line.box.x0]
            if not cells:
                lowest = min(lowest, above.box.y0)
                continue
            # The cell over the date's column: the most overlap, then the nearest centre.
            cell = max(
                cells,
                key=lambda s: (
                    min(s.line.box.x1, box.x1) - max(s.line.box.x0, box.x0),
                    -abs(s.line.box.center[0] - box.center[0]),
                ),
            )
        text = fold(cell.line.text)
        if find_dates(text) or re.fullmatch(r"[\d\s.:\-/]+", text):
            lowest = above.box.y0
            continue  # a data row of the same table
        if len(re.sub(r"\s+", "", text)) > 12 or re.search(r":\s*\S", text):
            return None, None  # a filled-in field ("医师签名:李四"), not a column's header
        kind = classify_label(text)
        return kind, ("above" if j == i - 1 else "column") if kind else None
    return None, None


def _is_status_bar(rows: Sequence[Row], i: int, page_sizes: Mapping[int, tuple[float, float]] | None) -> bool:
    """Whether row ``i`` is a phone screenshot's status bar: the page's first rows, at the very
    top, with a clock and the network/battery/weekday marks (or a clock on a phone-shaped page)."""
    row = rows[i]
    first = next(j for j in range(len(rows)) if rows[j].page == row.page)
    if i - first > 1:
        return False
    size = (page_sizes or {}).get(row.page)
    clock = bool(_CLOCK.search(row.text))
    tokens = bool(_STATUS_TOKENS.search(row.text))
    if size is not None:
        width, height = size
        if row.box.y0 > 0.07 * height:
            # A screen photographed off another phone: the status bar is not at the picture's top
            # edge, but it is still the first line of print, with a clock and the phone's own marks
            # (network, battery, carrier; a weekday alone could be a printed report's), which a
            # tilted photo may put on a row of their own beside it.
            beside = [rows[j] for j in (first, first + 1) if j != i and j < len(rows) and rows[j].page == row.page
                      and abs(rows[j].box.center[1] - row.box.center[1]) <= row.box.height]
            marks = any(_PHONE_TOKENS.search(r.text) for r in (row, *beside))
            return (i == first or bool(beside)) and clock and marks and row.box.y0 <= 0.25 * height
        phone_shaped = height >= 1.7 * width
    else:
        phone_shaped = False
    return (clock and (tokens or phone_shaped)) or (tokens and phone_shaped)


# What a fax machine prints in its transmit line: sender and page marks, a phone number.
_TRANSMIT_TOKENS = re.compile(
    r"(?<![A-Za-z])(?:FROM|From|FAX|Fax|TEL|Tel|TO)(?![a-z])|传\s*真|发\s*自|发\s*件|收\s*件"
    r"|(?<![A-Za-z])P\s*\.\s*\d|第\s*\d+\s*页|Page\s*\d|#\s*\d{2,}|(?<![A-Za-z])T\s*-\s*\d"
    r"|(?<!\d)0\d{2,3}\s*-?\s*\d{7,8}(?!\d)"
)


def _is_transmit_line(rows: Sequence[Row], i: int, page_sizes: Mapping[int, tuple[float, float]] | None) -> bool:
    """Whether row ``i`` is a fax's transmit line: the first row of its page, at the top edge, a
    clock time and at least one fax mark (FROM/FAX/传真/发自, a page counter, the sender's number).
    Its date is when the page was sent, never the document's."""
    row = rows[i]
    first = next(j for j in range(len(rows)) if rows[j].page == row.page)
    if i != first or not _CLOCK.search(row.text) or not _TRANSMIT_TOKENS.search(row.text):
        return False
    size = (page_sizes or {}).get(row.page)
    return size is None or row.box.y0 <= 0.06 * size[1]


# A row that is nothing but a date and a clock time (a chat's message timestamp "3月16日 上午9:05",
# a screenshot's own "2026-03-18 14:32").
_LONE_TIMESTAMP = re.compile(
    r"^\s*(?:\d{4}\s*[年./-]\s*)?\d{1,2}\s*[月./-]\s*\d{1,2}\s*[日号]?\s*(?:星期.|周.)?\s*"
    r"(?:上午|下午|中午|晚上|凌晨)?\s*\d{1,2}:\d{2}(?::\d{2})?\s*$"
)


def _is_screen_stamp(
    rows: Sequence[Row], i: int, page_sizes: Mapping[int, tuple[float, float]] | None, *, after_status: bool
) -> bool:
    """Whether row ``i`` is a phone screenshot's own timestamp: a lone date-and-time centred on a
    phone-shaped page (a chat's message time, the date a phone prints under its status bar), or
    right under a status bar found on a photographed screen."""
    row = rows[i]
    if not _LONE_TIMESTAMP.match(row.text):
        return False
    if after_status:
        return True
    size = (page_sizes or {}).get(row.page)
    if size is None:
        return False
    width, height = size
    return height >= 1.7 * width and abs(row.box.center[0] - width / 2) <= 0.12 * width


@dataclass(frozen=True, slots=True)
class _Split:
    date: ParsedDate
    start: int  # in row i
    end: int  # in row i: the end of the box the first half is in
    next_row: int
    next_start: int
    next_end: int


def _split_dates(rows: Sequence[Row], i: int) -> list[_Split]:
    """A date whose first half ends a box of row ``i`` and whose rest starts the box right below
    it (``2026年03月`` / ``05日``, ``报告时间:2026年3`` / ``月6日``), or the box right beside it that
    a slant or a seal's ink put on the next row (``2025年11月`` / ``21日`` a little lower)."""
    if i + 1 >= len(rows):
        return []
    row, nxt = rows[i], rows[i + 1]
    line_h = max(row.box.height, 1.0)
    if nxt.page != row.page or nxt.box.y0 - row.box.y1 > 1.5 * line_h:
        return []
    splits: list[_Split] = []
    for seg in row.segments:
        box = seg.line.box
        below = [b for b in nxt.segments if b.line.box.x0 < box.x1 and box.x0 - line_h < b.line.box.x1]
        if below:
            first = min(below, key=lambda b: abs(b.line.box.x0 - box.x0))
        else:
            h = max(box.height, 1.0)
            beside = [
                b
                for b in nxt.segments
                if box.x1 - 0.5 * h <= b.line.box.x0 <= box.x1 + 2 * h
                and abs(b.line.box.center[1] - box.center[1]) <= h
            ]
            if not beside:
                continue
            first = min(beside, key=lambda b: b.line.box.x0)
        tail_start = max(seg.start, seg.end - 12)
        tail = row.text[tail_start : seg.end]
        head = nxt.text[first.start : min(first.end, first.start + 8)]
        # A number cut in two ("2026.0" / "1.03") joins without a space; anything else with one.
        glue = "" if tail[-1:].isdigit() and head[:1].isdigit() else " "
        for date, (s, e) in find_dates(tail + glue + head):
            if date.day is not None and s < len(tail) and e > len(tail) + len(glue):
                next_end = first.start + e - len(tail) - len(glue)
                splits.append(_Split(date, tail_start + s, seg.end, i + 1, first.start, next_end))
                break
    return splits


def date_candidates(
    rows: Sequence[Row], *, page_sizes: Mapping[int, tuple[float, float]] | None = None, as_of: dt.date | None = None
) -> list[DateCandidate]:
    """Every date on the rows with the kind of its label, in reading order.

    The label is looked for in the text right before the date on its row, then right after it
    (narrative "于…入院"), then in the header cell above it in the same table column. ``page_sizes``
    (page index → width, height) helps to tell a phone screenshot's status bar; ``as_of`` (the
    submission date) places a date whose year a seal cut to its last digit ("5年8月31日"), or a
    labelled date written without its year ("日期：六月八日"), on a page with no other date."""
    out: list[DateCandidate] = []
    continued: dict[int, list[tuple[int, int]]] = {}  # row index → span of a split date's second half
    found_by_row = [[(d, s, e) for d, (s, e) in find_dates(row.text)] for row in rows]
    references = _reference_dates(rows, found_by_row)
    status_rows: set[int] = set()
    for i, row in enumerate(rows):
        previous: DateCandidate | None = None
        previous_end = 0
        status: DateKind | None = None
        if _is_transmit_line(rows, i, page_sizes):
            status = "transmit"
        elif _is_status_bar(rows, i, page_sizes) or _is_screen_stamp(
            rows, i, page_sizes, after_status=i - 1 in status_rows and rows[i - 1].page == row.page
        ):
            status = "status_bar"
            status_rows.add(i)
        reference = references.get(row.page, references.get(None))
        found = found_by_row[i] + _partial_dates(row.text, found_by_row[i], reference, as_of=as_of)
        for cs, ce in continued.get(i, []):
            # The rest of a date split from the row above is no date of its own.
            found = [f for f in found if f[2] <= cs or f[1] >= ce]
        splits = _split_dates(rows, i)
        for split in splits:
            # The split date replaces a month-only reading of its first half.
            found = [f for f in found if f[2] <= split.start or f[1] >= split.end]
        pending: list[tuple[ParsedDate, int, int, _Split | None]] = [(d, s, e, None) for d, s, e in found]
        pending += [(split.date, split.start, split.end, split) for split in splits]
        for date, start, end, part in sorted(pending, key=lambda f: f[1]):
            kind, source = _kind_of(rows, i, start, end, previous_end, previous, status)
            if source == "range" and previous is not None and out and out[-1] is previous:
                # A range's two ends: a stay when a verb says so ("…至…在我院住院"), else a period
                # (a stay or a sick leave) whose ends are never an issue or report date.
                stay = _LABEL_AFTER.match(row.text[end : end + 12])
                if stay and stay.group("w") in ("住院", "入院"):
                    out[-1] = previous = _with_kind(previous, "admission")
                    kind = "discharge"
                elif kind is None:
                    out[-1] = previous = _with_kind(previous, "period")
                    kind = "period"
            if part is None:
                previous = DateCandidate(date, kind, i, start, end, source)
            else:
                previous = DateCandidate(
                    date, kind, i, start, end, source, part.next_row, part.next_start, part.next_end
                )
                continued.setdefault(part.next_row, []).append((part.next_start, part.next_end))
            out.append(previous)
            previous_end = end
            if source == "after":
                # The verb named this date; it is no label of the next one ("…入院，2024年3月9日出院").
                after = _LABEL_AFTER.match(row.text[end : end + 12])
                previous_end += after.end() if after else 0
    return out


def _with_kind(c: DateCandidate, kind: DateKind) -> DateCandidate:
    return DateCandidate(c.date, kind, c.row_index, c.start, c.end, c.source, c.next_row, c.next_start, c.next_end)


def _reference_dates(
    rows: Sequence[Row], found_by_row: Sequence[Sequence[tuple[ParsedDate, int, int]]]
) -> dict[int | None, dt.date]:
    """Per page (and None for the whole document), the latest full date read with its year: what a
    date whose year is lost is placed against."""
    latest: dict[int | None, dt.date] = {}
    for row, found in zip(rows, found_by_row, strict=True):
        for date, _, _ in found:
            if date.day is None or date.year < MIN_DOC_YEAR:
                continue
            for key in (row.page, None):
                if key not in latest or date.as_date() > latest[key]:
                    latest[key] = date.as_date()
    return latest


def _partial_dates(
    text: str, found: Sequence[tuple[ParsedDate, int, int]], reference: dt.date | None, *,
    as_of: dt.date | None = None,
) -> list[tuple[ParsedDate, int, int]]:
    """Dates whose year is lost or cut ("12月24日", "025年12月24日", "026-02-17") given the year that puts them
    nearest the page's latest full date (``reference``), or for a cut year on a page without one,
    the latest year with those last digits by ``as_of``; marked repaired and ``year_inferred``."""
    if "月" not in text and not re.search(r"\d[-./]\d", text):
        return []
    clean = fix_digit_confusions(fold(text))
    taken = [(s, e) for _, s, e in found]
    out: list[tuple[ParsedDate, int, int]] = []
    hits = [(m, False) for m in _MD_PARTIAL.finditer(clean)] + [(m, True) for m in _MD_PARTIAL_CN.finditer(clean)]
    hits += [(m, False) for m in _YMD_CUT_YEAR.finditer(clean)]
    for m, chinese in hits:
        if _overlaps(m.span(), taken):
            continue
        if chinese:
            month, day = _cn_small_number(m.group("m")), _cn_small_number(m.group("d"))
            # "六年二月二十日": the year's first numerals lost under a seal; its last ones say which year.
            suffix = "".join(str(_CN_DIGITS[c]) for c in m.group("ys")) if m.group("ys") else None
        else:
            month, day, suffix = int(m.group("m")), int(m.group("d")), m.group("ys")
        if month is None or day is None:
            continue
        year = _infer_year(month, day, suffix, reference)
        if year is None and reference is None and as_of is not None and (
            suffix or _DATE_LABEL_BEFORE.search(clean[: m.start()])
        ):
            # A year cut to its last digits, or no year at all right after a date label ("日期：
            # 六月八日"), on a page with no other date: the latest such day by the submission.
            year = _latest_year_ending(suffix or "", month, day, as_of)
        date = _make(year, month, day, repaired=True) if year is not None else None
        if date is None:
            continue
        out.append((ParsedDate(date.year, date.month, date.day, repaired=True, year_inferred=True), *m.span()))
        taken.append(m.span())
    return out


def _infer_year(month: int, day: int, suffix: str | None, reference: dt.date | None) -> int | None:
    """The year of a date read without it (or with only its last digits, ``suffix``): the year
    that ends in ``suffix`` and puts the date nearest ``reference``; without a reference only a
    2-3 digit suffix ("25", "025") says the year."""
    if reference is None:
        if suffix is None or len(suffix) < 2:
            return None
        return 2000 + int(suffix[-2:])
    options = [y for y in range(reference.year - 10, reference.year + 2) if suffix is None or str(y).endswith(suffix)]

    def distance(year: int) -> int:
        try:
            return abs((dt.date(year, month, day) - reference).days)
        except ValueError:
            return 10**6

    best = min(options, key=distance, default=None)
    if best is None or distance(best) >= 10**6:
        return None
    if suffix is None and distance(best) > 366:
        return None
    return best


def _latest_year_ending(suffix: str, month: int, day: int, as_of: dt.date) -> int | None:
    """The latest year ending in ``suffix`` that puts month/day no later than ``as_of`` (a few days'
    grace) and within ten years of it: what "5年8月31日" says on a page read on 2026-03-20 (2025)."""
    for year in range(as_of.year, as_of.year - 11, -1):
        if not str(year).endswith(suffix):
            continue
        try:
            if dt.date(year, month, day) <= as_of + dt.timedelta(days=_FUTURE_GRACE_DAYS):
                return year
        except ValueError:
            continue  # 2月29日 of a year that has none
    return None


def _kind_of(
    rows: Sequence[Row],
    i: int,
    start: int,
    end: int,
    previous_end: int,
    previous: DateCandidate | None,
    status: DateKind | None,
) -> tuple[DateKind | None, LabelSource | None]:
    row = rows[i]
    if status == "transmit":
        return status, None  # the fax's line: whatever its words, its dates are the transmission's
    window = row.text[max(previous_end, start - _LABEL_WINDOW) : start]
    if previous is not None and _RANGE_JOIN.match(row.text[previous.end : start]):
        if previous.kind in ("stay", "admission"):
            return "discharge", "range"
        return previous.kind, "range"
    after_text = row.text[end : end + 12]
    # "…检查，自2025年11月16日起": the narrative's 于/自 right before the date outranks a label
    # word further back in the sentence.
    narrative = bool(_EVENT_BEFORE.search(window))
    kind = None if narrative else classify_label(window)
    if kind is not None:
        return kind, "before"
    if status:
        return status, None
    after = _LABEL_AFTER.match(after_text)
    if after:
        return _AFTER_KINDS.get(after.group("w"), "onset"), "after"
    if _APPOINTMENT_AFTER.match(after_text):
        return "appointment", "after"
    if _EVENT_AFTER.match(after_text):
        return "onset", "after"
    if narrative:
        return "onset", "before"
    if i > 0:
        kind, source = _label_in_column(rows, i, start, end)
        if kind is not None:
            return kind, source
    return _label_to_the_left(rows, i, start, end)


def _label_to_the_left(rows: Sequence[Row], i: int, start: int, end: int) -> tuple[DateKind | None, LabelSource | None]:
    """The kind named by a bare label cell to the left of a date that begins its row, when a table
    border or a slant put the two on neighbouring rows (``报告日期 │`` a little higher than its value):
    the nearest such label within a line's height above or below, ending left of the date."""
    row = rows[i]
    box = row.box_for(start, end)
    if any(s.line.box.x1 <= box.x0 for s in row.segments if s.end <= start and s.line.text.strip()):
        return None, None  # something stands before the date on its own row: its label, if any
    h = max(box.height, 1.0)
    best: tuple[float, DateKind] | None = None
    for j in (i - 1, i + 1):
        if not 0 <= j < len(rows) or rows[j].page != row.page:
            continue
        for seg in rows[j].segments:
            cell = seg.line.box
            if cell.x1 > box.x0 + 0.5 * h or box.x0 - cell.x1 > 12 * h or abs(cell.center[1] - box.center[1]) > 1.2 * h:
                continue
            text = fold(seg.line.text).strip(" :|丨")
            kind = classify_label(text) if len(text) <= 8 and not re.search(r"\d", text) else None
            distance = box.x0 - cell.x1
            if kind is not None and (best is None or distance < best[0]):
                best = (distance, kind)
    return (best[1], "before") if best else (None, None)


# --------------------------------------------------------------------------------------------
# The document's date
# --------------------------------------------------------------------------------------------

# Per type, the kinds that can be the date the recency rule needs, in tiers, best first. None is a
# date with no label. Kinds in no tier (birth, admission, sampling, receipt, print, valid period,
# appointment, onset, status bar …) are never the document's date.
DATE_PREFERENCE: dict[DocType, tuple[tuple[DateKind | None, ...], ...]] = {
    # Without a 报告日期, the report is dated by the latest date of its exam: a report is never issued
    # before its exam, and a bare 日期 (or one whose label the scan lost) at the foot of the page is the
    # report's own, later than the 检查日期 at its head.
    DocType.LAB_REPORT: (("report",), ("audit",), ("exam", "generic", None), ("issue", "record")),
    DocType.DISCHARGE_SUMMARY: (("discharge",), ("record", "issue"), ("generic",), (None, "period")),
    # The issue date: labelled, or the date by the signature and seal, or the last one on the page.
    DocType.DIAGNOSIS_CERTIFICATE: (("issue",), ("generic", None), ("report", "record")),
    DocType.MEDICAL_RECORD: (
        ("visit",),
        ("discharge",),
        ("record", "issue"),
        ("generic",),
        (None, "period"),
        ("report",),
    ),
    # Prescriptions, slips, invoices: their 开具/开单/开票 date.
    DocType.OTHER: (
        ("issue", "report"),
        ("order",),
        ("generic",),
        (None,),
        ("visit", "record", "exam", "discharge", "audit"),
    ),
}
# When no date of the tiers is read (the issue date lost under the seal, the report date too faint
# on a scan), the latest date of an event the document reports is a lower bound of its date
# (``doc_date_not_before``): a certificate is issued on or after the discharge or visit it
# certifies, a lab report on or after its sample was taken or received, a discharge on or after the
# admission. Recent enough on that date means recent enough (classifiers.recency); too old on it
# says nothing.
_LOWER_BOUND_KINDS: dict[DocType, tuple[DateKind, ...]] = {
    DocType.DIAGNOSIS_CERTIFICATE: ("discharge", "visit", "exam", "audit"),
    DocType.LAB_REPORT: ("sampling", "receipt", "order"),
    DocType.DISCHARGE_SUMMARY: ("admission",),
    DocType.MEDICAL_RECORD: ("admission",),
}
# 病案首页: the discharge date (出院时间) is the one that counts.
_CASE_FRONT_SHEET_PREFERENCE: tuple[tuple[DateKind | None, ...], ...] = (
    ("discharge",),
    ("visit",),
    ("record", "issue"),
    ("generic",),
    (None, "period"),
)
# How sure a pick is, before the OCR score: by what named the date.
_SURE_LABELLED_FIRST = 0.98  # the type's own label (报告日期 on a lab report)
_SURE_LABELLED = 0.9  # another accepted label, or a bare 日期
_SURE_BY_PLACE = 0.8  # no label, the only date of its place (a certificate's signature block)
_SURE_UNLABELLED = 0.72  # no label, the latest of the plausible dates
_SURE_LAST_RESORT = 0.6  # the last tier: a kind that is only sometimes the document's date
_SURE_CONFLICT = 0.65  # the pick contradicts another date of the page (issued before what it certifies)
_SURE_SCREEN_UNLABELLED = 0.7  # an unlabelled date on an app's screen: a list, message or refresh time?
_SURE_SCREEN_LIST = 0.5  # several reports listed on a screen and no title says which one is meant
_SURE_YEAR_REPAIRED = 0.75  # a year read through one look-alike digit (2005 for 2025)
_YEAR_INFERRED = 0.85  # on top of the repair: the year was read from another date of the page
# Dates earlier than this are birth dates, history or misreads, not a recent document's date.
MIN_DOC_YEAR = 1990
# A date this many days after the submission is still a clock slip (as in classifiers.recency).
_FUTURE_GRACE_DAYS = 2


def _near_signature(rows: Sequence[Row], c: DateCandidate) -> bool:
    page_rows = [j for j in range(len(rows)) if rows[j].page == rows[c.row_index].page]
    lower_half = page_rows.index(c.row_index) >= len(page_rows) / 2
    nearby = range(max(page_rows[0], c.row_index - 3), min(page_rows[-1], c.row_index + 1) + 1)
    return lower_half and any(_SIGNATURE_ROW.search(rows[j].text) for j in nearby)


def plausible_doc_date(date: ParsedDate, birth_date: dt.date | None) -> bool:
    """A date that can be a document's date: not before 1990, not the birth date or earlier."""
    if date.year < MIN_DOC_YEAR:
        return False
    if birth_date is not None:
        if date.day is None:
            return (date.year, date.month) > (birth_date.year, birth_date.month)
        return date.as_date() > birth_date
    return True


def _plausible_candidates(
    rows: Sequence[Row],
    tiers: tuple[tuple[DateKind | None, ...], ...],
    *,
    birth_date: dt.date | None,
    page_sizes: Mapping[int, tuple[float, float]] | None,
    candidates: Sequence[DateCandidate] | None,
    as_of: dt.date | None,
) -> tuple[list[DateCandidate], list[DateCandidate]]:
    """Every date of the page (years misread through a look-alike digit repaired) and those of them
    that can be a document's date: not before the birth date, not after the submission date while
    any date of the accepted kinds is left."""
    found = list(candidates) if candidates is not None else date_candidates(rows, page_sizes=page_sizes)
    accepted = {kind for tier in tiers for kind in tier}
    found = repair_misread_years(found, accepted, birth_date, as_of)
    plausible = [c for c in found if plausible_doc_date(c.date, birth_date)]
    if as_of is not None:
        latest = as_of + dt.timedelta(days=_FUTURE_GRACE_DAYS)
        past = [c for c in plausible if c.date.as_date() <= latest]
        if any(c.kind in accepted for c in past):
            plausible = past
    return found, plausible


def _tiers_for(rows: Sequence[Row], doc_type: DocType) -> tuple[tuple[DateKind | None, ...], ...]:
    if doc_type == DocType.MEDICAL_RECORD and any(_CASE_FRONT_SHEET.search(r.text) for r in rows[:6]):
        return _CASE_FRONT_SHEET_PREFERENCE
    return DATE_PREFERENCE.get(doc_type, DATE_PREFERENCE[DocType.OTHER])


def pick_doc_date(
    rows: Sequence[Row],
    doc_type: DocType,
    *,
    birth_date: dt.date | None = None,
    page_sizes: Mapping[int, tuple[float, float]] | None = None,
    candidates: Sequence[DateCandidate] | None = None,
    as_of: dt.date | None = None,
) -> FieldValue | None:
    """The date the recency rule needs for ``doc_type`` (report, discharge, issue or visit date),
    with the page and box it was read from, or None: never a birth, admission, sampling, print or
    status-bar time (``doc_date_not_before`` turns those into a bound when this date is lost).

    Its ``confidence`` is the OCR score of the date's text times how sure the pick is: high for the
    type's own label, lower for a date chosen by its place or among several unlabelled dates, and
    lower again for a date read through a misrecognised separator or split over two rows.
    ``birth_date`` (from the ID number on the same document) rules out the birth date and anything
    before it. ``as_of`` (the submission date) rules out dates after it (a follow-up, a sick leave's
    end) while any other date is left. ID cards have no document date.
    """
    if doc_type == DocType.ID_CARD or not rows:
        return None
    tiers = _tiers_for(rows, doc_type)
    accepted = {kind for tier in tiers for kind in tier}
    found, plausible = _plausible_candidates(rows, tiers, birth_date=birth_date, page_sizes=page_sizes,
                                             candidates=candidates, as_of=as_of)
    usable = [c for c in plausible if c.kind in accepted]
    for rank, tier in enumerate(tiers):
        group = [c for c in usable if c.kind in tier]
        if not group:
            continue
        by_place = doc_type == DocType.DIAGNOSIS_CERTIFICATE and any(c.kind in (None, "generic") for c in group)
        if by_place:
            # The issue date sits by the signature and seal; otherwise the last date on the page.
            best = max(
                group,
                key=lambda c: (
                    _near_signature(rows, c),
                    c.kind == "generic",
                    c.date.as_date(),
                    c.row_index,
                ),
            )
        else:
            # The latest date of the tier (a report comes after its exam); on a tie the lowest.
            best = max(group, key=lambda c: (c.date.as_date(), c.date.precision == "day", c.row_index))
        sure = _pick_certainty(rows, best, group, usable, rank, len(tiers), by_place=by_place)
        screen = _on_screen(rows, found, best)
        if screen and len({c.date.value for c in group}) > 1:
            best, sure = _pick_from_screen_list(rows, group, best, sure)
        elif screen and best.kind in (None, "generic"):
            sure = min(sure, _SURE_SCREEN_UNLABELLED)  # a list, message or refresh time looks the same
        later = _later_events(rows, best, plausible, doc_type)
        if later is not None:
            # A certificate is issued on or after all it certifies (a summary written on or after
            # the discharge): an unlabelled pick earlier than an event of the page is not its date.
            best, sure = later, min(sure, _SURE_CONFLICT) * _damage_factor(later)
        elif best.kind == "discharge" and _before_an_admission(best, plausible):
            sure = min(sure, _SURE_CONFLICT)  # discharge before admission: one of them is misread
        return _candidate_field(rows, best, sure)
    return None


def doc_date_not_before(
    rows: Sequence[Row],
    doc_type: DocType,
    *,
    birth_date: dt.date | None = None,
    page_sizes: Mapping[int, tuple[float, float]] | None = None,
    candidates: Sequence[DateCandidate] | None = None,
    as_of: dt.date | None = None,
) -> FieldValue | None:
    """A date the document's own date cannot precede, for when ``pick_doc_date`` found none: the
    latest date of an event the document reports (``_LOWER_BOUND_KINDS``: the sample of a lab report,
    the admission of a stay, the discharge or visit a certificate certifies). Its confidence is the
    OCR score of its text, lowered for a repaired reading."""
    kinds = _LOWER_BOUND_KINDS.get(doc_type, ())
    if not kinds or not rows:
        return None
    _, plausible = _plausible_candidates(rows, _tiers_for(rows, doc_type), birth_date=birth_date,
                                         page_sizes=page_sizes, candidates=candidates, as_of=as_of)
    bounds = [c for c in plausible if c.kind in kinds]
    if not bounds:
        return None
    best = max(bounds, key=lambda c: (c.date.as_date(), c.date.precision == "day", c.row_index))
    return _candidate_field(rows, best, _damage_factor(best))


def _damage_factor(c: DateCandidate) -> float:
    """How much a repaired reading, a year taken from elsewhere or a split lowers the confidence."""
    factor = 1.0
    if c.date.repaired:
        factor *= 0.85
    if c.date.year_inferred:
        factor *= _YEAR_INFERRED
    if c.date.year_repaired:
        factor *= _SURE_YEAR_REPAIRED
    if c.split:
        factor *= 0.9
    return factor


# Kinds of the events a document reports, per type: it is issued (written) on or after each of
# them. Not a follow-up, a validity, a sick leave's period, a print or a screen's time: those may lie
# after the document's date.
_EVENT_KINDS: dict[DocType, frozenset[DateKind | None]] = {
    DocType.DIAGNOSIS_CERTIFICATE: frozenset(
        {None, "generic", "report", "record", "audit", "exam", "visit", "discharge", "admission", "stay",
         "onset", "sampling", "receipt", "order"}
    ),
    DocType.DISCHARGE_SUMMARY: frozenset({None, "generic", "record", "issue", "discharge", "admission", "stay"}),
}
# The pick is only replaced when nothing named it as the date: a labelled issue date (or, on a
# summary, the labelled discharge) stands, as the document says.
_NAMED_DATE_KINDS: dict[DocType, frozenset[DateKind | None]] = {
    DocType.DIAGNOSIS_CERTIFICATE: frozenset({"issue"}),
    DocType.DISCHARGE_SUMMARY: frozenset({"discharge"}),
}
# The words that name a date as the issue date itself, not just a date by the signature.
_EXPLICIT_ISSUE = re.compile(r"开\s*具|出\s*具|开\s*证|证\s*明|签\s*发|填\s*写|填\s*报|诊\s*断\s*(?:日|时)")
# "2024年1月3日起规律用药": a plan from that day on, which may lie after the document's date.
_PLAN_AFTER = re.compile(r"^\s*(?:起|开始)")


def _later(a: ParsedDate, b: ParsedDate) -> bool:
    """Whether ``a`` is surely after ``b``: by month when either is only a month."""
    if a.day is None or b.day is None:
        return (a.year, a.month) > (b.year, b.month)
    return a.as_date() > b.as_date()


def _later_events(
    rows: Sequence[Row], best: DateCandidate, plausible: Sequence[DateCandidate], doc_type: DocType
) -> DateCandidate | None:
    """The latest event of the page when it lies after ``best`` and ``best`` is not named as the
    document's date: what a certificate (or a summary) must be dated on or after."""
    kinds = _EVENT_KINDS.get(doc_type)
    if kinds is None:
        return None
    if best.kind in _NAMED_DATE_KINDS.get(doc_type, frozenset()):
        window = rows[best.row_index].text[max(0, best.start - _LABEL_WINDOW) : best.start]
        if best.kind != "issue" or _EXPLICIT_ISSUE.search(window):
            return None  # an issue date only by the signature's place (医师签名 …) may still be a visit's
    events = [
        c
        for c in plausible
        if c.kind in kinds
        and not c.date.year_inferred
        and not _PLAN_AFTER.match(rows[c.row_index].text[c.end : c.end + 4])
        and _later(c.date, best.date)
    ]
    if not events:
        return None
    return max(events, key=lambda c: (c.date.as_date(), c.date.precision == "day", c.row_index))


def _before_an_admission(best: DateCandidate, plausible: Sequence[DateCandidate]) -> bool:
    return any(c.kind in ("admission", "stay") and _later(c.date, best.date) for c in plausible)


# A stay this long or shorter is what a discharge's misread year is repaired to, when it was read at
# least this long before its admission (a few days before it is a misread day, not a year).
_LONGEST_STAY_DAYS = 180
# What OCR reads one digit of a year as, in small or blurred print.
_DIGIT_LOOKALIKES: dict[str, str] = {
    "0": "2689",
    "1": "47",
    "2": "037",
    "3": "258",
    "4": "19",
    "5": "368",
    "6": "058",
    "7": "12",
    "8": "0369",
    "9": "048",
}


def repair_misread_years(
    found: Sequence[DateCandidate], accepted: set[DateKind | None] | frozenset[DateKind | None],
    birth_date: dt.date | None, as_of: dt.date | None = None,
) -> list[DateCandidate]:
    """Candidates with a year OCR misread by one digit put right (``2005`` for ``2025``).

    A year is suspect when it lies 1990-2009 while every other dated event of the page is of the
    2020s, or far (over 5 years) before them and before the birth date plus a decade. It is repaired
    only when exactly one look-alike substitution of one digit brings it among the page's other
    years; the date is then marked ``year_repaired`` (and ``repaired``), which lowers the pick's
    confidence. Only dates of the kinds that can be the document's date are touched: a history
    (确诊于2005年) or a birth date is old for a reason.

    A year after ``as_of``'s (the submission date's) cannot be the document's: it is repaired when
    exactly one look-alike substitution puts it in the submission's year or the one before, on or
    before the submission (``2036`` read for ``2026``); a later date of the same year is a date of
    another thing on the page (a follow-up), not a misread. A date in the past is never moved by the
    submission date alone: an old document is what the recency rule is for.

    A discharge before the admission of the same page (出院 2025-02-26 after 入院 2026-02-08) has one
    of them misread: the discharge's year is repaired when exactly one look-alike substitution puts
    it on or after the admission, within ``_LONGEST_STAY_DAYS`` of it, when it was read more than
    that before the admission (a discharge read a few days early is a misread day, not a year)."""
    out = list(found)
    dated = [c for c in found if c.kind not in ("birth", "valid") and not c.date.year_inferred]
    latest = as_of + dt.timedelta(days=_FUTURE_GRACE_DAYS) if as_of is not None else None
    for n, c in enumerate(found):
        if c.kind not in accepted:
            continue
        options = _lookalike_years(c.date.year, digits=1)
        fits = _after_its_admission(c, options, dated, latest) if c.kind == "discharge" else set()
        if len(fits) != 1:
            fits = _among_the_pages_years(c, options, dated, birth_date, as_of, latest)
        if len(fits) != 1:
            continue
        repaired = _make(fits.pop(), c.date.month, c.date.day, repaired=True)
        if repaired is None:
            continue
        date = ParsedDate(repaired.year, repaired.month, repaired.day, repaired=True, year_repaired=True)
        out[n] = DateCandidate(date, c.kind, c.row_index, c.start, c.end, c.source, c.next_row, c.next_start,
                               c.next_end)
    return out


# How much less likely than the OCR's own reading a line with another year may be, for the pixels
# of that line (the recogniser's CTC log-likelihood, natural log, over the whole line), and still be
# taken as what is printed. See ``years_as_printed``.
DATE_FIT_MARGIN = 4.5
# A document's own date this many years before the submission's year is suspect (a year's 2 read
# as 0 in small print: 2006 for 2026); the years tried instead are the submission's and the ones
# before it, as far back as ``_FITTED_YEARS_BACK``.
_SUSPECT_YEARS_BEFORE = 5
_FITTED_YEARS_BACK = 2
# A date whose year OCR could not read as one: a token that starts as a year of the 2000s but is
# not one ("206", "20326", "2℃8", "26"), then a month and day read whole ("206-11-29", "2℃8/11/1",
# "26年11月18日").
_YEAR_REMNANT = re.compile(
    r"(?<![\d.])(?P<y>2[^\s年月日:,;]{1,4}?)\s*(?P<s>[-./年])\s*(?P<m>[01]?\d)\s*(?:(?P=s)|月)\s*(?P<d>[0-3]?\d)(?!\d)"
)


def years_as_printed(rows: Sequence[Row], found: Sequence[DateCandidate], doc_type: DocType, as_of: dt.date,
                     fit: TextFit, read_pages: Collection[int]) -> list[DateCandidate]:
    """``found`` with the years the pixels say were printed where OCR misread them, on the dates that
    can be the document's own (``_tiers_for``): a year far before the submission's (over
    ``_SUSPECT_YEARS_BEFORE`` years) or after it, and a year token that is no year at all (``206``
    in ``206-11-29``, which no other reading parses), is tried as each year from
    ``_FITTED_YEARS_BACK`` before the submission's to its own; the line with the one that fits best
    is taken when it fits less than ``DATE_FIT_MARGIN`` worse than the line as read (``best_fit``).
    A date so read is marked ``year_repaired``, which lowers the pick's confidence; one that would
    fall after the submission is not tried. ``fit`` scores a line's texts (``TextFit``); only the
    pages of ``read_pages`` (those OCR read) are tried: a text layer's years are exact."""
    accepted = {kind for tier in _tiers_for(rows, doc_type) for kind in tier}
    years = range(as_of.year - _FITTED_YEARS_BACK, as_of.year + 1)
    latest = as_of + dt.timedelta(days=_FUTURE_GRACE_DAYS)
    out = list(found)
    for n, c in enumerate(found):
        year = c.date.year
        if (c.kind not in accepted or c.date.year_inferred or c.date.year_repaired or c.split
                or rows[c.row_index].page not in read_pages):
            continue
        if as_of.year - _SUSPECT_YEARS_BEFORE <= year <= as_of.year:
            continue
        m = re.match(r"\D{0,2}?(\d{4})", fix_digit_confusions(rows[c.row_index].text[c.start : c.end]))
        if m is None or int(m.group(1)) != year:
            continue
        # Only years OCR could have misread this one as: a digit or two read as a look-alike.
        options = _lookalike_years(year, digits=2)
        lookalike = [y for y in years if y in options]
        date = _year_fitting(rows[c.row_index], c.start + m.start(1), c.start + m.end(1), c.date.month, c.date.day,
                             lookalike, latest, fit)
        if date is not None:
            out[n] = DateCandidate(date, c.kind, c.row_index, c.start, c.end, c.source)
    for i, row in enumerate(rows):
        if row.page not in read_pages:
            continue
        taken = [(c.start, c.end) for c in out if c.row_index == i]
        for m in _YEAR_REMNANT.finditer(fix_digit_confusions(row.text)):
            if _overlaps((m.start(), m.end()), taken) or parse_date(m.group(0)) is not None:
                continue
            kind, source = _kind_of(rows, i, m.start(), m.end(), 0, None, None)
            if kind not in accepted:
                continue
            date = _year_fitting(row, m.start("y"), m.end("y"), int(m.group("m")), int(m.group("d")),
                                 years, latest, fit)
            if date is not None:
                out.append(DateCandidate(date, kind, i, m.start(), m.end(), source))
    return sorted(out, key=lambda c: (c.row_index, c.start))


def _lookalike_years(year: int, *, digits: int) -> set[int]:
    """The years OCR may have read as ``year``: one to ``digits`` of its digits each put back from
    the look-alike it may have been read as (``_DIGIT_LOOKALIKES``: 2006 from 2026, never from 2016)."""
    found: set[str] = set()
    frontier = {str(year)}
    for _ in range(digits):
        frontier = {text[:k] + alt + text[k + 1 :]
                    for text in frontier for k, digit in enumerate(str(year)) if text[k] == digit
                    for alt in _DIGIT_LOOKALIKES.get(digit, "")}
        found |= frontier
    return {int(text) for text in found} - {year}


def _year_fitting(row: Row, start: int, end: int, month: int, day: int | None, years: Sequence[int],
                  latest: dt.date, fit: TextFit) -> ParsedDate | None:
    """The date whose year (one of ``years``, the date not after ``latest``) the pixels of the line
    holding ``row.text[start:end]`` fit best in place of what was read there, if any fits well
    enough (``DATE_FIT_MARGIN``); marked repaired."""
    segments = row.segments_in(start, end)
    if len(segments) != 1:
        return None
    seg = segments[0]
    line = seg.line
    a, b = start - seg.start, end - seg.start
    if fold(line.text)[a:b] != row.text[start:end]:
        return None  # the row's text is not the line's character for character
    dates = [d for y in years if (d := _make(y, month, day)) is not None and d.as_date() <= latest]
    best = best_fit(fit, row.page, line, [line.text[:a] + str(d.year) + line.text[b:] for d in dates],
                    DATE_FIT_MARGIN)
    if best is None:
        return None
    d = dates[best[0]]
    return ParsedDate(d.year, d.month, d.day, repaired=True, year_repaired=True)


def _on_screen(rows: Sequence[Row], found: Sequence[DateCandidate], best: DateCandidate) -> bool:
    """Whether ``best``'s page is a phone screen: a status bar (or the screenshot's own stamp) was
    found on it, or its first rows read like one (clock with network or battery marks)."""
    page = rows[best.row_index].page
    if any(c.kind == "status_bar" and rows[c.row_index].page == page for c in found):
        return True
    first = [i for i in range(len(rows)) if rows[i].page == page][:2]
    return any(_CLOCK.search(rows[i].text) and _PHONE_TOKENS.search(rows[i].text) for i in first)


# Words every report title or list item has; what is left names the report (血常规, 肝功能 …).
_TITLE_NOISE = re.compile(r"报告|详情|检验|检查|结果|查询|我的|单|列表|记录|通知|出具|[<>·.:：\s\d\-/]")


def _screen_title(rows: Sequence[Row], page: int) -> str:
    """The screen's own title: the first row under the status bar with words and no date."""
    for i in [j for j in range(len(rows)) if rows[j].page == page][:6]:
        text = rows[i].text
        if _CLOCK.search(text) or find_dates(text):
            continue
        words = _TITLE_NOISE.sub("", text)
        if len(re.findall(r"[\u4e00-\u9fff]", text)) >= 2:
            return words
    return ""


def _item_header(rows: Sequence[Row], c: DateCandidate) -> str:
    """The heading of the list item a date belongs to: the nearest row above (or the date's own row)
    with words and no date, a few rows up at most."""
    own = _TITLE_NOISE.sub("", rows[c.row_index].text[: c.start])
    if len(re.findall(r"[\u4e00-\u9fff]", own)) >= 2 and not classify_label(own):
        return own
    for j in range(c.row_index - 1, max(-1, c.row_index - 4), -1):
        if rows[j].page != rows[c.row_index].page:
            break
        text = rows[j].text
        if find_dates(text) or classify_label(text):
            continue
        words = _TITLE_NOISE.sub("", text)
        if len(re.findall(r"[\u4e00-\u9fff]", words)) >= 2:
            return words
    return ""


def _pick_from_screen_list(
    rows: Sequence[Row], group: list[DateCandidate], best: DateCandidate, sure: float
) -> tuple[DateCandidate, float]:
    """Several reports listed on an app's screen, each with its date: the one whose heading names
    what the screen's title names; failing that the earliest, never the latest by default (a
    refresh or a newer report is later), and only ever as a reviewer's flag."""
    from rapidfuzz import fuzz

    title = _screen_title(rows, rows[best.row_index].page)
    if len(title) >= 2:
        scored = sorted(
            ((fuzz.partial_ratio(title, _item_header(rows, c)) if _item_header(rows, c) else 0.0, c) for c in group),
            key=lambda sc: -sc[0],
        )
        top, runner = scored[0], scored[1] if len(scored) > 1 else (0.0, None)
        if top[0] >= 75 and top[0] - runner[0] >= 15:
            return top[1], sure
    first = min(group, key=lambda c: (c.date.as_date(), c.row_index))
    return first, min(sure, _SURE_SCREEN_LIST) * _damage_factor(first)


def _pick_certainty(
    rows: Sequence[Row],
    best: DateCandidate,
    group: list[DateCandidate],
    usable: list[DateCandidate],
    rank: int,
    tier_count: int,
    *,
    by_place: bool,
) -> float:
    if best.kind is None and by_place and _near_signature(rows, best):
        # The signature block's date, and nothing dated below it: how certificates are dated.
        last = all(c.row_index <= best.row_index for c in usable if rows[c.row_index].page == rows[best.row_index].page)
        sure = _SURE_LABELLED if last else _SURE_BY_PLACE
    elif best.kind is None:
        sure = _SURE_UNLABELLED
    elif by_place and best.kind == "generic" and not _near_signature(rows, best):
        sure = _SURE_BY_PLACE  # a bare 日期 away from the signature block may be the visit's
    elif rank == 0:
        sure = _SURE_LABELLED_FIRST
    else:
        sure = _SURE_LABELLED
    if rank == tier_count - 1 and rank > 0 and best.kind is not None:
        sure = min(sure, _SURE_LAST_RESORT)
    others = {c.date.value for c in group} - {best.date.value}
    if others:
        sure *= 0.9  # several dates of the same standing: the pick rests on the tie-break
    if {c.date.value for c in usable} == {best.date.value} and len(usable) > 1:
        # Every usable date on the page says the same: whichever was meant, this is it.
        sure = max(sure, 0.95)
    return sure * _damage_factor(best)


def _candidate_field(rows: Sequence[Row], c: DateCandidate, sure: float) -> FieldValue:
    row = rows[c.row_index]
    box = row.box_for(c.start, c.end)
    raw = row.raw_for(c.start, c.end)
    score = row.score_for(c.start, c.end)
    if c.next_row is not None:
        nxt = rows[c.next_row]
        b2 = nxt.box_for(c.next_start, c.next_end)
        box = Box(x0=min(box.x0, b2.x0), y0=min(box.y0, b2.y0), x1=max(box.x1, b2.x1), y1=max(box.y1, b2.y1))
        raw = f"{raw} {nxt.raw_for(c.next_start, c.next_end)}"
        score = min(score, nxt.score_for(c.next_start, c.next_end))
    value = c.date.value
    return FieldValue(
        value=value,
        page=row.page,
        box=box,
        raw=raw if raw != value else None,
        confidence=round(max(0.0, min(1.0, score * sure)), 3),
    )


def candidate_field(rows: Sequence[Row], c: DateCandidate) -> FieldValue:
    """A candidate as a field (value, page, box, raw), its confidence the OCR score of its text."""
    return _candidate_field(rows, c, 1.0)


# --------------------------------------------------------------------------------------------
# Where a second, closer look may find a date
# --------------------------------------------------------------------------------------------

# Labels of a date that can be a document's own (not a birth, sampling or print time).
_OWN_DATE_KINDS: frozenset[DateKind] = frozenset(
    {"report", "audit", "exam", "issue", "discharge", "visit", "record", "generic"}
)
_OWN_DATE_LABEL = re.compile(
    r"(?:报\s*告|审\s*核|检\s*验|检\s*查|出\s*院|就\s*诊|开\s*具|出\s*具|签\s*发|记\s*录)?\s*(?:日\s*期|时\s*间)"
)
# What is left of a date OCR could not parse: a year with its unit or separator, or a month or day
# with its unit ("2026年 月5日", "2O2б-03-", "3月 日").
_DATE_REMNANT = re.compile(
    r"(?:19|20|2O|2o)[\dOoIlZSsB]{2}\s*[年./\-]|\d\s*月\s*\S{0,3}\s*[日号]|[年]\s*\d{1,2}\s*月"
    # "202.06.30", "025-06-30": month and day whole, the year cut short (a digit under a seal's ring).
    r"|(?<![\d.])\d{2,3}([./\-])[01]\d\1[0-3]\d(?!\d)"
)
# How far right of a label (in label heights) its date may sit, and how many areas a page gets.
_DATE_REACH = 12.0
_MAX_AREAS_PER_PAGE = 3


def unread_date_areas(
    rows: Sequence[Row], *, page_sizes: Mapping[int, tuple[float, float]] | None = None
) -> list[tuple[int, Box, float]]:
    """(page, area, text height) of each place where a document's own date should be but none was
    read: right of and under a label of the document's date (报告日期, 出院日期, 日期 …) with no date
    read there, and around a date too damaged to parse. At most a few per page, the labels of the
    document's own date first."""
    found = date_candidates(rows, page_sizes=page_sizes)
    dated: dict[int, list[tuple[int, int]]] = {}
    date_boxes: dict[int, list[Box]] = {}
    for c in found:
        dated.setdefault(c.row_index, []).append((c.start, c.end))
        date_boxes.setdefault(rows[c.row_index].page, []).append(rows[c.row_index].box_for(c.start, c.end))
        if c.next_row is not None:
            dated.setdefault(c.next_row, []).append((c.next_start, c.next_end))
    areas: list[tuple[int, int, Box, float]] = []  # (priority, page, area, height)
    for i, row in enumerate(rows):
        spans = dated.get(i, [])
        for m in _OWN_DATE_LABEL.finditer(row.text):
            if classify_label(row.text[: m.end()]) not in _OWN_DATE_KINDS:
                continue
            nxt = [s for s, _ in spans if s >= m.end()]
            if nxt and min(nxt) - m.end() <= _LABEL_WINDOW:
                continue  # its date is on the row
            label = row.box_for(m.start(), m.end())
            h = max(label.height, 1.0)
            width = page_sizes[row.page][0] if page_sizes and row.page in page_sizes else label.x1 + _DATE_REACH * h
            area = Box(x0=max(label.x0 - 0.5 * h, 0.0), y0=max(label.y0 - 0.6 * h, 0.0),
                       x1=min(label.x1 + _DATE_REACH * h, width), y1=label.y1 + 1.6 * h)
            if any(_centre_inside(b, area) for b in date_boxes.get(row.page, [])):
                continue  # a date was read where this label's would be (beside it, or under it in a column)
            areas.append((0, row.page, area, h))
        for m in _DATE_REMNANT.finditer(row.text):
            if any(s < m.end() and m.start() < e for s, e in spans):
                continue  # part of a date that was read
            seg = row.box_for(m.start(), m.end())
            h = max(seg.height, 1.0)
            area = Box(x0=max(seg.x0 - 3 * h, 0.0), y0=max(seg.y0 - 0.6 * h, 0.0),
                       x1=seg.x1 + 6 * h, y1=seg.y1 + 0.6 * h)
            areas.append((1, row.page, area, h))
    out: list[tuple[int, Box, float]] = []
    per_page: dict[int, int] = {}
    for _, page, area, h in sorted(areas, key=lambda a: a[0]):
        if per_page.get(page, 0) >= _MAX_AREAS_PER_PAGE or any(
            p == page and _mostly_inside(area, b) for p, b, _ in out
        ):
            continue
        per_page[page] = per_page.get(page, 0) + 1
        out.append((page, area, h))
    return out


def _after_its_admission(c: DateCandidate, options: set[int], dated: Sequence[DateCandidate],
                         latest: dt.date | None) -> set[int]:
    """The look-alike years (``options``) that put a discharge read long before an admission of its
    page on or after that admission, a stay of at most ``_LONGEST_STAY_DAYS`` (and not after
    ``latest``)."""
    # An admission so long after the discharge that a day's misreading cannot explain it.
    admissions = [o.date for o in dated if o.kind == "admission"
                  and (o.date.as_date() - c.date.as_date()).days > _LONGEST_STAY_DAYS]
    return {y for y in options for admitted in admissions
            if (d := _make(y, c.date.month, c.date.day)) is not None and not _later(admitted, d)
            and (d.as_date() - admitted.as_date()).days <= _LONGEST_STAY_DAYS
            and (latest is None or d.as_date() <= latest)}


def _among_the_pages_years(c: DateCandidate, options: set[int], dated: Sequence[DateCandidate],
                           birth_date: dt.date | None, as_of: dt.date | None, latest: dt.date | None) -> set[int]:
    """The look-alike years (``options``) that put a suspect year right: one after the submission's
    into its year or the one before; one of the 1990s-2000s (or far before the page's other years)
    among the page's other years. Empty when the year is not suspect."""
    year = c.date.year
    if as_of is not None and latest is not None and year > as_of.year:
        return {y for y in options if as_of.year - 1 <= y <= as_of.year
                and (d := _make(y, c.date.month, c.date.day)) is not None and d.as_date() <= latest}
    others = {o.date.year for o in dated if o is not c and o.date.year != year}
    if not others:
        return set()
    recent = all(2020 <= y <= 2029 for y in others) and 1990 <= year <= 2009
    early = year < min(others) - 5 and (birth_date is None or year < birth_date.year + 10)
    if not (recent or early):
        return set()
    return {y for y in options if min(others) <= y <= max(others) + 1}


def _centre_inside(box: Box, area: Box) -> bool:
    cx, cy = box.center
    return area.x0 <= cx <= area.x1 and area.y0 <= cy <= area.y1


def _mostly_inside(a: Box, b: Box) -> bool:
    return a.overlap(b) >= 0.6 * max(a.width * a.height, 1.0)
