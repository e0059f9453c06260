"""PDF reading is bounded: a fan-out of form XObjects fails for good within the parsing budgets
(``too_complex``) while the reading process stays small, every rendered page fits the pixel caps,
and a text layer is used only if it covers what the page shows.

The fan-out tests run the reader in a child Python with an address-space limit of its own: were the
PDF libraries back in the reading process, that process would die or time out (a clean failure)
rather than take the test run with it.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr import OcrEngine, OcrOptions, read_document, render_pages
from ocr.errors import DocumentTooComplex, ImageTooLarge
from ocr.pdf import page_scale
from ocr.sandbox import ParseBudget, PdfSandbox, open_document
from tests.api.badinputs import good_pdf, text_pdf
from tests.ocr.helpers import FONT_PATH, make_pdf, text_page_image

ROOT = Path(__file__).resolve().parents[2]
REPORT = ["独墅湖科教创新区医院化验报告单", "姓名：孟丁        性别：男", "报告日期：2016-08-24", "Hemoglobin 135 g/L"]
SCAN_LINES = ["门诊慢特病申请表", "姓名：张三  性别：男", "诊断：2型糖尿病", "就诊日期：2023-05-17", "医师签名：李四"]


# --- files -------------------------------------------------------------------------------------------


def _raw_pdf(content: bytes, page_resources: bytes, objects: dict[int, bytes]) -> bytes:
    """A one-page PDF (600 x 800 pt) written object by object: 1 catalog, 2 pages, 3 the page,
    4 its content; ``objects`` from 5 on."""
    objects = {
        **objects,
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Resources %s /Contents 4 0 R >>"
        % page_resources,
        4: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    }
    out = bytearray(b"%PDF-1.4\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def fanout_pdf(levels: int = 8, fan: int = 10) -> bytes:
    """A one-page PDF of ~2.6 KB whose form XObject X0 draws X1 ``fan`` times, X1 draws X2 ``fan``
    times, ... and the last draws a line and a glyph: ``fan ** (levels - 1)`` drawings to parse.
    With ``fan=1`` it is a chain of forms ``levels`` deep."""
    objects: dict[int, bytes] = {}
    first = 5
    font = first + levels
    for level in range(levels):
        if level == levels - 1:
            body = b"0 0 m 10 10 l S BT /F1 1 Tf (x) Tj ET"
            resources = b"<< /Font << /F1 %d 0 R >> >>" % font
        else:
            body = b" ".join([b"q /X%d Do Q" % (level + 1)] * fan)
            resources = b"<< /XObject << /X%d %d 0 R >> >>" % (level + 1, first + level + 1)
        objects[first + level] = (
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 600 800] /Resources %s /Length %d >>\n"
            b"stream\n%s\nendstream" % (resources, len(body), body)
        )
    objects[font] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    return _raw_pdf(b"q /X0 Do Q", b"<< /XObject << /X0 %d 0 R >> >>" % first, objects)


def inline_image_claim_pdf(side: int = 2_000_000) -> bytes:
    """A page drawing an inline image that claims ``side`` x ``side`` RGB pixels and holds 48 bytes."""
    content = b"q 400 0 0 280 10 10 cm BI /W %d /H %d /CS /RGB /BPC 8 ID %s EI Q" % (side, side, b"\x80" * 48)
    return _raw_pdf(content, b"<< >>", {})


def _canvas_pdf(draw: object, pagesize: tuple[float, float] = (595.2756, 841.8898)) -> bytes:
    """One page drawn by ``draw(canvas, width, height)`` with reportlab (WenQuanYi registered as WQY)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", FONT_PATH, subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=pagesize)
    draw(c, *pagesize)  # type: ignore[operator]
    c.showPage()
    c.save()
    return buf.getvalue()


# 53 readable characters: more than a "few words over a scan" count would let through.
FOOTER = "本报告仅供临床参考，医师签字后有效。打印时间：2024-03-01 10:22:33 打印人：王五 第1页 共1页"


