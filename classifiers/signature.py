"""Doctor's signature (医生签字 / 签章) in a document's signature area, and the signature check.

六盘水's materials list says of the outpatient record: 门诊病历需医生签字. Whether a page is signed
is decided where a person looks: beside the signature label (医师签名：, 主治医师：, 审核者： …). The
label and its place come from the OCR lines already read; the decision is made from the pixels of
that small area only, so the detector costs no second OCR pass (a few milliseconds a page).

What the area beside a label can hold, and how each is told apart:

- pen ink (蓝/黑色签字笔) or a name stamp (签章): coloured ink (blue, red) that is not the hospital's
  round seal (the seal finding's box is left out for red ink) — a compact red or blue blob the size
  of a few characters is a stamp, anything else coloured is handwriting;
- black handwriting: dark strokes the OCR did not read as a confident line of print;
- a printed name (an electronic record's 电子签名 printout): dark ink covered by a confidently read
  OCR line. It counts as a signature only where the policy says so
  (``signature_accepts_printed_name``); otherwise it is a weak FAIL, for a reviewer to judge;
- nothing: the area is paper (form rules and underlines removed) — a FAIL, as sure as the page was
  read well.

A page without any signature label is UNKNOWN: the area was not found (a cut photo, an unusual
form), which is a reviewer's question, never the applicant's problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from classifiers.quality import PagePixels
from classifiers.seal import _as_bgr, _color_mask, _ink_planes, _ramp, _white_balance, page_read_confidence
from classifiers.text import is_cjk
from classifiers.types import Outcome, SealFinding, SignatureCheck, SignatureKind
from ocr.types import Box, OcrLine, OcrResult

# Labels of a signature area, most specific first (a line holding 医师签名 also holds 签名 and 医师).
# Doctors' labels come first; the lab's 检验者/审核者 are signature areas too, for other documents.
SIGNATURE_LABELS = (
    "医师签名", "医生签名", "医师签字", "医生签字", "医师签章", "医生签章", "医师签全名",
    "主治医师", "经治医师", "接诊医师", "住院医师", "上级医师", "主诊医师", "门诊医师",
    "报告医师", "审核医师", "诊断医师", "复核医师", "检验医师", "科主任",
    "签名", "签字", "签章", "检验者", "审核者", "医师", "医生",
)
# Signatures of somebody other than the doctor: never the doctor's signature area.
_NOT_DOCTOR = ("患者", "病人", "家属", "本人", "代办", "申请人", "监护人")
# Bare words that are also ordinary text (遵医师嘱, 签字确认): a label only when a colon follows.
_NEEDS_COLON = frozenset({"医师", "医生", "签名", "签字", "签章"})
_COLONS = "：:"

# The area right of a label, in units of the label line's height: how far it reaches, and how far
# above and below the line's middle handwriting may stray (a signature is larger than print).
_REACH = 7.0
_HALF_BAND = 1.5
# Ink needed for a signature, in units of the line height squared: a two-character name written
# with a pen leaves about 0.5; a stray dot or JPEG speck far less.
_SIGNED_INK = 0.12
# Coloured (chroma) ink of a pen or stamp, after white balance; paper and grey shadows stay below.
_PEN_CHROMA = 30
# OCR lines read at least this well are print (or neat writing read as print).
_PRINT_SCORE = 0.8
# How much darker than the paper the label's print is, on a page where ink shows clearly and on one
# so faded that an empty-looking area says little (value units, 0..255).
_CLEAR_PRINT = 90.0
_FAINT_PRINT = 40.0


@dataclass(frozen=True)
class SignatureArea:
    """Where a page's signature label is and the area beside it that a signature would fill."""

    page: int
    label: str  # the label as written (compacted), e.g. "医师签名"
    label_box: Box
    line_box: Box  # the whole OCR line the label was read in
    after: str  # what the OCR read after the label on that line (a printed or neatly written name)
    area: Box  # the region right of the label, in page pixels
    line_height: float
    priority: int  # index in SIGNATURE_LABELS: lower is more specific


@dataclass(frozen=True)
class AreaReading:
    """What the pixels of one signature area show."""

    area: SignatureArea
    kind: SignatureKind  # handwritten | stamp | printed_name | none
    ink: float  # ink, in units of the line height squared
    confidence: float


def _char_weight(ch: str) -> float:
    return 0.55 if ord(ch) < 0x2E80 else 1.0  # ASCII and Latin print about half as wide as a CJK character


def _x_at(line: OcrLine, index: int) -> float:
    """The x where character ``index`` of ``line.text`` starts, by character widths across its box.

    A character is at most 0.8 of the line's height wide: the detector often stretches a label's
    box over the handwriting beside it that the recogniser then leaves unread."""
    weights = [_char_weight(ch) for ch in line.text]
    total = sum(weights) or 1.0
    per_char = min(line.box.width / total, 0.8 * line.box.height)
    return line.box.x0 + per_char * sum(weights[:index])


