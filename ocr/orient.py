"""Page geometry: the transform that makes a page upright and level, and applying it to pixels.

A ``PageTransform`` is applied to the decoded page in this order: resize by ``scale``, flip left-right
if ``mirror``, then rotate clockwise by ``rotation + skew`` degrees about the centre on a canvas grown
to fit (white fill). Right-angle turns without skew use ``cv2.rotate`` (exact, no interpolation).

Deciding the transform (``decide_orientation``):
1. the text detector runs on the page at a small size; the long edges of the detected line boxes give
   the dominant text direction modulo 180° (an axial mean, so 89° and -89° agree). A *strip* (longer
   than ``STRIP_ASPECT`` times its width: a till receipt, a scrolling screenshot) is detected in
   overlapping tiles along its length instead, each at its own size, so its lines are not crushed;
   those boxes are then the ones recognised (``Orientation.tiled``);
2. that angle gives a right-angle turn (lines horizontal or vertical?) plus a residual skew;
3. lines cropped from the turned, deskewed page go to the 0/180 text-line classifier; their vote
   decides whether the page is upside down (plain PP-OCR reads 180° pages as garbage);
4. mirror: a page photographed with a front (selfie) camera is often stored mirrored left-right, and
   neither the 0/180 classifier nor the recogniser can tell on their own (mirrored Chinese still
   "reads", at ~0.7 confidence instead of ~1.0). The recogniser reads the first few characters of
   the longest lines as turned; if they read well (``MIRROR_SURE``) the page is left as it is: one
   small batch per page. Otherwise the same lines are read flipped left-right and flipped top-bottom
   (the mirror of the page and of its upside-down twin) and the page is flipped only if one of them
   reads clearly better (``MIRROR_MARGIN``). An ordinary page is thus never flipped unless its own
   text reads worse than its mirror image.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Protocol

import cv2
import numpy as np

from ocr.types import OcrLine, PageTransform

WHITE = (255, 255, 255)

STRIP_ASPECT = 3.0  # a page longer than this times its width is detected in tiles (see ocr.decode)
TILE_MIN_LENGTH = 1280  # tiles along a strip: at least this long (the pre-pass detector's size) ...
MAX_TILES = 32  # ... and at most this many per page (longer tiles are shrunk by the detector)

MIRROR_PROBE_LINES = 3  # lines read for the mirror check
MIRROR_PROBE_ASPECT = 4.0  # of each, the first (left) part at most this many line heights long
MIRROR_SURE = 0.85  # the page reads at least this well as turned: no mirror check
MIRROR_MARGIN = 0.15  # a mirror variant must read this much better to be chosen


def resize(img: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return img
    h, w = img.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def rotation_matrix(width: int, height: int, degrees_cw: float) -> tuple[np.ndarray, int, int]:
    """2x3 matrix turning an image clockwise about its centre onto a canvas grown to fit it."""
    rad = math.radians(degrees_cw)
    cos, sin = abs(math.cos(rad)), abs(math.sin(rad))
    new_w = round(width * cos + height * sin)
    new_h = round(width * sin + height * cos)
    m = cv2.getRotationMatrix2D((width / 2, height / 2), -degrees_cw, 1.0)  # cv2: positive = CCW
    m[0, 2] += new_w / 2 - width / 2
    m[1, 2] += new_h / 2 - height / 2
    return m, new_w, new_h


_RIGHT_ANGLE_CODES = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def turn(img: np.ndarray, rotation: int, skew: float) -> np.ndarray:
    """Rotate clockwise by ``rotation + skew`` degrees (see the module docstring)."""
    rotation %= 360
    if skew == 0.0:
        return cv2.rotate(img, _RIGHT_ANGLE_CODES[rotation]) if rotation else img
    h, w = img.shape[:2]
    m, new_w, new_h = rotation_matrix(w, h, rotation + skew)
    return cv2.warpAffine(
        img, m, (new_w, new_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=WHITE
    )


def apply_transform(decoded_at_scale: np.ndarray, transform: PageTransform) -> np.ndarray:
    """The normalised page from the page already decoded at ``transform.scale``."""
    img = cv2.flip(decoded_at_scale, 1) if transform.mirror else decoded_at_scale
    return np.ascontiguousarray(turn(img, transform.rotation, transform.skew))


def mirror_points(points: np.ndarray, width: int) -> np.ndarray:
    """Where points of an image ``width`` wide land after flipping it left-right (pixel centres)."""
    pts = np.asarray(points, dtype=np.float64)
    return np.stack([width - 1 - pts[..., 0], pts[..., 1]], axis=-1)


def map_points(points: np.ndarray, width: int, height: int, rotation: int, skew: float) -> np.ndarray:
    """Where points of an image land after ``turn(img, rotation, skew)``."""
    m, _, _ = rotation_matrix(width, height, (rotation % 360) + skew)
    if skew == 0.0 and rotation % 360:
        # cv2.rotate maps pixel centres exactly; its matrix differs from the general one by 1 px.
        r = rotation % 360
        x, y = points[..., 0], points[..., 1]
        if r == 90:
            return np.stack([height - 1 - y, x], axis=-1)
        if r == 180:
            return np.stack([width - 1 - x, height - 1 - y], axis=-1)
        return np.stack([y, width - 1 - x], axis=-1)
    pts = np.asarray(points, dtype=np.float64)
    return pts @ m[:, :2].T + m[:, 2]


def dominant_line_angle(polys: list[np.ndarray], min_lines: int = 3) -> float | None:
    """Direction of text lines in degrees in [-90, 90), y down (positive = clockwise), or None.

    Each quadrilateral's longer edge is a line direction modulo 180°; we average the doubled angles
    weighted by edge length and return None when the lines disagree (no dominant direction).
    """
    sx = sy = total = 0.0
    count = 0
    for poly in polys:
        p = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
        if len(p) < 4:
            continue
        e1, e2 = p[1] - p[0], p[2] - p[1]
        edge, other = (e1, e2) if np.hypot(*e1) >= np.hypot(*e2) else (e2, e1)
        length, thickness = float(np.hypot(*edge)), float(np.hypot(*other))
        if thickness <= 0 or length < 1.5 * thickness:
            continue  # squarish boxes (single characters) say nothing about direction
        a = math.atan2(edge[1], edge[0])
        sx += length * math.cos(2 * a)
        sy += length * math.sin(2 * a)
        total += length
        count += 1
    if count < min_lines or total == 0:
        return None
    if math.hypot(sx, sy) / total < 0.5:
        return None
    angle = math.degrees(math.atan2(sy, sx) / 2)
    return ((angle + 90) % 180) - 90


class OrientationModels(Protocol):
    def detect_polys(self, img: np.ndarray) -> list[np.ndarray]: ...

    def upside_down_probability(self, crops: list[np.ndarray]) -> list[float]: ...

    def recognise(self, img: np.ndarray, polys: list[np.ndarray] | None = None) -> list[OcrLine]: ...


def _tiles(length: int, tile: int, overlap: int) -> list[tuple[int, int, float, float]]:
    """Tiles ``(start, end, keep_from, keep_to)`` covering ``0..length``: consecutive tiles overlap by
    at least ``overlap``; a box belongs to the tile whose keep range holds its centre (the middle of
    each overlap is the boundary), so a line cut by one tile's edge is kept whole from the next."""
    step = max(1, tile - overlap)
    spans: list[tuple[int, int]] = []
    start = 0
    while start + tile < length:
        spans.append((start, start + tile))
        start += step
    spans.append((max(0, length - tile), length))
    tiles = []
    for i, (lo, hi) in enumerate(spans):
        keep_from = 0.0 if i == 0 else (spans[i - 1][1] + lo) / 2
        keep_to = float(length) if i == len(spans) - 1 else (hi + spans[i + 1][0]) / 2
        tiles.append((lo, hi, keep_from, keep_to))
    return tiles