def _scan_with_layer(layer: str) -> bytes:
    """A scanned image with a text layer: a printed ``footer`` line under a full-page scan, a typed
    ``header`` over a scan that fills 40% of the page, ``junk`` (unmapped glyphs, invisible) or a
    ``searchable`` layer (invisible text over the scanned lines, as a scanner's OCR writes it)."""
    from reportlab.lib.utils import ImageReader

    scan = text_page_image(SCAN_LINES, font_px=40)  # 1240 x 1754 px: A4 at 150 dpi
    lab = text_page_image([*SCAN_LINES, *(f"{item}  {i + 3}.{i}  mmol/L  参考值 3.9-6.1" for i, item in
                                          enumerate(["葡萄糖", "总胆固醇", "甘油三酯", "肌酐", "尿素氮", "尿酸"]))],
                          font_px=40)

    def draw(c: object, width: float, height: float) -> None:
        if layer == "header":
            c.drawImage(ImageReader(lab), 100, 100, width=width * 0.6, height=height * 0.6)  # type: ignore[attr-defined]
            c.setFont("WQY", 12)  # type: ignore[attr-defined]
            c.drawString(72, height - 60, "某某市第一人民医院 检验科 报告单扫描件 " + FOOTER[:20])  # type: ignore[attr-defined]
            return
        c.drawImage(ImageReader(scan), 0, 0, width=width, height=height)  # type: ignore[attr-defined]
        px = width / scan.width
        if layer == "footer":
            c.setFont("WQY", 8)  # type: ignore[attr-defined]
            c.drawString(40, 30, FOOTER)  # type: ignore[attr-defined]
            return
        for i, line in enumerate(SCAN_LINES):
            text = c.beginText()  # type: ignore[attr-defined]
            text.setTextRenderMode(3)  # invisible, as OCR'd scans carry their text
            text.setFont("WQY", 40 * px)
            text.setTextOrigin(100 * px, height - (120 + i * 72 + 34) * px)
            text.textLine("\ufffd" * 12 if layer == "junk" else line)
            c.drawText(text)  # type: ignore[attr-defined]

    return _canvas_pdf(draw)


def _seal_png() -> Image.Image:
    im = Image.new("RGB", (240, 240), "white")
    d = ImageDraw.Draw(im)
    d.ellipse((8, 8, 232, 232), outline=(220, 30, 30), width=10)
    d.text((50, 100), "医院公章", fill=(220, 30, 30), font=ImageFont.truetype(FONT_PATH, 34, index=0))
    return im


def _typed_page_with_seal() -> bytes:
    from reportlab.lib.utils import ImageReader

    def draw(c: object, width: float, height: float) -> None:
        c.setFont("WQY", 14)  # type: ignore[attr-defined]
        for i, line in enumerate(["某某市第一人民医院 诊断证明书", *REPORT, "诊断：2型糖尿病", "建议：门诊慢特病"]):
            c.drawString(72, height - 72 - 24 * i, line)  # type: ignore[attr-defined]
        c.drawImage(ImageReader(_seal_png()), width - 220, height - 330, width=120, height=120)  # type: ignore[attr-defined]

    return _canvas_pdf(draw)


def _huge_text_page() -> bytes:
    """A 14,400 x 14,400 pt page (the largest a PDF page may be) with big typed lines."""
    side = 14_400.0

    def draw(c: object, width: float, height: float) -> None:
        c.setFont("WQY", 300)  # type: ignore[attr-defined]
        for i, line in enumerate(["门诊慢特病申请表 姓名：张三", "诊断：2型糖尿病 2023-05-17"]):
            c.drawString(600, height - 900 - 600 * i, line)  # type: ignore[attr-defined]
        c.drawString(600, 600, "第1页 共1页 某某市第一人民医院")  # type: ignore[attr-defined]

    return _canvas_pdf(draw, (side, side))


# --- fixtures and helpers ----------------------------------------------------------------------------


def _cold(options: OcrOptions, monkeypatch: pytest.MonkeyPatch) -> OcrEngine:
    """An engine for text-layer pages only: any OCR call on it fails the test."""
    eng = OcrEngine(options)

    def no_ocr(*args: object, **kwargs: object) -> None:
        raise AssertionError("a text-layer page was sent to OCR")

    monkeypatch.setattr(eng, "recognise", no_ocr)
    monkeypatch.setattr(eng, "detect_polys", no_ocr)
    return eng


@pytest.fixture
def cold_engine(monkeypatch: pytest.MonkeyPatch) -> OcrEngine:
    return _cold(OcrOptions(), monkeypatch)


