"""What the PDF sandbox (``ocr.sandbox``) costs: the same PDF work in the child and in this process.

For each document the work is what ``read_document`` asks of the PDF libraries (open, every page's
size and judged text layer, every page rendered at the scale it would be read at) and what
``inspect_upload`` asks (the page count). "in-process" runs the same ``ocr.pdf`` calls here; the
difference is the sandbox's overhead per document and per page (request, pickling, the page image
over the socket). Also printed: the start of a child (paid once per process, and after a document
that broke its budgets). OCR itself costs ~1 s a page (``bench/bench_ocr.py``).
Run: .venv/bin/python bench/bench_sandbox.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocr import OcrOptions, pdf
from ocr.sandbox import ParseBudget, _Child, count_pages, open_document
from tests.api.badinputs import good_pdf
from tests.ocr.helpers import make_pdf, text_page_image

REPORT = ["独墅湖科教创新区医院化验报告单", "姓名：孟丁        性别：男", "报告日期：2016-08-24", "Hemoglobin 135 g/L"]
OPTS = OcrOptions()


def scale_of(info: pdf.PdfPageInfo) -> float:
    usable = info.layer is not None and info.layer.usable
    dpi = pdf.TEXT_LAYER_DPI if usable else OPTS.pdf_ocr_dpi
    return pdf.page_scale(info.width_pt, info.height_pt, dpi=dpi, max_side=OPTS.max_side,
                          max_pixels=OPTS.max_image_pixels)


def in_sandbox(data: bytes) -> int:
    with open_document(data, max_pages=50, budget=ParseBudget.of(OPTS), text_layers=True,
                       max_image_pixels=OPTS.max_image_pixels) as doc:
        return sum(im.nbytes for im in doc.render([(p.index, scale_of(p)) for p in doc.pages]))


def in_process(data: bytes) -> int:
    doc = pdf.open_pdf(data, 50)
    try:
        limit = OPTS.max_image_pixels
        infos = [pdf.PdfPageInfo(i, *pdf.load_page(doc, i, max_image_pixels=limit)) for i in range(len(doc))]
        layers = pdf.read_text_layers(data, len(doc), lambda i, s: pdf.render_page(doc, i, s),
                                      max_image_pixels=OPTS.max_image_pixels)
        for info, layer in zip(infos, layers, strict=True):
            info.layer = layer
        return sum(pdf.render_page(doc, p.index, scale_of(p)).nbytes for p in infos)
    finally:
        doc.close()


def count_in_process(data: bytes) -> int:
    doc = pdf.open_pdf(data, 50)
    try:
        return len(doc)
    finally:
        doc.close()


def median_ms(fn: Callable[[bytes], int], data: bytes, repeat: int) -> float:
    fn(data)  # warm: the child started, caches filled
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    scan = text_page_image(["门诊慢特病申请", "诊断证明书", "2023-05-17"], font_px=48)
    docs = {
        "text, 1 page (good_pdf)": good_pdf(),
        "text, 10 A4 pages": make_pdf([REPORT] * 10),
        "scan, 5 A4 pages": make_pdf([scan] * 5),
    }
    starts = []
    for _ in range(5):
        t = time.perf_counter()
        _Child(OPTS.parse_memory_mb).close()
        starts.append(time.perf_counter() - t)
    print(f"child start (imports, limits, handshake): {statistics.median(starts) * 1000:.0f} ms, once per process")
    header = ("document", "pages", "MB px", "in-process", "sandbox", "overhead", "per page")
    print("{:28} {:>5} {:>6} {:>11} {:>9} {:>9} {:>9}".format(*header))
    for name, data in docs.items():
        n = count_in_process(data)
        mb = in_process(data) / 1e6
        a = median_ms(in_process, data, args.repeat)
        b = median_ms(in_sandbox, data, args.repeat)
        print(f"{name:28} {n:5d} {mb:6.1f} {a:9.1f}ms {b:7.1f}ms {b - a:7.1f}ms {(b - a) / n:7.1f}ms")
    data = docs["text, 1 page (good_pdf)"]
    a = median_ms(count_in_process, data, args.repeat)
    b = median_ms(lambda d: count_pages(d, max_pages=50, budget=ParseBudget.of(OPTS)), data, args.repeat)
    print(f"upload page count: in-process {a:.2f} ms, sandbox {b:.2f} ms (overhead {b - a:.2f} ms)")


if __name__ == "__main__":
    main()
