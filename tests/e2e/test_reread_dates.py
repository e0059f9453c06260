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


def photo_from_afar(date_px: int, *, turned: bool = False) -> bytes:
    """A lab report photographed whole at 4000×5400 pixels, a little out of focus, its 报告日期 line in
    ``date_px``-pixel print: read at ``max_side`` (2000), that print is 5 pixels high. ``turned``:
    the phone held sideways (the picture stored a quarter-turn round)."""
    im = Image.new("RGB", (4000, 5400), (235, 232, 225))
    d = ImageDraw.Draw(im)
    d.text((900, 300), "某某市第一人民医院检验报告单", font=pil_font("sans", 120), fill="black")
    rows = ["姓名：张三    性别：男    年龄：58岁", "科室：内分泌科    床号：12",
            "项目：糖化血红蛋白  结果：8.1%  参考值：4.0-6.0", "项目：空腹血糖  结果：7.8 mmol/L  参考值：3.9-6.1",
            "临床诊断：2型糖尿病"]
    for i, text in enumerate(rows):
        d.text((400, 700 + 126 * i), text, font=pil_font("sans", 70), fill="black")
    d.text((400, 4600), "检验者：李四   审核者：王五", font=pil_font("sans", 70), fill="black")
    d.text((2300, 4800), "报告日期：2026-03-05 10:31", font=pil_font("sans", date_px), fill=(40, 40, 40))
    im = im.filter(ImageFilter.GaussianBlur(2.0))
    if turned:
        im = im.transpose(Image.Transpose.ROTATE_90)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def test_small_print_of_a_downscaled_photo_is_read_from_the_files_own_detail(prescreener: Prescreener) -> None:
    """GIVEN a photo from afar read at 2000 pixels, its report date too small there to be read even
    enlarged WHEN the dates are read again THEN the area beside the label is read on the page drawn
    again from the file with twice the detail (ocr.document.render_page_closer), in its place."""
    from classifiers.dates import find_dates
    from classifiers.text import fold
    from ocr import read_document

    data = photo_from_afar(14)
    document = read_document(data, prescreener.engine)
    page = document.ocr.pages[0]
    assert page.transform.scale < 0.4

    def dates(ocr) -> list[str]:  # type: ignore[no-untyped-def]
        return [line.text for line in ocr.pages[0].lines if any(d.day for d, _ in find_dates(fold(line.text)))]

    as_before = document.ocr.model_copy(deep=True)
    prescreener.read_dates_again(as_before, document.images)  # the normalised page only: as before
    assert not any("2026-03-05" in text for text in dates(as_before))
    prescreener.read_dates_again(document.ocr, document.images, data)
    found = [line for line in document.ocr.pages[0].lines if "2026-03-05" in line.text]
    assert found, dates(document.ocr)
    box = found[0].box  # in the normalised page's pixels: 2300/4000 across and 4800/5400 down
    assert 0.5 < box.x0 / page.width < 0.65 and 0.85 < box.center[1] / page.height < 0.93


def _as_scanned_pdf(jpeg: bytes) -> bytes:
    """The picture as a PDF of one A4 page holding only it (a scanner's PDF, no text layer)."""
    buf = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(buf, "PDF", resolution=480.0)  # 4000 px across 210 mm
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["photo", "photo-stored-turned", "scanned-pdf"])
def test_a_page_drawn_closer_is_the_normalised_page_with_more_detail(prescreener: Prescreener, kind: str) -> None:
    """The page drawn again closer lies exactly over the normalised page, however the picture was
    stored and whether it is a picture or a scanned PDF: shrunk back by its factor it is the same
    image."""
    import cv2
    import numpy as np

    from ocr import read_document
    from ocr.document import render_page_closer

    turned = kind == "photo-stored-turned"
    data = photo_from_afar(14, turned=turned)
    if kind == "scanned-pdf":
        data = _as_scanned_pdf(data)
    document = read_document(data, prescreener.engine)
    page = document.ocr.pages[0]
    assert page.source == "ocr" and page.transform.rotation == (90 if turned else 0)
    drawn = render_page_closer(data, document.ocr, 0)
    assert drawn is not None
    image, k = drawn
    assert k == pytest.approx(2.0, abs=0.01)
    assert image.shape[:2] == pytest.approx((2 * page.height, 2 * page.width), abs=2)
    shrunk = cv2.resize(image, (page.width, page.height), interpolation=cv2.INTER_AREA)
    difference = np.abs(shrunk.astype(np.int16) - document.images[0].astype(np.int16))
    assert float(difference.mean()) < 2.0


def test_a_page_read_at_its_full_size_is_not_drawn_again() -> None:
    """A file with no more detail than the page was read at (a 1240-pixel scan) is not drawn again."""
    from ocr.document import render_page_closer
    from ocr.types import OcrPage, OcrResult, PageTransform

    ocr = OcrResult(media_type="image/jpeg", fingerprint="test", pages=[
        OcrPage(index=0, width=1240, height=1754, source="ocr", lines=[], transform=PageTransform(scale=1.0))])
    assert render_page_closer(lab_report(13, blur=0), ocr, 0) is None
