"""A document's own date printed too small or too faint for the page-level reading: read again,
closer, where its label says it is (classifiers.dates.unread_date_areas, ocr.reread.read_area)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image, ImageDraw, ImageFilter

from fixtures.generator.fonts import pil_font
from intake.application import Application
from intake.prescreen import Prescreener

pytestmark = pytest.mark.ocr

APPLICATION = Application(applicant_name="张三", id_number="110105194912310029", disease="糖尿病",
                          application_date=dt.date(2026, 3, 20))


def lab_report(date_px: int, *, blur: float) -> bytes:
    """A lab report whose 报告日期 is printed in grey ``date_px``-pixel type beside a 30-pixel label
    (a dot-matrix or thermal printer's faint small print), photographed slightly out of focus."""
    im = Image.new("RGB", (1240, 1754), "white")
    d = ImageDraw.Draw(im)
    d.text((380, 80), "某某市人民医院检验报告单", font=pil_font("sans", 34), fill="black")
    rows = ["姓名：张三    性别：男    年龄：58岁", "科室：内分泌科    床号：12    标本：血清",
            "项目            结果        参考范围", "葡萄糖          7.8         3.9-6.1",
            "糖化血红蛋白    8.1         4.0-6.0", "总胆固醇        5.2         0-5.2"]
    for i, text in enumerate(rows):
        d.text((100, 200 + 70 * i), text, font=pil_font("sans", 30), fill="black")
    d.text((100, 1500), "检验者：李四", font=pil_font("sans", 30), fill="black")
    d.text((600, 1500), "报告日期：", font=pil_font("sans", 30), fill="black")
    d.text((760, 1508), "2026-03-05", font=pil_font("sans", date_px), fill=(90, 90, 90))
    if blur:
        im = im.filter(ImageFilter.GaussianBlur(blur))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=60)
    return buf.getvalue()


def test_a_report_date_too_small_for_the_page_reading_is_read_closer(prescreener: Prescreener) -> None:
    """GIVEN a report date the page-level reading gets wrong (2026-03-45: no date) THEN the area
    beside its label is read again, enlarged, and the report has its date, from the right place."""
    data = lab_report(9, blur=1.0)
    policy = prescreener.policies.for_region("default")
    report = prescreener.analyse_file("lab.jpg", data, APPLICATION, policy)
    assert report.doc_type == "lab_report"
    assert report.fields["doc_date"] == "2026-03-05"
    box = report.field_sources["doc_date"].box
    assert box is not None and 700 < box[0] < 800 and 1450 < box[1] < 1560
    assert report.checks.recency.outcome == "pass"
    assert "2026-03-45" not in report.text  # the poor first reading was replaced, not kept beside


def test_a_page_whose_dates_were_read_is_not_read_again(prescreener: Prescreener, monkeypatch) -> None:
    """The closer look costs an OCR pass of its area: a page whose report date was read pays none."""
    import intake.prescreen as module

    calls: list[object] = []
    real = module.read_area
    monkeypatch.setattr(module, "read_area", lambda *a, **k: calls.append(a) or real(*a, **k))
    data = lab_report(13, blur=0)
    policy = prescreener.policies.for_region("default")
    report = prescreener.analyse_file("lab-clear.jpg", data, APPLICATION, policy)
    assert report.fields["doc_date"] == "2026-03-05"
    assert calls == []