def _labels_in(text: str) -> list[tuple[int, int, int]]:
    """Every signature label in ``text``: (start, end after its colon, priority), left to right, the
    most specific label at each place."""
    found: list[tuple[int, int, int]] = []
    taken: list[range] = []
    for priority, label in enumerate(SIGNATURE_LABELS):
        start = text.find(label)
        while start >= 0:
            end = start + len(label)
            spaced_end = end
            while spaced_end < len(text) and text[spaced_end] == " ":
                spaced_end += 1
            has_colon = spaced_end < len(text) and text[spaced_end] in _COLONS
            free = not any(start in r or end - 1 in r for r in taken)
            by_doctor = not any(text[max(0, start - len(w)) : start] == w for w in _NOT_DOCTOR)
            if free and by_doctor and (has_colon or label not in _NEEDS_COLON):
                found.append((start, spaced_end + 1 if has_colon else end, priority))
                taken.append(range(start, end))
            start = text.find(label, end)
    return sorted(found)


def find_signature_areas(ocr: OcrResult) -> list[SignatureArea]:
    """Every signature area of the document, from the OCR lines: most specific label first."""
    areas: list[SignatureArea] = []
    for page in ocr.pages:
        for line in page.lines:
            labels = _labels_in(line.text)
            h = line.box.height
            if not labels or h <= 0:
                continue
            for n, (start, end, priority) in enumerate(labels):
                x0 = _x_at(line, end) + 0.1 * h
                x1 = min(float(page.width), x0 + _REACH * h)
                # The area ends where the next field of the row begins (检验者：… 审核者：, 编码员：): a
                # label or a colon further along the same line, or another line holding one.
                nxt = labels[n + 1][0] if n + 1 < len(labels) else len(line.text)
                colon = next((i for i in range(end, nxt) if line.text[i] in _COLONS), None)
                if colon is not None:
                    nxt = max(end, colon - 3)
                if nxt < len(line.text):
                    x1 = min(x1, _x_at(line, nxt) - 0.1 * h)
                for other in page.lines:
                    if other is not line and other.box.x0 > x0 and _same_row(other.box, line.box) and (
                        _labels_in(other.text) or any(c in other.text for c in _COLONS)
                    ):
                        x1 = min(x1, other.box.x0 - 0.1 * h)
                # Handwriting read as a few Latin letters ("mM") takes less room in the text than on
                # the page: an area is never narrower than a short signature.
                x1 = max(x1, min(float(page.width), x0 + 2 * h))
                if x1 - x0 < h:
                    continue
                cy = (line.box.y0 + line.box.y1) / 2
                area = Box(x0=x0, y0=max(0.0, cy - _HALF_BAND * h), x1=x1,
                           y1=min(float(page.height), cy + _HALF_BAND * h))
                label_box = Box(x0=_x_at(line, start), y0=line.box.y0, x1=_x_at(line, end), y1=line.box.y1)
                text = line.text[start:end].rstrip(_COLONS + " ")
                after = line.text[end:nxt].strip()
                areas.append(SignatureArea(page.index, text.replace(" ", ""), label_box, line.box, after, area, h,
                                           priority))
    return sorted(areas, key=lambda a: (a.priority, a.page, -a.label_box.y0))


def _same_row(a: Box, b: Box) -> bool:
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    return overlap > 0.5 * min(a.height, b.height)