def detect_lines(img: np.ndarray, models: OrientationModels) -> tuple[list[np.ndarray], bool]:
    """The page's text-line quadrilaterals, and whether they were detected in tiles (a strip).

    An ordinary page goes to the pre-pass detector whole. A strip is cut into overlapping tiles along
    its length, each detected at (up to) its own size, the boxes put back in page coordinates.
    """
    h, w = img.shape[:2]
    long_side, short_side = max(h, w), min(h, w)
    if long_side <= STRIP_ASPECT * short_side:
        return models.detect_polys(img), False
    tile = max(short_side, TILE_MIN_LENGTH, math.ceil(long_side / (0.75 * MAX_TILES)) + 1)
    vertical = h >= w
    axis = 1 if vertical else 0  # the coordinate along the strip (x, y order in the polys)
    polys: list[np.ndarray] = []
    for lo, hi, keep_from, keep_to in _tiles(long_side, tile, tile // 4):
        part = img[lo:hi] if vertical else img[:, lo:hi]
        for poly in models.detect_polys(np.ascontiguousarray(part)):
            p = np.asarray(poly, dtype=np.float64).reshape(-1, 2).copy()
            p[:, axis] += lo
            if keep_from <= float(p[:, axis].mean()) < keep_to:
                polys.append(p)
    return polys, True


def line_crops(img: np.ndarray, polys: list[np.ndarray], limit: int = 16) -> list[np.ndarray]:
    """Crops of the longest horizontal lines of an already levelled page, for the 0/180 vote."""
    boxes = []
    for p in polys:
        p = np.asarray(p).reshape(-1, 2)
        x0, y0 = p.min(axis=0)
        x1, y1 = p.max(axis=0)
        w, h = x1 - x0, y1 - y0
        if h >= 6 and w >= 2 * h:
            boxes.append((w, int(x0), int(y0), math.ceil(x1), math.ceil(y1)))
    boxes.sort(reverse=True)
    ih, iw = img.shape[:2]
    crops = []
    for _, x0, y0, x1, y1 in boxes[:limit]:
        crop = img[max(0, y0) : min(ih, y1), max(0, x0) : min(iw, x1)]
        if crop.size:
            crops.append(crop)
    return crops


class Orientation(NamedTuple):
    """What the pre-pass decided: the flip and turn that make the page upright and level, and the
    text-line quadrilaterals it saw (in the coordinates of the image it was given); ``tiled`` when
    those were detected in tiles at full size (a strip), so they are the ones to recognise."""

    rotation: int
    skew: float
    polys: list[np.ndarray]
    mirror: bool = False
    tiled: bool = False

    def mapped_polys(self, width: int, height: int) -> list[np.ndarray]:
        """``polys`` in the flipped and turned page of an image ``width`` x ``height``."""
        out = []
        for poly in self.polys:
            p = np.asarray(poly, np.float64).reshape(-1, 2)
            if self.mirror:
                p = mirror_points(p, width)
            out.append(map_points(p, width, height, self.rotation, self.skew))
        return out

    def transform(self, scale: float) -> PageTransform:
        """The ``PageTransform`` of this decision for a page decoded at ``scale``."""
        return PageTransform(rotation=self.rotation, skew=self.skew, scale=scale, mirror=self.mirror)


def _probe_boxes(polys: list[np.ndarray], width: int, height: int) -> list[np.ndarray]:
    """Boxes over the first few characters of the longest horizontal lines of a levelled page."""
    found = []
    for poly in polys:
        p = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
        x0, y0 = np.maximum(p.min(axis=0), 0.0)
        x1, y1 = p.max(axis=0)
        x1, y1 = min(x1, width - 1.0), min(y1, height - 1.0)
        line_h = y1 - y0
        if line_h >= 6 and x1 - x0 >= 2 * line_h:
            found.append((x1 - x0, x0, y0, min(x1, x0 + MIRROR_PROBE_ASPECT * line_h), y1))
    found.sort(reverse=True)
    return [
        np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) for _, x0, y0, x1, y1 in found[:MIRROR_PROBE_LINES]
    ]


