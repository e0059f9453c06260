"""PDF pages: text layers are read without OCR, scans are OCR'd, mixed files page by page."""

from __future__ import annotations

import pytest

from ocr import TEXT_LAYER_DPI, OcrEngine, OcrOptions, read_document, render_pages
from ocr.pdf import text_quality
from tests.ocr.helpers import make_pdf, text_page_image

REPORT = ["独墅湖科教创新区医院化验报告单", "姓名：孟丁        性别：男", "报告日期：2016-08-24", "Hemoglobin 135 g/L"]


@pytest.fixture
def cold_engine(monkeypatch: pytest.MonkeyPatch) -> OcrEngine:
    """Text-layer pages must never reach the models: any OCR call on this engine fails the test."""
    eng = OcrEngine(OcrOptions())

    def no_ocr(*args: object, **kwargs: object) -> None:
        raise AssertionError("a text-layer page was sent to OCR")

    monkeypatch.setattr(eng, "recognise", no_ocr)
    monkeypatch.setattr(eng, "detect_polys", no_ocr)
    return eng


def test_text_layer_pdf_is_read_without_ocr(cold_engine: OcrEngine) -> None:
    doc = read_document(make_pdf([REPORT]), cold_engine)
    page = doc.ocr.pages[0]
    assert doc.ocr.media_type == "application/pdf"
    assert page.source == "text_layer"
    texts = [line.text for line in page.lines]
    assert texts[0] == "独墅湖科教创新区医院化验报告单"
    # A wide gap splits a row into two fields, as the OCR detector would.
    assert "姓名：孟丁" in texts and "性别：男" in texts
    assert "报告日期：2016-08-24" in texts
    assert "Hemoglobin 135 g/L" in texts


def test_text_layer_coordinates_are_page_pixels_at_text_layer_dpi(cold_engine: OcrEngine) -> None:
    doc = read_document(make_pdf([REPORT]), cold_engine)
    page = doc.ocr.pages[0]
    a4_w_px = round(595.2756 * TEXT_LAYER_DPI / 72)
    assert abs(page.width - a4_w_px) <= 1
    assert doc.images[0].shape[:2] == (page.height, page.width)
    first = page.lines[0].box
    # Drawn at x=72 pt, baseline 72 pt below the top: ~1 inch in from the left and top.
    assert abs(first.x0 - TEXT_LAYER_DPI) < 10
    assert TEXT_LAYER_DPI * 0.8 < first.y1 < TEXT_LAYER_DPI * 1.1
    # The text really is there in the rendered pixels under the box.
    x0, y0, x1, y1 = (int(v) for v in (first.x0, first.y0, first.x1, first.y1))
    assert doc.images[0][y0:y1, x0:x1].min() < 100


def test_render_pages_redraws_text_layer_pages(cold_engine: OcrEngine) -> None:
    data = make_pdf([REPORT, REPORT])
    doc = read_document(data, cold_engine)
    again = render_pages(data, doc.ocr)
    assert [im.shape for im in again] == [im.shape for im in doc.images]
    assert all((a == b).all() for a, b in zip(again, doc.images, strict=True))


@pytest.mark.parametrize(
    ("text", "usable"),
    [
        ("独墅湖科教创新区医院化验报告单 2016-08-24", True),
        ("(cid:12)(cid:34)(cid:56)(cid:78)(cid:90)(cid:11)(cid:22)(cid:33)(cid:44)(cid:55)", False),
        ("\ufffd" * 30 + "ab", False),
        ("\ue000\ue001\ue002" * 10, False),
    ],
)
def test_text_quality_tells_garbage_from_text(text: str, usable: bool) -> None:
    good, ratio = text_quality(text)
    assert (good >= 10 and ratio >= 0.8) is usable


@pytest.mark.ocr
def test_image_only_and_mixed_pdfs_are_ocrd_page_by_page(engine: OcrEngine) -> None:
    """GIVEN a PDF of [text page, scanned image page] WHEN read THEN page 1 text layer, page 2 OCR."""
    scan = text_page_image(["门诊慢特病申请", "诊断证明书", "2023-05-17"], font_px=48)
    image_only = read_document(make_pdf([scan]), engine)
    assert image_only.ocr.pages[0].source == "ocr"
    assert "诊断证明书" in image_only.ocr.text
    mixed_data = make_pdf([REPORT, scan])
    mixed = read_document(mixed_data, engine)
    assert [p.source for p in mixed.ocr.pages] == ["text_layer", "ocr"]
    assert "化验报告单" in mixed.ocr.pages[0].text
    assert "2023-05-17" in mixed.ocr.pages[1].text
    again = render_pages(mixed_data, mixed.ocr)
    assert all((a == b).all() for a, b in zip(again, mixed.images, strict=True))
