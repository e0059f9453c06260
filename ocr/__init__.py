"""Bytes in, ``OcrResult`` out: decoding, page normalisation, PDF text layers and PaddleOCR.

    from ocr import OcrOptions, OcrEngine, read_document, render_pages, sniff_media_type
    engine = OcrEngine(OcrOptions())          # models load lazily, once per process
    doc = read_document(data, engine)          # doc.ocr: OcrResult, doc.images: BGR pages
    images = render_pages(data, doc.ocr)       # same images again, from a cached result

Errors are ``ocr.errors.OcrError`` subclasses (tree in that module's docstring).
"""

from ocr.document import ReadDocument, read_document, render_pages
from ocr.engine import OcrEngine
from ocr.errors import OcrError
from ocr.options import OcrOptions
from ocr.pdf import TEXT_LAYER_DPI
from ocr.sniff import sniff_media_type

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
