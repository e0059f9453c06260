"""The OCR fingerprint is part of the cache key: stable across processes, changed by what matters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ocr import OcrEngine, OcrOptions
from ocr.models import resolve_models

ROOT = Path(__file__).resolve().parents[2]


def test_fingerprint_is_stable_across_processes() -> None:
    here = OcrEngine(OcrOptions()).fingerprint
    code = "from ocr import OcrEngine, OcrOptions; print(OcrEngine(OcrOptions()).fingerprint)"
    there = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here
    assert "PP-OCRv6_small_det" in here and "onnxruntime" in here


def test_fingerprint_changes_with_output_shaping_parameters() -> None:
    base = OcrEngine(OcrOptions()).fingerprint
    for changed in (
        OcrOptions(det_limit_side_len=1280),
        OcrOptions(max_side=2400),
        OcrOptions(det_box_thresh=0.5),
        OcrOptions(rec_model_name="PP-OCRv6_tiny_rec"),
        OcrOptions(correct_orientation=False),
    ):
        assert OcrEngine(changed).fingerprint != base


def test_fingerprint_ignores_runtime_only_settings() -> None:
    base = OcrEngine(OcrOptions()).fingerprint
    assert OcrEngine(OcrOptions(cpu_threads=1, max_pages=3, disable_memory_arena=False)).fingerprint == base


def test_bundled_models_are_laid_out_for_paddleocr(tmp_path: Path) -> None:
    models = resolve_models(OcrOptions(model_cache_dir=tmp_path))
    for m in (models.det, models.rec):
        assert m.dir is not None and m.dir.parent == tmp_path
        assert (m.dir / "inference.onnx").is_file() and (m.dir / "inference.yml").is_file()
        assert m.name in (m.dir / "inference.yml").read_text()


def test_explicit_model_dir_is_used_as_is(tmp_path: Path) -> None:
    bundled = resolve_models(OcrOptions(model_cache_dir=tmp_path))
    assert bundled.det.dir is not None
    custom = resolve_models(OcrOptions(det_model_name="PP-OCRv6_small_det", det_model_dir=bundled.det.dir))
    assert custom.det.dir == bundled.det.dir
    hosted = resolve_models(OcrOptions(det_model_name="PP-OCRv5_server_det"))
    assert hosted.det.dir is None  # left to PaddleOCR's model hosting