def _readability(models: OrientationModels, img: np.ndarray, polys: list[np.ndarray]) -> float | None:
    """Mean recogniser confidence over the probe boxes (a box read as nothing counts 0); None if
    the page has no line to probe."""
    boxes = _probe_boxes(polys, img.shape[1], img.shape[0])
    if not boxes:
        return None
    return sum(line.score for line in models.recognise(img, boxes)) / len(boxes)


def _decide_mirror(
    models: OrientationModels, rotation: int, skew: float, levelled: np.ndarray, mapped: list[np.ndarray]
) -> tuple[int, float, bool]:
    """``(rotation, skew, mirror)``: the turn decided so far, or the mirror that reads clearly
    better (see step 4 of the module docstring). ``levelled`` is the page turned by ``rotation`` and
    ``skew``, ``mapped`` its line quadrilaterals."""
    lh, lw = levelled.shape[:2]
    as_turned = _readability(models, levelled, mapped)
    if as_turned is None or as_turned >= MIRROR_SURE:
        return rotation, skew, False
    left_right = _readability(models, cv2.flip(levelled, 1), [mirror_points(p, lw) for p in mapped])
    top_bottom = _readability(
        models, cv2.flip(levelled, 0), [np.stack([p[:, 0], lh - 1 - p[:, 1]], axis=-1) for p in mapped]
    )
    best = max(left_right or 0.0, top_bottom or 0.0)
    if best < as_turned + MIRROR_MARGIN:
        return rotation, skew, False
    # flip_lr(turn(img, r, s)) == turn(flip_lr(img), -r, -s); a top-bottom flip is that turned 180°.
    mirrored_skew = -skew if skew else 0.0
    if (left_right or 0.0) >= (top_bottom or 0.0):
        return (-rotation) % 360, mirrored_skew, True
    return (180 - rotation) % 360, mirrored_skew, True


