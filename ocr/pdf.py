"""PDF pages: the text layer through pdfplumber where it is usable, rasters through pypdfium2.

Coordinates: the *decoded page* of a PDF page is the page at 72 dpi (1 px per PDF point), so
``PageTransform.scale`` is dpi / 72. Text-layer pages are laid out at ``TEXT_LAYER_DPI`` with no
rotation, the same raster ``render_pages`` draws for the seal and quality checks.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from ocr.errors import CorruptFile, EncryptedPdf, TooManyPages
from ocr.types import Box, OcrLine

log = logging.getLogger(__name__)

TEXT_LAYER_DPI = 150
TEXT_LAYER_SCALE = TEXT_LAYER_DPI / 72

_CID = re.compile(r"\(cid:\d+\)")
_MIN_GOOD_CHARS = 10  # fewer readable characters than this: treat the page as a scan
_MIN_GOOD_RATIO = 0.8


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


def render_page(doc: Any, index: int, scale: float) -> np.ndarray:
    """Page ``index`` at ``scale`` x 72 dpi as BGR uint8 on white."""
    import pypdfium2 as pdfium

    try:
        page = doc[index]
        bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255), may_draw_forms=True)
        arr = bitmap.to_numpy()
        mode = bitmap.mode
    except pdfium.PdfiumError as exc:
        raise CorruptFile(f"cannot render PDF page {index + 1}: {exc}") from exc
    if arr.ndim == 2:
        import cv2

        return cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    if mode.startswith("BGR"):
        return np.ascontiguousarray(arr[:, :, :3])
    return np.ascontiguousarray(arr[:, :, 2::-1])  # RGB(A) -> BGR


def page_size_points(doc: Any, index: int) -> tuple[float, float]:
    w, h = doc[index].get_size()
    return float(w), float(h)


@dataclass
class TextLayerPage:
    lines: list[OcrLine]
    usable: bool
    reason: str


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
    s = TEXT_LAYER_SCALE
    box = Box(
        x0=min(w["x0"] for w in words) * s,
        y0=min(w["top"] for w in words) * s,
        x1=max(w["x1"] for w in words) * s,
        y1=max(w["bottom"] for w in words) * s,
    )
    return OcrLine(text=text, box=box, score=1.0)


def read_text_layers(data: bytes, n_pages: int) -> list[TextLayerPage]:
    """The text layer of every page, each judged usable or not (then the page is OCR'd)."""
    import pdfplumber

    out: list[TextLayerPage] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for index in range(n_pages):
                out.append(_read_page(pdf.pages[index]))
    except Exception as exc:  # pdfminer raises many types on odd files; pdfium already opened it
        log.warning("pdfplumber could not read the text layer, pages will be OCR'd: %s", exc)
        return [TextLayerPage([], False, f"pdfplumber failed: {exc}") for _ in range(n_pages)]
    return out


def _read_page(page: Any) -> TextLayerPage:
    if (page.rotation or 0) % 360:
        # pdfplumber reports unrotated coordinates; OCR of the rendered page is simpler and right.
        return TextLayerPage([], False, "rotated page")
    words = page.extract_words(keep_blank_chars=False, use_text_flow=False)
    text = "".join(w["text"] for w in words)
    good, ratio = text_quality(text)
    if good < _MIN_GOOD_CHARS or ratio < _MIN_GOOD_RATIO:
        return TextLayerPage([], False, f"text layer unusable ({good} readable chars, {ratio:.0%})")
    # A scan with a few words of text on top (a header, a stamp) still needs OCR for the rest.
    page_area = float(page.width * page.height) or 1.0
    image_area = sum(float(im["width"] * im["height"]) for im in page.images)
    if image_area / page_area > 0.5 and good < 40:
        return TextLayerPage([], False, "mostly an image with a thin text layer")
    # pdfplumber's origin is the page's top left (y down), like ours; offset by the crop box.
    x_off, y_off = float(page.bbox[0]), float(page.bbox[1])
    for w in words:
        w["x0"] -= x_off
        w["x1"] -= x_off
        w["top"] -= y_off
        w["bottom"] -= y_off
    return TextLayerPage(_group_lines(words), True, "text layer")
