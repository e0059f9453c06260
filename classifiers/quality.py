"""Can a person (and the OCR) read this upload, or must the applicant photograph it again?

"Unreadable" is a judgement about the text, so both kinds of evidence count:

- pixels, measured where the OCR found text lines: sharpness, character height, brightness and
  contrast, saturated glare blobs over the content, lines cut by the image border;
- the OCR itself: how many lines it found and how confident it was.

A phone photo of a page with some blur, shadow and skew is normal and must pass: a pixel measure
fails a document on its own only when it is far outside what readable photos show; a moderate
one fails it only together with poor OCR evidence. Milder findings stay in ``problems`` (with a hint
in ``reason``) while the outcome is ``pass``. Pages from a PDF text layer are readable by
construction and skip the pixel measures.

Thresholds were set on the phone photos in /work/shared/realworld (all pass) against heavily
blurred, downscaled, darkened and glare-covered versions of them (all fail); see the tests.

A blank or near-blank page (an extra sheet, the back of a form, a page with only a page number or
punch holes) is not an unreadable photo: ``blank_page`` tells it apart by its ink (almost no marks
darker than the paper around them, away from the page's edges and the desk) together with the OCR
(nothing, or a few characters, read), on a page bright enough to see (a photo taken in the dark
shows no marks either: it is ``too_dark``). It passes, with ``blank`` in ``problems``; the document type
is ``other`` (see ``classifiers.doctype``). A blurred photo of a real page has plenty of ink and
still fails.

The pixels are asked through ``PagePixels``, which keeps what each measure found (the ink of a page,
its quality measures, a signature area's reading) as JSON beside the OCR result in the cache: a
document re-classified from the cache is judged from those findings without drawing its pages again.
Thresholds apply to the findings afterwards, so changing one needs no re-measuring; changing a
measure means bumping ``PIXEL_FINDINGS_VERSION``.

Every outcome carries a ``confidence``. A FAIL is confident only when a pixel measure is far past
its threshold and the OCR, too, read little or read it poorly; a measure just past its threshold,
or a page the OCR read well despite it, gives a lower confidence (a reviewer flag, not a request to
the applicant). A PASS is less sure with each warning and with a mediocre OCR score.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar, overload

import cv2
import numpy as np

from classifiers.types import Outcome, QualityCheck
from ocr.types import OcrPage, OcrResult

__all__ = [
    "PIXEL_FINDINGS_VERSION", "REASONS", "BlankPage", "PageInk", "PageMeasures", "PagePixels", "assess_quality",
    "blank_page", "measure_ink", "measure_page",
]

# Bump when a pixel measure changes what it finds (``measure_ink``, ``measure_page``, the signature
# areas' ``classifiers.signature.read_area``) or the page images they look at change: findings of
# another version, cached beside an OCR result, are measured again. Bump intake.versions'
# CLASSIFIER_VERSION with it, so that a re-scan knows the documents need classifying again.
PIXEL_FINDINGS_VERSION = 2  # 2: signature areas judged against the page's own print contrast

# Sharpness is measured after scaling the page so its median text line is this tall: blur is
# judged relative to the characters, which makes it independent of the photo's resolution.
_TEXT_HEIGHT_NORM = 32.0
_BLUR_FAIL = 0.07  # about 1 / edge width at 32 px text: sharp photos measure 0.24-0.44, sigma=0.2*text height 0.03-0.06
_BLUR_WARN = 0.11
_TEXT_HEIGHT_FAIL = 9.0  # px of a text line in the uploaded image: strokes of 汉字 merge below ~9 px
_TEXT_HEIGHT_WARN = 13.0
_SHORT_SIDE_WARN = 600
_DARK_FAIL = 45.0  # mean grey level of the content area (0..255)
_DARK_WARN = 80.0
_CONTRAST_FAIL = 12.0  # grey levels between ink and paper (p98 - p2 over text lines)
_GLARE_FAIL = 0.15  # share of the content area under glare; a 10% white photo background (ID card portrait) is normal
_GLARE_WARN = 0.12
_GLARE_MIN_BLOB = 0.005  # of the image area; smaller saturated spots are reflections of no account
_GLARE_INSIDE_MIN = 0.7  # share of a reflection that lies within the text's extent
_GLARE_TEXT_KEPT = 0.5  # text read under a bright spot, relative to elsewhere, that shows it hides nothing
_GLARE_PAPER_MAX = 235.0  # a reflection is brighter than the paper around it; white paper is not
_BORDER_MARGIN = 0.004  # of the image side: a line box this close to an edge is cut by it
_MIN_LINES = 3
_MIN_CHARS = 8
_LOW_SCORE = 0.6
_OCR_POOR_MEAN = 0.75
_OCR_POOR_LOW_FRACTION = 0.4
_OCR_FAIL_MEAN = 0.55
_WELL_READ = 0.8  # a line read at this score or better is legible text

REASONS: dict[str, str] = {
    "no_text": "未能识别到文字，请确认上传的是所需材料，并将材料平铺、完整拍摄",
    "blur": "图片模糊，请在光线充足处对焦后重新拍摄，确保文字清晰可辨",
    "too_small": "图片分辨率过低或文字过小，请靠近材料拍摄或上传原图，确保文字清晰可辨",
    "too_dark": "图片过暗，请在光线充足处重新拍摄",
    "glare": "图片有反光遮挡文字，请避开灯光直射、关闭闪光灯后重新拍摄",
    "cropped": "材料边缘未拍全，请将整页材料完整拍入画面",
    "low_confidence": "图片文字难以辨认，请重新拍摄清晰、完整的材料",
}


# A page's image, or None for a page without one: a ``PagePixels[np.ndarray]`` has an image for every
# page (as a caller that reads every page's pixels, such as ``find_seal``, needs).
_Page = TypeVar("_Page", bound=np.ndarray | None)


class PagePixels(Sequence[_Page], Generic[_Page]):
    """A document's page images (BGR, in page order) with what their pixels were found to show.

    Why: judging a document again from the OCR cache needs its pixels only for a few measures, and
    drawing the pages again from the file costs more than all the rest. Each measure is asked for by
    ``finding(key, measure)``; its JSON value is kept in ``findings`` (the keys measured here, not
    given, in ``added``), which the caller may store and give back next time. The images are drawn
    by ``render`` on first use only: a document whose findings are all given is never drawn. Every
    value is returned as it reads back from JSON, so a fresh measure and a cached one are the same
    value. The classifiers take a plain list of images too (``of`` wraps it)."""

    def __init__(
        self,
        images: Sequence[_Page] | None = None,
        *,
        render: Callable[[], Sequence[_Page]] | None = None,
        findings: dict[str, Any] | None = None,
    ) -> None:
        if images is None and render is None:
            raise ValueError("PagePixels needs the images or a way to render them")
        self._images = list(images) if images is not None else None
        self._render = render
        self.findings: dict[str, Any] = dict(findings or {})
        self.added: set[str] = set()

    @classmethod
    def of(cls, images: Sequence[_Page]) -> PagePixels[_Page]:
        return images if isinstance(images, PagePixels) else cls(images)

    @property
    def rendered(self) -> bool:
        """Whether the page images were drawn (or given)."""
        return self._images is not None

    @property
    def images(self) -> list[_Page]:
        if self._images is None:
            assert self._render is not None
            self._images = list(self._render())
        return self._images

    def __len__(self) -> int:
        return len(self._present())

    @overload
    def __getitem__(self, index: int) -> _Page: ...
    @overload
    def __getitem__(self, index: slice) -> list[_Page]: ...
    def __getitem__(self, index: int | slice) -> _Page | list[_Page]:
        return self.images[index]

    def present(self, index: int) -> bool:
        """Whether page ``index`` has an image with pixels (without drawing it, once known)."""
        return bool(self._present()[index])

    def _present(self) -> list[bool]:
        return self.finding("pages", lambda: [img is not None and img.size > 0 for img in self.images])

    def finding(self, key: str, measure: Callable[[], Any]) -> Any:
        """What ``measure()`` (JSON data: plain ints, floats, strings, lists, dicts) found, under
        ``key``: taken from ``findings`` when there, else measured now and kept."""
        if key not in self.findings:
            self.findings[key] = json.loads(json.dumps(measure(), allow_nan=False))
            self.added.add(key)
        return self.findings[key]

    def ink(self, index: int) -> PageInk:
        """``measure_ink`` of page ``index``."""
        return PageInk(**self.finding(f"ink:{index}", lambda: asdict(measure_ink(self._image(index)))))

    def measures(self, index: int, page: OcrPage) -> PageMeasures:
        """``measure_page`` of page ``index`` (``page`` its OCR result)."""
        return PageMeasures(**self.finding(f"quality:{index}",
                                           lambda: asdict(measure_page(page, self._image(index)))))

    def _image(self, index: int) -> np.ndarray:
        image = self.images[index]
        assert image is not None
        return image


@dataclass
class _PageFindings:
    metrics: dict[str, float] = field(default_factory=dict)
    fail: set[str] = field(default_factory=set)
    warn: set[str] = field(default_factory=set)


def _boxes_in_image(page: OcrPage, image: np.ndarray) -> np.ndarray:
    """Line boxes as int pixel rows (x0, y0, x1, y1) of ``image``, which may be scaled vs the page."""
    h, w = image.shape[:2]
    sx = w / page.width if page.width else 1.0
    sy = h / page.height if page.height else 1.0
    rows = [
        (line.box.x0 * sx, line.box.y0 * sy, line.box.x1 * sx, line.box.y1 * sy)
        for line in page.lines
        if line.text.strip() and line.box.width > 0 and line.box.height > 0
    ]
    if not rows:
        return np.zeros((0, 4), dtype=int)
    arr = np.array(rows)
    arr[:, [0, 2]] = arr[:, [0, 2]].clip(0, w)
    arr[:, [1, 3]] = arr[:, [1, 3]].clip(0, h)
    return arr.round().astype(int)


def _text_mask(shape: tuple[int, int], boxes: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


def _line_heights(boxes: np.ndarray) -> np.ndarray:
    """Height of each text line: the shorter side of its box, so vertical text (a page the
    normaliser left on its side) is not read as huge characters. Single glyphs (near-square boxes)
    keep their height."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return np.where(h > 1.5 * w, w, h).astype(float)


