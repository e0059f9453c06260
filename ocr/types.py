"""The one result type of the ``ocr`` package, shared by the text-layer and the OCR paths.

Coordinates are pixels of the *normalised* page (upright, deskewed, resized), origin top left.
For text-layer PDF pages the page is the PDF page drawn at most at ``TEXT_LAYER_DPI``, within the
pixel caps (``ocr.pdf.page_scale``), so both paths share one coordinate system and ``render_pages``
can draw the same page for pixel checks (seal, quality).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PageSource = Literal["text_layer", "ocr"]


class Box(BaseModel):
    """Axis-aligned box in page pixels."""

    model_config = ConfigDict(frozen=True)

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def overlap(self, other: Box) -> float:
        """The area the two boxes share (0 when they do not meet)."""
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def scaled(self, k: float) -> Box:
        """The same place on the page drawn ``k`` times as large."""
        return Box(x0=self.x0 * k, y0=self.y0 * k, x1=self.x1 * k, y1=self.y1 * k)


class OcrLine(BaseModel):
    """One line of text as the engine (or the PDF text layer) returned it."""

    model_config = ConfigDict(frozen=True)

    text: str
    box: Box
    score: float = Field(ge=0.0, le=1.0)


class PageTransform(BaseModel):
    """What was done to the decoded page image to get the normalised page, so it can be redone
    without deciding again (for a cached OCR result)."""

    model_config = ConfigDict(frozen=True)

    rotation: int = 0  # degrees clockwise applied: 0, 90, 180 or 270
    skew: float = 0.0  # degrees of deskew applied after the rotation
    scale: float = 1.0  # normalised pixels per decoded pixel
    mirror: bool = False  # flipped left-right before the rotation (a mirrored selfie-camera photo)


class OcrPage(BaseModel):
    index: int  # 0-based page number within the document
    width: int
    height: int
    source: PageSource
    lines: list[OcrLine]
    transform: PageTransform = PageTransform()

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class OcrResult(BaseModel):
    """Everything read from one uploaded file."""

    media_type: str  # sniffed from the bytes, e.g. "image/jpeg", "application/pdf"
    pages: list[OcrPage]
    fingerprint: str  # engine, model names and key parameters; part of the cache key
    seconds: float = 0.0  # wall time spent reading (decode + normalise + OCR)

    @property
    def text(self) -> str:
        return "\n".join(page.text for page in self.pages)

    @property
    def lines(self) -> list[tuple[int, OcrLine]]:
        """All lines with their page index, in reading order."""
        return [(page.index, line) for page in self.pages for line in page.lines]
