"""Dates as printed on Chinese medical documents, including OCR noise."""

from __future__ import annotations

import datetime as dt

import pytest

from classifiers.dates import ParsedDate, find_dates, parse_date


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026年3月5日", "2026-03-05"),
        ("2026年03月05日", "2026-03-05"),
        ("2026-03-05", "2026-03-05"),
        ("2026.03.05", "2026-03-05"),
        ("2026/3/5", "2026-03-05"),
        ("20260305", "2026-03-05"),
        ("二〇二六年三月五日", "2026-03-05"),
        ("二零二六年十二月二十一日", "2026-12-21"),
        ("二〇一六年八月三十一日", "2016-08-31"),
        ("二〇二六年十月十日", "2026-10-10"),
        ("2026-03-05 10:23:11", "2026-03-05"),
        ("2026年3月5日 10时23分", "2026-03-05"),
        ("2026 年 3 月 5 日", "2026-03-05"),
        ("2O26-03-05", "2026-03-05"),
        ("2026-O3-O5", "2026-03-05"),
        ("２０２６－０３－０５", "2026-03-05"),
        ("报告日期：2026-03-05", "2026-03-05"),
        ("2026。03。05", "2026-03-05"),
    ],
)
def test_day_precision_forms(text: str, value: str) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert parsed.value == value
    assert parsed.precision == "day"


@pytest.mark.parametrize(
    ("text", "value"),
    [("2026年3月", "2026-03"), ("2026-03", "2026-03"), ("2026.03", "2026-03"), ("二〇二六年三月", "2026-03")],
)
def test_month_only_forms(text: str, value: str) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert (parsed.value, parsed.precision) == (value, "month")
    assert parsed.as_date() == dt.date(2026, 3, 1)


@pytest.mark.parametrize("text", ["2026-02-30", "2026年13月1日", "2026.00.10", "1850-01-01", "abc", ""])
def test_impossible_or_absent_dates_are_rejected(text: str) -> None:
    assert parse_date(text) is None


def test_invalid_full_date_does_not_fall_back_to_its_month() -> None:
    """GIVEN 2026-02-30 THEN neither the date nor the month 2026-02 is reported."""
    assert find_dates("日期 2026-02-30") == []


def test_compact_digits_need_a_date_label_inside_longer_text() -> None:
    assert find_dates("标本号 20260305") == []
    [(parsed, span)] = find_dates("报告日期:20260305")
    assert parsed.value == "2026-03-05"
    assert "报告日期:20260305"[span[0] : span[1]] == "20260305"


def test_find_dates_returns_every_date_with_spans_into_the_original_text() -> None:
    text = "接收时间 2016-08-24 11:07 检验时间２０１６年８月２５日"
    found = find_dates(text)
    assert [d.value for d, _ in found] == ["2016-08-24", "2016-08-25"]
    assert [text[s:e] for _, (s, e) in found] == ["2016-08-24", "２０１６年８月２５日"]


def test_valid_period_yields_both_dates() -> None:
    assert [d.value for d, _ in find_dates("有效期限 2016.08.01-2036.08.01")] == ["2016-08-01", "2036-08-01"]


def test_lab_values_and_ranges_are_not_dates() -> None:
    assert find_dates("白细胞计数 3.86 4.00-10.00 10^9/L 血小板 171 100-300") == []


def test_parsed_date_value_and_str() -> None:
    assert str(ParsedDate(2026, 3, 5)) == "2026-03-05"
    assert ParsedDate(2026, 3).value == "2026-03"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("报告时间：2026/2/817:31", "2026-02-08"),  # a one-digit day with the time glued on
        ("2026/2/1817:31", "2026-02-18"),
        ("2026/12/3109:05", "2026-12-31"),
        ("2026-03-0510:23:11", "2026-03-05"),
    ],
)
def test_a_time_glued_to_the_day_is_split_off(text: str, value: str) -> None:
    assert [d.value for d, _ in find_dates(text)] == [value]