def decide_orientation(
    img: np.ndarray,
    models: OrientationModels,
    *,
    correct_orientation: bool,
    deskew: bool,
    min_skew_degrees: float,
    check_mirror: bool = True,
) -> Orientation:
    """The ``Orientation`` that makes ``img`` upright and level (see the module docstring).

    ``check_mirror=False`` leaves step 4 to the caller, who has the page's own recognition scores
    and needs ``reconsider_mirror`` only for a page that reads poorly."""
    if not (correct_orientation or deskew):
        return Orientation(0, 0.0, [])
    h, w = img.shape[:2]
    polys, tiled = detect_lines(img, models)
    angle = dominant_line_angle(polys)
    if angle is None:
        return Orientation(0, 0.0, polys, tiled=tiled)
    rotation = 0
    if abs(angle) > 45:
        if not correct_orientation:
            return Orientation(0, 0.0, polys, tiled=tiled)
        rotation = 90 if angle < 0 else 270  # either makes lines horizontal; the vote picks the side
    residual = ((angle + rotation + 90) % 180) - 90
    skew = -residual if deskew and abs(residual) >= min_skew_degrees else 0.0
    skew = round(skew, 2)  # stored in PageTransform; keep the JSON short and the redo exact
    if not correct_orientation:
        return Orientation(rotation, skew, polys, tiled=tiled)
    levelled = turn(img, rotation, skew)
    mapped = Orientation(rotation, skew, polys).mapped_polys(w, h)
    crops = line_crops(levelled, mapped)
    if not crops:
        return Orientation(rotation, skew, polys, tiled=tiled)
    probs = models.upside_down_probability(crops)
    # Sum of confidences, not a head count: a few clear lines beat many ambiguous ones.
    if sum(p - 0.5 for p in probs) > 0:
        rotation = (rotation + 180) % 360
        levelled = turn(img, rotation, skew)
        mapped = Orientation(rotation, skew, polys).mapped_polys(w, h)
    if not check_mirror:
        return Orientation(rotation, skew, polys, tiled=tiled)
    rotation, skew, mirror = _decide_mirror(models, rotation, skew, levelled, mapped)
    return Orientation(rotation, skew, polys, mirror=mirror, tiled=tiled)


def reads_well(lines: list[OcrLine]) -> bool:
    """The page's longest recognised lines read with confidence: no mirror check is needed."""
    longest = sorted((ln for ln in lines if len(ln.text.strip()) >= 2), key=lambda ln: ln.box.x1 - ln.box.x0,
                     reverse=True)[:MIRROR_PROBE_LINES]
    return not longest or sum(ln.score for ln in longest) / len(longest) >= MIRROR_SURE


def reconsider_mirror(img: np.ndarray, models: OrientationModels, orientation: Orientation) -> Orientation | None:
    """Step 4 after recognition, for a page that read poorly: the mirrored orientation if its mirror
    reads clearly better, else None. ``img`` is the page the orientation was decided on."""
    if orientation.mirror:
        return None
    h, w = img.shape[:2]
    levelled = turn(img, orientation.rotation, orientation.skew)
    mapped = orientation.mapped_polys(w, h)
    rotation, skew, mirror = _decide_mirror(models, orientation.rotation, orientation.skew, levelled, mapped)
    return orientation._replace(rotation=rotation, skew=skew, mirror=True) if mirror else None