_ISOLATED = """
import json, resource, sys, threading, time
import psutil
from ocr import OcrEngine, OcrOptions, read_document
from ocr.errors import OcrError
from tests.api.badinputs import good_pdf
from tests.ocr.test_pdf_bounds import fanout_pdf

memory_mb, timeout, headroom_mb = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
engine = OcrEngine(OcrOptions(parse_memory_mb=memory_mb, parse_timeout_seconds=timeout))
read_document(good_pdf("warm"), engine)  # the sandbox child started: its start is not timed
# Past this the reader itself aborts: were the PDF libraries to run here, the test would fail cleanly.
vm = psutil.Process().memory_info().vms
resource.setrlimit(resource.RLIMIT_AS, (vm + headroom_mb * 2**20, resource.RLIM_INFINITY))
proc = psutil.Process()
rss_before = proc.memory_info().rss
peak, reading = [rss_before], threading.Event()

def sample():  # the reader's resident size every 5 ms while it reads
    while not reading.wait(0.005):
        peak[0] = max(peak[0], proc.memory_info().rss)

sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
out = {}
started = time.perf_counter()
try:
    read_document(fanout_pdf(), engine)
    out["code"] = None
except OcrError as exc:
    out.update(code=exc.code, kind=type(exc).__name__, message=exc.message, detail=exc.detail)
out["seconds"] = time.perf_counter() - started
reading.set()
sampler.join()
out["rss_growth_mb"] = (proc.memory_info().rss - rss_before) / 2**20
out["peak_rss_growth_mb"] = (peak[0] - rss_before) / 2**20
out["next_document"] = read_document(good_pdf("after"), engine).ocr.pages[0].source
print(json.dumps(out))
"""


def _run_isolated(code: str, *args: object, timeout: float) -> dict[str, object]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"the reading process died (status {done.returncode}) after {time.perf_counter() - started:.1f} s:\n"
        f"{done.stderr[-3000:]}"
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the fan-out: budgets ----------------------------------------------------------------------------


def test_fanout_pdf_is_a_few_kb() -> None:
    assert len(fanout_pdf()) < 4096


def test_fanout_pdf_fails_on_the_memory_budget_and_the_reader_stays_small() -> None:
    """GIVEN the fan-out PDF and a 256 MB parsing budget (30 s) WHEN read THEN DocumentTooComplex
    naming the memory budget, well within the time budget, the reading process not 100 MB bigger,
    and the next document is read by a fresh child."""
    out = _run_isolated(_ISOLATED, 256, 30, 1500, timeout=90)
    assert out["code"] == "too_complex" and out["kind"] == "DocumentTooComplex"
    assert out["message"] == DocumentTooComplex.default_message
    assert "memory budget of 256 MB" in str(out["detail"])
    assert float(out["seconds"]) < 30  # type: ignore[arg-type]
    assert float(out["peak_rss_growth_mb"]) < 100  # type: ignore[arg-type]
    assert float(out["rss_growth_mb"]) < 100  # type: ignore[arg-type]
    assert out["next_document"] == "text_layer"


def test_fanout_pdf_fails_on_the_time_budget() -> None:
    """GIVEN the fan-out PDF, memory to spare (4 GB) and 2 s WHEN read THEN DocumentTooComplex naming
    the time budget after ~2 s, and the reading process does not grow."""
    out = _run_isolated(_ISOLATED, 4096, 2, 1500, timeout=90)
    assert out["code"] == "too_complex"
    assert "time budget" in str(out["detail"]) and "2 s" in str(out["detail"])
    assert 1.9 < float(out["seconds"]) < 2 + 5  # type: ignore[arg-type]
    assert float(out["peak_rss_growth_mb"]) < 100  # type: ignore[arg-type]
    assert out["next_document"] == "text_layer"


def test_fanout_pdf_at_upload_is_counted_outside_the_api_process(tmp_path: Path) -> None:
    """GIVEN the fan-out PDF WHEN inspected at upload THEN its one page is counted at once, and no PDF
    library (nor NumPy) is loaded into the inspecting process (the API's)."""
    path = tmp_path / "fan.pdf"
    path.write_bytes(fanout_pdf())
    code = """
import json, sys, time
from pathlib import Path
from intake.settings import Settings
from intake.upload import inspect_upload
data = Path(sys.argv[1]).read_bytes()
t = time.perf_counter()
info = inspect_upload(data, Settings())
print(json.dumps({"pages": info.pages, "media_type": info.media_type, "seconds": time.perf_counter() - t,
                  "loaded": sorted(m for m in ("pypdfium2", "pdfplumber", "pdfminer", "numpy") if m in sys.modules)}))
"""
    out = _run_isolated(code, path, timeout=60)
    assert out["pages"] == 1 and out["media_type"] == "application/pdf"
    assert out["loaded"] == []
    assert float(out["seconds"]) < 10  # type: ignore[arg-type]  # a cold child's start included


