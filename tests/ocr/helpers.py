"""Generators of test files for the ocr tests."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from fixtures.realworld import REALWORLD

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def realworld(name: str) -> bytes:
    path = REALWORLD / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path.read_bytes()


def text_page_image(lines: list[str], size: tuple[int, int] = (1240, 1754), font_px: int = 40) -> Image.Image:
    """A white A4-ish page (150 dpi) with the given lines drawn in a CJK font."""
    im = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(FONT_PATH, font_px, index=0)
    y = 120
    for line in lines:
        draw.text((100, y), line, fill="black", font=font)
        y += int(font_px * 1.8)
    return im


def encode(im: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def rotate_bytes(data: bytes, degrees_ccw: float) -> bytes:
    """The image turned counter-clockwise (as if photographed that way), canvas grown, JPEG."""
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees_ccw, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(w * cos + h * sin), int(w * sin + h * cos)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(img, m, (nw, nh), borderValue=(200, 200, 200))
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return buf.tobytes()


def make_pdf(pages: list[list[str] | Image.Image]) -> bytes:
    """A PDF whose pages are text (a real text layer, WenQuanYi Zen Hei) or an embedded image only."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", FONT_PATH, subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    width, height = A4
    for page in pages:
        if isinstance(page, Image.Image):
            c.drawImage(ImageReader(page), 0, 0, width=width, height=height)
        else:
            c.setFont("WQY", 14)
            y = height - 72
            for line in page:
                c.drawString(72, y, line)
                y -= 24
        c.showPage()
    c.save()
    return buf.getvalue()
