"""Resident memory of one process reading many pages with one engine: it must stay flat.

Pages are a mix of real phone photos (downscaled, some turned 90/180°), rendered text pages of
varying size (varying input shapes are what grows onnxruntime's arenas) and text-layer PDF pages.
Each document is read the way the pipeline reads it: ``read_document``, then (as
``Prescreener.analyse_file`` does after each file, ``OcrOptions.trim_memory``) freed memory handed
back to the OS. Prints RSS after page 20, every 50 pages and at the end, the growth from page 20
to the end, and what the hand-back costs. ``--no-trim`` measures without it, to see what it is for.
Run: .venv/bin/python bench/bench_memory.py [--pages 300] [--no-trim]
"""

from __future__ import annotations

import argparse
import gc
import io
import itertools
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.realworld import REALWORLD
from ocr import OcrEngine, OcrOptions, read_document
from ocr.memory import release_freed_memory


def jpeg(img: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes()


def photo_pages() -> list[bytes]:
    out = []
    for path in sorted(REALWORLD.glob("*.jpg")):
        img = cv2.imread(str(path))
        for long_side, turn in ((800, None), (1000, cv2.ROTATE_180), (900, cv2.ROTATE_90_CLOCKWISE)):
            s = long_side / max(img.shape[:2])
            small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            out.append(jpeg(cv2.rotate(small, turn) if turn is not None else small))
    return out


def rendered_pages() -> list[bytes]:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 26, index=0)
    out = []
    for i, (w, h) in enumerate([(700, 990), (850, 1200), (1000, 700), (760, 1080)]):
        im = Image.new("RGB", (w, h), "white")
        d = ImageDraw.Draw(im)
        for j in range(6 + 2 * i):
            d.text(
                (50, 60 + j * 48),
                f"第{j + 1}行 诊断证明书 编号{i}{j:03d} 2024-0{i + 1}-1{j % 10}",
                fill="black",
                font=font,
            )
        buf = io.BytesIO()
        im.save(buf, "PNG")
        out.append(buf.getvalue())
    return out


def text_pdf() -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("WQY", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for p in range(2):
        c.setFont("WQY", 12)
        for i in range(30):
            c.drawString(60, 780 - i * 20, f"出院小结 第{p + 1}页 第{i + 1}行 住院号 20240{i:03d}")
        c.showPage()
    c.save()
    return buf.getvalue()


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up when piped to a log
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--no-trim", action="store_true", help="OcrOptions(trim_memory=False)")
    parser.add_argument("--every", type=int, default=50, help="print RSS every this many pages")
    args = parser.parse_args()
    trim_seconds: list[float] = []
    photos, rendered, pdf = photo_pages(), rendered_pages(), text_pdf()
    # Per cycle of 6 files (7 pages): 3 photos, 2 rendered pages, 1 two-page text-layer PDF.
    cycle = itertools.cycle(range(6))
    ph, rd = itertools.cycle(photos), itertools.cycle(rendered)
    engine = OcrEngine(OcrOptions(trim_memory=not args.no_trim))
    print(f"trim_memory={engine.options.trim_memory}")
    engine.warm_up()
    print(f"after model load: RSS {rss_mb():.0f} MB")
    print(f"{'pages':>6}{'RSS MB':>9}{'elapsed s':>11}")
    pages, rss20, started, next_report = 0, None, time.perf_counter(), args.every
    while pages < args.pages:
        kind = next(cycle)
        data = next(ph) if kind < 3 else next(rd) if kind < 5 else pdf
        doc = read_document(data, engine)
        pages += len(doc.ocr.pages)
        del doc
        gc.collect()
        if engine.options.trim_memory:
            t = time.perf_counter()
            release_freed_memory()
            trim_seconds.append(time.perf_counter() - t)
        if rss20 is None and pages >= 20:
            rss20 = rss_mb()
            print(f"{pages:>6}{rss20:>9.0f}{time.perf_counter() - started:>11.0f}   <- baseline (page 20)")
        elif pages >= next_report:
            print(f"{pages:>6}{rss_mb():>9.0f}{time.perf_counter() - started:>11.0f}")
            next_report += args.every
    end = rss_mb()
    assert rss20 is not None
    growth = (end - rss20) / rss20 * 100
    print(
        f"\nRSS after page 20: {rss20:.0f} MB; after page {pages}: {end:.0f} MB; growth {growth:+.1f}% "
        f"(target < 10%) -> {'OK' if growth < 10 else 'TOO MUCH'}"
    )
    if trim_seconds:
        ms = sorted(1000 * t for t in trim_seconds)
        print(
            f"malloc_trim after each document: {len(ms)} calls, median {ms[len(ms) // 2]:.2f} ms, "
            f"max {ms[-1]:.2f} ms, total {sum(ms) / 1000:.2f} s of {time.perf_counter() - started:.0f} s"
        )


if __name__ == "__main__":
    main()