def test_a_too_complex_document_is_a_failed_document_not_a_failed_job(tmp_path: Path) -> None:
    """GIVEN the fan-out PDF WHEN the pre-screener analyses it THEN it returns a failed document with
    code too_complex (the job finishes it as ``failed``, which the reconciler never re-queues) and
    does not raise (which would make the job retry it)."""
    code = """
import datetime as dt, json, sys
from intake.application import Application
from intake.prescreen import Prescreener
from intake.settings import Settings
from tests.ocr.test_pdf_bounds import fanout_pdf
settings = Settings(db={"url": f"sqlite:///{sys.argv[1]}/db.sqlite"}, ocr={"parse_memory_mb": 256})
prescreener = Prescreener(settings)
app = Application(applicant_name="张三", id_number="11010519491231002X", disease="高血压", region="default",
                  application_date=dt.date(2026, 3, 1))
report = prescreener.analyse_file("fan.pdf", fanout_pdf(), app, prescreener.policies.for_region("default"))
print(json.dumps({"code": report.error_code, "error": report.error, "detail": report.error_detail}))
"""
    out = _run_isolated(code, tmp_path, timeout=120)
    assert out["code"] == "too_complex"
    assert out["error"] == DocumentTooComplex.default_message
    assert "memory budget" in str(out["detail"])


def test_the_warm_child_is_reused_and_one_that_died_idle_is_replaced() -> None:
    """The child serves document after document; killed while idle (no document's doing), the next
    document gets a fresh one instead of an error."""
    box = PdfSandbox(512)
    try:
        with box.session(30) as session:
            assert session.count_pages(good_pdf(), 5) == 1
            pid = session.child.proc.pid
        with box.session(30) as session:
            assert session.count_pages(good_pdf(), 5) == 1
            assert session.child.proc.pid == pid
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        with box.session(30) as session:
            assert session.count_pages(good_pdf(), 5) == 1
            assert session.child.proc.pid != pid
    finally:
        box.shutdown()


def test_forms_nested_too_deep_fail_clearly() -> None:
    """GIVEN a chain of 60 nested forms (pdfium silently stops drawing at ~40, pdfminer recurses
    until RecursionError) WHEN read THEN too_complex, not a blank page read as empty."""
    with pytest.raises(DocumentTooComplex, match="nested over"), open_document(
        fanout_pdf(levels=60, fan=1), max_pages=5, budget=ParseBudget(), text_layers=True
    ):
        pass


def test_an_image_claiming_more_pixels_than_a_page_may_have_fails_clearly() -> None:
    """GIVEN an inline image claiming 4 T pixels (pdfium drops it and draws a blank page) WHEN read
    THEN image_too_large, as for an uploaded photo of that size."""
    with pytest.raises(ImageTooLarge) as caught, open_document(
        inline_image_claim_pdf(), max_pages=5, budget=ParseBudget(), text_layers=True, max_image_pixels=10**8
    ):
        pass
    assert caught.value.pixels == 2_000_000**2 and caught.value.max_pixels == 10**8
    with open_document(inline_image_claim_pdf(side=100), max_pages=5, budget=ParseBudget(), text_layers=True,
                       max_image_pixels=10**8) as doc:
        assert len(doc.pages) == 1


# --- pixel caps --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "dpi", "max_side", "max_pixels"),
    [
        ((595.2756, 841.8898), 150, 2000, 100_000_000),  # A4: 150 dpi as before
        ((14_400, 14_400), 150, 2000, 100_000_000),  # the long side binds
        ((14_400, 14_400), 200, 20_000, 1_000_000),  # the pixels bind
        ((14_400, 3), 200, 2000, 1_000),  # a sliver: the short side is still 1 px
        ((1190.55, 841.89), 200, 2000, 100_000_000),  # A3 landscape
    ],
)
def test_page_scale_keeps_the_rendered_bitmap_within_both_caps(
    size: tuple[float, float], dpi: int, max_side: int, max_pixels: int
) -> None:
    import math

    scale = page_scale(*size, dpi=dpi, max_side=max_side, max_pixels=max_pixels)
    w, h = math.ceil(size[0] * scale), math.ceil(size[1] * scale)  # as pypdfium2 sizes its bitmap
    assert 0 < scale <= dpi / 72
    assert max(w, h) <= max_side and w * h <= max_pixels
    if size[0] < 1000:
        assert scale == pytest.approx(dpi / 72)


