"""Write ``intake/workdays/<year>.yaml`` for the years ``chinese-calendar`` covers (run once; the files
are committed and from then on edited by hand, one new file a year).

    .venv/bin/python scripts/workdays_from_chinese_calendar.py [--first 2020] [--last 2026] [--out DIR]

``chinese-calendar`` gives the days (holidays with the weekends inside them, and the 调休 working
weekends); every day of every year written is checked against ``holidays`` (China) too, and the
script stops on any disagreement instead of writing a file nobody can trust. It never writes a year
``chinese-calendar`` does not cover: that year's file comes from the State Council's notice itself.

Dates in late December that a year's notice set (元旦 of the next year, e.g. 2023-12-30/31 in the 2024
notice) go into the file of the notice that set them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from importlib.metadata import version
from pathlib import Path

import chinese_calendar
import holidays
from chinese_calendar import Holiday
from chinese_calendar import constants as cc

from intake.workdays import LATE_DECEMBER, WORKDAYS_DIR, read_year

# chinese-calendar's tables name each day's holiday by the English value of its Holiday enum.
NAMES = {
    Holiday.new_years_day.value: "元旦",
    Holiday.spring_festival.value: "春节",
    Holiday.tomb_sweeping_day.value: "清明节",
    Holiday.labour_day.value: "劳动节",
    Holiday.dragon_boat_festival.value: "端午节",
    Holiday.national_day.value: "国庆节",
    Holiday.mid_autumn_festival.value: "中秋节",
    Holiday.anti_fascist_70th_day.value: "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
# The notices, as published in the 国务院公报 on www.gov.cn (the links the `holidays` package cites).
NOTICES: dict[int, list[tuple[str, str]]] = {
    2020: [("国务院办公厅关于2020年部分节假日安排的通知", "https://www.gov.cn/gongbao/content/2019/content_5459138.htm"),
           ("国务院办公厅关于延长2020年春节假期的通知", "https://www.gov.cn/gongbao/content/2020/content_5477297.htm")],
    2021: [("国务院办公厅关于2021年部分节假日安排的通知", "https://www.gov.cn/gongbao/content/2020/content_5567750.htm")],
    2022: [("国务院办公厅关于2022年部分节假日安排的通知", "https://www.gov.cn/gongbao/content/2021/content_5651728.htm")],
    2023: [("国务院办公厅关于2023年部分节假日安排的通知", "https://www.gov.cn/gongbao/content/2023/content_5736714.htm")],
    2024: [("国务院办公厅关于2024年部分节假日安排的通知",
            "https://www.gov.cn/gongbao/2023/issue_10806/202311/content_6913823.html")],
    2025: [("国务院办公厅关于2025年部分节假日安排的通知",
            "https://www.gov.cn/gongbao/2024/issue_11726/202411/content_6989767.html")],
    2026: [("国务院办公厅关于2026年部分节假日安排的通知",
            "https://www.gov.cn/gongbao/2025/issue_12406/202511/content_7048922.html")],
}
# The 2020 Spring Festival was extended by a second notice (COVID-19).
EXTENDED = {dt.date(2020, 1, 31), dt.date(2020, 2, 1), dt.date(2020, 2, 2)}


def notice_year(day: dt.date, holiday: str) -> int:
    """The year whose notice set ``day``: a late-December 元旦 day belongs to the next year's."""
    late = day.month == 12 and day.day >= LATE_DECEMBER
    return day.year + 1 if late and holiday == Holiday.new_years_day.value else day.year


def days_of(year: int, table: dict[dt.date, str]) -> dict[dt.date, str]:
    return {day: "春节（延长假期）" if day in EXTENDED else NAMES[holiday]
            for day, holiday in sorted(table.items()) if notice_year(day, holiday) == year}


def disagreements(year: int) -> list[str]:
    """Days of ``year`` on which chinese-calendar and holidays differ (none expected)."""
    china = holidays.China(years=year)
    found, day = [], dt.date(year, 1, 1)
    while day.year == year:
        if chinese_calendar.is_workday(day) != china.is_working_day(day):
            found.append(day.isoformat())
        day += dt.timedelta(days=1)
    return found


def render(year: int) -> str:
    notices = NOTICES[year]
    lines = [f"# {title}\n#   {url}" for title, url in notices]
    lines += [
        f"# Written by scripts/workdays_from_chinese_calendar.py from chinese-calendar {version('chinese-calendar')}",
        f"# and checked day by day against holidays {version('holidays')} (China). Edit by hand only to follow",
        "# a notice; tests/intake/test_workdays.py checks the file against both libraries.",
        f"year: {year}",
        f"notice: {notices[0][0]}",
        f"source: {notices[0][1]}",
        "# Days off, the weekends inside a holiday period included.",
        "holidays:",
        *(f"  {day.isoformat()}: {name}" for day, name in days_of(year, cc.holidays).items()),
        "# Weekend days worked instead (调休上班).",
        "workdays:" + ("" if days_of(year, cc.workdays) else " {}"),
        *(f"  {day.isoformat()}: {name}" for day, name in days_of(year, cc.workdays).items()),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first", type=int, default=min(NOTICES))
    parser.add_argument("--last", type=int, default=max(NOTICES))
    parser.add_argument("--out", type=Path, default=WORKDAYS_DIR)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for year in range(args.first, args.last + 1):
        if year not in NOTICES:
            print(f"{year}: no notice recorded here; write its file from the State Council's notice", file=sys.stderr)
            return 1
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            print(f"{year}: chinese-calendar does not cover it; write its file from the notice", file=sys.stderr)
            return 1
        if bad := disagreements(year):
            print(f"{year}: chinese-calendar and holidays disagree on {', '.join(bad)}; not written", file=sys.stderr)
            return 1
        path = args.out / f"{year}.yaml"
        path.write_text(render(year), encoding="utf-8")
        read_year(path)  # the loader accepts what was written
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
