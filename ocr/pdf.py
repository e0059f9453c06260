"""PDF pages: the text layer through pdfplumber where it is usable, rasters through pypdfium2.

Everything here that parses the file runs inside the ``ocr.sandbox`` child (a fan-out of form
XObjects makes both libraries grow without bound); the parent only plans scales and maps boxes.

Coordinates: the *decoded page* of a PDF page is the page at 72 dpi (1 px per PDF point), so
``PageTransform.scale`` is dpi / 72. Every page is rendered at ``page_scale``: its dpi (at most
``TEXT_LAYER_DPI`` for text-layer pages, ``pdf_ocr_dpi`` for OCR'd pages) lowered until the long
side fits ``max_side`` and the pixels fit ``max_image_pixels``, so a 14,400-pt page costs what an
A4 page does. Text-layer lines are read in points and scaled by the same factor, with no rotation:
the raster ``render_pages`` redraws for the seal and quality checks.

A text layer is used only if it is readable (``text_quality``) and it *covers* what the page shows
(``text_coverage``): the ink of images and vector drawings that lies outside its text boxes must not
outweigh the ink inside them, or the page is OCR'd (a scan with a one-line footer, a picture of a
table under a typed header).
"""

from __future__ import annotations

import io
import logging
import math
import re
import resource
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ocr.errors import CorruptFile, DocumentTooComplex, EncryptedPdf, ImageTooLarge, OcrError, TooManyPages
from ocr.types import Box, OcrLine

log = logging.getLogger(__name__)

TEXT_LAYER_DPI = 150  # the most a text-layer page is rendered at (for the seal and quality checks)

_CID = re.compile(r"\(cid:\d+\)")
_MIN_GOOD_CHARS = 10  # fewer readable characters than this: treat the page as a scan
_MIN_GOOD_RATIO = 0.8
# A text layer must hold at least this share of the ink it could explain (see ``text_coverage``).
_MIN_TEXT_COVERAGE = 0.5
_COVERAGE_DPI = 100  # the small render the coverage is measured on
_COVERAGE_MAX_SIDE = 1000
_INK_CONTRAST = 60  # ink: this much darker than the lightest pixel around it (grey levels)
_INK_WINDOW = 9  # pixels (~2 mm at the coverage dpi): "around"
# pdfium stops drawing forms nested ~40 deep and pdfminer recurses in Python until RecursionError;
# real documents nest a few levels.
MAX_FORM_NESTING = 32


def page_scale(width_pt: float, height_pt: float, *, dpi: float, max_side: int, max_pixels: int) -> float:
    """The render scale of a page: ``dpi`` / 72, lowered so pypdfium2's bitmap (each side rounded up)
    has a long side of at most ``max_side`` and at most ``max_pixels`` pixels."""
    w, h = max(float(width_pt), 1e-3), max(float(height_pt), 1e-3)

    def fits(s: float) -> bool:
        pw, ph = math.ceil(w * s), math.ceil(h * s)
        return max(pw, ph) <= max_side and pw * ph <= max_pixels

    scale = min(dpi / 72, max_side / max(w, h), math.sqrt(max_pixels / (w * h)))
    if fits(scale):
        return scale
    # Rounding up pushed it over (or a very thin page whose short side is still 1 px): the largest
    # scale that fits, by bisection (fits() only turns false as the scale grows).
    lo, hi = 0.0, scale
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo if lo > 0 else scale


def bitmap_size(width_pt: float, height_pt: float, scale: float) -> tuple[int, int]:
    """(width, height) in pixels of the page rendered at ``scale``, as pypdfium2 sizes its bitmap."""
    return math.ceil(width_pt * scale), math.ceil(height_pt * scale)