@pytest.mark.parametrize("max_image_pixels", [100_000_000, 1_000_000])
def test_huge_text_layer_page_renders_within_the_caps_with_its_lines_on_the_text(
    monkeypatch: pytest.MonkeyPatch, max_image_pixels: int
) -> None:
    """GIVEN a 14,400 x 14,400 pt text page (at 150 dpi: 30,000 px square, 2.7 GB) WHEN read THEN its
    image fits max_side and max_image_pixels, the transform's scale is the one it was drawn at,
    and every text-layer line lies inside the image, on ink."""
    opts = OcrOptions(max_image_pixels=max_image_pixels)
    data = _huge_text_page()
    doc = read_document(data, _cold(opts, monkeypatch))
    page, image = doc.ocr.pages[0], doc.images[0]
    assert page.source == "text_layer"
    h, w = image.shape[:2]
    assert (page.width, page.height) == (w, h)
    assert max(w, h) <= opts.max_side and w * h <= max_image_pixels
    assert page.transform.scale == pytest.approx(w / 14_400, rel=1e-3)
    assert page.lines[0].text == "门诊慢特病申请表姓名：张三"
    for line in page.lines:
        b = line.box
        assert 0 <= b.x0 < b.x1 <= w and 0 <= b.y0 < b.y1 <= h
        assert image[int(b.y0):int(b.y1) + 1, int(b.x0):int(b.x1) + 1].min() < 128  # text under it
    again = render_pages(data, doc.ocr)
    assert again[0].shape == image.shape and (again[0] == image).all()


# --- text-layer coverage -----------------------------------------------------------------------------


_LAYER_CASES = [
    ("scan_footer_line", lambda: _scan_with_layer("footer"), False),
    ("scan_under_typed_header", lambda: _scan_with_layer("header"), False),
    ("scan_junk_layer", lambda: _scan_with_layer("junk"), False),
    ("scan_searchable_layer", lambda: _scan_with_layer("searchable"), True),
    ("typed_page", lambda: make_pdf([REPORT]), True),
    ("typed_page_seal_image", _typed_page_with_seal, True),
    ("good_pdf", good_pdf, True),
]


@pytest.mark.parametrize(("name", "build", "usable"), _LAYER_CASES, ids=[case[0] for case in _LAYER_CASES])
def test_a_text_layer_is_used_only_if_it_covers_the_page(name: str, build: object, usable: bool) -> None:
    with open_document(build(), max_pages=5, budget=ParseBudget(), text_layers=True) as doc:  # type: ignore[operator]
        layer = doc.pages[0].layer
    assert layer is not None
    assert layer.usable is usable, f"{name}: {layer.reason}"


def test_generated_text_pdfs_still_read_from_their_layer(cold_engine: OcrEngine) -> None:
    doc = read_document(text_pdf(["某某市第一人民医院 门诊病历", "诊断：2型糖尿病"]), cold_engine)
    assert [p.source for p in doc.ocr.pages] == ["text_layer"]
    assert "诊断：2型糖尿病" in doc.ocr.text
    sealed = read_document(_typed_page_with_seal(), cold_engine)
    assert sealed.ocr.pages[0].source == "text_layer"
    assert "某某市第一人民医院诊断证明书" in sealed.ocr.text


@pytest.mark.ocr
@pytest.mark.parametrize("layer", ["footer", "header", "junk"])
def test_scanned_pdf_with_a_footer_or_junk_text_layer_is_ocrd(engine: OcrEngine, layer: str) -> None:
    """GIVEN a scanned page whose text layer is one printed footer (or header) line, or junk WHEN read
    THEN the page is OCR'd (its scanned lines are read) and render_pages redraws the same pixels."""
    data = _scan_with_layer(layer)
    doc = read_document(data, engine)
    page = doc.ocr.pages[0]
    assert page.source == "ocr"
    assert "门诊慢特病申请表" in page.text and "2023-05-17" in page.text
    again = render_pages(data, doc.ocr)
    assert again[0].shape == doc.images[0].shape and (again[0] == doc.images[0]).all()


def test_render_pages_of_a_cached_result_gives_the_same_pixels(cold_engine: OcrEngine) -> None:
    """GIVEN a result as the cache stores it (JSON) WHEN its pages are redrawn THEN the very pixels."""
    data = make_pdf([REPORT, REPORT[:2]])
    doc = read_document(data, cold_engine)
    cached = type(doc.ocr).model_validate_json(doc.ocr.model_dump_json())
    again = render_pages(data, cached)
    assert len(again) == 2
    assert all(a.shape == b.shape and (a == b).all() for a, b in zip(again, doc.images, strict=True))
    assert all(isinstance(a, np.ndarray) and a.flags.writeable for a in again)
