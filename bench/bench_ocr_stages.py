"""Where our OCR time goes on the 12-megapixel pages of ``bench_ocr.py``, and what OCR settings change it.

Per page: seconds in the orientation pre-pass's detection, in a second detection (small print
only), in cropping the lines and in recognising them, with the number of lines read. Then each
``--variant`` (OcrOptions overrides, e.g. ``disable_memory_arena=false`` or ``rec_batch_size=16``)
reads the real lab-report photos beside our defaults, alternating rounds, medians of the totals.

    .venv/bin/python bench/bench_ocr_stages.py [--variant rec_batch_size=16 --variant ...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ocr import generated_pages, twelve_mp

from fixtures.realworld import REALWORLD
from ocr import OcrEngine, OcrOptions, read_document

PHOTOS = (
    "lab_np2016_bloodtest2_upright_photo.jpg",
    "lab_np2016_bloodtest1_rot90_photo.jpg",
    "lab_np2016_bloodtest6_skewed_photo.jpg",
)


def _timed(totals: dict[str, float], stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        out = fn(*args, **kwargs)
        out = list(out) if not isinstance(out, list) else out  # predictors yield lazily
        totals[stage] += time.perf_counter() - started
        return out

    return run


def _override(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    return key, json.loads(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=JSON",
                        help="OcrOptions overrides of one variant, comma-separated (repeatable)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    photos = [(name.split("_")[2], twelve_mp(cv2.imread(str(REALWORLD / name)))) for name in PHOTOS]
    pages = photos + [(label, data) for label, data, _ in generated_pages()]

    engine = OcrEngine(OcrOptions())
    engine.warm_up()
    read_document(pages[0][1], engine)
    totals: dict[str, float] = defaultdict(float)
    stages = ("pre-pass det", "second det", "crop", "recognise")
    print(f"{'page (12 MP JPEG)':<20}{'total s':>9}" + "".join(f"{s:>14}" for s in stages) + f"{'lines':>7}")
    for label, data in pages:
        totals.clear()
        with _instrumented(engine, totals):
            started = time.perf_counter()
            doc = read_document(data, engine)
            total = time.perf_counter() - started
        print(f"{label:<20}{total:9.2f}" + "".join(f"{totals.get(s, 0.0):14.2f}" for s in stages)
              + f"{sum(len(p.lines) for p in doc.ocr.pages):7d}")

    if not args.variant:
        return
    variants = {"defaults": OcrOptions()}
    for spec in args.variant:
        variants[spec] = OcrOptions(**dict(_override(part) for part in spec.split(",")))
    engines = {name: OcrEngine(options) for name, options in variants.items()}
    for e in engines.values():
        e.warm_up()
        read_document(photos[0][1], e)
    times: dict[str, list[float]] = {name: [] for name in engines}
    for r in range(args.repeats):
        order = list(engines.items()) if r % 2 == 0 else list(reversed(engines.items()))
        for name, e in order:
            started = time.perf_counter()
            for _, data in photos:
                read_document(data, e)
            times[name].append(time.perf_counter() - started)
    base = statistics.median(times["defaults"])
    print(f"\nthe {len(photos)} real lab-report photos, {args.repeats} alternating rounds, median seconds:")
    for name, ts in times.items():
        median = statistics.median(ts)
        print(f"  {name:40s} {median:6.2f} s  ({median / base:.2f}x the defaults' time)")


class _instrumented:
    """Time the engine's detection, cropping and recognition calls while in the ``with`` block."""

    def __init__(self, engine: OcrEngine, totals: dict[str, float]) -> None:
        self.loaded, self.totals = engine.loaded, totals

    def __enter__(self) -> None:
        loaded = self.loaded
        self.saved = (loaded.prepass, loaded.detector, loaded.recogniser, loaded.cropper)
        loaded.prepass = _Proxy(loaded.prepass, "predict", _timed(self.totals, "pre-pass det", loaded.prepass.predict))
        loaded.detector = _Proxy(loaded.detector, "predict", _timed(self.totals, "second det", loaded.detector.predict))
        loaded.recogniser = _Proxy(loaded.recogniser, "predict",
                                   _timed(self.totals, "recognise", loaded.recogniser.predict))
        loaded.cropper = _timed(self.totals, "crop", loaded.cropper)

    def __exit__(self, *exc: object) -> None:
        loaded = self.loaded
        loaded.prepass, loaded.detector, loaded.recogniser, loaded.cropper = self.saved


class _Proxy:
    """``target`` with one method replaced."""

    def __init__(self, target: Any, name: str, method: Callable[..., Any]) -> None:
        self._target, self._name, self._method = target, name, method

    def __getattr__(self, attr: str) -> Any:
        return self._method if attr == self._name else getattr(self._target, attr)


if __name__ == "__main__":
    main()
