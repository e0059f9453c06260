"""A second look at the text under a seal.

A red seal ring crossing a line of print (on a certificate, usually the issue date beside the
signature) makes the page-level detector drop the line, though the same engine reads it on a crop
around the seal. ``reread_under_seal`` OCRs that crop, with the seal's red ink faded to paper, and
returns the lines the page's own reading missed, in page coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ocr.types import Box, OcrLine

if TYPE_CHECKING:
    from ocr.engine import OcrEngine

# The crop reaches this far beyond the seal on every side (share of the seal's size): the date and
# the signature printed beside or under it.
MARGIN = 0.6
# Red ink: this much more red than green and blue; faded to the paper's white before reading.
_RED_EXCESS = 40


def _overlaps(box: Box, lines: Sequence[OcrLine]) -> bool:
    """Whether ``box`` is mostly covered by a line already read (the same text read twice)."""
    area = max(box.width * box.height, 1.0)
    for line in lines:
        b = line.box
        w = min(box.x1, b.x1) - max(box.x0, b.x0)
        h = min(box.y1, b.y1) - max(box.y0, b.y0)
        if w > 0 and h > 0 and w * h >= 0.4 * min(area, max(b.width * b.height, 1.0)):
            return True
    return False


def fade_red(image: np.ndarray) -> np.ndarray:
    """A copy of a BGR image with red and pink ink (a seal) turned white."""
    bgr = image.astype(np.int16)
    b, g, r = bgr[..., 0], bgr[..., 1], bgr[..., 2]
    red = (r - g > _RED_EXCESS) & (r - b > _RED_EXCESS // 2)
    out = image.copy()
    out[red] = 255
    return out


def reread_under_seal(engine: OcrEngine, image: np.ndarray, seal: Box, lines: Sequence[OcrLine]) -> list[OcrLine]:
    """Lines around ``seal`` on ``image`` (the normalised page) that ``lines`` (the page's own
    reading) lack: the crop with the red faded, OCR'd on its own, mapped back to the page."""
    h, w = image.shape[:2]
    mx, my = MARGIN * seal.width, MARGIN * seal.height
    x0, y0 = max(int(seal.x0 - mx), 0), max(int(seal.y0 - my), 0)
    x1, y1 = min(int(seal.x1 + mx), w), min(int(seal.y1 + my), h)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return []
    found = engine.recognise(fade_red(np.ascontiguousarray(image[y0:y1, x0:x1])))
    missed = []
    for line in found:
        box = Box(x0=line.box.x0 + x0, y0=line.box.y0 + y0, x1=line.box.x1 + x0, y1=line.box.y1 + y0)
        if not _overlaps(box, lines):
            missed.append(OcrLine(text=line.text, box=box, score=line.score))
    return missed