def _clip(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    return (max(0, int(box.x0)), max(0, int(box.y0)),
            min(width, int(np.ceil(box.x1))), min(height, int(np.ceil(box.y1))))


def read_area(image: np.ndarray, area: SignatureArea, lines: Sequence[OcrLine], seal: SealFinding) -> AreaReading:
    """What is in one signature area of a page image (BGR, the normalised page OCR read)."""
    bgr = _as_bgr(image)
    height, width = bgr.shape[:2]
    x0, y0, x1, y1 = _clip(area.area, width, height)
    h = area.line_height
    if x1 - x0 < 4 or y1 - y0 < 4:
        return AreaReading(area, "none", 0.0, 0.3)
    crop = _white_balance(np.ascontiguousarray(bgr[y0:y1, x0:x1]))
    planes = _ink_planes(crop)
    _, value, chroma = planes
    paper = float(np.percentile(value, 90))
    contrast = _print_contrast(bgr, area.label_box, paper)
    dark_below = min(0.6 * paper, paper - 60)
    if contrast < _CLEAR_PRINT:
        # A faded page (thin toner, a washed-out photo): the pen is as faint as the print around it.
        dark_below = max(dark_below, paper - max(25.0, 0.45 * contrast))
    dark = (value < dark_below) & (chroma < _PEN_CHROMA)
    coloured = (chroma >= _PEN_CHROMA) & (value >= 40)
    red = _color_mask(planes, "red") > 0
    ink = (dark | coloured).astype(np.uint8) * 255
    # Form rules and underlines (a 签名 line to write on) are print, not a signature.
    rule = max(8, int(2.5 * h))
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (rule, 1)))
    ink[cv2.dilate(rules, np.ones((3, 3), np.uint8)) > 0] = 0
    # Print of other rows that reaches into the band (the paragraph above the signature).
    for line in lines:
        b = line.box
        if b.y1 < area.area.y0 or b.y0 > area.area.y1 or _same_row(b, area.label_box):
            continue
        lx0, ly0, lx1, ly1 = _clip(Box(x0=b.x0 - x0, y0=b.y0 - y0, x1=b.x1 - x0, y1=b.y1 - y0), x1 - x0, y1 - y0)
        ink[ly0:ly1, lx0:lx1] = 0
    # The hospital's round seal is stamped over the signature block on many records: its red ink is
    # the hospital's, not the doctor's.
    if seal.present and seal.box is not None and seal.page == area.page:
        sx0, sy0, sx1, sy1 = _clip(Box(x0=seal.box.x0 - x0, y0=seal.box.y0 - y0, x1=seal.box.x1 - x0,
                                       y1=seal.box.y1 - y0), x1 - x0, y1 - y0)
        sub = ink[sy0:sy1, sx0:sx1]
        sub[red[sy0:sy1, sx0:sx1]] = 0
    # Specks (JPEG noise, dust) are no ink.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    min_area = max(3.0, 0.004 * h * h)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
    mask = keep[labels]
    total = float(np.count_nonzero(mask)) / (h * h)
    if total < _SIGNED_INK:
        # An empty-looking area is only as sure as ink shows on this page: on a faded one a faint
        # signature can vanish into the paper.
        visible = 0.55 + 0.45 * _ramp(contrast, _FAINT_PRINT, _CLEAR_PRINT)
        return AreaReading(area, "none", round(total, 3), (1.0 - _ramp(total, 0.03, _SIGNED_INK)) * visible)
    colour_share = float(np.count_nonzero(mask & coloured)) / max(np.intp(1), np.count_nonzero(mask))
    if colour_share >= 0.5:
        return AreaReading(area, _stamp_or_pen(mask & coloured, h), round(total, 3), 0.9)
    # Dark ink: print that OCR read as a line, or handwriting it could not read as one.
    printed = np.zeros_like(mask)
    for line in lines:
        b = line.box
        if b == area.line_box and not any(is_cjk(c) for c in area.after):
            continue  # the label's own box, stretched over ink it did not read (or read as "mM")
        if line.score >= _PRINT_SCORE and b.x1 > area.area.x0 + 0.3 * h and _same_row(b, area.label_box):
            lx0, ly0, lx1, ly1 = _clip(Box(x0=b.x0 - x0, y0=b.y0 - y0, x1=b.x1 - x0, y1=b.y1 - y0), x1 - x0, y1 - y0)
            printed[ly0:ly1, lx0:lx1] = True
    covered = float(np.count_nonzero(mask & printed)) / max(np.intp(1), np.count_nonzero(mask))
    if covered >= 0.6:
        return AreaReading(area, "printed_name", round(total, 3), round(0.5 + 0.4 * covered, 3))
    return AreaReading(area, "handwritten", round(total, 3), round(0.85 - 0.3 * covered, 3))


def _print_contrast(bgr: np.ndarray, label: Box, paper: float) -> float:
    """How much darker than the paper the label's own print is (0..255): what ink looks like on this
    page. A label too small to measure counts as clear print."""
    height, width = bgr.shape[:2]
    x0, y0, x1, y1 = _clip(label, width, height)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 255.0
    _, value, _ = _ink_planes(_white_balance(np.ascontiguousarray(bgr[y0:y1, x0:x1])))
    return max(0.0, paper - float(np.percentile(value, 5)))


def _stamp_or_pen(mask: np.ndarray, h: float) -> SignatureKind:
    """A compact blob of coloured ink a few characters across is a name stamp; strokes are a pen."""
    ys, xs = np.nonzero(mask)
    bw, bh = float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)
    fill = float(len(xs)) / (bw * bh)
    square = 0.6 <= bw / bh <= 1.7
    return "stamp" if square and min(bw, bh) >= 0.9 * h and fill >= 0.18 else "handwritten"