def _sharpness(gray: np.ndarray, boxes: np.ndarray, text_height: float) -> float:
    """Steepest edges over the text lines relative to their ink-to-paper contrast, at normalised scale.

    A sharp stroke edge goes from paper to ink within a pixel or two; Gaussian blur of width sigma
    spreads it over about 2.5 sigma, so (strong gradient / contrast) estimates one over the edge
    width. Dividing by the contrast makes a faint or dark page not look blurry; scaling the page to
    a fixed text height makes a high-resolution photo not look sharp merely for having more pixels.
    """
    factor = float(np.clip(_TEXT_HEIGHT_NORM / max(text_height, 1.0), 0.05, 4.0))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interp)
    h, w = scaled.shape[:2]
    boxes = (boxes * factor).round().astype(int)
    # Only the text lines count: work on their extent plus the one pixel the 3x3 kernel reaches
    # beyond it, which gives the same gradients there as over the whole page.
    x0, y0 = max(int(boxes[:, 0].min()) - 1, 0), max(int(boxes[:, 1].min()) - 1, 0)
    x1, y1 = min(int(boxes[:, 2].max()) + 1, w), min(int(boxes[:, 3].max()) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return float("nan")
    crop = scaled[y0:y1, x0:x1]
    mask = _text_mask(crop.shape[:2], boxes - np.array([x0, y0, x0, y0]))
    if mask.sum() < 100:
        return float("nan")
    # On the 8-bit image, 16-bit Sobel sums are exact; the kernel's weight of 8 is divided out at the end.
    gx = cv2.Sobel(crop, cv2.CV_16S, 1, 0, ksize=3)[mask].astype(np.float32)
    gy = cv2.Sobel(crop, cv2.CV_16S, 0, 1, ksize=3)[mask].astype(np.float32)
    grad = np.sqrt(gx * gx + gy * gy)
    lo, hi = np.percentile(crop[mask], [2, 98])
    contrast = float(hi - lo)
    if contrast < 1.0:
        return 0.0
    return float(np.percentile(grad, 99) / 8.0 / contrast)


def _glare_fraction(gray: np.ndarray, text_mask: np.ndarray, content: tuple[int, int, int, int]) -> float:
    """Share of the content area under large saturated blobs that lie over text and are brighter
    than the paper around them (a reflection).

    White paper everywhere (a scan) is not glare, nor is a white area beside the text that no
    text line touches (the portrait background of an ID card)."""
    x0, y0, x1, y1 = content
    region = gray[y0:y1, x0:x1]
    if region.size == 0 or (region >= 245).mean() > 0.5:
        return 0.0
    saturated = cv2.morphologyEx((gray >= 245).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    min_area = _GLARE_MIN_BLOB * gray.size
    if cv2.countNonZero(saturated) < min_area:
        return 0.0  # too little saturated area in all for any one blob to count
    count, labels, stats, _ = cv2.connectedComponentsWithStats(saturated, connectivity=8)
    ring_radius = 15
    ring_kernel = np.ones((2 * ring_radius + 1, 2 * ring_radius + 1), np.uint8)
    h, w = gray.shape
    inside = np.zeros(gray.shape, dtype=bool)
    inside[y0:y1, x0:x1] = True
    text_inside = int(np.count_nonzero(text_mask[y0:y1, x0:x1]))
    glare = np.zeros(gray.shape, dtype=bool)
    for i in range(1, count):
        area = int(stats[i, cv2.CC_STAT_AREA])
        if area < min_area:
            continue
        # Everything about one blob is decided within its bounding box, grown by the reach of the
        # ring around it: the same answer as over the whole page, for a fraction of the pixels.
        bx, by = int(stats[i, cv2.CC_STAT_LEFT]), int(stats[i, cv2.CC_STAT_TOP])
        bw, bh = int(stats[i, cv2.CC_STAT_WIDTH]), int(stats[i, cv2.CC_STAT_HEIGHT])
        gx0, gy0 = max(bx - ring_radius, 0), max(by - ring_radius, 0)
        gx1, gy1 = min(bx + bw + ring_radius, w), min(by + bh + ring_radius, h)
        window = np.s_[gy0:gy1, gx0:gx1]
        blob = labels[window] == i
        text, within = text_mask[window], inside[window]
        if not (blob & text).any():
            continue
        # A saturated blob reaching far beyond the text is the bright sheet itself on a darker desk,
        # not a reflection on the sheet: a reflection lies on the page, amid the text.
        blob_inside = blob & within
        n_blob_inside = int(np.count_nonzero(blob_inside))
        if n_blob_inside < _GLARE_INSIDE_MIN * area:
            continue
        # Compare with the paper around the spot, not with the desk beyond the page's edge.
        ring = cv2.dilate(blob.astype(np.uint8), ring_kernel).astype(bool) & ~blob & within
        if not (ring.any() and float(np.median(gray[window][ring])) < _GLARE_PAPER_MAX):
            continue
        # A reflection hides the text under it: the OCR found much less text there than on the rest
        # of the page. A brightly lit part of the page whose text was read is not glare.
        text_under = int(np.count_nonzero(text & blob_inside))
        n_rest = region.size - n_blob_inside
        density_under = text_under / n_blob_inside
        density_rest = (text_inside - text_under) / n_rest if n_rest else 0.0
        if density_rest > 0 and density_under >= _GLARE_TEXT_KEPT * density_rest:
            continue
        glare[window] |= blob
    return float(glare[y0:y1, x0:x1].mean())


@dataclass(frozen=True)
class PageMeasures:
    """What the pixels of one page measure where the OCR found text, before any threshold: the
    part of the quality check worth caching (``PagePixels.measures``). The fields after
    ``brightness`` are None on a page without text lines; ``sharpness`` also where it cannot be
    measured."""

    short_side: float
    brightness: float  # mean grey level of the text's extent (of the whole page without text lines)
    text_height: float | None = None
    sharpness: float | None = None
    contrast: float | None = None
    glare_fraction: float | None = None
    sides_cut: int | None = None


def measure_page(page: OcrPage, image: np.ndarray) -> PageMeasures:
    """Measure one page image (BGR or grey) over the text lines of its OCR result ``page``."""
    if image.ndim == 2:
        image = np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    h, w = image.shape[:2]
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    boxes = _boxes_in_image(page, image)
    if len(boxes) == 0:
        return PageMeasures(short_side=float(min(h, w)), brightness=float(gray.mean()))

    text_height = float(np.median(_line_heights(boxes)))
    sharp = _sharpness(gray, boxes, text_height)
    content = (int(boxes[:, 0].min()), int(boxes[:, 1].min()), int(boxes[:, 2].max()), int(boxes[:, 3].max()))
    cx0, cy0, cx1, cy1 = content
    mask = _text_mask(gray.shape, boxes)
    p2, p98 = np.percentile(gray[mask], [2, 98])
    margin_x, margin_y = _BORDER_MARGIN * w + 1, _BORDER_MARGIN * h + 1
    sides = sum(
        (
            bool((boxes[:, 0] <= margin_x).any()),
            bool((boxes[:, 1] <= margin_y).any()),
            bool((boxes[:, 2] >= w - margin_x).any()),
            bool((boxes[:, 3] >= h - margin_y).any()),
        )
    )
    return PageMeasures(
        short_side=float(min(h, w)),
        brightness=float(gray[cy0:cy1, cx0:cx1].mean()),
        text_height=text_height,
        sharpness=None if np.isnan(sharp) else float(sharp),
        contrast=float(p98 - p2),
        glare_fraction=float(_glare_fraction(gray, mask, content)),
        sides_cut=int(sides),
    )


def _judge_page(m: PageMeasures) -> _PageFindings:
    """The thresholds applied to one page's measures."""
    out = _PageFindings()
    out.metrics["short_side"] = m.short_side
    if m.text_height is None:
        out.metrics["mean_brightness"] = m.brightness
        if m.brightness < _DARK_FAIL:
            out.fail.add("too_dark")
        return out

    out.metrics["text_height"] = m.text_height
    if m.text_height < _TEXT_HEIGHT_FAIL:
        out.fail.add("too_small")
    elif m.text_height < _TEXT_HEIGHT_WARN and m.short_side < _SHORT_SIDE_WARN:
        out.warn.add("too_small")

    if m.sharpness is not None:
        out.metrics["sharpness"] = round(m.sharpness, 4)
        if m.sharpness < _BLUR_FAIL:
            out.fail.add("blur")
        elif m.sharpness < _BLUR_WARN:
            out.warn.add("blur")

    assert m.contrast is not None and m.glare_fraction is not None and m.sides_cut is not None
    out.metrics["mean_brightness"] = round(m.brightness, 1)
    out.metrics["contrast"] = round(m.contrast, 1)
    if m.brightness < _DARK_FAIL or m.contrast < _CONTRAST_FAIL:
        out.fail.add("too_dark")
    elif m.brightness < _DARK_WARN:
        out.warn.add("too_dark")

    out.metrics["glare_fraction"] = round(m.glare_fraction, 4)
    if m.glare_fraction >= _GLARE_FAIL:
        out.fail.add("glare")
    elif m.glare_fraction >= _GLARE_WARN:
        out.warn.add("glare")

    out.metrics["sides_cut"] = float(m.sides_cut)
    if m.sides_cut >= 2:
        # A crop of the relevant part is often still usable; the fields check says what is missing.
        out.warn.add("cropped")
    return out


def _ocr_evidence(ocr: OcrResult) -> dict[str, float]:
    lines = [line for _, line in ocr.lines if line.text.strip()]
    chars = sum(len(line.text.strip()) for line in lines)
    if not lines:
        return {"lines": 0.0, "chars": 0.0, "mean_score": 0.0, "low_confidence_fraction": 1.0, "well_read_chars": 0.0}
    weights = np.array([len(line.text.strip()) for line in lines], dtype=float)
    scores = np.array([line.score for line in lines])
    return {
        "lines": float(len(lines)),
        "chars": float(chars),
        "mean_score": round(float((scores * weights).sum() / weights.sum()), 4),
        "low_confidence_fraction": round(float((scores < _LOW_SCORE).mean()), 4),
        "well_read_chars": float(weights[scores >= _WELL_READ].sum()),
    }


# --- blank pages ----------------------------------------------------------------------------

# Ink is measured on the page scaled to this long side: enough for a page number, cheap for a photo.
_INK_LONG_SIDE = 600
# Paper is estimated by a max filter this wide (px at the working scale): wider than a stroke, so
# strokes vanish from it; its box-blur smooths the steps between neighbouring windows.
_PAPER_KERNEL = 15
# A mark is this much darker than the paper around it (grey levels, and share of the paper level):
# well above sensor and JPEG noise, well below blurred print.
_INK_DELTA = 24
_INK_DELTA_SHARE = 0.12
_NOT_PAPER = 0.6  # background this far below the bright paper is the desk, a scanner lid, a shadow
_EDGE_MARGIN = 0.02  # of the long side: a scan's dark border and the photo's frame are never ink
_EDGE_BAND = 0.12  # a long mark within this band of the border is the page's edge or a shadow line
_MIN_MARK_AREA = 4  # px at the working scale; smaller specks are noise
# A blank page: at most this many marks, covering at most this share of the paper, and at most this
# much text read by the OCR (a page number, "此页空白"). Printed pages measure 150+ marks and 4%+ of
# the paper even blurred beyond reading; blank sheets photographed on a desk or scanned, with punch
# holes or a page number, 0-10 marks and under 0.1%.
_BLANK_MAX_MARKS = 30
_BLANK_MAX_INK = 0.006
# Faint shading at the scale of a text line (grey levels, difference of Gaussians of these widths
# at the working scale): the real lab photo blurred past reading (sigma 6) shades 8% of the page's
# interior, the tuning generator's heavy blur 17-21%; blank sheets photographed on desks with
# shadows, scanned with a binding shadow or with sensor noise 0%.
_FAINT_NARROW = 2.0
_FAINT_WIDE = 8.0
_FAINT_DELTA = 3.0
_BLANK_MAX_FAINT = 0.01
_BLANK_MAX_CHARS = 12
_BLANK_MAX_LINES = 3
# Ink at which a page without readable text is clearly a document the OCR could not read.
_CLEAR_CONTENT_MARKS = 120
_CLEAR_CONTENT_INK = 0.03


@dataclass(frozen=True)
class PageInk:
    """Marks on a page darker than the paper around them, away from its edges and the desk."""

    marks: int  # separate marks of glyph size or more (characters merge at the working scale)
    ink_fraction: float  # share of the paper under those marks
    # Share of the paper under faint shading, measured on a smoothed page: print blurred beyond
    # being marks still shades the paper where a blank sheet's noise and shadows do not.
    faint_fraction: float = 0.0


@dataclass(frozen=True)
class BlankPage:
    """Evidence that every page of a document is blank or nearly so."""

    confidence: float
    marks: int  # on the page with the most
    ink_fraction: float
    chars: int  # characters the OCR read on all pages


def measure_ink(image: np.ndarray) -> PageInk:
    """Count the marks on a page image (BGR or grey) that stand out from the paper around them.

    The paper level is a local maximum (strokes are thinner than its window), so uneven light,
    a shadow's gradient and a tinted sheet are paper, not ink. Not counted: the frame of the image,
    large areas outside the paper (a desk, a scanner lid: much darker than the page), a long thin
    mark near the border (the page's edge, a shadow's step), and a ring around the page.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape[:2]
    factor = _INK_LONG_SIDE / max(h, w, 1)
    if factor < 1:
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    h, w = gray.shape[:2]
    kernel = np.ones((_PAPER_KERNEL, _PAPER_KERNEL), np.uint8)
    paper_level = cv2.blur(cv2.dilate(gray, kernel), (_PAPER_KERNEL, _PAPER_KERNEL))
    darker = paper_level.astype(np.int16) - gray.astype(np.int16)
    bright = float(np.percentile(paper_level, 90))
    paper = cv2.erode((paper_level >= _NOT_PAPER * bright).astype(np.uint8), kernel).astype(bool)
    m = int(_EDGE_MARGIN * max(h, w)) + 1
    paper[:m], paper[h - m :], paper[:, :m], paper[:, w - m :] = False, False, False, False
    n_paper = int(np.count_nonzero(paper))
    if n_paper == 0:
        return PageInk(marks=0, ink_fraction=0.0)
    faint_fraction = _faint_fraction(gray, paper_level, bright)
    threshold = np.maximum(_INK_DELTA, _INK_DELTA_SHARE * paper_level)
    ink = ((darker > threshold) & paper).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    marks, area_sum = 0, 0
    for x, y, bw, bh, area in stats[1:count].tolist():
        if area < _MIN_MARK_AREA:
            continue
        touches_frame = x <= m + 1 or y <= m + 1 or x + bw >= w - m - 1 or y + bh >= h - m - 1
        if touches_frame and area > 0.002 * w * h:
            continue  # the desk or a scanner's border reaching into the picture
        if bw > 0.25 * w and bh > 0.25 * h and area < 0.3 * bw * bh:
            continue  # a ring around the page: the desk's edge along a photographed sheet
        long = bw > 0.25 * w or bh > 0.25 * h
        in_band = (
            x + bw < _EDGE_BAND * w or x > (1 - _EDGE_BAND) * w or y + bh < _EDGE_BAND * h or y > (1 - _EDGE_BAND) * h
        )
        if long and (in_band or area / max(bw, bh) < 6):
            continue  # the page's edge, a fold or a shadow's step: long and thin
        marks += 1
        area_sum += area
    return PageInk(marks=marks, ink_fraction=area_sum / n_paper, faint_fraction=faint_fraction)


def _faint_fraction(gray: np.ndarray, paper_level: np.ndarray, bright: float) -> float:
    """Share of the page's interior paper shaded like blurred print: darker than its surroundings
    at the scale of a line of text (a difference of Gaussians, blind to the smooth gradient of a
    shadow or uneven light), away from the page's edges and the desk."""
    h, w = gray.shape[:2]
    inner = cv2.erode((paper_level >= _NOT_PAPER * bright).astype(np.uint8), np.ones((41, 41), np.uint8))
    bh, bw = int(_EDGE_BAND * h), int(_EDGE_BAND * w)
    mask = np.zeros((h, w), bool)
    mask[bh : h - bh, bw : w - bw] = inner[bh : h - bh, bw : w - bw].astype(bool)
    n = int(np.count_nonzero(mask))
    if n == 0:
        return 0.0
    g = gray.astype(np.float32)
    shading = cv2.GaussianBlur(g, (0, 0), _FAINT_WIDE) - cv2.GaussianBlur(g, (0, 0), _FAINT_NARROW)
    return float(np.count_nonzero((shading > _FAINT_DELTA) & mask)) / n


def blank_page(images: Sequence[np.ndarray | None], ocr: OcrResult) -> BlankPage | None:
    """The evidence that the document is blank (every page), or ``None`` when it is not or when a
    page has no image to look at (no text alone cannot tell a blank page from an unreadable one).
    ``images`` may be a ``PagePixels`` holding the pages' ink already measured."""
    lines = [line for _, line in ocr.lines if line.text.strip()]
    chars = sum(len(line.text.strip()) for line in lines)
    if chars > _BLANK_MAX_CHARS or len(lines) > _BLANK_MAX_LINES or not ocr.pages:
        return None
    pixels = PagePixels.of(images)
    pages = range(len(ocr.pages))
    if len(pixels) < len(ocr.pages) or not all(pixels.present(i) for i in pages):
        return None
    inks = [pixels.ink(i) for i in pages]
    marks = max(i.marks for i in inks)
    ink_fraction = max(i.ink_fraction for i in inks)
    if marks > _BLANK_MAX_MARKS or ink_fraction > _BLANK_MAX_INK:
        return None
    if max(i.faint_fraction for i in inks) > _BLANK_MAX_FAINT:
        return None  # print blurred beyond reading: an unreadable document, not a blank one
    if any(pixels.measures(i, ocr.pages[i]).brightness < _DARK_FAIL for i in pages):
        return None  # too dark to see whether anything is on it: an unreadable photo, not a blank page
    # Surest when nothing at all is on the page; less so the nearer it comes to the limits.
    nearness = max(marks / _BLANK_MAX_MARKS, ink_fraction / _BLANK_MAX_INK, chars / _BLANK_MAX_CHARS)
    return BlankPage(
        confidence=round(0.97 - 0.3 * nearness, 3), marks=marks, ink_fraction=round(ink_fraction, 5), chars=chars
    )


# --- the check ---------------------------------------------------------------------------------

_ORDER = ("no_text", "blur", "too_small", "too_dark", "glare", "cropped", "low_confidence")
_PIXEL_PROBLEMS = frozenset({"blur", "too_small", "too_dark", "glare"})


def _clip01(value: float) -> float:
    return float(min(max(value, 0.0), 1.0))


def _severity(problem: str, metrics: dict[str, float]) -> float:
    """How far past its fail threshold the measure behind ``problem`` is: 0 at (or before) the
    threshold, 1 clearly beyond it (what a heavily degraded copy of a readable photo measures)."""
    match problem:
        case "blur" if "sharpness" in metrics:
            # The threshold is already far below sharp photos (0.24+): two thirds of it is unmistakable.
            return _clip01((_BLUR_FAIL - metrics["sharpness"]) / (0.35 * _BLUR_FAIL))
        case "too_small" if "text_height" in metrics:
            return _clip01((_TEXT_HEIGHT_FAIL - metrics["text_height"]) / 4.0)
        case "too_dark":
            dark = _clip01((_DARK_FAIL - metrics.get("mean_brightness", 255.0)) / 25.0)
            flat = _clip01((_CONTRAST_FAIL - metrics.get("contrast", 255.0)) / 8.0)
            return max(dark, flat)
        case "glare" if "glare_fraction" in metrics:
            return _clip01((metrics["glare_fraction"] - _GLARE_FAIL) / _GLARE_FAIL)
        case "low_confidence":
            return _clip01((_OCR_FAIL_MEAN - metrics["mean_score"]) / 0.2)
        case "no_text" if "ink_marks" in metrics:
            return max(
                _clip01(metrics["ink_marks"] / _CLEAR_CONTENT_MARKS),
                _clip01(metrics["ink_fraction"] / _CLEAR_CONTENT_INK),
            )
    return 0.0


def _ocr_badness(metrics: dict[str, float]) -> float:
    """0 when the OCR read plenty of text well, 1 when it read little or read it poorly."""
    weak = _clip01((0.92 - metrics["mean_score"]) / 0.25)
    few = _clip01((40.0 - metrics["well_read_chars"]) / 40.0)
    return max(weak, few)


def _fail_confidence(fail: set[str], metrics: dict[str, float]) -> float:
    if fail == {"no_text"} and "ink_marks" not in metrics:
        return 0.6  # no pixels to look at: a blank page and an unreadable one look the same to the OCR
    severity = max(_severity(p, metrics) for p in fail)
    confidence = 0.5 + 0.25 * severity + 0.22 * _ocr_badness(metrics)
    if fail == {"low_confidence"}:
        # Sharp, bright, well-sized text the OCR could not read is handwriting or an unusual print
        # more often than an unreadable photo: a reviewer should look first.
        confidence = min(confidence, 0.75)
    return round(min(confidence, 0.97), 3)


def _pass_confidence(warn: set[str], metrics: dict[str, float]) -> float:
    confidence = 0.95 - sum(0.04 if p == "cropped" else 0.08 for p in warn)
    if metrics["lines"] > 0:
        confidence -= 0.2 * _clip01((0.92 - metrics["mean_score"]) / 0.25)
    return round(max(confidence, 0.5), 3)


def assess_quality(images: Sequence[np.ndarray | None], ocr: OcrResult) -> QualityCheck:
    """Whether the document can be read; ``images`` are the BGR page images, in page order (or a
    ``PagePixels`` with their measures cached: then no page is drawn).

    A blank document passes (``blank`` in ``problems``): there is nothing to read, not an unreadable
    photo of something."""
    pixels = PagePixels.of(images)
    metrics = _ocr_evidence(ocr)
    blank = blank_page(pixels, ocr)
    if blank is not None:
        metrics |= {"ink_marks": float(blank.marks), "ink_fraction": blank.ink_fraction, "blank": 1.0}
        return QualityCheck(outcome=Outcome.PASS, confidence=blank.confidence, problems=["blank"], metrics=metrics)

    fail: set[str] = set()
    warn: set[str] = set()
    if metrics["lines"] < _MIN_LINES and metrics["chars"] < _MIN_CHARS:
        fail.add("no_text")
        pages = [i for i in range(len(pixels)) if pixels.present(i)]
        if pages:
            inks = [pixels.ink(i) for i in pages]
            metrics["ink_marks"] = float(max(i.marks for i in inks))
            metrics["ink_fraction"] = round(max(i.ink_fraction for i in inks), 5)

    pages_measured = 0
    for index, page in enumerate(ocr.pages[: len(pixels)]):
        if page.source == "text_layer" or not pixels.present(index):
            continue
        found = _judge_page(pixels.measures(index, page))
        pages_measured += 1
        fail |= found.fail
        warn |= found.warn
        # Keep the worst page's value of each measure.
        for key, value in found.metrics.items():
            worse_is_higher = key in ("glare_fraction", "sides_cut")
            prev = metrics.get(key)
            if prev is None or (value > prev if worse_is_higher else value < prev):
                metrics[key] = value
    metrics["pages_measured"] = float(pages_measured)

    ocr_poor = metrics["lines"] > 0 and (
        metrics["mean_score"] < _OCR_POOR_MEAN or metrics["low_confidence_fraction"] > _OCR_POOR_LOW_FRACTION
    )
    if metrics["lines"] > 0 and metrics["mean_score"] < _OCR_FAIL_MEAN:
        fail.add("low_confidence")
    elif ocr_poor:
        # Poor OCR confirms a moderate pixel problem; on its own it is only a warning.
        if warn - {"cropped"}:
            fail |= warn - {"cropped"}
            warn -= fail
        else:
            warn.add("low_confidence")

    problems = [p for p in _ORDER if p in fail or p in warn]
    if fail:
        # Tell the applicant about the failing problems first; one sentence each.
        fail_reason = "；".join(REASONS[p] for p in _ORDER if p in fail)
        return QualityCheck(
            outcome=Outcome.FAIL,
            confidence=_fail_confidence(fail, metrics),
            problems=problems,
            metrics=metrics,
            reason=fail_reason,
        )
    hint = "；".join(REASONS[p] for p in problems) if problems else None
    return QualityCheck(
        outcome=Outcome.PASS,
        confidence=_pass_confidence(warn, metrics),
        problems=problems,
        metrics=metrics,
        reason=hint,
    )
