"""A page photographed mirrored (a front camera's selfie view) is flipped back and read; an
ordinary page is never flipped."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from ocr import OcrEngine, read_document, render_pages
from ocr.orient import (
    MIRROR_SURE,
    Orientation,
    apply_transform,
    decide_orientation,
    mirror_points,
    turn,
)
from ocr.types import Box, OcrLine, PageTransform
from tests.api.badinputs import text_image
from tests.ocr.helpers import encode

LINES = [
    "某某市第一人民医院 门诊病历",
    "姓名：张三  性别：男  年龄：68岁",
    "就诊日期：2026年02月20日",
    "诊断：2型糖尿病",
    "处理：继续口服二甲双胍，定期复查。",
]
KEYS = ("第一人民医院门诊病历", "2026年02月20日", "2型糖尿病", "二甲双胍")


def _page() -> Image.Image:
    return Image.open(io.BytesIO(text_image(LINES))).convert("RGB")


def _missing(text: str) -> list[str]:
    flat = text.replace(" ", "")
    return [k for k in KEYS if k not in flat]


# --- geometry, no models -----------------------------------------------------------------------------


@pytest.mark.parametrize(("rotation", "skew"), [(0, 0.0), (90, 0.0), (180, 0.0), (270, 0.0), (90, 7.5)])
def test_a_mirror_then_turn_lands_points_where_pixels_go(rotation: int, skew: float) -> None:
    img = np.full((120, 200, 3), 255, np.uint8)
    img[30:34, 150:154] = 0
    out = apply_transform(img, PageTransform(rotation=rotation, skew=skew, mirror=True))
    orientation = Orientation(rotation, skew, [np.array([[151.5, 31.5]] * 4)], mirror=True)
    ((x, y), *_) = orientation.mapped_polys(200, 120)[0]
    ys, xs = np.nonzero(out[:, :, 0] < 128)
    assert abs(xs.mean() - x) < 1.5 and abs(ys.mean() - y) < 1.5


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_flipping_a_turned_page_is_turning_the_flipped_page_back(rotation: int) -> None:
    """The identity the mirror decision relies on: flip(turn(img, r)) == turn(flip(img), -r)."""
    img = np.random.default_rng(3).integers(0, 255, (40, 70, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        np.flip(turn(img, rotation, 0.0), axis=1), turn(np.flip(img, axis=1), -rotation % 360, 0.0)
    )
    np.testing.assert_array_equal(mirror_points(np.array([[0.0, 5.0]]), 70), [[69.0, 5.0]])


class _FakeModels:
    """Three horizontal lines; the recogniser reads a box well when the mark at its *left* end is
    dark (that is: the page is the right way round) and poorly otherwise."""

    def __init__(self, img: np.ndarray, poor: float = 0.5) -> None:
        self.poor = poor
        self.calls = 0

    def detect_polys(self, img: np.ndarray) -> list[np.ndarray]:
        return [np.array([[20, y], [380, y], [380, y + 20], [20, y + 20]], np.float64) for y in (20, 60, 100)]

    def upside_down_probability(self, crops: list[np.ndarray]) -> list[float]:
        return [0.0] * len(crops)

    def recognise(self, img: np.ndarray, polys: list[np.ndarray] | None = None) -> list[OcrLine]:
        self.calls += 1
        lines = []
        for poly in polys or []:
            x0, y0 = poly.min(axis=0).astype(int)
            x1, y1 = poly.max(axis=0).astype(int)
            dark = img[y0 : y1 + 1, x0 : x0 + 10].mean() < 128
            lines.append(OcrLine(text="字", box=Box(x0=x0, y0=y0, x1=x1, y1=y1), score=0.99 if dark else self.poor))
        return lines


def _marked_page(mirrored: bool) -> np.ndarray:
    img = np.full((140, 400, 3), 255, np.uint8)
    for y in (20, 60, 100):
        img[y : y + 21, 20:30] = 0  # the start of each line
    return np.ascontiguousarray(img[:, ::-1]) if mirrored else img


def _decide(img: np.ndarray, models: _FakeModels) -> Orientation:
    return decide_orientation(img, models, correct_orientation=True, deskew=True, min_skew_degrees=0.7)


def test_decision_flips_a_mirrored_page_only() -> None:
    plain = _FakeModels(_marked_page(False))
    decided = _decide(_marked_page(False), plain)
    assert not decided.mirror and plain.calls == 1  # read well as it is: one probe, no flip tried
    mirrored = _FakeModels(_marked_page(True))
    decided = _decide(_marked_page(True), mirrored)
    assert decided.mirror and decided.rotation == 0


def test_decision_keeps_a_page_whose_mirror_reads_no_better() -> None:
    """A poorly readable page (every variant reads alike) is left as it is."""
    models = _FakeModels(_marked_page(False), poor=0.6)
    models.recognise = lambda img, polys=None: [  # type: ignore[method-assign]
        OcrLine(text="字", box=Box(x0=0, y0=0, x1=1, y1=1), score=MIRROR_SURE - 0.1) for _ in polys or []
    ]
    assert not _decide(_marked_page(True), models).mirror


# --- with the models ---------------------------------------------------------------------------------


@pytest.mark.ocr
@pytest.mark.parametrize(
    "how",
    ["mirrored", "mirrored_upside_down", "mirrored_sideways"],
)
def test_mirrored_page_is_read(engine: OcrEngine, how: str) -> None:
    """GIVEN a text page stored mirrored (and possibly turned) WHEN read THEN it is flipped back and
    every key is read; the cached result redraws the same page."""
    page = ImageOps.mirror(_page())
    if how == "mirrored_upside_down":
        page = page.rotate(180)
    elif how == "mirrored_sideways":
        page = page.rotate(90, expand=True)
    data = encode(page, "PNG")
    doc = read_document(data, engine)
    assert doc.ocr.pages[0].transform.mirror
    assert _missing(doc.ocr.text) == []
    assert np.array_equal(render_pages(data, doc.ocr)[0], doc.images[0])


@pytest.mark.ocr
@pytest.mark.parametrize("rotation", [0, 180])
def test_ordinary_page_is_not_flipped(engine: OcrEngine, rotation: int) -> None:
    data = encode(_page().rotate(rotation), "PNG")
    doc = read_document(data, engine)
    assert not doc.ocr.pages[0].transform.mirror
    assert _missing(doc.ocr.text) == []
