"""Seal detection (``find_seal``, ``find_stamp_candidates``) and the seal check (``check_seal``).

Synthetic pages are drawn here with PIL (black text, optional red header/table/logo/signature,
seal stamped with multiply blending so text under it stays visible, as real ink does); real images
come from /work/shared/realworld. ``draw_seal`` and ``draw_page`` are reused by the seal-text tests.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from classifiers.seal import (
    MIN_REL_DIAMETER,
    PRESENT_THRESHOLD,
    _analysis_image,
    _ink_masks,
    _ink_planes,
    _open_runs,
    _Paper,
    _remeasure,
    _white_balance,
    _white_balance_gains,
    check_seal,
    find_seal,
    find_stamp_candidates,
    is_printed_emblem,
    issuer_match,
    match_issuer,
    page_read_confidence,
)
from classifiers.types import Outcome, SealFinding
from fixtures.realworld import REALWORLD
from ocr.seal_text import SealText
from ocr.types import Box, OcrLine, OcrPage, OcrResult

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
KAI_FONT = "/usr/share/fonts/truetype/arphic/ukai.ttc"
SERIF_FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
RED = (215, 30, 35)
PINK = (235, 120, 150)
PALE_PINK = (240, 150, 175)
BLUE = (30, 60, 200)
BLACK_INK = (35, 35, 40)
YELLOW = (240, 200, 40)


def _font(size: int, path: str = FONT_PATH) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def draw_seal(
    size: int,
    text: str,
    *,
    color: tuple[int, int, int] = RED,
    center_text: str = "诊断证明专用章",
    oval: bool = False,
    rotate: float = 0.0,
    ring: int | None = None,
    font: str = FONT_PATH,
    star: bool | None = None,
    inner_ring: bool = False,
    uneven: int | None = None,
) -> Image.Image:
    """An RGBA seal: ring, name along the upper arc (tops outward), star, a line below the star.

    ``ring`` sets the ring's width (thin rings are common on real seals), ``inner_ring`` adds the
    thin second ring of some oval seals, ``uneven`` (a seed) inks it unevenly as a worn pad does."""
    w, h = size, (int(size * 0.68) if oval else size)
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    ring = ring if ring is not None else max(3, size // 28)
    d.ellipse([ring // 2, ring // 2, w - ring // 2 - 1, h - ring // 2 - 1], outline=(*color, 255), width=ring)
    if inner_ring:
        g = ring * 2 + 3
        d.ellipse([g, g, w - g - 1, h - g - 1], outline=(*color, 255), width=max(1, ring // 2))
    cx, cy = w / 2, h / 2
    fs = int(min(w, h) * (0.13 if not oval else 0.16))
    fnt = _font(fs, font)
    extra = 3 if inner_ring else 0
    rx, ry = w / 2 - ring * (2.2 + extra) - fs * 0.6, h / 2 - ring * (2.2 + extra) - fs * 0.6
    span = min(250.0, 22.0 * len(text) + 30) if not oval else min(200.0, 16.0 * len(text) + 40)
    for i, ch in enumerate(text):
        ang = math.radians(-90 - span / 2 + span * (i + 0.5) / len(text))
        x, y = cx + rx * math.cos(ang), cy + ry * math.sin(ang)
        tile = Image.new("RGBA", (fs * 2, fs * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((fs, fs), ch, font=fnt, fill=(*color, 255), anchor="mm")
        tangent = math.degrees(math.atan2(ry * math.cos(ang), -rx * math.sin(ang)))
        im.alpha_composite(tile.rotate(-tangent, resample=Image.Resampling.BICUBIC), (int(x - fs), int(y - fs)))
    if star if star is not None else not oval:
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
        cf = _font(int(min(w, h) * (0.085 if not oval else 0.13)), font)
        d.text((cx, cy + h * (0.27 if not oval else 0.15)), center_text, font=cf, fill=(*color, 255), anchor="mm")
    if uneven is not None:
        rng = np.random.default_rng(uneven)
        arr = np.asarray(im).astype(np.float32)
        low = cv2.resize(rng.random((6, 6)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        arr[..., 3] *= np.clip(0.45 + 0.55 * low, 0, 1) * (rng.random((h, w)) > 0.08)
        im = Image.fromarray(arr.astype(np.uint8), "RGBA")
    if rotate:
        im = im.rotate(rotate, resample=Image.Resampling.BICUBIC)
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
    handwriting: bool = False,
    size: tuple[int, int] = (1240, 1754),
) -> np.ndarray:
    """A BGR A4 page at 150 dpi with black text and whatever red marks are asked for.

    ``handwriting`` writes a doctor's black signature and date across the seal after stamping."""
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
        sx, sy = max(0, -x), max(0, -y)  # a seal hanging over the left/top edge is cut there
        x, y = max(0, x), max(0, y)
        sh, sw = min(sa.shape[0] - sy, h - y), min(sa.shape[1] - sx, w - x)
        page[y : y + sh, x : x + sw] *= ink[sy : sy + sh, sx : sx + sw]
    out = cv2.cvtColor((page * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    if handwriting and seal is not None:
        _handwrite(out, seal_at, seal.size)
    return out


def _handwrite(page: np.ndarray, at: tuple[int, int], size: tuple[int, int]) -> None:
    """Black pen strokes (a signature and a date) written over the stamped area."""
    x, y = at
    w, h = size
    rng = np.random.default_rng(7)
    for row in (0.35, 0.55, 0.75):
        xs = np.linspace(x - 0.2 * w, x + 1.1 * w, 40)
        ys = y + row * h + 0.06 * h * np.sin(xs / 17.0 + row * 9) + rng.normal(0, 2, xs.size)
        pts = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.polylines(page, [pts], False, (30, 30, 30), thickness=max(3, w // 90), lineType=cv2.LINE_AA)


def with_cast(page: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    """A colour cast: per-channel gains (BGR)."""
    return np.clip(page.astype(np.float32) * np.array(gains, np.float32), 0, 255).astype(np.uint8)


def recompress(page: np.ndarray, quality: int = 45, times: int = 2) -> np.ndarray:
    """JPEG recompressed ``times`` over (forwarded through chat apps)."""
    for _ in range(times):
        ok, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        page = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return page


def as_scan(page: np.ndarray, *, saturation: float = 0.55, seed: int = 0) -> np.ndarray:
    """A cheap office scan: grey paper, washed-out colour, a little blur, noise and JPEG."""
    rng = np.random.default_rng(seed)
    hsv = cv2.cvtColor(page, cv2.COLOR_BGR2HSV).astype(np.float32)
    hsv[..., 1] *= saturation
    img = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
    noisy = np.clip(img * 0.9 + 12 + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    return recompress(cv2.GaussianBlur(noisy, (3, 3), 0), 75, 1)


def as_phone_photo(
    page: np.ndarray, *, cast: tuple[float, float, float] = (0.8, 0.95, 1.1), seed: int = 0
) -> np.ndarray:
    """Warm colour cast (BGR gains), uneven light, perspective, blur, noise and JPEG."""
    rng = np.random.default_rng(seed)
    h, w = page.shape[:2]
    img = page.astype(np.float32) * np.array(cast, np.float32)
    shade = np.linspace(0.75, 1.0, w, dtype=np.float32)[None, :, None]
    lit = np.clip(img * shade + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = np.array([[40, 30], [w - 20, 60], [w - 50, h - 20], [10, h - 60]], np.float32)
    warped = cv2.warpPerspective(lit, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=(90, 90, 90))
    ok, buf = cv2.imencode(".jpg", cv2.GaussianBlur(warped, (3, 3), 0), [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


HOSPITAL = "六盘水市第一人民医院"


def on_desk(
    page: np.ndarray, *, tilt: float = 25.0, scale: float = 0.5, desk: tuple[int, int, int] = (118, 122, 126)
) -> np.ndarray:
    """A phone photo of a page lying on a grey desk as normalisation hands it on: the page shrunk
    with the desk around it, turned upright by ``tilt`` degrees onto a larger canvas whose corners
    are filled white."""
    small = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    hh, ww = int(sh / 0.55), int(sw / 0.55)
    canvas = np.full((hh, ww, 3), desk, np.uint8)
    y, x = (hh - sh) // 2, (ww - sw) // 2
    canvas[y : y + sh, x : x + sw] = small
    m = cv2.getRotationMatrix2D((ww / 2, hh / 2), tilt, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(hh * s + ww * c), int(hh * c + ww * s)
    m[0, 2] += nw / 2 - ww / 2
    m[1, 2] += nh / 2 - hh / 2
    return cv2.warpAffine(canvas, m, (nw, nh), borderValue=(255, 255, 255))


def national_emblem_card() -> np.ndarray:
    """The back of an ID card: a printed 国徽 (red disc, yellow Tiananmen, stars and grain ring,
    red ribbon) beside black headings, on a pale guilloche background."""
    w, h = 856, 540
    im = Image.new("RGB", (w, h), (236, 242, 238))
    d = ImageDraw.Draw(im)
    for k in range(0, w, 9):  # guilloche-ish pale lines
        d.arc([k - 300, 200, k + 300, 800], 180, 360, fill=(200, 222, 215), width=1)
    cx, cy, r = 140, 140, 92
    d.ellipse([cx - r - 14, cy - r - 14, cx + r + 14, cy + r + 14], outline=YELLOW, width=16)  # grain ring
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=RED)
    d.rectangle([cx - 50, cy + 5, cx + 50, cy + 40], fill=YELLOW)  # Tiananmen
    d.polygon([(cx - 60, cy + 5), (cx, cy - 25), (cx + 60, cy + 5)], fill=YELLOW)
    for k, (sx, sy, sr) in enumerate([(0, -55, 22), (-35, -30, 9), (-15, -42, 9), (15, -42, 9), (35, -30, 9)]):
        pts = [
            (
                cx + sx + (sr if j % 2 == 0 else sr * 0.4) * math.cos(math.radians(-90 + 36 * j + 10 * k)),
                cy + sy + (sr if j % 2 == 0 else sr * 0.4) * math.sin(math.radians(-90 + 36 * j + 10 * k)),
            )
            for j in range(10)
        ]
        d.polygon(pts, fill=YELLOW)
    d.polygon([(cx - 80, cy + 95), (cx + 80, cy + 95), (cx + 60, cy + 125), (cx - 60, cy + 125)], fill=RED)
    d.text((300, 90), "中华人民共和国", font=_font(52), fill=(20, 20, 20))
    d.text((300, 180), "居民身份证", font=_font(64), fill=(20, 20, 20))
    d.text((120, 400), "签发机关  某某市公安局某某分局", font=_font(28), fill=(30, 30, 30))
    d.text((120, 450), "有效期限  2016.03.01-2036.03.01", font=_font(28), fill=(30, 30, 30))
    return cv2.cvtColor(np.asarray(im), cv2.COLOR_RGB2BGR)


def social_security_card() -> np.ndarray:
    """A 社会保障卡 front: red title, red wave artwork, the round red 社保 logo (ring with a solid
    figure) and a bank's round red logo (ring, square hole, bar)."""
    w, h = 856, 540
    im = Image.new("RGB", (w, h), (245, 243, 238))
    d = ImageDraw.Draw(im)
    for k in range(6):  # wave artwork along the bottom
        pts = [(x, 420 + 14 * k + 18 * math.sin(x / 70 + k)) for x in range(0, w, 8)]
        d.line(pts, fill=(225, 60, 60), width=6)
    d.ellipse([30, 25, 130, 125], outline=RED, width=12)  # 社保 logo
    d.polygon([(80, 45), (112, 100), (48, 100)], fill=RED)
    d.ellipse([66, 55, 94, 80], fill=RED)
    d.ellipse([720, 25, 820, 125], outline=RED, width=14)  # bank logo
    d.rectangle([752, 57, 788, 93], outline=RED, width=10)
    d.rectangle([766, 30, 774, 120], fill=RED)
    d.text((150, 45), "中华人民共和国社会保障卡", font=_font(46), fill=RED)
    d.text((60, 200), "姓名  张三", font=_font(34), fill=(20, 20, 20))
    d.text((60, 260), "社会保障号码  520201195601011234", font=_font(30), fill=(20, 20, 20))
    d.text((60, 320), "卡号  A12345678", font=_font(30), fill=(20, 20, 20))
    return cv2.cvtColor(np.asarray(im), cv2.COLOR_RGB2BGR)


def invoice_page() -> np.ndarray:
    """A medical invoice: brown-red table, black items, and the printed 全国统一发票监制章 oval at
    the top centre."""
    w, h = 1240, 760
    im = Image.new("RGB", (w, h), (250, 249, 244))
    d = ImageDraw.Draw(im)
    mark = draw_seal(
        230, "全国统一发票监制章", oval=True, center_text="贵州省税务局", ring=3, star=False, font=SERIF_FONT
    )
    im.paste(mark, (505, 20), mark)
    d.text((330, 180), "贵州省医疗门诊收费票据（电子）", font=_font(44), fill=(150, 60, 40))
    for yy in range(260, 700, 55):
        d.line([60, yy, w - 60, yy], fill=(170, 70, 50), width=2)
    for xx in (60, 420, 800, w - 60):
        d.line([xx, 260, xx, 700], fill=(170, 70, 50), width=2)
    for i, item in enumerate(["西药费 120.50", "检查费 80.00", "化验费 45.00", "诊察费 10.00"]):
        d.text((80, 270 + 55 * i), item, font=_font(30), fill=(25, 25, 25))
    return cv2.cvtColor(np.asarray(im), cv2.COLOR_RGB2BGR)


# Positives the scoring sets draw and the real files show: thin rings, other fonts, ovals, pale pink
# ink, seals cut by the page edge, small, over handwriting, colour casts, scans, recompression.
POSITIVE_VARIANTS: dict[str, Callable[[], np.ndarray]] = {
    "thin ring, kai font": lambda: draw_page(seal=draw_seal(420, HOSPITAL, ring=3, font=KAI_FONT, uneven=1)),
    "thin oval with inner ring": lambda: draw_page(
        seal=draw_seal(
            440, "神农架林区人民医院", oval=True, ring=3, inner_ring=True, center_text="检验专用章", uneven=2
        )
    ),
    "pale pink ink": lambda: draw_page(seal=draw_seal(440, HOSPITAL, color=PALE_PINK, uneven=3), seal_strength=0.6),
    "faint red, worn pad": lambda: draw_page(seal=draw_seal(440, HOSPITAL, ring=4, uneven=4), seal_strength=0.35),
    "faint oval on a scan": lambda: as_scan(
        draw_page(
            seal=draw_seal(460, "绥化市中医医院", oval=True, ring=3, center_text="检验专用章", uneven=5),
            seal_strength=0.45,
        )
    ),
    "small seal (26 mm)": lambda: draw_page(seal=draw_seal(155, HOSPITAL, ring=3, uneven=6), seal_at=(900, 1450)),
    "small seal on a scan": lambda: as_scan(
        draw_page(seal=draw_seal(150, HOSPITAL, ring=2, uneven=7), seal_at=(950, 1500)), seed=1
    ),
    "over handwriting": lambda: draw_page(seal=draw_seal(440, HOSPITAL, ring=4, uneven=8), handwriting=True),
    "thin oval over handwriting": lambda: draw_page(
        seal=draw_seal(460, "贵州医科大学附属医院", oval=True, ring=3, center_text="诊断证明专用章", uneven=9),
        handwriting=True,
        seal_strength=0.6,
    ),
    "cut by the right edge": lambda: draw_page(seal=draw_seal(440, HOSPITAL, ring=3, uneven=10), seal_at=(940, 1150)),
    "cut by the bottom edge": lambda: draw_page(seal=draw_seal(440, HOSPITAL, ring=3, uneven=11), seal_at=(600, 1420)),
    "yellow tungsten cast": lambda: with_cast(
        draw_page(seal=draw_seal(440, HOSPITAL, ring=4, uneven=12)), (0.55, 0.9, 1.1)
    ),
    "blue daylight cast, pale": lambda: with_cast(
        draw_page(seal=draw_seal(440, HOSPITAL, color=PALE_PINK, ring=3, uneven=13), seal_strength=0.7),
        (1.15, 1.0, 0.8),
    ),
    "green fluorescent cast": lambda: with_cast(draw_page(seal=draw_seal(440, HOSPITAL, uneven=14)), (0.9, 1.15, 0.85)),
    "recompressed photo, faint": lambda: recompress(
        as_phone_photo(draw_page(seal=draw_seal(440, HOSPITAL, ring=3, uneven=15), seal_strength=0.5), seed=4), 40, 3
    ),
    "serif font, tilted, washed-out scan": lambda: as_scan(
        draw_page(seal=draw_seal(430, HOSPITAL, font=SERIF_FONT, rotate=20, uneven=16)), saturation=0.4, seed=2
    ),
}

NEGATIVE_VARIANTS: dict[str, Callable[[], np.ndarray]] = {
    "blue stamp": lambda: draw_page(seal=draw_seal(440, "某某贸易有限公司", color=BLUE, center_text="收讫", uneven=1)),
    "black stamp": lambda: draw_page(seal=draw_seal(440, HOSPITAL, color=BLACK_INK, uneven=2)),
    "blue stamp, warm photo": lambda: as_phone_photo(draw_page(seal=draw_seal(440, "某某公司", color=BLUE)), seed=5),
    "national emblem on an ID card back": national_emblem_card,
    "national emblem, warm photo": lambda: with_cast(national_emblem_card(), (0.8, 0.95, 1.1)),
    "social security card artwork": social_security_card,
    "red table, header, text, logo, signature": lambda: draw_page(
        red_header=True, red_text=True, red_table=True, red_logo=True, red_signature=True
    ),
    "red table on a scan": lambda: as_scan(draw_page(red_table=True, red_text=True)),
    "black handwriting only": lambda: draw_page(seal=draw_seal(440, HOSPITAL, color=(250, 250, 247)), handwriting=True),
}


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


@pytest.mark.parametrize(("size", "sigma"), [(115, 1.6), (115, 2.0), (120, 1.6), (120, 2.0), (125, 2.0)])
def test_a_small_seal_on_a_soft_photo_is_found(size: int, sigma: float) -> None:
    """A seal 9-10 % of the page's width, blurred and saved as a JPEG (a phone photo of a report
    with a small stamp): measured again in full detail, blur still spreads its thin ring over half
    of the rim band, which is the stamp's small size, not an emblem's thick rim."""
    page = cv2.GaussianBlur(draw_page(seal=draw_seal(size, HOSPITAL), seal_at=(880, 1420)), (0, 0), sigma)
    ok, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 75])
    assert ok
    finding = find_seal([cv2.imdecode(buf, cv2.IMREAD_COLOR)])
    assert finding.present, finding


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

    def read(crop: np.ndarray) -> SealText:
        seen.append(crop)
        return SealText(arc=f"  {HOSPITAL}  ", arc_score=0.97)

    finding = find_seal([draw_page(seal=draw_seal(460, HOSPITAL))], read_text=read)
    assert finding.text == HOSPITAL and finding.name_score == 0.97
    assert len(seen) == 1
    h, w = seen[0].shape[:2]
    assert 460 <= w <= 560 and 460 <= h <= 560  # the stamp with a margin, at full resolution


def test_read_text_not_called_without_a_red_seal() -> None:
    def read(crop: np.ndarray) -> SealText:
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


# --------------------------------------------------------------------------------------------------
# Variations the scoring sets and the real files show (issue 11): thin, faint, oval, small, cut,
# overwritten, colour-cast, scanned and recompressed seals; printed red emblems and other stamps.


@pytest.mark.parametrize("name", sorted(POSITIVE_VARIANTS))
def test_seal_variation_is_found(name: str) -> None:
    finding = find_seal([POSITIVE_VARIANTS[name]()])
    assert finding.present and finding.color == "red", (name, finding)
    assert PRESENT_THRESHOLD <= finding.score <= 1.0


@pytest.mark.parametrize("name", sorted(NEGATIVE_VARIANTS))
def test_stamp_like_mark_that_is_no_hospital_seal(name: str) -> None:
    finding = find_seal([NEGATIVE_VARIANTS[name]()])
    assert not finding.present, (name, finding)


def test_blue_and_black_stamps_are_reported_by_colour() -> None:
    assert find_seal([NEGATIVE_VARIANTS["blue stamp"]()]).color == "blue"
    assert find_seal([NEGATIVE_VARIANTS["black stamp"]()]).color == "none"  # black ink is print, not a red seal


def test_faint_seal_scores_lower_than_a_clear_one() -> None:
    """The score is a confidence: a seal only found by the faint-ink pass is less sure."""
    clear = find_seal([draw_page(seal=draw_seal(440, HOSPITAL))])
    faint = find_seal([POSITIVE_VARIANTS["faint red, worn pad"]()])
    assert clear.score >= 0.95
    assert PRESENT_THRESHOLD <= faint.score < clear.score


def test_unsealed_page_reports_how_near_anything_came() -> None:
    """GIVEN no stamp: the score is the best near miss, low on a plain page."""
    plain = find_seal([draw_page()])
    assert not plain.present and plain.color == "none" and plain.score < 0.1


@pytest.mark.parametrize(("size", "doubted"), [(100, True), (62, False)])
def test_a_seal_smaller_than_a_seal_should_be_is_doubt_about_no_seal(size: int, doubted: bool) -> None:
    """GIVEN a well-formed red seal at 8–9 % of the sheet (under ``MIN_REL_DIAMETER``: a small seal,
    or a sheet measured too large on a pale desk) THEN it is not reported as a seal, but "no seal"
    is doubt, a reviewer flag, not a defect told to the applicant (it was told, at 0.81). A mark at
    5 % is no such doubt."""
    page = draw_page(seal=draw_seal(size, HOSPITAL), seal_at=(900, 1400))
    finding = find_seal([page])
    assert not finding.present
    check = check_seal(finding, [HOSPITAL], required=True, read_confidence=0.95)
    assert check.outcome == Outcome.FAIL
    if doubted:
        assert 0.4 <= finding.score < PRESENT_THRESHOLD and check.confidence < 0.8
    else:
        assert finding.score < 0.1 and check.confidence >= 0.9


def test_a_red_logo_the_size_of_a_small_seal_leaves_no_seal_sure() -> None:
    """A hospital's red logo (a ring round a solid cross) is as small as a small seal, but not
    stamp-shaped: a page with it and no seal is surely unsealed."""
    finding = find_seal([draw_page(red_logo=True)])
    assert not finding.present
    assert check_seal(finding, [HOSPITAL], required=True, read_confidence=0.95).confidence >= 0.9


def test_invoice_supervision_mark_is_dropped_by_its_text_and_the_next_seal_read() -> None:
    """GIVEN an invoice with the printed 全国统一发票监制章 oval (small, top) and a hospital's round
    seal (large) WHEN the reader reads the oval as the tax authority's mark THEN it is no seal; the
    hospital's seal is read next. Alone, the invoice has no hospital seal."""
    page = invoice_page()
    seal = np.asarray(draw_seal(300, HOSPITAL, center_text="收费专用章"))
    blended = draw_page(seal=Image.fromarray(seal), seal_at=(900, 420), size=(1240, 760))
    page_with_seal = np.minimum(page, blended)

    def read(crop: np.ndarray) -> SealText:
        if crop.shape[1] < 280:
            return SealText(arc="全国统一发票监制章", arc_score=0.95, center=["贵州省税务局"])
        return SealText(arc=HOSPITAL, arc_score=0.95, center=["收费专用章"])

    alone = find_seal([page], read_text=read)
    assert not alone.present and alone.text is None
    both = find_seal([page_with_seal], read_text=read)
    assert both.present and both.text == HOSPITAL + " 收费专用章"


@pytest.mark.parametrize(
    ("text", "emblem"),
    [("全国统一发票监制章 国家税务总局贵州省税务局", True), ("中华人民共和国", True), (HOSPITAL, False), (None, False)],
)
def test_printed_emblem_text(text: str | None, emblem: bool) -> None:
    assert is_printed_emblem(text) is emblem


# --------------------------------------------------------------------------------------------------
# Confidence of the check


def _ocr(lines: list[tuple[str, float]]) -> OcrResult:
    box = Box(x0=0, y0=0, x1=10, y1=10)
    page = OcrPage(
        index=0,
        width=1240,
        height=1754,
        source="ocr",
        lines=[OcrLine(text=t, box=box, score=sc) for t, sc in lines],
    )
    return OcrResult(media_type="image/png", pages=[page], fingerprint="test")


def test_page_read_confidence() -> None:
    well = _ocr(
        [("疾病诊断证明书", 0.98), ("姓名：张三 性别：男 诊断：2型糖尿病", 0.95), ("六盘水市第一人民医院门诊部", 0.97)]
    )
    poor = _ocr(
        [("疾病诊断证明书", 0.55), ("姓名：张三 性别：男 诊断：2型糖尿病", 0.5), ("六盘水市第一人民医院门诊部", 0.6)]
    )
    few = _ocr([("证明", 0.99)])
    assert page_read_confidence(well) > 0.9
    assert page_read_confidence(poor) < 0.6
    assert page_read_confidence(few) < 0.2
    assert page_read_confidence(_ocr([])) == 0.0


def test_missing_seal_is_a_confident_fail_only_on_a_well_read_page_with_no_near_miss() -> None:
    nothing = SealFinding(present=False, color="none", score=0.0)
    near = SealFinding(present=False, color="none", score=0.42)
    sure = check_seal(nothing, ISSUER, required=True, read_confidence=0.95)
    assert sure.outcome == Outcome.FAIL and sure.confidence >= 0.9
    doubtful = check_seal(near, ISSUER, required=True, read_confidence=0.95)
    assert doubtful.outcome == Outcome.FAIL and doubtful.confidence < 0.8
    poorly_read = check_seal(nothing, ISSUER, required=True, read_confidence=0.4)
    assert poorly_read.outcome == Outcome.FAIL and poorly_read.confidence < 0.8


def test_blue_stamp_only_is_a_confident_fail() -> None:
    check = check_seal(
        SealFinding(present=False, color="blue", score=0.95), ISSUER, required=True, read_confidence=0.95
    )
    assert check.outcome == Outcome.FAIL and check.confidence >= 0.8


def test_seal_present_but_unreadable_passes_with_lower_confidence() -> None:
    readable = check_seal(RED_SEAL, ISSUER, required=True, read_confidence=0.95)
    unreadable = check_seal(RED_SEAL.model_copy(update={"text": None}), ISSUER, required=True, read_confidence=0.95)
    assert readable.outcome == unreadable.outcome == Outcome.PASS
    assert readable.confidence >= 0.85
    assert unreadable.matches_issuer is None and unreadable.confidence < 0.8


def test_registry_word_decides_and_carries_its_confidence() -> None:
    exact = check_seal(RED_SEAL, ISSUER, required=True, registry_match=False, registry_confidence=1.0)
    fuzzy = check_seal(RED_SEAL, ISSUER, required=True, registry_match=False, registry_confidence=0.7)
    assert exact.outcome == fuzzy.outcome == Outcome.FAIL
    assert exact.confidence >= 0.9 > 0.8 > fuzzy.confidence


# --------------------------------------------------------------------------------------------------
# Whose seal it is


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("六盘水市第一人民医院 诊断证明专用章", ISSUER),
        ("六盘水市一院", ISSUER),  # the registry's alias
        ("贵医附院", ["贵州医科大学附属医院", "贵医附院"]),  # an abbreviation on the seal
        ("贵州医科大学附属医院检验专用章", ["贵州医科大学附属医院", "贵医附院"]),
        ("绥化市中医医院 医务科", ["绥化市中医医院"]),  # a department's seal is the hospital's
    ],
)
def test_issuer_seal_matches_confidently(text: str, names: list[str]) -> None:
    match = match_issuer(text, names)
    assert match.matches is True and match.confidence >= 0.9, match
    assert issuer_match(text, names) is True


@pytest.mark.parametrize(
    "text",
    [
        "神农架林区人民医院",  # another hospital, many distinctive characters
        "遵义市第一人民医院",  # same pattern, another city: the whole name read
        "六盘水市卫生健康局",  # same city, a health bureau
        "某某县卫生健康局",
        "贵州康泰医药有限公司",  # a company
        "天津君和缘商贸有限公司 发票专用章",
    ],
)
def test_another_organisation_is_a_confident_mismatch(text: str) -> None:
    match = match_issuer(text, ISSUER)
    assert match.matches is False and match.confidence >= 0.8, match
    check = check_seal(RED_SEAL.model_copy(update={"text": text}), ISSUER, required=True)
    assert check.outcome == Outcome.FAIL and check.matches_issuer is False and check.confidence >= 0.8


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("六盘水市第二人民医院", ISSUER),  # one ordinal apart: OCR confuses 一/二 on seals
        ("六技持区人民医场", ISSUER),  # garbled, no kind word: only a flag
    ],
)
def test_weak_mismatch_is_below_the_problem_threshold(text: str, names: list[str]) -> None:
    match = match_issuer(text, names)
    assert match.matches is False and match.confidence < 0.8, match


@pytest.mark.parametrize("text", ["盘水医", "人民医", "ABC医院12", "医院 专用章", "六技持区人民医场"])
def test_garbled_or_short_read_is_unknown_not_a_mismatch(text: str) -> None:
    names = ["六枝特区人民医院"] if text.startswith("六技") else ISSUER
    match = match_issuer(text, names)
    assert match.matches is None, match
    check = check_seal(RED_SEAL.model_copy(update={"text": text}), names, required=True)
    assert check.outcome == Outcome.PASS and check.confidence < 0.8


@pytest.mark.parametrize("text", ["绥化市疾病预防控制中心", "贵阳市疾控中心", "神农架林区红十字会", "哈尔滨市中心血站"])
def test_a_public_health_body_that_treats_nobody_is_another_organisation(text: str) -> None:
    """GIVEN a hospital's document stamped by the city's CDC, Red Cross or blood centre, which share
    the hospital's place and end in 中心 or 会 WHEN the seal is matched THEN it is another kind of
    organisation, surely."""
    match = match_issuer(text, ["绥化市北林区人民医院"], name_score=0.99)
    assert match.matches is False and match.confidence >= 0.9, match
    assert match_issuer("武汉市红十字会医院", ["武汉市红十字会医院"]).matches is True  # a hospital's own name


def test_another_organisation_is_as_sure_as_the_seals_name_was_read() -> None:
    """GIVEN a fax whose seal arc was kept at the recogniser's floor as unrelated characters
    (1联币发相玖玩) WHEN matched against the issuer THEN that is a reviewer's flag, not a problem the
    applicant is told; the same characters read cleanly would be one, and a clean read of another
    hospital stays a problem."""
    garbled = match_issuer("1联币发相玖玩 !r", ["十堰市太和医院"], name_score=0.70)
    assert garbled.matches is False and garbled.confidence < 0.8, garbled
    assert match_issuer("1联币发相玖玩 !r", ["十堰市太和医院"], name_score=0.99).confidence >= 0.8
    clean = match_issuer("神农架林区人民医院", ISSUER, name_score=0.96)
    assert clean.matches is False and clean.confidence >= 0.9, clean
    check = check_seal(RED_SEAL.model_copy(update={"text": "1联币发相玖玩 !r", "name_score": 0.7}),
                       ["十堰市太和医院"], required=True)
    assert check.outcome == Outcome.FAIL and check.confidence < 0.8 and check.name_score == 0.7


def test_middle_lines_alone_name_no_organisation() -> None:
    """GIVEN a seal whose arc was not read, only its middle lines (one of them garbled) WHEN matched
    THEN nobody is named: no mismatch, and the registry is not asked whose it is."""
    finding = RED_SEAL.model_copy(update={"text": "联币发相玖玩 检验专用章", "name_score": 0.0})
    assert match_issuer(finding.text, ISSUER, name_score=0.0).matches is None
    check = check_seal(finding, ISSUER, required=True)
    assert check.outcome == Outcome.PASS and check.matches_issuer is None
    assert finding.name_text is None and RED_SEAL.model_copy(update={"text": "X"}).name_text == "X"
    # A middle line naming the issuer still matches.
    assert match_issuer("六盘水市第一人民医院", ISSUER, name_score=0.0).matches is True


# --------------------------------------------------------------------------------------------------
# The seal's size is judged against the sheet, not the photo; small stamps are measured in full detail


def test_seal_on_a_page_photographed_on_a_desk_is_judged_against_the_page() -> None:
    """GIVEN an ordinary 40 mm seal (0.19 of the page's width) on a page photographed with the desk
    around it and turned upright onto a larger canvas: against the image it is under 0.1 wide,
    the size of a logo. WHEN seals are found THEN it is one, measured against the sheet."""
    page = on_desk(recompress(draw_page(seal=draw_seal(240, HOSPITAL, ring=4, uneven=3), seal_at=(800, 1250)), 85, 1))
    assert 240 * 0.5 / min(page.shape[:2]) < MIN_REL_DIAMETER  # what the image alone would say
    finding = find_seal([page])
    assert finding.present and finding.color == "red"
    best = find_stamp_candidates(page)[0]
    assert 0.15 < best.features["rel_diameter"] < 0.25


def test_the_sheet_is_found_on_a_desk_and_a_scan_is_all_sheet() -> None:
    page = draw_page()
    photo = on_desk(page)
    small, inv = _analysis_image(photo)
    paper = _Paper.find(_ink_planes(_white_balance(small))[1])
    h, w = small.shape[:2]
    # The sheet under the page's centre is about as wide as the page shrunk on the desk.
    expected = 1240 * 0.5 / inv
    assert abs(paper.short_side_at(w / 2, h / 2) - expected) < 0.12 * expected
    assert abs(paper.sheet - expected) < 0.12 * expected
    scan, _ = _analysis_image(page)
    whole = _Paper.find(_ink_planes(_white_balance(scan))[1])
    assert whole.sheet > 0.95 * min(scan.shape[:2])


@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("red logo and signature, page on a desk", lambda: on_desk(draw_page(red_logo=True, red_signature=True))),
        ("red table and text, page on a desk", lambda: on_desk(draw_page(red_table=True, red_text=True), tilt=-10)),
        ("blue stamp, page on a desk", lambda: on_desk(draw_page(seal=draw_seal(240, "某某公司", color=BLUE)))),
    ],
)
def test_small_red_marks_on_a_photographed_page_are_still_no_seal(name: str, page) -> None:
    """Measuring against the sheet makes marks look bigger on a photo with margins; they still fail."""
    assert not find_seal([page()]).present, name


def test_a_small_stamp_is_measured_again_in_full_detail() -> None:
    """GIVEN a 200 px seal on a 3000 px photo (about 50 px at the analysis resolution, where its ring
    is two pixels and blur can make it look like an emblem's thick rim) WHEN it is measured again
    on the full-resolution page THEN the same stamp is found there, whole and clear."""
    page = draw_page(seal=draw_seal(200, HOSPITAL, ring=10, color=PINK, uneven=3), seal_at=(800, 1250))
    photo = recompress(cv2.GaussianBlur(on_desk(page, scale=1.0, tilt=0), (0, 0), 2.0), 80, 1)
    small, inv = _analysis_image(photo)
    assert inv >= 3
    cand = next(c for c in find_stamp_candidates(photo) if c.color == "red")
    planes = _ink_planes(_white_balance(small))
    again = _remeasure(photo, _white_balance_gains(small), inv, cand, _Paper.find(planes[1]), 22)
    assert again is not None
    assert again.features["ring_cov"] >= 0.9 and again.features["rim_fill"] <= 0.45
    assert again.score >= PRESENT_THRESHOLD
    assert abs(again.center[0] - cand.center[0]) < 10 and abs(again.axes[0] - cand.axes[0]) < 0.1 * cand.axes[0]


def on_pale_desk(page: np.ndarray, *, tilt: float = 12.0, scale: float = 0.5) -> np.ndarray:
    """``on_desk`` on a light-grey table lit from one side: the desk goes from grey (170) to nearly
    the paper's white (245) across the picture, with the grain of its surface."""
    photo = on_desk(page, tilt=tilt, scale=scale, desk=(1, 2, 3))
    h, w = photo.shape[:2]
    desk = np.all(photo == (1, 2, 3), axis=2)
    light = np.linspace(170, 245, w, dtype=np.float32)[None, :].repeat(h, 0)
    grain = np.random.default_rng(4).normal(0, 6, (h, w)).astype(np.float32)
    tone = np.clip(light + grain, 0, 255).astype(np.uint8)
    photo[desk] = np.stack([tone, tone, tone], axis=-1)[desk]
    return photo


@pytest.mark.parametrize("seal_at", [(760, 1200), (960, 1450)], ids=["on-the-sheet", "over-its-edge"])
def test_a_page_on_a_pale_desk_is_told_from_the_desk(seal_at: tuple[int, int]) -> None:
    """GIVEN a certificate photographed on a light-grey table lit from one side, the bright end of the
    table as bright as the print-covered paper (one bright region with the sheet: the sheet was
    measured as the whole picture, a seal over its edge then scored 0.53) THEN the sheet is told from
    the table by its second, brighter level and measured as the page is; the seal on it or over its
    edge is found clearly, and the same page unsealed, or with a red logo and signature, has none."""
    page = on_pale_desk(draw_page(seal=draw_seal(260, HOSPITAL, ring=4), seal_at=seal_at))
    small, inv = _analysis_image(page)
    paper = _Paper.find(_ink_planes(_white_balance(small))[1])
    expected = 1240 * 0.5 / inv
    assert abs(paper.sheet - expected) < 0.12 * expected
    finding = find_seal([page])
    assert finding.present and finding.color == "red" and finding.score >= 0.9
    assert not find_seal([on_pale_desk(draw_page())]).present
    assert not find_seal([on_pale_desk(draw_page(red_logo=True, red_signature=True))]).present


@pytest.mark.parametrize("desk", [(40, 38, 36), (70, 90, 120)])
def test_a_seal_cut_by_the_sheets_edge_in_a_photo_is_found(desk: tuple[int, int, int]) -> None:
    """GIVEN a certificate photographed on a dark desk, its seal stamped over the sheet's right edge
    so a third of the ring is missing (cut by the paper, not by the picture)
    THEN the part off the sheet is no evidence against a ring: the seal is found, and the page with
    no seal on the same desk still has none."""
    page = draw_page(seal=draw_seal(440, HOSPITAL, ring=3, uneven=12), seal_at=(960, 1100))
    photo = on_desk(page, tilt=12.0, scale=0.55, desk=desk)
    finding = find_seal([photo])
    assert finding.present and finding.color == "red"
    assert not find_seal([on_desk(draw_page(), tilt=12.0, scale=0.55, desk=desk)]).present


@pytest.mark.parametrize("fax", [False, True])
def test_a_photocopy_or_faxs_grey_wash_is_no_desk(fax: bool) -> None:
    """GIVEN a sealed page photocopied or faxed (lower contrast, a blotchy grey wash, noise, colour
    partly lost) THEN the wash is not taken for a desk around the sheet and the seal is found."""
    import random

    from fixtures.generator.copies import copy_degrade

    page = draw_page(seal=draw_seal(440, HOSPITAL, ring=3, uneven=13), seal_at=(700, 1100))
    rgb = Image.fromarray(cv2.cvtColor(page, cv2.COLOR_BGR2RGB))
    copied = copy_degrade(rgb, random.Random(f"wash:{fax}"), fax=fax).image
    finding = find_seal([cv2.cvtColor(np.asarray(copied), cv2.COLOR_RGB2BGR)])
    assert finding.present and finding.color == "red"


def test_a_seal_in_a_shadow_that_joins_the_desk_is_found() -> None:
    """GIVEN a photographed certificate whose corner, seal included, lies in a hand's shadow as dark
    as the desk it joins (so the sheet there looks like desk) THEN the seal's ring, red ink that can
    only be on the sheet, still counts all round and the seal is found; the same page without a
    seal still has none."""

    def shadowed(page: np.ndarray) -> np.ndarray:
        photo = on_desk(page, tilt=0.0, scale=0.55, desk=(95, 98, 102)).astype(np.float32)
        h, w = photo.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w]
        shade = np.where(xx / w + (1 - yy / h) > 1.05, 0.45, 1.0)[..., None]  # the upper right corner
        return recompress((photo * shade).clip(0, 255).astype(np.uint8), 80, 1)

    page = draw_page(seal=draw_seal(300, HOSPITAL, ring=4, uneven=3), seal_at=(900, 420))
    finding = find_seal([shadowed(page)])
    assert finding.present and finding.color == "red"
    assert not find_seal([shadowed(draw_page())]).present
