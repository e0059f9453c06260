"""Seal detection (``find_seal``, ``find_stamp_candidates``) and the seal check (``check_seal``).

Synthetic pages are drawn here with PIL (black text, optional red header/table/logo/signature,
seal stamped with multiply blending so text under it stays visible, as real ink does); real images
come from /work/shared/realworld. ``draw_seal`` and ``draw_page`` are reused by the seal-text tests.
"""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from classifiers.seal import PRESENT_THRESHOLD, _ink_masks, _open_runs, check_seal, find_seal, find_stamp_candidates
from classifiers.types import Outcome, SealFinding
from fixtures.realworld import REALWORLD

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
RED = (215, 30, 35)
PINK = (235, 120, 150)
BLUE = (30, 60, 200)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_PATH, size)


def draw_seal(
    size: int,
    text: str,
    *,
    color: tuple[int, int, int] = RED,
    center_text: str = "诊断证明专用章",
    oval: bool = False,
    rotate: float = 0.0,
) -> Image.Image:
    """An RGBA seal: ring, name along the upper arc (tops outward), star, a line below the star."""
    w, h = size, (int(size * 0.68) if oval else size)
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    ring = max(3, size // 28)
    d.ellipse([ring // 2, ring // 2, w - ring // 2 - 1, h - ring // 2 - 1], outline=(*color, 255), width=ring)
    cx, cy = w / 2, h / 2
    fs = int(min(w, h) * (0.13 if not oval else 0.16))
    font = _font(fs)
    rx, ry = w / 2 - ring * 2.2 - fs * 0.6, h / 2 - ring * 2.2 - fs * 0.6
    span = min(250.0, 22.0 * len(text) + 30) if not oval else min(200.0, 16.0 * len(text) + 40)
    for i, ch in enumerate(text):
        ang = math.radians(-90 - span / 2 + span * (i + 0.5) / len(text))
        x, y = cx + rx * math.cos(ang), cy + ry * math.sin(ang)
        tile = Image.new("RGBA", (fs * 2, fs * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((fs, fs), ch, font=font, fill=(*color, 255), anchor="mm")
        tangent = math.degrees(math.atan2(ry * math.cos(ang), -rx * math.sin(ang)))
        im.alpha_composite(tile.rotate(-tangent, resample=Image.BICUBIC), (int(x - fs), int(y - fs)))
    if not oval:
        r = min(w, h) * 0.13
        pts = [
            (
                cx + (r if k % 2 == 0 else r * 0.4) * math.cos(math.radians(-90 + 36 * k)),
                cy - h * 0.02 + (r if k % 2 == 0 else r * 0.4) * math.sin(math.radians(-90 + 36 * k)),
            )
            for k in range(10)
        ]
        d.polygon(pts, fill=(*color, 255))
    if center_text:
        cf = _font(int(min(w, h) * (0.085 if not oval else 0.13)))
        d.text((cx, cy + h * (0.27 if not oval else 0.15)), center_text, font=cf, fill=(*color, 255), anchor="mm")
    if rotate:
        im = im.rotate(rotate, resample=Image.BICUBIC)
    return im


def draw_page(
    *,
    seal: Image.Image | None = None,
    seal_at: tuple[int, int] = (680, 1050),
    seal_strength: float = 0.9,
    red_header: bool = False,
    red_text: bool = False,
    red_table: bool = False,
    red_logo: bool = False,
    red_signature: bool = False,
    size: tuple[int, int] = (1240, 1754),
) -> np.ndarray:
    """A BGR A4 page at 150 dpi with black text and whatever red marks are asked for."""
    w, h = size
    im = Image.new("RGB", (w, h), (250, 250, 247))
    d = ImageDraw.Draw(im)
    title = _font(56)
    body = _font(32)
    if red_header:
        d.rectangle([80, 60, w - 80, 170], fill=(200, 25, 30))
        d.text((320, 82), "某某市第一人民医院", font=title, fill=(255, 255, 255))
    else:
        d.text((320, 82), "某某市第一人民医院", font=title, fill=(20, 20, 20))
    if red_logo:
        # A hospital logo: a small red ring with a solid cross, left of the name.
        d.ellipse([170, 70, 270, 170], outline=RED, width=8)
        d.rectangle([205, 85, 235, 155], fill=RED)
        d.rectangle([185, 105, 255, 135], fill=RED)
    d.text((420, 200), "疾病诊断证明书", font=title, fill=(20, 20, 20))
    y = 320
    for i in range(22):
        color = RED if red_text and i % 4 == 0 else (25, 25, 25)
        d.text((100, y), f"姓名：张三 性别：男 年龄：56 诊断：2型糖尿病伴多个并发症 第{i}行", font=body, fill=color)
        y += 56
    if red_table:
        for yy in range(310, 1560, 112):
            d.line([80, yy, w - 80, yy], fill=(210, 40, 40), width=3)
        for xx in (80, 620, w - 80):
            d.line([xx, 310, xx, 1542], fill=(210, 40, 40), width=3)
    if red_signature:
        pts = [(760 + 14 * k, 1620 + 28 * math.sin(k * 0.9) + 8 * math.cos(k * 2.3)) for k in range(24)]
        d.line(pts, fill=(190, 20, 40), width=5)
        d.ellipse([740, 1590, 840, 1660], outline=(190, 20, 40), width=4)
    page = np.asarray(im).astype(np.float32) / 255
    if seal is not None:
        # Multiply blend: stamp ink darkens what is under it, black text stays black.
        sa = np.asarray(seal).astype(np.float32) / 255
        alpha = sa[..., 3:] * seal_strength
        ink = sa[..., :3] * alpha + (1 - alpha)
        x, y = seal_at
        sh, sw = sa.shape[:2]
        sh, sw = min(sh, h - y), min(sw, w - x)
        page[y : y + sh, x : x + sw] *= ink[:sh, :sw]
    return cv2.cvtColor((page * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)


def as_phone_photo(
    page: np.ndarray, *, cast: tuple[float, float, float] = (0.8, 0.95, 1.1), seed: int = 0
) -> np.ndarray:
    """Warm colour cast (BGR gains), uneven light, perspective, blur, noise and JPEG."""
    rng = np.random.default_rng(seed)
    h, w = page.shape[:2]
    img = page.astype(np.float32) * np.array(cast, np.float32)
    shade = np.linspace(0.75, 1.0, w, dtype=np.float32)[None, :, None]
    img = np.clip(img * shade + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[40, 30], [w - 20, 60], [w - 50, h - 20], [10, h - 60]])
    img = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=(90, 90, 90))
    img = cv2.GaussianBlur(img, (3, 3), 0)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


HOSPITAL = "六盘水市第一人民医院"


# --------------------------------------------------------------------------------------------------
# Positives


@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("round red seal over black text", lambda: draw_page(seal=draw_seal(460, HOSPITAL))),
        (
            "oval 检验专用章",
            lambda: draw_page(seal=draw_seal(520, "神农架林区人民医院", oval=True, center_text="检验专用章")),
        ),
        ("faded pink seal", lambda: draw_page(seal=draw_seal(460, HOSPITAL, color=PINK), seal_strength=0.45)),
        ("rotated seal", lambda: draw_page(seal=draw_seal(460, HOSPITAL, rotate=-30))),
        ("small seal (38 mm at 150 dpi)", lambda: draw_page(seal=draw_seal(225, HOSPITAL), seal_at=(850, 1400))),
        ("seal across a red-ruled table", lambda: draw_page(seal=draw_seal(460, HOSPITAL), red_table=True)),
        (
            "seal on a page with red header and logo",
            lambda: draw_page(seal=draw_seal(460, HOSPITAL), red_header=True, red_logo=True, red_text=True),
        ),
        ("seal cut by the page edge", lambda: draw_page(seal=draw_seal(460, HOSPITAL), seal_at=(900, 1100))),
        ("phone photo with a warm cast", lambda: as_phone_photo(draw_page(seal=draw_seal(460, HOSPITAL)))),
        (
            "phone photo of a faded seal, bluish cast",
            lambda: as_phone_photo(
                draw_page(seal=draw_seal(460, HOSPITAL, color=PINK), seal_strength=0.5), cast=(1.1, 1.0, 0.85), seed=1
            ),
        ),
    ],
)
def test_red_seal_is_found(name: str, page) -> None:
    finding = find_seal([page()])
    assert finding.present, name
    assert finding.color == "red"
    assert finding.page == 0
    assert finding.score >= PRESENT_THRESHOLD


def test_seal_box_covers_the_stamp() -> None:
    page = draw_page(seal=draw_seal(460, HOSPITAL), seal_at=(680, 1050))
    finding = find_seal([page])
    assert finding.box is not None
    b = finding.box
    assert abs(b.x0 - 680) < 25 and abs(b.y0 - 1050) < 25
    assert abs(b.x1 - 1140) < 25 and abs(b.y1 - 1510) < 25


def test_real_company_seal_is_red_seal() -> None:
    """GIVEN a real round company seal (天津君和缘商贸有限公司 发票专用章) cropped tight."""
    image = cv2.imread(str(REALWORLD / "seal_paddleocr_test_seal.png"))
    finding = find_seal([image])
    assert finding.present and finding.color == "red"


def test_seal_on_second_page_is_reported_with_its_page() -> None:
    finding = find_seal([draw_page(), draw_page(seal=draw_seal(460, HOSPITAL))])
    assert finding.present and finding.page == 1


def test_read_text_gets_the_seal_crop() -> None:
    seen: list[np.ndarray] = []

    def read(crop: np.ndarray) -> str:
        seen.append(crop)
        return f"  {HOSPITAL}  "

    finding = find_seal([draw_page(seal=draw_seal(460, HOSPITAL))], read_text=read)
    assert finding.text == HOSPITAL
    assert len(seen) == 1
    h, w = seen[0].shape[:2]
    assert 460 <= w <= 560 and 460 <= h <= 560  # the stamp with a margin, at full resolution


def test_read_text_not_called_without_a_red_seal() -> None:
    def read(crop: np.ndarray) -> str:
        raise AssertionError("no seal, nothing to read")

    assert find_seal([draw_page()], read_text=read).text is None


# --------------------------------------------------------------------------------------------------
# Negatives


@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("plain black-text page", lambda: draw_page()),
        (
            "red header bar, red text lines, red table",
            lambda: draw_page(red_header=True, red_text=True, red_table=True),
        ),
        ("red logo in the header", lambda: draw_page(red_logo=True)),
        ("red ink signature", lambda: draw_page(red_signature=True)),
        ("phone photo of an unsealed page", lambda: as_phone_photo(draw_page(red_header=True, red_logo=True))),
    ],
)
def test_no_red_seal_on_unsealed_pages(name: str, page) -> None:
    finding = find_seal([page()])
    assert not finding.present, name


