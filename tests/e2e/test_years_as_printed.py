"""A report date whose year small, faint, blurred print made OCR misread (2006, 2005 or 2028 for 2026) is read
as the year the line's pixels fit (``classifiers.dates.years_as_printed``), and an old date read right
stays old. Real OCR on a lab report page drawn small in a Song font, blurred and saved as a poor JPEG
(the line-probe's pages, not the kept-apart generator's)."""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from intake.application import Application
from intake.prescreen import Prescreener

pytestmark = pytest.mark.ocr

FONTS = {"uming": "/usr/share/fonts/truetype/arphic/uming.ttc",
         "gbsn": "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
         "heiti": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"}


def small_print_report(report_date: str, font: str, px: int, ink: int, blur: float, quality: int) -> bytes:
    """A lab report page with every row in ``font`` at ``px`` pixels, the signature row's ink grey
    (``ink``), blurred (sigma ``blur``) and saved as a JPEG of ``quality``."""
    path = FONTS[font]
    try:
        small = ImageFont.truetype(path, px, index=0)
        title = ImageFont.truetype(FONTS["heiti"], 40, index=0)
    except OSError:
        pytest.skip(f"{path} is not installed: run scripts/setup.sh --test")
    im = Image.new("RGB", (1000, 1300), "white")
    draw = ImageDraw.Draw(im)
    draw.text((250, 60), "某某市人民医院检验报告单", fill="black", font=title)
    y = 160
    for row in ("姓名：王明  性别：男  年龄：56岁", "科室：内分泌科  床号：12", "标本：血清  样本号：2026113",
                "项目  结果  参考范围", "葡萄糖  7.8  3.9-6.1 mmol/L", "糖化血红蛋白  7.2  4.0-6.0 %"):
        draw.text((60, y), row, fill=(20, 20, 20), font=small)
        y += int(px * 2.2)
    signed = f"检验者：李华  审核者：张强  报告日期：{report_date}"
    draw.text((60, y + 4 * px), signed, fill=(ink, ink, ink), font=small)
    page = cv2.GaussianBlur(np.asarray(im)[:, :, ::-1].copy(), (0, 0), blur)
    ok, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


APPLICATION = Application(applicant_name="王明", id_number="110101197001010034", disease="糖尿病",
                          application_date=dt.date(2026, 12, 1))


@pytest.mark.parametrize(("printed", "font", "px", "ink", "blur", "quality", "as_read"), [
    ("2026-10-24", "gbsn", 15, 128, 0.62, 31, "2006-10-24"),  # a 2 read as 0
    ("2026-11-03", "uming", 14, 97, 1.158, 30, "2005-11-03"),  # a 2 read as 0 and a 6 as 5
    ("2026-11-29", "gbsn", 12, 104, 0.613, 30, "2028-11-29"),  # a year after the submission's
])
def test_a_misread_year_is_read_as_the_one_printed(prescreener: Prescreener, printed: str, font: str, px: int,
                                                    ink: int, blur: float, quality: int, as_read: str) -> None:
    data = small_print_report(printed, font, px, ink, blur, quality)
    policy = prescreener.policies.for_region("default")
    report = prescreener.analyse_file("report.jpg", data, APPLICATION, policy)
    assert as_read in report.text  # what OCR made of it: the repair is the fit's, not the reading's
    assert report.doc_type == "lab_report"
    assert report.fields["doc_date"] == printed
    source = report.field_sources["doc_date"]
    assert source.confidence is not None and source.confidence < 0.8  # a repaired reading, less sure
    assert "stale" not in " ".join(report.problems)


def test_an_old_report_read_right_stays_old(prescreener: Prescreener) -> None:
    """The same poor print of a report of 2016: no look-alike digit makes it 2024-2026, so no other
    year is tried and the report is stale."""
    data = small_print_report("2016-04-09", "gbsn", 15, 128, 0.62, 31)
    policy = prescreener.policies.for_region("default")
    report = prescreener.analyse_file("report.jpg", data, APPLICATION, policy)
    assert report.fields["doc_date"] == "2016-04-09"
    assert report.checks.recency.outcome == "fail"
