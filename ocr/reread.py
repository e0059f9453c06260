"""A second, closer look at part of a page.

A red seal ring crossing a line of print (on a certificate, usually the issue date beside the
signature) makes the page-level detector drop the line, though the same engine reads it on a crop
around the seal. ``reread_under_seal`` OCRs that crop, with the seal's red ink faded to paper, and
returns the lines the page's own reading missed, in page coordinates.

Small print on a scan or a photo taken from afar (a lab report's 报告日期 in 8-point type) can be
too small for the page-level reading; ``read_area`` reads one area again, enlarged so its text is
about ``TARGET_TEXT_PX`` high and with red ink faded, as a person would hold it closer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ocr.types import Box, OcrLine

if TYPE_CHECKING:
    from ocr.engine import OcrEngine

# The crop reaches this far beyond the seal on every side (share of the seal's size): the date and
# the signature printed beside or under it.
MARGIN = 0.6
# Red ink: this much more red than green and blue; faded to the paper's white before reading.
_RED_EXCESS = 40


def _bounds(image: np.ndarray, box: Box) -> tuple[int, int, int, int]:
    """``box`` as pixel bounds x0, y0, x1, y1 clamped to ``image``."""
    h, w = image.shape[:2]
    return (max(int(box.x0), 0), max(int(box.y0), 0), min(int(box.x1 + 0.5), w), min(int(box.y1 + 0.5), h))


def _around(box: Box, across: float, down: float) -> Box:
    """``box`` grown on every side by ``across`` of its width and ``down`` of its height."""
    mx, my = across * box.width, down * box.height
    return Box(x0=box.x0 - mx, y0=box.y0 - my, x1=box.x1 + mx, y1=box.y1 + my)


def _mostly_in(line: OcrLine, box: Box) -> bool:
    """Whether at least half of ``line`` lies in ``box``."""
    return line.box.overlap(box) >= 0.5 * max(line.box.width * line.box.height, 1.0)


def _overlapping(box: Box, lines: Sequence[OcrLine]) -> list[OcrLine]:
    """The lines already read that mostly share ``box``'s place (the same text read twice)."""
    area = max(box.width * box.height, 1.0)
    return [line for line in lines
            if box.overlap(line.box) >= 0.4 * min(area, max(line.box.width * line.box.height, 1.0))]