def open_pdf(data: bytes, max_pages: int) -> Any:
    """Open with pypdfium2; clear errors for encrypted, malformed and over-long documents."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc).lower()
        if "password" in msg or "security" in msg:
            raise EncryptedPdf(str(exc)) from exc
        raise CorruptFile(f"malformed PDF: {exc}") from exc
    n = len(doc)
    if n == 0:
        doc.close()
        raise CorruptFile("PDF has no pages")
    if n > max_pages:
        doc.close()
        raise TooManyPages(f"{n} pages > {max_pages}", pages=n, max_pages=max_pages)
    return doc


def render_page(doc: Any, index: int, scale: float, *, max_pixels: int | None = None) -> np.ndarray:
    """Page ``index`` at ``scale`` x 72 dpi as BGR uint8 on white."""
    import pypdfium2 as pdfium

    try:
        page = doc[index]
        if max_pixels is not None:
            width_pt, height_pt = page.get_size()
            w, h = bitmap_size(width_pt, height_pt, scale)
            if w * h > max_pixels:
                raise ImageTooLarge(f"page {index + 1} at scale {scale:.3f} is {w}x{h} px > {max_pixels}",
                                    pixels=w * h, max_pixels=max_pixels)
        bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255), may_draw_forms=True)
        arr = bitmap.to_numpy()
        mode = bitmap.mode
    except (pdfium.PdfiumError, ValueError) as exc:  # ValueError: a page of zero size
        raise CorruptFile(f"cannot render PDF page {index + 1}: {exc}") from exc
    if arr.ndim == 2:
        return np.ascontiguousarray(np.repeat(arr[:, :, None], 3, axis=2))
    if mode.startswith("BGR"):
        return np.ascontiguousarray(arr[:, :, :3])
    return np.ascontiguousarray(arr[:, :, 2::-1])  # RGB(A) -> BGR


def load_page(doc: Any, index: int, *, max_image_pixels: int | None = None) -> tuple[float, float]:
    """Parse page ``index`` (pypdfium2 parses all of its content here) and check what it draws: forms
    nested deeper than ``MAX_FORM_NESTING`` (``DocumentTooComplex``), images claiming more than
    ``max_image_pixels`` (``ImageTooLarge``: pdfium would skip them, leaving a blank page). Its size."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    page = doc[index]
    stack: list[tuple[Any, int]] = [(None, 0)]
    while stack:
        form, level = stack.pop()
        n = pdfium_c.FPDFPage_CountObjects(page) if form is None else pdfium_c.FPDFFormObj_CountObjects(form)
        for i in range(max(n, 0)):
            obj = pdfium_c.FPDFPage_GetObject(page, i) if form is None else pdfium_c.FPDFFormObj_GetObject(form, i)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                if level + 1 > MAX_FORM_NESTING:
                    raise DocumentTooComplex(f"page {index + 1}: form XObjects nested over {MAX_FORM_NESTING} deep")
                stack.append((obj, level + 1))
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE and max_image_pixels is not None:
                w, h = ctypes.c_uint(), ctypes.c_uint()
                if pdfium_c.FPDFImageObj_GetImagePixelSize(obj, w, h):
                    _check_image_claim(index, w.value, h.value, max_image_pixels)
    width, height = page.get_size()
    return float(width), float(height)


