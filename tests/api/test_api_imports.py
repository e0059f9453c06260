"""The API process never loads the OCR stack: importing ``api.app`` must leave PaddleOCR, OpenCV, the
OCR engine and the document classifiers out of ``sys.modules`` (they belong to the worker)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = (
    "paddleocr",
    "paddlex",
    "onnxruntime",
    "ocr.engine",
    "ocr.document",
    "ocr.orient",
    "ocr.seal_text",
    "classifiers.seal",
    "classifiers.pipeline",
    "classifiers.quality",
    "intake.prescreen",
    "intake.jobs",
    "cv2",
)


def _loaded_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_api_app_does_not_import_ocr_stack() -> None:
    loaded = _loaded_after("import api.app")
    assert "api.app" in loaded
    assert sorted(m for m in HEAVY if m in loaded) == []


def test_light_ocr_modules_import_alone() -> None:
    loaded = _loaded_after("import ocr.options, ocr.errors, ocr.types, ocr.sniff")
    assert sorted(m for m in HEAVY if m in loaded) == []


def test_ocr_package_exports_lazily() -> None:
    loaded = _loaded_after("from ocr import OcrOptions, OcrError, sniff_media_type")
    assert sorted(m for m in HEAVY if m in loaded) == []
    loaded = _loaded_after("from ocr import OcrEngine, read_document; import ocr; assert 'TEXT_LAYER_DPI' in dir(ocr)")
    assert {"ocr.engine", "ocr.document"} <= loaded
