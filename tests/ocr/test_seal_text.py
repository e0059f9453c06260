"""Reading a seal's curved text (``ocr.seal_text``).

The geometry (ink extraction, ellipse fit, text band, unwrapping, gap) is tested without models
through an injected recogniser; the tests marked ``ocr`` run the real PP-OCRv6 recogniser.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from classifiers.seal import check_seal, crop_candidate, find_seal, find_stamp_candidates
from classifiers.types import Outcome
from fixtures.realworld import REALWORLD
from ocr.seal_text import (
    SealTextReader,
    find_arc_gap,
    find_text_band,
    fit_seal_ellipse,
    ink_image,
    unwrap_ring,
)
from tests.classifiers.test_seal import PINK, as_phone_photo, draw_page, draw_seal, on_desk, recompress

REAL_SEAL = REALWORLD / "seal_paddleocr_test_seal.png"


def seal_crop(page: np.ndarray) -> np.ndarray:
    return crop_candidate(page, find_stamp_candidates(page)[0])


def char_accuracy(truth: str, read: str) -> float:
    """1 - edit distance / length of the truth: 1.0 is a perfect read."""
    return max(0.0, 1 - Levenshtein.distance(truth, read) / len(truth))


# --------------------------------------------------------------------------------------------------
# Geometry, no models


def test_ink_image_drops_black_print_and_keeps_seal_ink() -> None:
    page = draw_page(seal=draw_seal(460, "六盘水市第一人民医院"))
    ink = ink_image(page)
    # Black text far from the seal becomes paper; the seal's ring stays dark.
    assert (ink[300:700, 80:600] > 200).mean() > 0.99
    assert (ink[1050:1520, 680:1150] < 128).mean() > 0.05


@pytest.mark.parametrize("color", [(215, 30, 35), PINK])
def test_ink_image_keeps_thin_strokes_through_jpeg_colour_subsampling(color: tuple[int, int, int]) -> None:
    """GIVEN a 240 px seal stamped over black print and saved as JPEG (colour kept at half the
    resolution of brightness, so a thin stroke's colour is smeared and weakened) WHEN its ink is
    extracted THEN nearly all of its strokes are there (from colour alone about 70 % were) and the
    black print under it is not."""
    seal = draw_seal(240, "六盘水市卫生健康局", color=color, center_text="")
    strokes = np.asarray(seal)[..., 3] > 128
    photo = recompress(draw_page(seal=seal, seal_at=(700, 1100), seal_strength=0.8), 70, 1)
    ink = ink_image(photo[1100:1340, 700:940]) < 128
    assert (ink & strokes).sum() / strokes.sum() >= 0.85
    assert (ink & ~strokes).sum() / (~strokes).sum() <= 0.02


def test_ellipse_fits_the_ring() -> None:
    crop = seal_crop(draw_page(seal=draw_seal(460, "六盘水市第一人民医院")))
    (cx, cy), (d1, d2), _ = fit_seal_ellipse(ink_image(crop))
    h, w = crop.shape[:2]
    assert abs(cx - w / 2) < 12 and abs(cy - h / 2) < 12
    assert 440 < d1 < 480 and 440 < d2 < 480


def test_text_band_lies_inside_the_ring() -> None:
    crop = seal_crop(draw_page(seal=draw_seal(460, "六盘水市第一人民医院")))
    ink = ink_image(crop)
    top, bottom = find_text_band(ink, fit_seal_ellipse(ink))
    assert 0.75 < top < 0.95
    assert 0.45 < bottom < top - 0.14


def test_unwrapped_strip_is_a_long_line_of_ink() -> None:
    crop = seal_crop(draw_page(seal=draw_seal(460, "六盘水市第一人民医院")))
    ink = ink_image(crop)
    ellipse = fit_seal_ellipse(ink)
    strip = unwrap_ring(ink, ellipse, *find_text_band(ink, ellipse), 64)
    assert strip.shape[0] == 64 and strip.shape[1] > 8 * 64
    dark_cols = (strip < 128).any(axis=0)
    assert dark_cols.mean() > 0.4  # characters along most of the strip


@pytest.mark.parametrize(("tilt", "expected_gap"), [(0, 90), (-30, 120), (25, 65)])
def test_gap_follows_a_tilted_stamp(tilt: float, expected_gap: float) -> None:
    """GIVEN a stamp put on turned (PIL: negative = clockwise) THEN the gap between the name's end
    and start, where unwrapping begins, turns with it."""
    crop = seal_crop(draw_page(seal=draw_seal(460, "六盘水市第一人民医院", rotate=tilt)))
    ink = ink_image(crop)
    ellipse = fit_seal_ellipse(ink)
    center, width = find_arc_gap(ink, ellipse, find_text_band(ink, ellipse))
    assert abs((center - expected_gap + 180) % 360 - 180) < 15
    assert width >= 10


def test_reader_passes_strips_to_the_recogniser() -> None:
    seen: list[np.ndarray] = []

    def fake(images: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        seen.extend(images)
        return [("某某医院", 0.9) for _ in images]

    reader = SealTextReader(recognizer=fake)
    read = reader(seal_crop(draw_page(seal=draw_seal(460, "六盘水市第一人民医院"))))
    assert read.text.startswith("某某医院") and read.arc == "某某医院" and read.name_score == 0.9
    assert seen and seen[0].shape[1] > 5 * seen[0].shape[0]  # the arc strip comes first, long


def test_low_score_reads_are_dropped() -> None:
    reader = SealTextReader(recognizer=lambda images: [("噪", 0.1) for _ in images])
    read = reader(seal_crop(draw_page(seal=draw_seal(460, "六盘水市第一人民医院"))))
    assert read.text == "" and read.name_score == 0.0


def test_tiny_or_empty_crop_reads_nothing() -> None:
    reader = SealTextReader(recognizer=lambda images: pytest.fail("nothing to read"))
    assert reader(np.zeros((8, 8, 3), np.uint8)).text == ""


# --------------------------------------------------------------------------------------------------
# With the real recognition model


@pytest.fixture(scope="module")
def reader() -> SealTextReader:
    return SealTextReader()


@pytest.mark.ocr
def test_real_company_seal_is_read(reader: SealTextReader) -> None:
    """GIVEN the real 天津君和缘商贸有限公司 发票专用章 seal."""
    result = reader.read(cv2.imread(str(REAL_SEAL)))
    assert char_accuracy("天津君和缘商贸有限公司", result.arc) >= 0.8, result
    assert "发票专用章" in result.text


HOSPITALS = [
    "六盘水市第一人民医院",
    "绥化市中医医院",
    "神农架林区人民医院",
    "黑龙江省绥化市第一医院",
    "贵州医科大学附属医院",
]


@pytest.mark.ocr
@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("straight", lambda h: draw_page(seal=draw_seal(460, h))),
        ("tilted", lambda h: draw_page(seal=draw_seal(460, h, rotate=-28))),
        ("faded", lambda h: draw_page(seal=draw_seal(460, h, color=PINK), seal_strength=0.45)),
        ("oval", lambda h: draw_page(seal=draw_seal(520, h, oval=True, center_text="检验专用章"))),
        ("small", lambda h: draw_page(seal=draw_seal(240, h), seal_at=(850, 1400))),
        ("photo", lambda h: as_phone_photo(draw_page(seal=draw_seal(460, h)), seed=3)),
    ],
)
def test_synthetic_hospital_seals_are_read(reader: SealTextReader, name: str, make) -> None:
    """Character accuracy of the arc over several hospitals, and check_seal matches each one."""
    accuracies = []
    for hospital in HOSPITALS:
        finding = find_seal([make(hospital)], read_text=reader)
        assert finding.present, (name, hospital)
        arc = (finding.text or "").split(" ")[0]
        accuracies.append(char_accuracy(hospital, arc))
        check = check_seal(finding, [hospital], required=True)
        assert check.outcome == Outcome.PASS and check.matches_issuer is True, (name, hospital, finding.text)
    assert np.mean(accuracies) >= 0.9, (name, accuracies)


@pytest.mark.ocr
def test_seal_of_another_hospital_is_a_mismatch(reader: SealTextReader) -> None:
    finding = find_seal([draw_page(seal=draw_seal(460, "神农架林区人民医院"))], read_text=reader)
    check = check_seal(finding, ["六盘水市第一人民医院", "六盘水市一院"], required=True)
    assert check.outcome == Outcome.FAIL and check.matches_issuer is False, finding.text


@pytest.mark.ocr
def test_foreign_seal_over_print_on_a_photographed_page_is_a_mismatch(reader: SealTextReader) -> None:
    """GIVEN a 卫生健康局's seal stamped over black print on a page photographed on a desk (JPEG
    smears the seal's colour) WHEN it is found and read THEN it is another organisation's seal,
    sure enough to be told to the applicant."""
    seal = draw_seal(440, "六盘水市卫生健康局", ring=5, center_text="", uneven=5)
    page = draw_page(seal=seal, seal_at=(650, 1290), seal_strength=0.85)
    photo = recompress(on_desk(page, scale=0.8), 80, 1)
    finding = find_seal([photo], read_text=reader)
    assert finding.present
    check = check_seal(finding, ["六盘水市第一人民医院"], required=True)
    assert check.outcome == Outcome.FAIL and check.matches_issuer is False, finding.text
    assert check.confidence >= 0.8, (finding.text, check.confidence)