def test_solid_red_disc_is_not_a_seal() -> None:
    """A red object in a photo (a round sticker, a cup) is round but solid."""
    page = draw_page()
    cv2.circle(page, (900, 1300), 200, (40, 30, 210), -1)
    assert not find_seal([page]).present


def test_hand_drawn_red_circle_is_not_a_seal() -> None:
    """An empty red ring (a reviewer's circle around a value) has no text or star inside."""
    page = draw_page()
    cv2.ellipse(page, (900, 1300), (220, 200), 0, 0, 360, (40, 30, 210), 6)
    assert not find_seal([page]).present


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in REALWORLD.glob("lab_np2016_*.jpg"))
    + sorted(p.name for p in REALWORLD.glob("idcard_front_*")),
)
def test_real_unsealed_documents(name: str) -> None:
    image = cv2.imread(str(REALWORLD / name))
    assert image is not None
    finding = find_seal([image])
    assert not finding.present, name


def test_blue_stamp_is_reported_but_not_a_seal() -> None:
    finding = find_seal([draw_page(seal=draw_seal(460, "某某贸易有限公司", color=BLUE, center_text="收讫"))])
    assert not finding.present
    assert finding.color == "blue"


def test_red_seal_wins_over_blue_stamp() -> None:
    page = draw_page(seal=draw_seal(460, HOSPITAL))
    blue = draw_page(seal=draw_seal(460, "某某贸易有限公司", color=BLUE), seal_at=(100, 1050))
    finding = find_seal([blue, page])
    assert finding.present and finding.color == "red" and finding.page == 1