def find_signature(ocr: OcrResult, images: Sequence[np.ndarray], seal: SealFinding) -> list[AreaReading]:
    """Every signature area of the document and what it holds, most specific label first.

    The areas come from the OCR text; what each holds from the pixels, kept in ``images`` when it is
    a ``PagePixels`` (keyed by the area and the seal), so an area read once is not drawn again."""
    pixels = PagePixels.of(images)
    readings: list[AreaReading] = []
    for area in find_signature_areas(ocr):
        if area.page < len(pixels) and area.page < len(ocr.pages):
            lines = ocr.pages[area.page].lines

            def measure(area: SignatureArea = area, lines: list[OcrLine] = lines) -> dict[str, object]:
                image = pixels[area.page]
                assert image is not None
                reading = read_area(image, area, lines, seal)
                return {"kind": reading.kind, "ink": reading.ink, "confidence": reading.confidence}

            found = pixels.finding(_area_key(area, seal), measure)
            readings.append(AreaReading(area, found["kind"], found["ink"], found["confidence"]))
    return readings


def _area_key(area: SignatureArea, seal: SealFinding) -> str:
    """A signature area's finding key: its page and a digest of everything its reading depends on
    besides the page's pixels and lines (the area's boxes and text, the seal's place)."""
    seal_part = (seal.present, seal.page, seal.box) if seal.present else None
    digest = hashlib.sha1(repr((area, seal_part)).encode(), usedforsecurity=False).hexdigest()[:16]
    return f"signature:{area.page}:{digest}"


_SIGNED: tuple[SignatureKind, ...] = ("handwritten", "stamp")


def check_signature(
    ocr: OcrResult,
    images: Sequence[np.ndarray],
    seal: SealFinding,
    *,
    required: bool,
    printed_name_ok: bool = False,
) -> SignatureCheck:
    """Apply the policy: a document of a type that needs a doctor's signature must show one (by
    hand or by name stamp; a printed name only where ``printed_name_ok``).

    Any signed area passes (one doctor's signature is what the rule asks for). ``confidence`` of a
    FAIL follows how well the page was read (``page_read_confidence``) and how clearly empty the
    area is; a printed name where the policy wants a hand signature is a FAIL below the usual
    ``problem_confidence`` (a reviewer decides), and a page without a signature label is UNKNOWN."""
    if not required:
        return SignatureCheck(outcome=Outcome.NOT_APPLICABLE)
    readings = find_signature(ocr, images, seal)
    if not readings:
        return SignatureCheck(outcome=Outcome.UNKNOWN, confidence=0.4,
                              reason="未找到医师签名栏，无法判断是否有医生签字")
    signed = [r for r in readings if r.kind in _SIGNED or (printed_name_ok and r.kind == "printed_name")]
    read = page_read_confidence(ocr)
    if signed:
        best = max(signed, key=lambda r: (r.confidence, -r.area.priority))
        return _result(Outcome.PASS, best, best.confidence)
    printed = [r for r in readings if r.kind == "printed_name"]
    if printed:
        best = printed[0]
        return _result(Outcome.FAIL, best, min(0.6, best.confidence),
                       reason="签名处仅见打印的医师姓名，未见手写签字或签章")
    best = readings[0]  # the most specific label: the doctor's own signature area
    read_factor = 0.6 + 0.4 * _ramp(read, 0.5, 0.85)
    return _result(Outcome.FAIL, best, round(0.97 * best.confidence * read_factor, 3),
                   reason=f"“{best.area.label}”处未见医生签字或签章")


def signature_under_policy(stored: SignatureCheck, *, required: bool, printed_name_ok: bool) -> SignatureCheck | None:
    """A stored signature check judged under a policy that may have changed, without the page's
    pixels (the re-scan of the backlog after a policy change): the stored check where the policy's
    change cannot change it, NOT_APPLICABLE where no signature is required any more, and None where
    the areas must be read again (the type was not required when it was read, or a printed name's
    standing changed, which may make another area the one judged)."""
    if not required:
        return SignatureCheck(outcome=Outcome.NOT_APPLICABLE)
    if stored.outcome == Outcome.NOT_APPLICABLE:
        return None
    if stored.kind == "printed_name" and (stored.outcome == Outcome.PASS) != printed_name_ok:
        return None
    return stored


def _result(outcome: Outcome, reading: AreaReading, confidence: float, reason: str | None = None) -> SignatureCheck:
    a, lb = reading.area.area, reading.area.label_box
    return SignatureCheck(
        outcome=outcome,
        confidence=round(confidence, 3),
        present=reading.kind in _SIGNED,
        kind=reading.kind,
        label=reading.area.label,
        page=reading.area.page,
        box=[round(min(a.x0, lb.x0), 1), round(min(a.y0, lb.y0), 1), round(a.x1, 1), round(max(a.y1, lb.y1), 1)],
        reason=reason,
    )
