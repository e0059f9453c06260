"""``read_document`` (bytes -> ``OcrResult`` + page images) and ``render_pages`` (redo the images).

Stages per file: sniff the type -> open (header checks: pixels, pages, encryption) -> per page:
decode at the scale the page needs -> text layer or [decide orientation -> normalise -> OCR].
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ocr import decode, pdf
from ocr.engine import OcrEngine
from ocr.errors import EmptyFile, UnsupportedFileType
from ocr.orient import apply_transform, decide_orientation
from ocr.sniff import IMAGE_TYPES, PDF, SUPPORTED_TYPES, sniff_media_type
from ocr.types import OcrPage, OcrResult, PageTransform


@dataclass
class ReadDocument:
    """What ``read_document`` returns: the result and the normalised page images (BGR) it read."""

    ocr: OcrResult
    images: list[np.ndarray] = field(default_factory=list)


def _check_type(data: bytes) -> str:
    if not data or not data.strip():
        raise EmptyFile(f"{len(data)} bytes")
    media_type = sniff_media_type(data)
    if media_type not in SUPPORTED_TYPES:
        raise UnsupportedFileType(f"sniffed {media_type}")
    return media_type


def _ocr_page(engine: OcrEngine, index: int, decoded: np.ndarray, scale: float) -> tuple[OcrPage, np.ndarray]:
    """Decide orientation on the decoded-at-scale page, normalise it and OCR it."""
    o = engine.options
    orientation = decide_orientation(
        decoded,
        engine,
        correct_orientation=o.correct_orientation,
        deskew=o.deskew,
        min_skew_degrees=o.min_skew_degrees,
    )
    transform = PageTransform(rotation=orientation.rotation, skew=orientation.skew, scale=scale)
    image = apply_transform(decoded, transform)
    # The pre-pass already found the lines of a page with ordinary-sized text: no second detection.
    h, w = decoded.shape[:2]
    polys = orientation.mapped_polys(w, h) if engine.prepass_suffices(orientation.polys, decoded.shape) else None
    lines = engine.recognise(image, polys)
    page = OcrPage(
        index=index, width=image.shape[1], height=image.shape[0], source="ocr", lines=lines, transform=transform
    )
    return page, image


def read_document(data: bytes, engine: OcrEngine, *, max_pages: int | None = None) -> ReadDocument:
    """Read every page of an uploaded file; raises an ``OcrError`` subclass for unusable input."""
    started = time.perf_counter()
    opts = engine.options
    max_pages = max_pages if max_pages is not None else opts.max_pages
    media_type = _check_type(data)
    pages: list[OcrPage] = []
    images: list[np.ndarray] = []
    if media_type == PDF:
        doc = pdf.open_pdf(data, max_pages)
        try:
            layers = pdf.read_text_layers(data, len(doc))
            for index, layer in enumerate(layers):
                if layer.usable:
                    image = pdf.render_page(doc, index, pdf.TEXT_LAYER_SCALE)
                    transform = PageTransform(scale=pdf.TEXT_LAYER_SCALE)
                    pages.append(
                        OcrPage(
                            index=index,
                            width=image.shape[1],
                            height=image.shape[0],
                            source="text_layer",
                            lines=layer.lines,
                            transform=transform,
                        )
                    )
                else:
                    w, h = pdf.page_size_points(doc, index)
                    scale = _pdf_ocr_scale(w, h, opts.pdf_ocr_dpi, opts.max_side)
                    page, image = _ocr_page(engine, index, pdf.render_page(doc, index, scale), scale)
                    pages.append(page)
                images.append(image)
        finally:
            doc.close()
    else:
        assert media_type in IMAGE_TYPES
        with decode.open_image(data, opts.max_image_pixels) as im:
            n = decode.check_frames(im, max_pages)
            for index in range(n):
                if index:
                    im.seek(index)
                w, h = decode.upright_size(im)
                scale = decode.fit_scale(w, h, opts.max_side)
                page, image = _ocr_page(engine, index, decode.decode_frame(im, index, scale), scale)
                pages.append(page)
                images.append(image)
    result = OcrResult(
        media_type=media_type, pages=pages, fingerprint=engine.fingerprint, seconds=time.perf_counter() - started
    )
    return ReadDocument(ocr=result, images=images)


def _pdf_ocr_scale(width_pt: float, height_pt: float, dpi: int, max_side: int) -> float:
    return min(dpi / 72, max_side / max(width_pt, height_pt))


def render_pages(data: bytes, ocr: OcrResult, *, max_image_pixels: int | None = None) -> list[np.ndarray]:
    """The normalised page images of ``ocr`` (e.g. from a cache) redrawn from the file, without OCR."""
    media_type = _check_type(data)
    images: list[np.ndarray] = []
    if media_type == PDF:
        doc = pdf.open_pdf(data, max(len(ocr.pages), 1) + 10**6)
        try:
            for page in ocr.pages:
                decoded = pdf.render_page(doc, page.index, page.transform.scale)
                images.append(apply_transform(decoded, page.transform))
        finally:
            doc.close()
        return images
    limit = max_image_pixels if max_image_pixels is not None else 10**12
    with decode.open_image(data, limit) as im:
        for page in ocr.pages:
            decoded = decode.decode_frame(im, page.index, page.transform.scale)
            images.append(apply_transform(decoded, page.transform))
    return images