def test_candidates_are_sorted_and_scored() -> None:
    cands = find_stamp_candidates(draw_page(seal=draw_seal(460, HOSPITAL), red_header=True, red_text=True))
    assert cands[0].color == "red" and cands[0].score >= PRESENT_THRESHOLD
    assert all(a.score >= b.score for a, b in itertools.pairwise(cands))
    assert all(c.score < PRESENT_THRESHOLD for c in cands[1:])  # header and red text lines


def test_grayscale_and_bgra_pages_are_accepted() -> None:
    page = draw_page(seal=draw_seal(460, HOSPITAL))
    assert not find_seal([cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)]).present  # no colour, no red seal
    assert find_seal([cv2.cvtColor(page, cv2.COLOR_BGR2BGRA)]).present


@pytest.mark.parametrize("seed", range(6))
def test_long_runs_opened_lane_by_lane_equal_the_opening_of_the_whole_mask(seed: int) -> None:
    """The line remover opens only the rows (columns) that could hold a long run; that must give
    exactly OpenCV's opening of the whole mask, runs cut by the image border included (OpenCV
    counts the border as ink, so half a run touching it survives)."""
    rng = np.random.default_rng(seed)
    h, w = rng.integers(200, 700, size=2)
    mask = np.where(rng.random((h, w)) < 0.02, 255, 0).astype(np.uint8)  # speckle
    for _ in range(12):  # rules and runs of every length, some touching the border
        thick, length = int(rng.integers(1, 4)), int(rng.integers(20, max(h, w)))
        if rng.random() < 0.5:
            y, x = int(rng.integers(0, h)), int(rng.choice([0, rng.integers(0, w), w - length // 2]))
            mask[y : y + thick, max(x, 0) : x + length] = 255
        else:
            x, y = int(rng.integers(0, w)), int(rng.choice([0, rng.integers(0, h), h - length // 2]))
            mask[max(y, 0) : y + length, x : x + thick] = 255
    min_len = max(25, int(0.3 * max(h, w)))
    for axis, size in ((1, (min_len, 1)), (0, (1, min_len))):
        whole = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, size))
        assert whole.any()  # the case is not vacuous: some runs are long enough
        np.testing.assert_array_equal(_open_runs(mask, min_len, axis), whole)


def test_ink_masks_are_binary_and_pick_red_pink_and_blue() -> None:
    swatches = np.array(
        [[RED[::-1], PINK[::-1], BLUE[::-1], (20, 20, 20), (245, 245, 245), (60, 140, 200)]], np.uint8
    )  # BGR: red, pink, blue, black text, paper, skin
    masks = _ink_masks(swatches)
    assert masks["red"].dtype == np.uint8 and set(np.unique(masks["red"])) <= {0, 255}
    assert masks["red"][0].tolist() == [255, 255, 0, 0, 0, 0]
    assert masks["blue"][0].tolist() == [0, 0, 255, 0, 0, 0]


# --------------------------------------------------------------------------------------------------
# check_seal

ISSUER = ["六盘水市第一人民医院", "六盘水市一院"]
RED_SEAL = SealFinding(present=True, color="red", text="六盘水市第一人民医院 诊断证明专用章", page=0, score=0.9)


def test_required_and_missing_fails() -> None:
    check = check_seal(SealFinding(present=False), ISSUER, required=True)
    assert check.outcome == Outcome.FAIL and not check.present and check.reason


def test_required_blue_stamp_only_fails_with_reason() -> None:
    check = check_seal(SealFinding(present=False, color="blue", score=0.8), ISSUER, required=True)
    assert check.outcome == Outcome.FAIL and "蓝色" in (check.reason or "")


def test_matching_seal_passes() -> None:
    check = check_seal(RED_SEAL, ISSUER, required=True)
    assert check.outcome == Outcome.PASS and check.matches_issuer is True and check.present


@pytest.mark.parametrize(
    "text",
    [
        "六盘水市第一人民医",  # partial read: last character lost
        "六盘水市第一入民医院",  # 人 -> 入
        "盘水市第一人民医院检验专用章",  # first character lost, suffix kept
        "六盘水市一院",  # an alias
        "六盘水市第—人民医院诊断证明专用章",  # 一 read as a dash
    ],
)
def test_ocr_errors_still_match(text: str) -> None:
    check = check_seal(RED_SEAL.model_copy(update={"text": text}), ISSUER, required=True)
    assert check.matches_issuer is True, text
    assert check.outcome == Outcome.PASS


@pytest.mark.parametrize(
    "text",
    ["神农架林区人民医院", "绥化市中医医院诊断证明专用章", "天津君和缘商贸有限公司 发票专用章", "北京协和医院"],
)
def test_seal_of_another_organisation_fails(text: str) -> None:
    check = check_seal(RED_SEAL.model_copy(update={"text": text}), ISSUER, required=True)
    assert check.matches_issuer is False, text
    assert check.outcome == Outcome.FAIL and check.reason


@pytest.mark.parametrize("text", [None, "", "医院", "专用章", "人民医"])
def test_unreadable_seal_passes_without_verdict_on_issuer(text: str | None) -> None:
    """Includes reads too poor to name anyone; see also the look-alike misread below."""
    check = check_seal(RED_SEAL.model_copy(update={"text": text}), ISSUER, required=True)
    assert check.outcome == Outcome.PASS and check.matches_issuer is None


def test_no_issuer_known_passes_without_verdict() -> None:
    check = check_seal(RED_SEAL, [], required=True)
    assert check.outcome == Outcome.PASS and check.matches_issuer is None


def test_not_required_still_reports_what_was_seen() -> None:
    mismatch = check_seal(RED_SEAL.model_copy(update={"text": "神农架林区人民医院"}), ISSUER, required=False)
    assert mismatch.outcome == Outcome.NOT_APPLICABLE
    assert mismatch.present and mismatch.text == "神农架林区人民医院" and mismatch.matches_issuer is False
    absent = check_seal(SealFinding(present=False), ISSUER, required=False)
    assert absent.outcome == Outcome.NOT_APPLICABLE and not absent.present


def test_a_misread_of_the_issuer_through_look_alike_glyphs_is_not_another_organisation() -> None:
    """六技持区人民医场 is 六枝特区人民医院 read through look-alike glyphs (枝/技, 特/持, 院/场):
    the applicant must not be told the seal is someone else's."""
    check = check_seal(RED_SEAL.model_copy(update={"text": "六技持区人民医场"}), ["六枝特区人民医院"], required=True)
    assert check.outcome == Outcome.PASS and check.matches_issuer is None
    other_seal = RED_SEAL.model_copy(update={"text": "苏州大学附属第一医院"})
    other = check_seal(other_seal, ["六枝特区人民医院"], required=True)
    assert other.outcome == Outcome.FAIL and other.matches_issuer is False


def test_look_alikes_share_a_component_not_just_a_stroke() -> None:
    """只技持区人心以院: only 区人院 are in place, but 只/六 (八), 技/枝 (支) and 持/特 (寺) share a
    component, so it is the issuer misread. Another hospital of the same length is still another."""
    garbled = check_seal(RED_SEAL.model_copy(update={"text": "只技持区人心以院"}), ["六枝特区人民医院"], required=True)
    assert garbled.outcome == Outcome.PASS and garbled.matches_issuer is None
    for other_name in ("遵义市第一人民医院", "宜昌市中心医院", "绥化市中医医院"):
        other = check_seal(RED_SEAL.model_copy(update={"text": other_name}), ["六枝特区人民医院"], required=True)
        assert other.outcome == Outcome.FAIL and other.matches_issuer is False, other_name
