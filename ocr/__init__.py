"""Bytes in, ``OcrResult`` out: decoding, page normalisation, PDF text layers and PaddleOCR.

    from ocr import OcrOptions, OcrEngine, read_document, render_pages, sniff_media_type
    engine = OcrEngine(OcrOptions())          # models load lazily, once per process
    doc = read_document(data, engine)          # doc.ocr: OcrResult, doc.images: BGR pages
    images = render_pages(data, doc.ocr)       # same images again, from a cached result

Errors are ``ocr.errors.OcrError`` subclasses (tree in that module's docstring).

The names below are loaded on first use (PEP 562), so light modules such as ``ocr.options``,
``ocr.errors``, ``ocr.types`` and ``ocr.sniff`` import without OpenCV, NumPy or PaddleOCR; the
API process relies on that.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocr.document import ReadDocument, read_document, render_pages
    from ocr.engine import OcrEngine
    from ocr.errors import OcrError
    from ocr.options import OcrOptions
    from ocr.pdf import TEXT_LAYER_DPI
    from ocr.sniff import sniff_media_type

_EXPORTS = {
    "TEXT_LAYER_DPI": "ocr.pdf",
    "OcrEngine": "ocr.engine",
    "OcrError": "ocr.errors",
    "OcrOptions": "ocr.options",
    "ReadDocument": "ocr.document",
    "read_document": "ocr.document",
    "render_pages": "ocr.document",
    "sniff_media_type": "ocr.sniff",
}

__all__ = [
    "TEXT_LAYER_DPI",
    "OcrEngine",
    "OcrError",
    "OcrOptions",
    "ReadDocument",
    "read_document",
    "render_pages",
    "sniff_media_type",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