def _check_image_claim(index: int, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLarge(f"page {index + 1} draws an image of {width}x{height} px > {max_pixels}",
                            pixels=width * height, max_pixels=max_pixels)


@dataclass
class TextLayerPage:
    """A page's text layer: ``lines`` in PDF points (origin the crop box's top left, y down)."""

    lines: list[OcrLine]
    usable: bool
    reason: str
    coverage: float | None = None  # share of the page's ink inside text boxes; None if not measured


@dataclass
class PdfPageInfo:
    """What the sandbox tells about one page before it is rendered."""

    index: int
    width_pt: float
    height_pt: float
    layer: TextLayerPage | None = None


def scale_lines(lines: list[OcrLine], scale: float) -> list[OcrLine]:
    """Text-layer lines (points) in the pixels of the page rendered at ``scale``."""
    return [
        line.model_copy(update={"box": Box(x0=line.box.x0 * scale, y0=line.box.y0 * scale,
                                           x1=line.box.x1 * scale, y1=line.box.y1 * scale)})
        for line in lines
    ]


def _is_good_char(ch: str) -> bool:
    if ch.isspace():
        return False
    if ch == "\ufffd":
        return False
    cat = unicodedata.category(ch)
    if cat in ("Co", "Cn", "Cc", "Cs"):  # private use (unmapped glyphs), unassigned, control
        return False
    return cat[0] in ("L", "N", "P", "S")


def text_quality(text: str) -> tuple[int, float]:
    """(readable characters, their share) of a text layer; (cid:NN) glyph refs count as junk."""
    cleaned, n_cid = _CID.subn("", text)
    chars = [c for c in cleaned if not c.isspace()]
    good = sum(1 for c in chars if _is_good_char(c))
    total = len(chars) + n_cid
    return good, (good / total if total else 0.0)


def ink_mask(page_bgr: np.ndarray) -> np.ndarray:
    """Strokes: pixels much darker than the lightest pixel near them. Text on white or on grey paper
    is ink; the inside of a dark picture or a filled box is not, only its edges are."""
    gray = page_bgr.astype(np.float32) @ np.array([0.114, 0.587, 0.299], dtype=np.float32)
    light = _max_filter(gray, _INK_WINDOW)
    return np.asarray((light - gray) > _INK_CONTRAST)


def _max_filter(a: np.ndarray, size: int) -> np.ndarray:
    """Maximum over a ``size`` x ``size`` window (edges padded), one axis at a time (NumPy only: no
    OpenCV in the sandbox)."""
    from numpy.lib.stride_tricks import sliding_window_view

    r = size // 2
    out = a
    for axis in (0, 1):
        padded = np.pad(out, [(r, r) if ax == axis else (0, 0) for ax in range(out.ndim)], mode="edge")
        out = sliding_window_view(padded, size, axis=axis).max(axis=-1)
    return out


def text_coverage(
    page_bgr: np.ndarray,
    text_boxes: list[tuple[float, float, float, float]],
    content_boxes: list[tuple[float, float, float, float]],
) -> float | None:
    """The share of the ink a text layer could be hiding that lies inside its text boxes.

    ``page_bgr`` is the rendered page; boxes are (x0, y0, x1, y1) in its pixels. Ink is counted
    inside the text boxes and inside ``content_boxes`` (images and curves: where text can be drawn
    without being in the layer) outside the text boxes; table rules and shading are not content.
    A scan under a searchable layer scores near 1, a scan with a one-line footer near 0. None when
    there is no ink at all (a blank image: nothing to miss).
    """
    h, w = page_bgr.shape[:2]
    ink = ink_mask(page_bgr)

    def mask(boxes: list[tuple[float, float, float, float]], pad: int) -> np.ndarray:
        m = np.zeros((h, w), dtype=bool)
        for x0, y0, x1, y1 in boxes:
            c0, r0 = max(0, math.floor(x0) - pad), max(0, math.floor(y0) - pad)
            c1, r1 = min(w, math.ceil(x1) + pad), min(h, math.ceil(y1) + pad)
            if c1 > c0 and r1 > r0:
                m[r0:r1, c0:c1] = True
        return m

    in_text = mask(text_boxes, 1)
    covered = int(np.count_nonzero(ink & in_text))
    uncovered = int(np.count_nonzero(ink & mask(content_boxes, 0) & ~in_text))
    total = covered + uncovered
    return covered / total if total else None


def _group_lines(words: list[dict[str, Any]]) -> list[OcrLine]:
    """Words -> lines: same row (vertical overlap) and no wide gap between neighbours."""
    rows: list[list[dict[str, Any]]] = []
    for w in sorted(words, key=lambda w: ((w["top"] + w["bottom"]) / 2, w["x0"])):
        if rows:
            row = rows[-1]
            top = min(x["top"] for x in row)
            bottom = max(x["bottom"] for x in row)
            overlap = min(bottom, w["bottom"]) - max(top, w["top"])
            if overlap > 0.5 * min(bottom - top, w["bottom"] - w["top"]):
                row.append(w)
                continue
        rows.append([w])
    lines: list[OcrLine] = []
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        segment: list[dict[str, Any]] = [row[0]]
        for w in row[1:]:
            height = max(w["bottom"] - w["top"], segment[-1]["bottom"] - segment[-1]["top"])
            # A gap wider than ~2 characters separates fields ("姓名：张三    性别：男") the way
            # the OCR detector would split them.
            if w["x0"] - segment[-1]["x1"] > 2.0 * height:
                lines.append(_line(segment))
                segment = [w]
            else:
                segment.append(w)
        lines.append(_line(segment))
    return lines


def _line(words: list[dict[str, Any]]) -> OcrLine:
    text = ""
    for prev, w in zip([None, *words[:-1]], words, strict=True):
        # Keep a space between Latin words, none between CJK characters.
        if prev is not None and (prev["text"][-1:].isascii() and w["text"][:1].isascii()):
            text += " "
        text += w["text"]
    box = Box(
        x0=min(w["x0"] for w in words),
        y0=min(w["top"] for w in words),
        x1=max(w["x1"] for w in words),
        y1=max(w["bottom"] for w in words),
    )
    return OcrLine(text=text, box=box, score=1.0)


Thumbnail = Callable[[int, float], np.ndarray]  # (page index, scale) -> the page rendered, BGR


def read_text_layers(
    data: bytes, n_pages: int, thumbnail: Thumbnail | None = None, *, max_image_pixels: int | None = None
) -> list[TextLayerPage]:
    """The text layer of every page, each judged usable or not (then the page is OCR'd).

    ``thumbnail`` renders a page small for the coverage check; without it a page with images or
    curves under its text is OCR'd (its coverage cannot be measured). An image (inline ones too,
    which pdfium drops when they claim too much) of more than ``max_image_pixels`` is refused.
    """
    import pdfplumber

    out: list[TextLayerPage] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for index in range(n_pages):
                page = pdf.pages[index]
                try:
                    if max_image_pixels is not None:
                        for image in page.images:
                            w, h = image.get("srcsize") or (0, 0)
                            _check_image_claim(index, int(w), int(h), max_image_pixels)
                    out.append(_read_page(page, index, thumbnail))
                finally:
                    page.close()  # drop the page's parsed objects: one page in memory at a time
    except (MemoryError, OcrError):
        raise
    except RecursionError as exc:
        raise DocumentTooComplex(f"pdfminer: drawings nested too deep ({exc})") from exc
    except Exception as exc:  # pdfminer raises many types on odd files; pdfium already opened it
        if near_address_space_limit():
            raise MemoryError(f"pdfplumber ran out of its address space: {exc!r}") from exc
        log.warning("pdfplumber could not read the text layer, pages will be OCR'd: %s", exc)
        return [TextLayerPage([], False, f"pdfplumber failed: {exc}") for _ in range(n_pages)]
    return out


def _read_page(page: Any, index: int, thumbnail: Thumbnail | None) -> TextLayerPage:
    if (page.rotation or 0) % 360:
        # pdfplumber reports unrotated coordinates; OCR of the rendered page is simpler and right.
        return TextLayerPage([], False, "rotated page")
    words = page.extract_words(keep_blank_chars=False, use_text_flow=False)
    text = "".join(w["text"] for w in words)
    good, ratio = text_quality(text)
    if good < _MIN_GOOD_CHARS or ratio < _MIN_GOOD_RATIO:
        return TextLayerPage([], False, f"text layer unusable ({good} readable chars, {ratio:.0%})")
    # pdfplumber's origin is the page's top left (y down), like ours; offset by the crop box.
    x_off, y_off = float(page.bbox[0]), float(page.bbox[1])
    for w in words:
        w["x0"] -= x_off
        w["x1"] -= x_off
        w["top"] -= y_off
        w["bottom"] -= y_off
    coverage: float | None = None
    content = [
        (float(o["x0"]) - x_off, float(o["top"]) - y_off, float(o["x1"]) - x_off, float(o["bottom"]) - y_off)
        for o in (*page.images, *page.curves)
    ]
    if content:
        # Images or drawings under the text: the layer must explain most of their ink (a scan with a
        # typed footer must still be OCR'd, a typed page with a logo or a seal image need not be).
        if thumbnail is None:
            return TextLayerPage([], False, "text over images, coverage not measured")
        width, height = float(page.width), float(page.height)
        s = min(_COVERAGE_DPI / 72, _COVERAGE_MAX_SIDE / max(width, height, 1.0))
        small = thumbnail(index, s)
        boxes = [(w["x0"] * s, w["top"] * s, w["x1"] * s, w["bottom"] * s) for w in words]
        drawn = [(x0 * s, y0 * s, x1 * s, y1 * s) for x0, y0, x1, y1 in content]
        coverage = text_coverage(small, boxes, drawn)
        if coverage is not None and coverage < _MIN_TEXT_COVERAGE:
            return TextLayerPage([], False, f"text layer covers {coverage:.0%} of the page's ink", coverage)
    return TextLayerPage(_group_lines(words), True, "text layer", coverage)


# --- memory -----------------------------------------------------------------------------------------


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def address_space_bytes(peak: bool = False) -> int | None:
    """This process's virtual size (or its peak), from /proc; None where there is no /proc."""
    kb = _status_kb("VmPeak" if peak else "VmSize")
    return None if kb is None else kb * 1024


def resident_bytes() -> int | None:
    """This process's resident size, from /proc; None where there is no /proc."""
    kb = _status_kb("VmRSS")
    return None if kb is None else kb * 1024


def near_address_space_limit(margin: float = 0.05) -> bool:
    """Whether this process has an address-space limit and its peak came within ``margin`` of it:
    the C parts of pdfminer turn a failed allocation into odd errors (``SystemError``), not
    ``MemoryError``."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    peak = address_space_bytes(peak=True)
    if soft == resource.RLIM_INFINITY or peak is None:
        return False
    return peak >= soft * (1 - margin)
