"""Page geometry: the transform that makes a page upright and level, and applying it to pixels.

A ``PageTransform`` is applied to the decoded page in this order: resize by ``scale``, then rotate
clockwise by ``rotation + skew`` degrees about the centre on a canvas grown to fit (white fill).
Right-angle turns without skew use ``cv2.rotate`` (exact, no interpolation).

Deciding the transform (``decide_orientation``):
1. the text detector runs on the page at a small size; the long edges of the detected line boxes give
   the dominant text direction modulo 180° (an axial mean, so 89° and -89° agree);
2. that angle gives a right-angle turn (lines horizontal or vertical?) plus a residual skew;
3. lines cropped from the turned, deskewed page go to the 0/180 text-line classifier; their vote
   decides whether the page is upside down (plain PP-OCR reads 180° pages as garbage).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Protocol

import cv2
import numpy as np

from ocr.types import PageTransform

WHITE = (255, 255, 255)


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
    return np.ascontiguousarray(turn(decoded_at_scale, transform.rotation, transform.skew))


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
    """What the pre-pass decided: the turn that makes the page upright and level, and the text-line
    quadrilaterals it saw (in the coordinates of the image it was given)."""

    rotation: int
    skew: float
    polys: list[np.ndarray]

    def mapped_polys(self, width: int, height: int) -> list[np.ndarray]:
        """``polys`` in the turned page of an image ``width`` x ``height``."""
        return [
            map_points(np.asarray(p, np.float64).reshape(-1, 2), width, height, self.rotation, self.skew)
            for p in self.polys
        ]


def decide_orientation(
    img: np.ndarray,
    models: OrientationModels,
    *,
    correct_orientation: bool,
    deskew: bool,
    min_skew_degrees: float,
) -> Orientation:
    """The ``Orientation`` that makes ``img`` upright and level (see the module docstring)."""
    if not (correct_orientation or deskew):
        return Orientation(0, 0.0, [])
    h, w = img.shape[:2]
    polys = models.detect_polys(img)
    angle = dominant_line_angle(polys)
    if angle is None:
        return Orientation(0, 0.0, polys)
    rotation = 0
    if abs(angle) > 45:
        if not correct_orientation:
            return Orientation(0, 0.0, polys)
        rotation = 90 if angle < 0 else 270  # either makes lines horizontal; the vote picks the side
    residual = ((angle + rotation + 90) % 180) - 90
    skew = -residual if deskew and abs(residual) >= min_skew_degrees else 0.0
    skew = round(skew, 2)  # stored in PageTransform; keep the JSON short and the redo exact
    if not correct_orientation:
        return Orientation(rotation, skew, polys)
    levelled = turn(img, rotation, skew)
    crops = line_crops(levelled, Orientation(rotation, skew, polys).mapped_polys(w, h))
    if crops:
        probs = models.upside_down_probability(crops)
        # Sum of confidences, not a head count: a few clear lines beat many ambiguous ones.
        if sum(p - 0.5 for p in probs) > 0:
            rotation = (rotation + 180) % 360
    return Orientation(rotation, skew, polys)
