"""Decoding: every image type, EXIF orientation, multi-page TIFF, large photos decoded small."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ocr import OcrEngine, OcrOptions, read_document, render_pages
from ocr.decode import decode_frame, fit_scale, open_image, upright_size
from tests.ocr.helpers import encode, text_page_image


def test_exif_orientation_is_applied_from_the_header() -> None:
    """GIVEN a landscape JPEG tagged 'rotate 90' (EXIF 6) THEN it decodes as portrait."""
    im = Image.new("RGB", (300, 200), "white")
    im.paste((0, 0, 0), (0, 0, 30, 30))  # black mark top left
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(im, "JPEG", exif=exif.tobytes())
    with open_image(data, 10**8) as opened:
        assert upright_size(opened) == (200, 300)
        bgr = decode_frame(opened, 0, 1.0)
    assert bgr.shape == (300, 200, 3)
    assert bgr[:30, -30:].mean() < 60  # EXIF 6: the top-left mark ends up top right


def test_large_jpeg_is_decoded_at_reduced_size_exactly() -> None:
    im = Image.effect_noise((4000, 3000), 40).convert("RGB")
    data = encode(im, "JPEG", quality=80)
    with open_image(data, 10**8) as opened:
        scale = fit_scale(*upright_size(opened), 2000)
        bgr = decode_frame(opened, 0, scale)
    assert scale == 0.5
    assert bgr.shape == (1500, 2000, 3)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "BMP", "HEIF", "TIFF"])
def test_each_image_format_decodes(fmt: str) -> None:
    im = Image.new("RGBA", (120, 80), (0, 0, 0, 0))  # fully transparent: must become white
    im.paste((255, 0, 0, 255), (0, 0, 40, 40))
    if fmt in ("BMP", "HEIF"):  # no alpha in these files: flatten onto white ourselves
        im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im).convert("RGB")
    data = encode(im, fmt)
    with open_image(data, 10**8) as opened:
        bgr = decode_frame(opened, 0, 1.0)
    assert bgr.shape == (80, 120, 3)
    assert bgr[60:, 60:].mean() > 240  # transparent -> white paper
    assert bgr[10, 10, 2] > 200 and bgr[10, 10, 0] < 60  # red in BGR order


@pytest.mark.ocr
def test_multipage_tiff_gives_one_page_per_frame(engine: OcrEngine) -> None:
    pages = [text_page_image([f"第{n}页 诊断证明书"], size=(900, 600), font_px=44) for n in (1, 2)]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    data = buf.getvalue()
    doc = read_document(data, engine)
    assert doc.ocr.media_type == "image/tiff"
    assert [p.index for p in doc.ocr.pages] == [0, 1]
    assert "第1页" in doc.ocr.pages[0].text and "第2页" in doc.ocr.pages[1].text
    again = render_pages(data, doc.ocr)
    assert all(np.array_equal(a, b) for a, b in zip(again, doc.images, strict=True))


@pytest.mark.ocr
def test_heic_photo_is_read(engine: OcrEngine) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    data = encode(text_page_image(["门诊慢特病 化验报告单"], size=(1000, 500), font_px=48), "HEIF", quality=90)
    doc = read_document(data, engine)
    assert doc.ocr.media_type == "image/heic"
    assert "化验报告单" in doc.ocr.text


@pytest.mark.ocr
def test_twelve_megapixel_photo_is_normalised_to_max_side(engine: OcrEngine) -> None:
    page = text_page_image(["独墅湖科教创新区医院化验报告单", "报告日期 2016-08-24"], size=(1240, 1754), font_px=40)
    big = page.resize((3000, 4000))
    data = encode(big, "JPEG", quality=85)
    doc = read_document(data, engine)
    p = doc.ocr.pages[0]
    assert max(p.width, p.height) == OcrOptions().max_side
    assert p.transform.scale == pytest.approx(0.5)
    assert "化验报告单" in doc.ocr.text and "2016-08-24" in doc.ocr.text
    assert np.array_equal(render_pages(data, doc.ocr)[0], doc.images[0])
