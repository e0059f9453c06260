"""Reading a seal's own text: the organisation's name along the upper arc, and the horizontal
lines in its middle (诊断证明专用章, 检验专用章, 发票专用章 …).

Ordinary text detectors find nothing useful on a round seal: the name runs along a curve. We
unwrap the ring instead. The seal's ellipse is fitted to its coloured ink, the band just inside
the ring is resampled along the ellipse into a straight strip (left end = the text's start at the
lower left, reading clockwise over the top), and the strip is given to the text *recognition* model
alone. The seal's colour is used as the ink, so black print that the seal was stamped over drops
out of the strip.

``SealTextReader`` loads the recognition model lazily, once, and is then a plain callable
``crop_bgr -> SealText`` for ``classifiers.seal.find_seal(read_text=...)``: the text, and how well
the organisation's name on the arc was read (a garbled arc must not pass for another
organisation's name).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ocr.errors import OcrEngineError

# (text, score) for each image; injectable so the geometry can be tested and engines swapped.
Recognizer = Callable[[Sequence[np.ndarray]], list[tuple[str, float]]]

# Pixels of chroma (max - min of RGB after white balance) that count as seal ink. Black and grey
# print have ~0 chroma whatever their darkness, which is what lets us drop them.
_INK_CHROMA = 30
# Hue distance (OpenCV units, 0..90) from the seal's own hue that still counts as its ink.
_INK_HUE_TOLERANCE = 14
# The strip is resampled so its text band is this many pixels high (the recogniser's input is 48).
_STRIP_HEIGHT = 64
# Unwrapped arc: the name starts lower left and ends lower right; the bottom 70° is left out (that
# is where a seal's serial number runs, read the other way round).
_ARC_GAP_DEGREES = 70.0


@dataclass(frozen=True)
class SealText:
    """What was read from one seal crop."""

    arc: str = ""  # the text along the upper arc (the organisation)
    arc_score: float = 0.0
    center: list[str] = field(default_factory=list)  # horizontal lines inside the ring
    ellipse: tuple[tuple[float, float], tuple[float, float], float] | None = None

    @property
    def text(self) -> str:
        return " ".join(t for t in [self.arc, *self.center] if t)

    @property
    def name_score(self) -> float:
        """How well the organisation's name was read: the arc's recognition score, 0 when no name was
        read on the arc (the text is then the middle lines alone)."""
        return self.arc_score if self.arc else 0.0


# --------------------------------------------------------------------------------------------------
# Geometry (pure, testable without models)


def ink_image(crop_bgr: np.ndarray) -> np.ndarray:
    """Seal ink as dark-on-white grey (uint8), from colour alone: black print becomes paper.

    Which pixels are ink is decided by colour (the seal's own hue, so JPEG's colour fringes around
    black print stay out); how dark a stroke is comes from brightness, because a phone's JPEG keeps
    colour at half the resolution of brightness: from colour alone thin strokes come out broken
    and blocky, and the recogniser reads them poorly."""
    if crop_bgr.ndim == 2:
        return crop_bgr.copy()
    bgr = crop_bgr[..., :3]
    sample = bgr.reshape(-1, 3)
    luma = sample.astype(np.uint16).sum(axis=1)
    paper = np.median(sample[luma >= np.percentile(luma, 75)], axis=0).astype(np.float64)
    gains = np.clip(np.maximum(paper, 1.0).max() / np.maximum(paper, 1.0), 0.7, 1.6)
    balanced = np.clip(bgr.astype(np.float32) * gains.astype(np.float32), 0, 255)
    chroma = balanced.max(axis=2) - balanced.min(axis=2)
    inked = chroma >= _INK_CHROMA
    if not inked.any():
        return np.full(bgr.shape[:2], 255, np.uint8)
    # Stretch so the seal's strongest ink is black: faded pink ink otherwise stays light grey.
    strong = float(np.percentile(chroma[inked], 90))
    core = chroma >= 0.6 * strong
    hue = cv2.cvtColor(balanced.astype(np.uint8), cv2.COLOR_BGR2HSV)[..., 0].astype(np.int16)
    ink_hue = int(np.median(hue[core]))
    same_hue = (np.abs((hue - ink_hue + 90) % 180 - 90) <= _INK_HUE_TOLERANCE).astype(np.float32)
    colour = chroma * same_hue
    # Where the ink is: its colour spread a pixel each way (the smeared colour of a thin stroke).
    gate = np.clip((cv2.dilate(colour, np.ones((3, 3), np.uint8)) - 0.3 * strong) / max(0.35 * strong, 1.0), 0, 1)
    brightness = balanced.mean(axis=2)
    dark = np.maximum(float(np.median(brightness[brightness >= np.percentile(brightness, 75)])) - brightness, 0)
    ink_dark = float(np.percentile(dark[core], 60)) or 1.0
    lo = _INK_CHROMA * 0.5
    norm = np.maximum(np.clip(dark / ink_dark, 0, 1) * gate, np.clip((colour - lo) / max(strong - lo, 1.0), 0, 1))
    # Faint colour is JPEG fringing around black print, not ink; left grey, the recogniser reads it.
    norm[norm < 0.15] = 0
    return (255 - norm * 255).astype(np.uint8)


def fit_seal_ellipse(ink: np.ndarray) -> tuple[tuple[float, float], tuple[float, float], float]:
    """The seal's outer ellipse ((cx, cy), (d1, d2), angle) as cv2.fitEllipse gives it.

    Fitted to the convex hull of the largest ink component (the ring, with what touches it); falls
    back to the ellipse inscribed in the crop, which is what the detector's box is."""
    h, w = ink.shape
    fallback = ((w / 2, h / 2), (w * 0.92, h * 0.92), 0.0)
    k = max(3, (min(h, w) // 100) | 1)
    mask = cv2.morphologyEx(
        (ink < 128).astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    )
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return fallback
    i = 1 + int(np.argmax(np.maximum(stats[1:, 2], stats[1:, 3])))
    if max(stats[i, 2], stats[i, 3]) < 0.5 * min(h, w):
        return fallback
    pts = cv2.findNonZero((labels == i).astype(np.uint8))
    hull = cv2.convexHull(pts)
    if len(hull) < 5:
        return fallback
    (cx, cy), (d1, d2), angle = cv2.fitEllipse(hull)
    if not np.isfinite([cx, cy, d1, d2]).all() or min(d1, d2) < 0.3 * min(h, w):
        return fallback
    return (float(cx), float(cy)), (float(d1), float(d2)), float(angle)


def _radius_at(phi: np.ndarray, a: float, b: float, theta: float) -> np.ndarray:
    """Distance from the centre to an ellipse (semi-axes a along ``theta``, b) in direction phi."""
    d = phi - theta
    return 1.0 / np.sqrt((np.cos(d) / a) ** 2 + (np.sin(d) / b) ** 2)


def unwrap_ring(
    ink: np.ndarray,
    ellipse: tuple[tuple[float, float], tuple[float, float], float],
    s_outer: float,
    s_inner: float,
    height: int,
    gap_degrees: float = _ARC_GAP_DEGREES,
    gap_center: float = 90.0,
) -> np.ndarray:
    """Resample the band between ``s_inner`` and ``s_outer`` (fractions of the ellipse's radius)
    into a straight strip: columns run clockwise from the lower left over the top to the lower
    right, row 0 is the outer edge, so text written along the upper arc with its tops outward comes
    out upright, left to right. ``gap_center`` (image degrees, 90 = straight down) is the middle of
    the part of the ring left out, where the text's end meets its start."""
    (cx, cy), (d1, d2), angle = ellipse
    a, b, theta = d1 / 2, d2 / 2, np.deg2rad(angle)
    # Image angles, y pointing down: 90° is straight down, 270° straight up.
    start = np.deg2rad(gap_center + gap_degrees / 2)
    stop = np.deg2rad(gap_center + 360 - gap_degrees / 2)
    band_px = max(1.0, (a + b) / 2 * (s_outer - s_inner))
    # Columns equally spaced along the band's middle curve, not in angle: on an oval a degree
    # covers much more arc at the ends than at the top, and equal angles squeeze the characters
    # there.
    fine = np.linspace(start, stop, 2048)
    mid = _radius_at(fine, a, b, theta) - (1.0 - (s_outer + s_inner) / 2) * (a + b) / 2
    xs, ys = mid * np.cos(fine), mid * np.sin(fine)
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))])
    # Keep characters' aspect: horizontal sampling density equals the vertical one.
    width = int(np.clip(arc[-1] * height / band_px, 32, 4000))
    phi = np.interp(np.linspace(0.0, arc[-1], width), arc, fine)[None, :]
    s = np.linspace(s_outer, s_inner, height, dtype=np.float64)[:, None]
    # Inward by a constant distance, not by scaling: on an oval seal the text follows a curve
    # parallel to the rim, which a scaled ellipse does not (it squeezes the flat sides).
    r = _radius_at(phi, a, b, theta) - (1.0 - s) * (a + b) / 2
    map_x = (cx + r * np.cos(phi)).astype(np.float32)
    map_y = (cy + r * np.sin(phi)).astype(np.float32)
    return cv2.remap(ink, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255,))


