"""Image quality: real phone photos pass; heavily degraded versions of them fail.

The OCR evidence for the pixel tests is a stand-in for a healthy OCR run: text-line boxes found
with OpenCV on the *original* photo, all with a good score. Degraded images keep those boxes (they
share the geometry), so each failure below is the pixel measure's own doing, not the OCR's.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from classifiers import quality
from classifiers.quality import assess_quality
from classifiers.types import Outcome
from fixtures.realworld import REALWORLD
from ocr.types import Box, OcrLine, OcrPage, OcrResult

PHOTOS = (
    sorted(p for p in REALWORLD.glob("*.[jp][pn]g") if not p.name.startswith("seal_")) if REALWORLD.exists() else []
)
pytestmark = pytest.mark.skipif(not PHOTOS, reason="real-world samples not available")


def detect_lines(image: np.ndarray) -> list[Box]:
    """Rough text-line boxes: dark strokes joined horizontally into runs."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    joined = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 3)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined)
    h, w = gray.shape
    boxes = []
    for x, y, bw, bh, _area in stats[1:count]:
        touches_border = x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1
        if 8 <= bh <= h / 8 and bw >= bh and bw < 0.9 * w and not touches_border:
            boxes.append(Box(x0=x, y0=y, x1=x + bw, y1=y + bh))
    return boxes


def ocr_result(boxes: list[Box], width: int, height: int, score: float = 0.95, scale: float = 1.0) -> OcrResult:
    lines = [
        OcrLine(
            text="检验项目结果",
            box=Box(x0=b.x0 * scale, y0=b.y0 * scale, x1=b.x1 * scale, y1=b.y1 * scale),
            score=score,
        )
        for b in boxes
    ]
    page = OcrPage(index=0, width=round(width * scale), height=round(height * scale), source="ocr", lines=lines)
    return OcrResult(media_type="image/jpeg", pages=[page], fingerprint="test")


def text_page(width: int = 1240, height: int = 1754, lines: int = 30) -> np.ndarray:
    """A printed page: dark text rows on white paper (Latin glyphs stand in for 汉字: same ink)."""
    image = np.full((height, width, 3), 252, np.uint8)
    words = "Patient diagnosis report 2026-01-10 glucose 5.6 mmol/L ref 3.9-6.1"
    for i in range(lines):
        cv2.putText(image, words[: 24 + i % 40], (80, 120 + i * 50), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2)
    return image


@pytest.fixture(scope="module", params=PHOTOS, ids=lambda p: p.name)
def photo(request: pytest.FixtureRequest) -> tuple[np.ndarray, list[Box]]:
    image = cv2.imread(str(request.param))
    assert image is not None
    return image, detect_lines(image)


def _text_height(boxes: list[Box]) -> float:
    return float(np.median([min(b.height, b.width) for b in boxes]))


