"""Pages photographed sideways, upside down or skewed come out upright and are read."""

from __future__ import annotations

import numpy as np
import pytest

from ocr import OcrEngine, read_document, render_pages
from ocr.engine import sort_reading_order
from ocr.orient import dominant_line_angle, map_points, turn
from ocr.types import Box, OcrLine
from tests.ocr.helpers import realworld, rotate_bytes

LAB_KEYS = ("化验报告单", "2016-08-24")
ID_KEYS = ("公民身份", "430512198908131367")


def _reads(text: str, keys: tuple[str, ...]) -> list[str]:
    """The keys missing from the text (spaces ignored)."""
    flat = text.replace(" ", "")
    return [k for k in keys if k not in flat]


# --- geometry, no models -----------------------------------------------------------------------


def _quad(cx: float, cy: float, length: float, thickness: float, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    d = np.array([np.cos(a), np.sin(a)]) * length / 2
    n = np.array([-np.sin(a), np.cos(a)]) * thickness / 2
    c = np.array([cx, cy])
    return np.array([c - d - n, c + d - n, c + d + n, c - d + n])


@pytest.mark.parametrize("degrees", [0, 12, -30, 44, 60, 89, -89])
def test_dominant_line_angle_is_axial(degrees: float) -> None:
    polys = [_quad(100, 40 * i, 300, 20, degrees + (i % 3 - 1)) for i in range(6)]
    angle = dominant_line_angle(polys)
    assert angle is not None
    diff = (angle - degrees + 90) % 180 - 90
    assert abs(diff) < 1.5


def test_no_dominant_angle_from_squares_or_too_few_lines() -> None:
    assert dominant_line_angle([_quad(10, 10, 20, 20, 0)] * 10) is None
    assert dominant_line_angle([_quad(10, 10, 200, 20, 0)] * 2) is None


@pytest.mark.parametrize(("rotation", "skew"), [(90, 0.0), (180, 0.0), (270, 0.0), (0, 17.5), (270, -33.0)])
def test_map_points_follows_turn(rotation: int, skew: float) -> None:
    """A marked pixel lands where map_points says it does."""
    img = np.full((120, 200, 3), 255, np.uint8)
    img[30:34, 150:154] = 0
    out = turn(img, rotation, skew)
    ((x, y),) = map_points(np.array([[151.5, 31.5]]), 200, 120, rotation, skew)
    ys, xs = np.nonzero(out[:, :, 0] < 128)
    assert abs(xs.mean() - x) < 1.5 and abs(ys.mean() - y) < 1.5


def test_reading_order_groups_a_row_left_to_right() -> None:
    def line(text: str, x0: float, y0: float) -> OcrLine:
        return OcrLine(text=text, box=Box(x0=x0, y0=y0, x1=x0 + 80, y1=y0 + 20), score=0.9)

    lines = [line("性别男", 300, 104), line("第二行", 10, 160), line("姓名张三", 10, 100)]
    assert [ln.text for ln in sort_reading_order(lines)] == ["姓名张三", "性别男", "第二行"]


# --- real photos and their rotations -----------------------------------------------------------


@pytest.mark.ocr
@pytest.mark.parametrize(
    "name",
    [
        "lab_np2016_bloodtest1_rot90_photo.jpg",
        "lab_np2016_bloodtest2_upright_photo.jpg",
        "lab_np2016_bloodtest4_rot90b_photo.jpg",
        "lab_np2016_bloodtest6_skewed_photo.jpg",
    ],
)
def test_realworld_lab_photos_are_read(engine: OcrEngine, name: str) -> None:
    doc = read_document(realworld(name), engine)
    assert _reads(doc.ocr.text, LAB_KEYS) == []


@pytest.mark.ocr
def test_strongly_skewed_perspective_photo_is_levelled(engine: OcrEngine) -> None:
    """bloodtest5 is shot at an angle with perspective: the title must still be read upright."""
    doc = read_document(realworld("lab_np2016_bloodtest5_skewed_photo.jpg"), engine)
    assert "化验报告单" in doc.ocr.text
    assert doc.ocr.pages[0].transform.skew != 0


@pytest.mark.ocr
def test_upside_down_id_card_is_turned(engine: OcrEngine) -> None:
    doc = read_document(realworld("idcard_front_specimen_chineseocr_upsidedown.jpg"), engine)
    assert doc.ocr.pages[0].transform.rotation == 180
    assert _reads(doc.ocr.text, ID_KEYS) == []


@pytest.mark.ocr
@pytest.mark.parametrize("degrees_ccw", [90, 180, 270, 25, -40])
def test_rotated_and_skewed_lab_report(engine: OcrEngine, degrees_ccw: float) -> None:
    """GIVEN the upright lab photo turned by N degrees WHEN read THEN the key text is found."""
    data = rotate_bytes(realworld("lab_np2016_bloodtest2_upright_photo.jpg"), degrees_ccw)
    doc = read_document(data, engine)
    assert _reads(doc.ocr.text, LAB_KEYS) == []
    t = doc.ocr.pages[0].transform
    applied = (t.rotation + t.skew) % 360
    assert min(abs(applied - degrees_ccw % 360), 360 - abs(applied - degrees_ccw % 360)) < 6


@pytest.mark.ocr
@pytest.mark.parametrize("degrees_ccw", [90, 180, 270, 30, -20])
def test_rotated_id_card(engine: OcrEngine, degrees_ccw: float) -> None:
    data = rotate_bytes(realworld("idcard_front_specimen_chineseocr_weixiaobao.jpg"), degrees_ccw)
    doc = read_document(data, engine)
    assert _reads(doc.ocr.text, ("公民身份", "韦小宝")) == []


@pytest.mark.ocr
def test_render_pages_equals_read_images_for_a_turned_photo(engine: OcrEngine) -> None:
    data = rotate_bytes(realworld("lab_np2016_bloodtest2_upright_photo.jpg"), -30)
    doc = read_document(data, engine)
    cached = type(doc.ocr).model_validate_json(doc.ocr.model_dump_json())  # as if from the cache
    again = render_pages(data, cached)
    assert [im.shape for im in again] == [im.shape for im in doc.images]
    assert all(np.array_equal(a, b) for a, b in zip(again, doc.images, strict=True))
    page = doc.ocr.pages[0]
    assert doc.images[0].shape[:2] == (page.height, page.width)
