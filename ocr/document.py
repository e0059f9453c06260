"""``read_document`` (bytes -> ``OcrResult`` + page images) and ``render_pages`` (redo the images).

Stages per file: sniff the type -> open (header checks: pixels, pages, encryption) -> per page:
decode at the scale the page needs -> text layer or [decide orientation -> normalise -> OCR].

``render_page_closer`` draws one page again with more of the file's own detail than its normalised
image kept (a phone photo or a 300 dpi scan is read at ``max_side``), for an area read again closer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from ocr import decode, pdf, sandbox
from ocr.engine import OcrEngine
from ocr.errors import EmptyFile, UnsupportedFileType
from ocr.options import OcrOptions
from ocr.orient import Orientation, apply_transform, decide_orientation, reads_well, reconsider_mirror
from ocr.sniff import IMAGE_TYPES, PDF, SUPPORTED_TYPES, sniff_media_type
from ocr.types import OcrLine, OcrPage, OcrResult, PageTransform

# A page drawn again closer is drawn at most this many times its normalised resolution, and only
# when the file holds at least ``_CLOSER_MIN_GAIN`` times as much detail as the page was read at.
CLOSER_FACTOR = 2.0
_CLOSER_MIN_GAIN = 1.25
# An OCR'd PDF page is drawn closer at no more than this many dots per inch (a scan's own detail).
_CLOSER_PDF_DPI = 400

log = logging.getLogger(__name__)


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
    """Decide orientation on the decoded-at-scale page, normalise it and OCR it. Whether the page is
    mirrored is asked only when its own lines read poorly: an ordinary page pays nothing for it."""
    o = engine.options
    orientation = decide_orientation(
        decoded,
        engine,
        correct_orientation=o.correct_orientation,
        deskew=o.deskew,
        min_skew_degrees=o.min_skew_degrees,
        check_mirror=False,
    )
    image, lines = _recognise(engine, decoded, scale, orientation)
    if o.correct_orientation and not reads_well(lines):
        mirrored = reconsider_mirror(decoded, engine, orientation)
        if mirrored is not None:
            orientation = mirrored
            image, lines = _recognise(engine, decoded, scale, orientation)
    page = OcrPage(index=index, width=image.shape[1], height=image.shape[0], source="ocr", lines=lines,
                   transform=orientation.transform(scale))
    return page, image


def _recognise(engine: OcrEngine, decoded: np.ndarray, scale: float,
               orientation: Orientation) -> tuple[np.ndarray, list[OcrLine]]:
    image = apply_transform(decoded, orientation.transform(scale))  # with its mirror flip, if any
    # The pre-pass already found the lines of a page with ordinary-sized text: no second detection.
    h, w = decoded.shape[:2]
    reuse = orientation.tiled or engine.prepass_suffices(orientation.polys, decoded.shape)  # tiled: full size
    polys = orientation.mapped_polys(w, h) if reuse else None
    return image, engine.recognise(image, polys)


def read_document(data: bytes, engine: OcrEngine, *, max_pages: int | None = None) -> ReadDocument:
    """Read every page of an uploaded file; raises an ``OcrError`` subclass for unusable input."""
    started = time.perf_counter()
    opts = engine.options
    max_pages = max_pages if max_pages is not None else opts.max_pages
    media_type = _check_type(data)
    pages: list[OcrPage] = []
    images: list[np.ndarray] = []
    if media_type == PDF:
        with sandbox.open_document(
            data,
            max_pages=max_pages,
            budget=sandbox.ParseBudget.of(opts),
            text_layers=True,
            max_image_pixels=opts.max_image_pixels,
        ) as document:
            plan = [(info, _pdf_page_scale(info, opts)) for info in document.pages]
            rendered = document.render([(info.index, scale) for info, scale in plan])
            for (info, scale), decoded in zip(plan, rendered, strict=True):
                layer = info.layer
                if layer is not None and layer.usable:
                    image = decoded
                    page = OcrPage(
                        index=info.index,
                        width=image.shape[1],
                        height=image.shape[0],
                        source="text_layer",
                        lines=pdf.scale_lines(layer.lines, scale),
                        transform=PageTransform(scale=scale),
                    )
                else:
                    if layer is not None and layer.reason.startswith("pdfplumber failed"):
                        log.warning("page %d: %s; OCR'd", info.index + 1, layer.reason)
                    page, image = _ocr_page(engine, info.index, decoded, scale)
                pages.append(page)
                images.append(image)
    else:
        assert media_type in IMAGE_TYPES
        with decode.open_image(data, opts.max_image_pixels, media_type=media_type) as im:
            n = decode.check_frames(
                im, max_pages, max_pixels=opts.max_image_pixels, max_total_pixels=opts.max_total_pixels
            )
            for index in range(n):
                decode.select_page(im, index)
                w, h = decode.upright_size(im)
                scale = decode.fit_scale(w, h, opts.max_side)
                page, image = _ocr_page(engine, index, decode.decode_frame(im, index, scale), scale)
                pages.append(page)
                images.append(image)
    result = OcrResult(
        media_type=media_type, pages=pages, fingerprint=engine.fingerprint, seconds=time.perf_counter() - started
    )
    return ReadDocument(ocr=result, images=images)


def _pdf_page_scale(info: pdf.PdfPageInfo, opts: OcrOptions) -> float:
    """Text-layer pages at up to ``TEXT_LAYER_DPI``, OCR'd ones at up to ``pdf_ocr_dpi``; both capped
    by ``max_side`` and ``max_image_pixels``."""
    usable = info.layer is not None and info.layer.usable
    dpi = pdf.TEXT_LAYER_DPI if usable else opts.pdf_ocr_dpi
    return pdf.page_scale(
        info.width_pt, info.height_pt, dpi=dpi, max_side=opts.max_side, max_pixels=opts.max_image_pixels
    )


def render_pages(
    data: bytes, ocr: OcrResult, *, max_image_pixels: int | None = None, options: OcrOptions | None = None
) -> list[np.ndarray]:
    """The normalised page images of ``ocr`` (e.g. from a cache) redrawn from the file, without OCR.

    PDF pages are drawn in the sandbox within the parsing budgets and the pixel cap of ``options``
    (the defaults if None), at the scale each page was read at: the same pixels ``read_document``
    returned."""
    media_type = _check_type(data)
    images: list[np.ndarray] = []
    if media_type == PDF:
        pdf_opts = options or OcrOptions()
        max_pixels = max_image_pixels if max_image_pixels is not None else pdf_opts.max_image_pixels
        requests = [(page.index, page.transform.scale) for page in ocr.pages]
        with sandbox.open_document(data, max_pages=max(len(ocr.pages), 1) + 10**6,
                                   budget=sandbox.ParseBudget.of(pdf_opts), text_layers=False) as document:
            rendered = document.render(requests, max_pixels=max_pixels)
            for page, decoded in zip(ocr.pages, rendered, strict=True):
                images.append(apply_transform(decoded, page.transform))
        return images
    # An image is checked again as read_document checks it: a cache hit is no way around the limits.
    opts = options or OcrOptions()
    limit = max_image_pixels if max_image_pixels is not None else opts.max_image_pixels
    with decode.open_image(data, limit, media_type=media_type) as im:
        decode.check_frames(
            im, max(len(ocr.pages), opts.max_pages), max_pixels=limit, max_total_pixels=opts.max_total_pixels
        )
        for page in ocr.pages:
            decoded = decode.decode_frame(im, page.index, page.transform.scale)
            images.append(apply_transform(decoded, page.transform))
    return images


def render_page_closer(
    data: bytes, ocr: OcrResult, index: int, *, options: OcrOptions | None = None, factor: float = CLOSER_FACTOR
) -> tuple[np.ndarray, float] | None:
    """Page ``index`` of ``ocr`` drawn again from the file with up to ``factor`` times the detail of
    its normalised image, upright as that image is, and the factor reached (its pixels per
    normalised pixel); None when the file holds no more detail (the page was read at full size) or
    the page is a text layer. A photo downscaled to ``max_side`` for reading keeps its small print
    here: an area of it can be read as a person holding the paper closer would."""
    opts = options or OcrOptions()
    page = next((p for p in ocr.pages if p.index == index), None)
    if page is None or page.source != "ocr":
        return None
    was = page.transform.scale
    media_type = _check_type(data)
    if media_type == PDF:
        scale = min(was * factor, _CLOSER_PDF_DPI / 72.0)
        if scale < was * _CLOSER_MIN_GAIN:
            return None
        with sandbox.open_document(data, max_pages=max(len(ocr.pages), 1) + 10**6, budget=sandbox.ParseBudget.of(opts),
                                   text_layers=False) as document:
            decoded = next(iter(document.render([(index, scale)], max_pixels=opts.max_image_pixels)))
    else:
        with decode.open_image(data, opts.max_image_pixels, media_type=media_type) as im:
            decode.check_frames(im, max(len(ocr.pages), opts.max_pages), max_pixels=opts.max_image_pixels,
                                max_total_pixels=opts.max_total_pixels)
            decode.select_page(im, index)
            w, h = decode.upright_size(im)
            scale = min(was * factor, decode.fit_scale(w, h, round(opts.max_side * factor)))
            if scale < was * _CLOSER_MIN_GAIN:
                return None
            decoded = decode.decode_frame(im, index, scale)
    t = page.transform
    image = apply_transform(decoded, PageTransform(rotation=t.rotation, skew=t.skew, mirror=t.mirror, scale=scale))
    return image, image.shape[1] / max(page.width, 1)