def test_real_phone_photos_pass(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, boxes = photo
    check = assess_quality([image], ocr_result(boxes, image.shape[1], image.shape[0]))
    assert check.outcome == Outcome.PASS, check


def test_heavy_blur_fails(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, boxes = photo
    sigma = 0.25 * _text_height(boxes)  # strokes smeared over a quarter of a character
    blurred = cv2.GaussianBlur(image, (0, 0), sigma)
    check = assess_quality([blurred], ocr_result(boxes, image.shape[1], image.shape[0]))
    assert check.outcome == Outcome.FAIL and "blur" in check.problems, check
    assert "模糊" in (check.reason or "")


def test_mild_blur_still_passes(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, boxes = photo
    blurred = cv2.GaussianBlur(image, (0, 0), 1.0)
    assert assess_quality([blurred], ocr_result(boxes, image.shape[1], image.shape[0])).outcome == Outcome.PASS


def test_tiny_downscale_fails(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, boxes = photo
    scale = 6.0 / _text_height(boxes)  # characters about 6 px tall
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    check = assess_quality([small], ocr_result(boxes, image.shape[1], image.shape[0], scale=scale))
    assert check.outcome == Outcome.FAIL and "too_small" in check.problems, check


def test_very_dark_fails_but_dim_passes(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, boxes = photo
    ocr = ocr_result(boxes, image.shape[1], image.shape[0])
    dark = assess_quality([(image * 0.12).astype(np.uint8)], ocr)
    assert dark.outcome == Outcome.FAIL and "too_dark" in dark.problems, dark
    assert "过暗" in (dark.reason or "")
    dim = assess_quality([(image * 0.6).astype(np.uint8)], ocr)
    assert dim.outcome == Outcome.PASS, dim


def test_big_glare_blob_over_the_text_fails(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, boxes = photo
    x0, y0 = min(b.x0 for b in boxes), min(b.y0 for b in boxes)
    x1, y1 = max(b.x1 for b in boxes), max(b.y1 for b in boxes)
    glared = image.copy()
    centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
    axes = (int((x1 - x0) * 0.3), int((y1 - y0) * 0.3))
    cv2.ellipse(glared, centre, axes, 0, 0, 360, (255, 255, 255), -1)
    glared = cv2.GaussianBlur(glared, (0, 0), 1.0)
    # The OCR cannot read what the reflection washed out: lines under it are missing from its result.
    visible = [
        b for b in boxes if ((b.center[0] - centre[0]) / axes[0]) ** 2 + ((b.center[1] - centre[1]) / axes[1]) ** 2 > 1
    ]
    check = assess_quality([glared], ocr_result(visible, image.shape[1], image.shape[0]))
    assert check.outcome == Outcome.FAIL and "glare" in check.problems, check
    assert "反光" in (check.reason or "")


def test_no_text_on_a_page_full_of_ink_fails() -> None:
    """GIVEN a printed page blurred past reading WHEN the OCR found nothing THEN it is unreadable."""
    blurred = cv2.GaussianBlur(text_page(), (0, 0), 8)
    check = assess_quality([blurred], ocr_result([], blurred.shape[1], blurred.shape[0]))
    assert check.outcome == Outcome.FAIL and check.problems == ["no_text"]
    assert check.confidence >= 0.9, check.metrics


def test_no_text_without_page_images_is_an_unsure_fail() -> None:
    """Without pixels a blank page and an unreadable one look alike: FAIL, but not a confident one."""
    check = assess_quality([], ocr_result([], 900, 1200))
    assert check.outcome == Outcome.FAIL and check.problems == ["no_text"]
    assert check.confidence < 0.7


def test_garbled_ocr_fails_even_with_clean_pixels() -> None:
    """GIVEN a sharp page WHEN the OCR's confidence is very low THEN the document is unreadable."""
    image = cv2.imread(str(PHOTOS[0]))
    boxes = detect_lines(image)
    check = assess_quality([image], ocr_result(boxes, image.shape[1], image.shape[0], score=0.4))
    assert check.outcome == Outcome.FAIL and "low_confidence" in check.problems


def test_moderate_pixel_problem_fails_only_with_poor_ocr() -> None:
    image = cv2.imread(str(REALWORLD / "lab_np2016_bloodtest2_upright_photo.jpg"))
    boxes = detect_lines(image)
    dim = (image * 0.45).astype(np.uint8)  # warns too_dark, still readable
    good = assess_quality([dim], ocr_result(boxes, image.shape[1], image.shape[0], score=0.95))
    poor = assess_quality([dim], ocr_result(boxes, image.shape[1], image.shape[0], score=0.7))
    assert good.outcome == Outcome.PASS and "too_dark" in good.problems
    assert poor.outcome == Outcome.FAIL and "too_dark" in poor.problems


def test_text_layer_pages_skip_pixel_checks() -> None:
    boxes = [Box(x0=50, y0=50 + 30 * i, x1=500, y1=70 + 30 * i) for i in range(10)]
    result = ocr_result(boxes, 1240, 1754)
    result.pages[0].source = "text_layer"
    black = np.zeros((1754, 1240, 3), np.uint8)
    assert assess_quality([black], result).outcome == Outcome.PASS


def test_crop_touching_borders_is_noted_but_passes() -> None:
    image = cv2.imread(str(REALWORLD / "lab_np2016_region_crop.jpg"))
    h, w = image.shape[:2]
    boxes = [*detect_lines(image), Box(x0=0, y0=0, x1=w * 0.3, y1=20), Box(x0=w * 0.7, y0=h - 20, x1=w, y1=h)]
    check = assess_quality([image], ocr_result(boxes, w, h))
    assert check.outcome == Outcome.PASS and "cropped" in check.problems


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    ocr_mod = pytest.importorskip("ocr")
    if not hasattr(ocr_mod, "read_document"):
        pytest.skip("ocr.read_document not available yet")
    return ocr_mod.OcrEngine()


@pytest.mark.ocr
@pytest.mark.parametrize("path", PHOTOS, ids=lambda p: p.name)
def test_real_ocr_on_real_photos_passes(engine, path: Path) -> None:  # type: ignore[no-untyped-def]
    from ocr import read_document

    doc = read_document(path.read_bytes(), engine)
    check = assess_quality(doc.images, doc.ocr)
    assert check.outcome == Outcome.PASS, check


@pytest.mark.ocr
def test_real_ocr_on_heavily_blurred_photo_fails(engine) -> None:  # type: ignore[no-untyped-def]
    from ocr import read_document

    blurred = cv2.GaussianBlur(cv2.imread(str(REALWORLD / "lab_np2016_bloodtest2_upright_photo.jpg")), (0, 0), 6)
    _ok, buf = cv2.imencode(".jpg", blurred)
    doc = read_document(buf.tobytes(), engine)
    assert assess_quality(doc.images, doc.ocr).outcome == Outcome.FAIL


def test_a_bright_sheet_on_a_darker_desk_is_not_glare() -> None:
    """GIVEN a photo of a very white (saturated) sheet lying on a grey desk, text read well
    WHEN quality is assessed THEN the sheet itself is not taken for a reflection."""
    image = np.full((1600, 1200, 3), 150, np.uint8)  # the desk
    # The sheet, lit from the right: its right part is brighter than the 245 saturation level.
    ramp = np.linspace(215, 255, 900).astype(np.uint8)
    image[150:1450, 150:1050] = ramp[None, :, None]
    boxes = []
    for i in range(14):
        y = 260 + i * 60
        cv2.putText(image, f"Report line {i:02d} 2026-03-05", (200, y), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 3)
        boxes.append(Box(x0=195, y0=y - 45, x1=1000, y1=y + 12))
    check = assess_quality([image], ocr_result(boxes, image.shape[1], image.shape[0], score=0.99))
    assert "glare" not in check.problems, check
    assert check.outcome == Outcome.PASS


def test_a_brightly_lit_part_of_the_page_whose_text_was_read_is_not_glare(
    photo: tuple[np.ndarray, list[Box]],
) -> None:
    """GIVEN the same saturated spot as above, but the OCR still read the lines under it
    THEN it hid nothing: not glare."""
    image, boxes = photo
    x0, y0 = min(b.x0 for b in boxes), min(b.y0 for b in boxes)
    x1, y1 = max(b.x1 for b in boxes), max(b.y1 for b in boxes)
    lit = image.copy()
    centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
    cv2.ellipse(lit, centre, (int((x1 - x0) * 0.3), int((y1 - y0) * 0.3)), 0, 0, 360, (255, 255, 255), -1)
    check = assess_quality([lit], ocr_result(boxes, image.shape[1], image.shape[0]))
    assert "glare" not in check.problems, check


# --------------------------------------------------------------------------------------------------
# The fast measures give what their plain, whole-page definitions give


def _plain_sharpness(gray: np.ndarray, boxes: np.ndarray, text_height: float) -> float:
    factor = float(np.clip(quality._TEXT_HEIGHT_NORM / max(text_height, 1.0), 0.05, 4.0))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interp).astype(np.float32)
    mask = quality._text_mask(scaled.shape[:2], (boxes * factor).round().astype(int))
    gx = cv2.Sobel(scaled, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(scaled, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    lo, hi = np.percentile(scaled[mask], [2, 98])
    return float(np.percentile(np.hypot(gx, gy)[mask], 99) / (hi - lo))


def _plain_glare_fraction(gray: np.ndarray, text_mask: np.ndarray, content: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = content
    if (gray[y0:y1, x0:x1] >= 245).mean() > 0.5:
        return 0.0
    saturated = cv2.morphologyEx((gray >= 245).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(saturated, connectivity=8)
    inside = np.zeros(gray.shape, dtype=bool)
    inside[y0:y1, x0:x1] = True
    glare = np.zeros(gray.shape, dtype=bool)
    for i in range(1, count):
        blob = labels == i
        if stats[i, cv2.CC_STAT_AREA] < quality._GLARE_MIN_BLOB * gray.size or not (blob & text_mask).any():
            continue
        if (blob & inside).sum() < quality._GLARE_INSIDE_MIN * blob.sum():
            continue
        ring = cv2.dilate(blob.astype(np.uint8), np.ones((31, 31), np.uint8)).astype(bool) & ~blob & inside
        if not (ring.any() and float(np.median(gray[ring])) < quality._GLARE_PAPER_MAX):
            continue
        rest = inside & ~blob
        if text_mask[blob & inside].mean() >= quality._GLARE_TEXT_KEPT * text_mask[rest].mean():
            continue
        glare |= blob
    return float(glare[y0:y1, x0:x1].mean())


def _rows(boxes: list[Box]) -> np.ndarray:
    return np.array([(b.x0, b.y0, b.x1, b.y1) for b in boxes]).round().astype(int)


def _spotted(image: np.ndarray, boxes: list[Box]) -> list[tuple[np.ndarray, list[Box]]]:
    """The photo with 0 to 4 bright spots (over its text, at its edge, across the page), each with
    the lines an OCR could still read: those not under a spot."""
    x0, y0 = min(b.x0 for b in boxes), min(b.y0 for b in boxes)
    x1, y1 = max(b.x1 for b in boxes), max(b.y1 for b in boxes)
    out = [(image, boxes)]
    spots: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for (fx, fy), size in (((0.5, 0.5), 0.3), ((0.15, 0.2), 0.12), ((0.0, 0.9), 0.25), ((0.7, 0.6), 0.08)):
        centre = (int(x0 + fx * (x1 - x0)), int(y0 + fy * (y1 - y0)))
        spots.append((centre, (int((x1 - x0) * size), int((y1 - y0) * size))))
        spotted = image.copy()
        for c, axes in spots:
            cv2.ellipse(spotted, c, axes, 0, 0, 360, (255, 255, 255), -1)
        visible = [
            b
            for b in boxes
            if all(((b.center[0] - c[0]) / a[0]) ** 2 + ((b.center[1] - c[1]) / a[1]) ** 2 > 1 for c, a in spots)
        ]
        out.append((cv2.GaussianBlur(spotted, (0, 0), 1.0), visible))
    return out


def test_sharpness_over_the_text_extent_equals_the_whole_page_measure(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, boxes = photo
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    rows = _rows(boxes)
    for blur in (0, 1.5, 4):
        page = cv2.GaussianBlur(gray, (0, 0), blur) if blur else gray
        for height in (_text_height(boxes), 6.0, 90.0):  # the photo's own scale, enlarged and shrunk
            assert quality._sharpness(page, rows, height) == pytest.approx(
                _plain_sharpness(page, rows, height), rel=1e-5
            )


def test_glare_blob_by_blob_equals_the_whole_page_measure(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, boxes = photo
    rows = _rows(boxes)
    content = (int(rows[:, 0].min()), int(rows[:, 1].min()), int(rows[:, 2].max()), int(rows[:, 3].max()))
    fractions = []
    for spotted, visible in _spotted(image, boxes):
        gray = cv2.cvtColor(spotted, cv2.COLOR_BGR2GRAY)
        for read in (boxes, visible):  # the OCR read the lines under the spots, or missed them
            text_mask = quality._text_mask(gray.shape, _rows(read))
            fractions.append(quality._glare_fraction(gray, text_mask, content))
            assert fractions[-1] == _plain_glare_fraction(gray, text_mask, content)
    assert max(fractions) > quality._GLARE_FAIL  # some of the cases are glare, some not
    assert min(fractions) == 0.0


def test_a_reflection_with_a_bright_halo_is_judged_by_the_paper_beyond_the_halo() -> None:
    """GIVEN a saturated patch over the text, ringed by a thin halo just below saturation, on grey
    paper THEN the paper around it (out to the ring's full width, not just the halo) is darker:
    glare, as the whole-page measure says too."""
    gray = np.full((900, 1200), 190, np.uint8)
    rows = np.array([(100, y, 1100, y + 30) for y in range(100, 800, 50)])
    for x0, y0, x1, y1 in rows:
        gray[y0 + 8 : y1 - 8, x0:x1:6] = 40  # strokes
    gray[246:654, 296:904] = 240  # the halo: bright, not saturated
    gray[250:650, 300:900] = 255  # the reflection of a window
    read = rows[(rows[:, 1] <= 250) | (rows[:, 1] >= 650)]  # the lines under it were not read
    text_mask = quality._text_mask(gray.shape, read)
    content = (100, 100, 1100, 780)
    fraction = quality._glare_fraction(gray, text_mask, content)
    assert fraction == _plain_glare_fraction(gray, text_mask, content)
    assert fraction > quality._GLARE_FAIL


# --------------------------------------------------------------------------------------------
# Blank pages are not unreadable photos
# --------------------------------------------------------------------------------------------


def white_page(width: int = 1240, height: int = 1754, noise: float = 3.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    paper = np.full((height, width, 1), 248.0) + rng.normal(0, noise, (height, width, 1))
    return np.repeat(np.clip(paper, 0, 255).astype(np.uint8), 3, axis=2)


def lines_result(texts: list[tuple[str, Box]], width: int, height: int, score: float = 0.95) -> OcrResult:
    lines = [OcrLine(text=t, box=b, score=score) for t, b in texts]
    page = OcrPage(index=0, width=width, height=height, source="ocr", lines=lines)
    return OcrResult(media_type="image/jpeg", pages=[page], fingerprint="test")


def scanned_blank_with_shadow() -> np.ndarray:
    """A scanner's grey shadow along the binding edge, a dark line where the lid met the glass."""
    page = white_page()
    page[:, :60] = np.linspace(165, 248, 60)[None, :, None].astype(np.uint8)
    page[:, 20:23] = 110
    page[-30:, :] = 200  # a grey strip where the sheet ended before the scanner's glass did
    return page


def punched_blank() -> np.ndarray:
    page = white_page()
    for y in (560, 1190):
        cv2.circle(page, (45, y), 14, (35, 35, 35), -1)  # the scanner lid's black through the holes
    return page


def numbered_blank() -> tuple[np.ndarray, OcrResult]:
    page = white_page()
    cv2.putText(page, "- 2 -", (580, 1700), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2)
    return page, lines_result([("-2-", Box(x0=575, y0=1682, x1=650, y1=1706))], 1240, 1754)


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("white page with sensor noise", lambda: (white_page(noise=4.0), ocr_result([], 1240, 1754))),
        ("scan with a grey edge and shadow", lambda: (scanned_blank_with_shadow(), ocr_result([], 1240, 1754))),
        ("punch holes only", lambda: (punched_blank(), ocr_result([], 1240, 1754))),
        ("page number only", numbered_blank),
        ("evenly grey sheet", lambda: (np.full((1200, 900, 3), 200, np.uint8), ocr_result([], 900, 1200))),
    ],
)
def test_blank_pages_pass_as_blank(name: str, build) -> None:  # type: ignore[no-untyped-def]
    image, ocr = build()
    check = assess_quality([image], ocr)
    assert check.outcome == Outcome.PASS and check.problems == ["blank"], (name, check)
    assert check.confidence >= 0.85, (name, check)
    assert quality.blank_page([image], ocr) is not None


@pytest.mark.parametrize("sigma", [4.0, 8.0, 12.0])
def test_blurred_printed_page_is_never_blank(sigma: float) -> None:
    """GIVEN a printed page blurred so that the OCR reads nothing or a few characters THEN it is not
    blank (lots of ink) and fails as unreadable."""
    blurred = cv2.GaussianBlur(text_page(), (0, 0), sigma)
    few = lines_result([("Pat", Box(x0=80, y0=100, x1=160, y1=130))], 1240, 1754, score=0.5)
    for ocr in (ocr_result([], 1240, 1754), few):
        assert quality.blank_page([blurred], ocr) is None
        assert assess_quality([blurred], ocr).outcome == Outcome.FAIL
    assert quality.measure_ink(blurred).marks > 100


def test_photographed_blank_sheets_are_blank_and_photographed_blurred_pages_are_not() -> None:
    """Phone photos from the tuning generator: a blank sheet on wood, cloth, grey or white desks,
    lit unevenly, vs the same photos of a printed page blurred past reading."""
    import random

    from PIL import Image

    from fixtures.generator import degrade

    rng = random.Random(11)
    sheet = Image.fromarray(np.full((1754, 1240, 3), 250, np.uint8))
    printed = Image.fromarray(text_page())
    for _ in range(6):
        blank = cv2.cvtColor(np.asarray(degrade.photo(sheet, rng, rotation=0, long_side=1600).image), cv2.COLOR_RGB2BGR)
        h, w = blank.shape[:2]
        assert assess_quality([blank], ocr_result([], w, h)).problems == ["blank"]
        blurred = degrade.photo(printed, rng, rotation=0, long_side=1600, unreadable="heavy_blur").image
        unreadable = cv2.cvtColor(np.asarray(blurred), cv2.COLOR_RGB2BGR)
        h, w = unreadable.shape[:2]
        assert assess_quality([unreadable], ocr_result([], w, h)).outcome == Outcome.FAIL


def test_a_photo_taken_in_the_dark_is_too_dark_not_blank() -> None:
    """Phone photos from the tuning generator of a printed page taken in the dark (mean grey ~6): no
    mark stands out of the black and the OCR reads nothing, as on a blank sheet, but nothing can be
    seen either way: the applicant is asked to photograph it again in the light."""
    import random

    from PIL import Image

    from fixtures.generator import degrade

    rng = random.Random(5)
    printed = Image.fromarray(text_page())
    for _ in range(3):
        dark = degrade.photo(printed, rng, rotation=0, long_side=1600, unreadable="dark").image
        image = cv2.cvtColor(np.asarray(dark), cv2.COLOR_RGB2BGR)
        h, w = image.shape[:2]
        ocr = ocr_result([], w, h)
        assert quality.blank_page([image], ocr) is None
        check = assess_quality([image], ocr)
        assert check.outcome == Outcome.FAIL and "too_dark" in check.problems, check
        assert check.confidence >= 0.9, check


def test_real_photos_are_not_blank(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, _ = photo
    ink = quality.measure_ink(image)
    assert ink.marks > 100 and ink.ink_fraction > 0.01, ink
    assert quality.blank_page([image], ocr_result([], image.shape[1], image.shape[0])) is None


def test_a_document_with_one_blank_page_is_judged_by_its_other_page() -> None:
    """A blank back page does not make a printed document blank, nor does it fail it."""
    printed = text_page()
    boxes = [Box(x0=80, y0=100 + i * 50, x1=700, y1=128 + i * 50) for i in range(30)]
    first = ocr_result(boxes, 1240, 1754).pages[0]
    second = OcrPage(index=1, width=1240, height=1754, source="ocr", lines=[])
    ocr = OcrResult(media_type="application/pdf", pages=[first, second], fingerprint="test")
    assert quality.blank_page([printed, white_page()], ocr) is None
    check = assess_quality([printed, white_page()], ocr)
    assert check.outcome == Outcome.PASS and "blank" not in check.problems


def test_more_text_than_a_page_number_is_not_blank() -> None:
    page = white_page()
    text = [(f"第{i}行诊断意见说明文字", Box(x0=80, y0=100 + 40 * i, x1=500, y1=128 + 40 * i)) for i in range(4)]
    assert quality.blank_page([page], lines_result(text, 1240, 1754)) is None


# --------------------------------------------------------------------------------------------
# Confidence: clearly bad and unread is sure; borderline or read well is not
# --------------------------------------------------------------------------------------------


def test_heavy_blur_with_little_text_read_is_a_confident_fail(photo: tuple[np.ndarray, list[Box]]) -> None:
    image, boxes = photo
    blurred = cv2.GaussianBlur(image, (0, 0), 0.3 * _text_height(boxes))
    check = assess_quality([blurred], ocr_result(boxes, image.shape[1], image.shape[0], score=0.6))
    assert check.outcome == Outcome.FAIL and "blur" in check.problems
    assert check.confidence >= 0.9, check.metrics


def test_heavy_blur_that_the_ocr_read_well_is_an_unsure_fail(photo: tuple[np.ndarray, list[Box]]) -> None:
    """Pixels and OCR disagree: a reviewer should look before the applicant is asked to re-upload."""
    image, boxes = photo
    blurred = cv2.GaussianBlur(image, (0, 0), 0.25 * _text_height(boxes))
    check = assess_quality([blurred], ocr_result(boxes, image.shape[1], image.shape[0], score=0.97))
    assert check.outcome == Outcome.FAIL
    assert check.confidence < 0.8


def test_blur_just_past_the_threshold_is_an_unsure_fail() -> None:
    metrics = {"sharpness": quality._BLUR_FAIL * 0.95, "mean_score": 0.6, "well_read_chars": 0.0}
    assert quality._fail_confidence({"blur"}, metrics) < 0.8
    metrics["sharpness"] = quality._BLUR_FAIL * 0.3
    assert quality._fail_confidence({"blur"}, metrics) >= 0.9


def test_garbled_ocr_on_clean_pixels_is_not_a_confident_fail() -> None:
    """Sharp text the OCR cannot read is often handwriting: a reviewer flag, not a re-upload."""
    image = cv2.imread(str(PHOTOS[0]))
    boxes = detect_lines(image)
    check = assess_quality([image], ocr_result(boxes, image.shape[1], image.shape[0], score=0.4))
    assert check.outcome == Outcome.FAIL and check.confidence < 0.8


def test_pass_confidence_is_high_for_a_clean_photo_and_lower_with_warnings() -> None:
    image = cv2.imread(str(REALWORLD / "lab_np2016_bloodtest2_upright_photo.jpg"))
    boxes = detect_lines(image)
    clean = assess_quality([image], ocr_result(boxes, image.shape[1], image.shape[0], score=0.97))
    dim = assess_quality([(image * 0.45).astype(np.uint8)], ocr_result(boxes, image.shape[1], image.shape[0], 0.85))
    assert clean.outcome == dim.outcome == Outcome.PASS
    assert clean.confidence >= 0.9
    assert dim.confidence < clean.confidence - 0.1


@pytest.mark.parametrize("sigma", [4, 6, 9])
def test_a_real_photo_blurred_past_reading_is_never_blank(sigma: float) -> None:
    """GIVEN the real lab photo blurred so much that neither marks nor text are left (the OCR reads
    nothing) THEN the faint shading of its lines still tells it from a blank sheet."""
    image = cv2.GaussianBlur(cv2.imread(str(REALWORLD / "lab_np2016_bloodtest2_upright_photo.jpg")), (0, 0), sigma)
    h, w = image.shape[:2]
    assert quality.blank_page([image], ocr_result([], w, h)) is None
    assert assess_quality([image], ocr_result([], w, h)).outcome == Outcome.FAIL