def find_text_band(
    ink: np.ndarray, ellipse: tuple[tuple[float, float], tuple[float, float], float]
) -> tuple[float, float]:
    """(s_outer, s_inner) of the arc text: just inside the ring, about one character high.

    The ring is the outermost radius where nearly every direction hits ink; the text is the band
    below it until the ink thins out (the star or the middle lines lie further in)."""
    steps = 120
    profile_strip = unwrap_ring(ink, ellipse, 1.08, 0.3, steps)
    dark = profile_strip < 128
    coverage = dark.mean(axis=1)  # per radius, the fraction of directions with ink
    s_values = np.linspace(1.08, 0.3, steps)
    ring_rows = np.flatnonzero(coverage >= 0.55)
    ring_inner, last = 0.9, 0
    if len(ring_rows):
        # The ring: the first (outermost) run of high-coverage rows.
        first = ring_rows[0]
        last = first
        while last + 1 < steps and coverage[last + 1] >= 0.55:
            last += 1
        ring_inner = float(s_values[last])
    # Text: from the first row inside the ring that carries real ink (a thin paper gap usually
    # separates text from ring) down to where the ink thins out for a few rows.
    s_top, s_bottom = ring_inner - 0.01, ring_inner - 0.3
    # Rows still above 0.3 right after the ring are its blurred inner edge, not text.
    after = last + 1 if len(ring_rows) else 0
    while after < steps and coverage[after] >= 0.3:
        after += 1
    ring_inner = float(s_values[min(after, steps - 1)])
    s_top = ring_inner
    # Text is sustained ink over several radii; a lone row is the ring's anti-aliased edge.
    sustained = [i for i in range(after, steps - 4) if coverage[i] >= 0.08 and coverage[i : i + 5].min() >= 0.05]
    if sustained:
        top = sustained[0]
        end, quiet = top, 0
        for i in range(top, steps):
            if coverage[i] >= 0.04:
                end, quiet = i, 0
            else:
                quiet += 1
                if quiet >= 3:
                    break
        s_top = float(min(s_top, s_values[top] + 0.02))
        s_bottom = float(s_values[end]) - 0.02
    # A seal's arc characters are 0.15–0.35 of its radius high.
    s_bottom = float(np.clip(s_bottom, s_top - 0.4, s_top - 0.14))
    return s_top, s_bottom