def fade_red(image: np.ndarray) -> np.ndarray:
    """A copy of a BGR image with red and pink ink (a seal) turned white."""
    bgr = image.astype(np.int16)
    b, g, r = bgr[..., 0], bgr[..., 1], bgr[..., 2]
    red = (r - g > _RED_EXCESS) & (r - b > _RED_EXCESS // 2)
    out = image.copy()
    out[red] = 255
    return out


def red_channel(image: np.ndarray) -> np.ndarray:
    """A grey copy of a BGR image made of its red channel, where a red seal is nearly as light as the
    paper while black print and blue or black pen stay dark (how a stamp is lifted off a scan): the
    print a seal was stamped over, blurred together with it, shows through where ``fade_red`` leaves
    reddish smudges over it."""
    red = np.ascontiguousarray(image[..., 2])
    return cv2.merge([red, red, red])


# Text height the recogniser reads best at; smaller text in an area read again is enlarged to it.
TARGET_TEXT_PX = 40.0
_MAX_ENLARGE = 3.0


def read_area(engine: OcrEngine, image: np.ndarray, area: Box, *, text_height: float | None = None,
              scale: float | None = None, lift: Callable[[np.ndarray], np.ndarray] = fade_red) -> list[OcrLine]:
    """The lines of ``area`` of ``image`` (the normalised page) read on their own, red ink lifted by
    ``lift`` (``fade_red`` or ``red_channel``) and enlarged ``scale`` times or, without it, when
    ``text_height`` (the page's text height there) is below ``TARGET_TEXT_PX``; in page coordinates."""
    x0, y0, x1, y1 = _bounds(image, area)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return []
    crop = lift(np.ascontiguousarray(image[y0:y1, x0:x1]))
    k = scale or 1.0
    if scale is None and text_height:
        k = min(max(TARGET_TEXT_PX / text_height, 1.0), _MAX_ENLARGE)
    if k > 1.05:
        crop = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    return [
        OcrLine(text=line.text, score=line.score, box=Box(x0=b.x0 / k + x0, y0=b.y0 / k + y0,
                                                          x1=b.x1 / k + x0, y1=b.y1 / k + y0))
        for line in engine.recognise(crop)
        if (b := line.box)
    ]


def reread_under_seal(
    engine: OcrEngine,
    image: np.ndarray,
    seal: Box,
    lines: Sequence[OcrLine],
    *,
    better: Callable[[OcrLine, Sequence[OcrLine]], bool] | None = None,
) -> list[OcrLine]:
    """Lines around ``seal`` on ``image`` (the normalised page) that ``lines`` (the page's own
    reading) lack: the crop with the red faded, OCR'd on its own, mapped back to the page. A line
    read where ``lines`` already has some is taken too when ``better(line, those)`` says it reads
    them better (the whole date where the seal left "六年二月二十日"); ``replace_lines`` puts
    them in."""
    out = []
    for line in read_area(engine, image, _around(seal, MARGIN, MARGIN)):
        there = _overlapping(line.box, lines)
        if not there or (better is not None and better(line, there)):
            out.append(line)
    return out


# Around a seal, where a certificate's issue date is: this far beyond it (share of its size) across
# and down and up.
_DATE_MARGIN_X, _DATE_MARGIN_Y = 0.8, 0.6
# The red channel is read as it is, then twice as large: a ring crossing a small "1" reads as a "6"
# (2025/60/26) until the digit is seen larger. The larger reading (a tenth of a page's OCR time) is
# only for a page that holds no date at all: one dated elsewhere is dated, or bounded, by that.
_SEAL_DATE_SCALES = (1.0, 2.0)


def read_seal_dates(engine: OcrEngine, image: np.ndarray, seal: Box, lines: Sequence[OcrLine],
                    has_date: Callable[[str], bool]) -> list[OcrLine]:
    """Where no line around ``seal`` holds a date (``has_date``), the area read again in its red
    channel (``red_channel``), as it is and, if that holds no date on a page with no date at all,
    enlarged: the lines that hold one, in page coordinates. A date a seal was stamped over and a
    poor photo blurred into it ("2025-09-28" under the seal's ring, read as "-28" or not at all) is
    often read whole so."""
    area = _around(seal, _DATE_MARGIN_X, _DATE_MARGIN_Y)
    if any(has_date(line.text) for line in lines if _mostly_in(line, area)):
        return []
    undated = not any(has_date(line.text) for line in lines)
    for scale in _SEAL_DATE_SCALES:
        if scale > 1.0 and not undated:
            break
        found = [line for line in read_area(engine, image, area, scale=scale, lift=red_channel) if has_date(line.text)]
        if found:
            return found
    return []


def replace_lines(lines: Sequence[OcrLine], better: Sequence[OcrLine]) -> list[OcrLine]:
    """``lines`` with ``better`` readings of the same place in, and every line mostly under one of
    them out (the poor first reading of what was read again); in reading order."""
    from ocr.engine import sort_reading_order

    return sort_reading_order([*(line for line in lines if not any(_mostly_in(line, n.box) for n in better)),
                               *better])


# The margin around a line's box when it is cropped again (share of its height), about what the
# detector's own crops leave around the ink.
_LINE_MARGIN = 0.15


def line_fit(engine: OcrEngine, image: np.ndarray, box: Box, texts: Sequence[str]) -> list[float | None]:
    """How well the line at ``box`` of ``image`` (the normalised page) fits each of ``texts``: the
    recogniser's log-likelihood of each (``OcrEngine.text_log_likelihoods``)."""
    pad = _LINE_MARGIN * box.height
    x0, y0, x1, y1 = _bounds(image, Box(x0=box.x0 - pad, y0=box.y0 - pad, x1=box.x1 + pad, y1=box.y1 + pad))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return [None] * len(texts)
    return engine.text_log_likelihoods(np.ascontiguousarray(image[y0:y1, x0:x1]), texts)