def find_arc_gap(
    ink: np.ndarray,
    ellipse: tuple[tuple[float, float], tuple[float, float], float],
    band: tuple[float, float],
) -> tuple[float, float]:
    """(centre, width) in image degrees of the emptiest stretch of the text band near the bottom.

    A stamp is rarely put on straight: the gap between the name's end and start turns with it.
    Only centres within 65° of straight down are considered (a rotated seal's gap stays near the
    bottom; a space between two words at the top must not be taken for it)."""
    n = 360
    # The outer part of the band only: a wide line in the middle (专用章) can reach the band's
    # inner edge near the bottom and fill the gap there.
    outer_edge = band[0] - 0.45 * (band[0] - band[1])
    strip = unwrap_ring(ink, ellipse, band[0], outer_edge, 16, gap_degrees=0.0, gap_center=90.0)
    # With no gap the strip starts at 90° and covers 360°: resample to one column per degree.
    cols = cv2.resize((strip < 128).astype(np.float32), (n, strip.shape[0]), interpolation=cv2.INTER_AREA)
    density = cols.mean(axis=0)  # column i is image angle 90 + i
    ring = np.concatenate([density, density])
    window = 40
    means = np.convolve(ring, np.ones(window) / window, "valid")  # means[i]: columns i .. i+window-1
    # Centres 25°..155° (columns -65..65 around 0 = straight down, i.e. i in [295, 425) mod 360).
    offsets = np.arange(-65, 66)
    starts = (offsets - window // 2) % n
    best = int(offsets[int(np.argmin(means[starts]))])
    # Grow the gap from its centre while the band stays (almost) empty.
    thresh = max(0.04, float(means[(best - window // 2) % n]) * 1.5)
    left = right = 0
    while left < 150 and ring[(best - left - 1) % n] < thresh:
        left += 1
    while right < 150 and ring[(best + right + 1) % n] < thresh:
        right += 1
    center = (90.0 + best + (right - left) / 2) % 360
    width = float(np.clip(left + right - 8, 10, 150))
    return center, width


def center_lines(ink: np.ndarray, ellipse: tuple[tuple[float, float], tuple[float, float], float]) -> list[np.ndarray]:
    """Images of the horizontal text lines inside the ring, below the centre (where 专用章 lines
    sit), found by the row profile of ink within the inner part of the seal."""
    (cx, cy), (d1, d2), _ = ellipse
    a, b = max(d1, d2) / 2, min(d1, d2) / 2
    if d2 > d1:
        a, b = b, a  # horizontal semi-axis first (cv2 may report a rotated 90° ellipse)
    h, w = ink.shape
    x0, x1 = int(max(0, cx - 0.75 * a)), int(min(w, cx + 0.75 * a))
    y0, y1 = int(max(0, cy + 0.05 * b)), int(min(h, cy + 0.72 * b))
    region = ink[y0:y1, x0:x1]
    if region.size == 0:
        return []
    rows = (region < 128).mean(axis=1)
    lines: list[np.ndarray] = []
    in_line, top = False, 0
    min_h = max(4, int(0.08 * b))
    for i, v in enumerate([*rows.tolist(), 0.0]):
        if v > 0.02 and not in_line:
            in_line, top = True, i
        elif v <= 0.02 and in_line:
            in_line = False
            if i - top >= min_h:
                line = region[top:i]
                cols = np.flatnonzero((line < 128).any(axis=0))
                if len(cols):
                    pad = max(2, (i - top) // 4)
                    c0, c1 = max(0, cols[0] - pad), min(line.shape[1], cols[-1] + pad + 1)
                    lines.append(line[:, c0:c1])
    return lines


def _rotate_about(
    gray: np.ndarray, ellipse: tuple[tuple[float, float], tuple[float, float], float], degrees: float
) -> np.ndarray:
    """Undo a stamp's clockwise tilt of ``degrees``: rotate the ink image counter-clockwise about
    the seal's centre (image angles grow clockwise since y points down)."""
    if abs(degrees) < 3:
        return gray
    (cx, cy), _, _ = ellipse
    m = cv2.getRotationMatrix2D((cx, cy), degrees, 1.0)
    return cv2.warpAffine(gray, m, (gray.shape[1], gray.shape[0]), borderValue=(255,))


def _pad(gray: np.ndarray, frac: float = 0.15) -> np.ndarray:
    p = max(2, int(gray.shape[0] * frac))
    return cv2.copyMakeBorder(gray, p, p, p, p, cv2.BORDER_CONSTANT, value=(255,))


# --------------------------------------------------------------------------------------------------
# The reader


def _default_recognizer_factory(
    model_name: str,
    model_dir: Path | None,
    cache_dir: Path | None,
    engine: str,
    engine_config: dict[str, object] | None = None,
) -> Recognizer:
    """PaddleOCR's TextRecognition over the offline (bundled) or a configured model dir."""
    os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
    from ocr._compat import install_opencv_alias

    install_opencv_alias()
    from ocr.models import resolve_models
    from ocr.options import OcrOptions

    resolved = resolve_models(
        OcrOptions(rec_model_name=model_name, rec_model_dir=model_dir, model_cache_dir=cache_dir, engine=engine)
    ).rec
    try:
        from paddleocr import TextRecognition
    except ImportError as exc:  # pragma: no cover - a broken install
        raise OcrEngineError(f"paddleocr is needed to read seal text: {exc}") from exc
    kwargs: dict[str, object] = {"model_name": resolved.name, "engine": engine}
    if engine_config is not None:  # the same threads and memory arena as the main OCR models
        kwargs["engine_config"] = engine_config
    if resolved.dir is not None:
        kwargs["model_dir"] = str(resolved.dir)
    model = TextRecognition(**kwargs)

    def recognize(images: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        if not images:
            return []
        bgr = [cv2.cvtColor(im, cv2.COLOR_GRAY2BGR) if im.ndim == 2 else im for im in images]
        return [(str(r["rec_text"]), float(r["rec_score"])) for r in model.predict(bgr)]

    return recognize


class SealTextReader:
    """Reads the curved and middle text of a seal crop; ``reader(crop_bgr) -> SealText``.

    The recognition model is loaded on first use and kept; instances are safe to share between
    threads. ``recognizer`` replaces the model (tests, other engines)."""

    def __init__(
        self,
        *,
        rec_model_name: str = "PP-OCRv6_small_rec",
        rec_model_dir: Path | None = None,
        model_cache_dir: Path | None = None,
        engine: str = "onnxruntime",
        min_score: float = 0.7,
        min_line_score: float = 0.5,
        recognizer: Recognizer | None = None,
        engine_config: dict[str, object] | None = None,
    ) -> None:
        self._model_name = rec_model_name
        self._model_dir = rec_model_dir
        self._cache_dir = model_cache_dir
        self._engine = engine
        # Arc reads scoring under 0.7 were garbage in the generated corpus (and a garbled read must
        # not be taken for another organisation's name); middle lines are short and cleaner.
        self._min_score = min_score
        self._min_line_score = min_line_score
        self._recognizer = recognizer
        self._engine_config = engine_config
        self._lock = threading.Lock()

    @property
    def recognizer(self) -> Recognizer:
        if self._recognizer is None:
            with self._lock:
                if self._recognizer is None:
                    self._recognizer = _default_recognizer_factory(
                        self._model_name, self._model_dir, self._cache_dir, self._engine, self._engine_config
                    )
        return self._recognizer

    def read(self, crop_bgr: np.ndarray) -> SealText:
        """Everything read from one seal crop, with the fitted ellipse for debugging."""
        if crop_bgr.size == 0 or min(crop_bgr.shape[:2]) < 16:
            return SealText()
        ink = ink_image(crop_bgr)
        ellipse = fit_seal_ellipse(ink)
        s_top, s_bottom = find_text_band(ink, ellipse)
        gap_center, gap_width = find_arc_gap(ink, ellipse, (s_top, s_bottom))
        # Two guesses for where the name starts: straight down (the engraver's layout) and the
        # emptiest stretch near the bottom (a stamp put on at an angle). The emptiest stretch can be
        # beside a serial number on the lower arc, so neither always wins: the recogniser decides.
        gaps = [(90.0, _ARC_GAP_DEGREES)]
        if abs((gap_center - 90 + 180) % 360 - 180) >= 8:
            gaps.append((gap_center, gap_width))
        strips = [
            _pad(unwrap_ring(ink, ellipse, s_top, s_bottom, _STRIP_HEIGHT, width, center)) for center, width in gaps
        ]
        arcs = self.recognizer(strips)
        if not arcs:
            return SealText(ellipse=ellipse)
        best = max(range(len(arcs)), key=lambda k: arcs[k][1])  # a tie keeps the engraver's layout
        arc_text, arc_score = arcs[best]
        if arc_score < self._min_score:
            arc_text = ""
        # The middle lines are horizontal in the seal's own frame: turn the seal upright first. The
        # tilt is the measured gap's, unless a serial number misled it; each guess is read and the
        # surer set of lines kept.
        center: list[str] = []
        best_mean = -1.0
        for center_angle, _ in gaps:
            upright = _rotate_about(ink, ellipse, center_angle - 90.0)
            lines = [_pad(line) for line in center_lines(upright, ellipse)]
            read = self.recognizer(lines) if lines else []
            kept = [(t, sc) for t, sc in read if sc >= self._min_line_score and len(t.strip()) >= 2]
            mean = sum(sc * len(t) for t, sc in kept) / max(1, sum(len(t) for t, _ in read))
            if mean > best_mean:
                best_mean, center = mean, [t for t, _ in kept]
        return SealText(arc=arc_text.strip(), arc_score=arc_score, center=center, ellipse=ellipse)

    __call__ = read
