"""Every frame of a file is checked from its header, at upload and in the worker; Pillow's bomb
guard is never left changed; awkward but valid images (odd EXIF, long thin strips) end in a result.

All files are built here: multi-page TIFFs and MPOs whose later picture *claims* a huge size in its
header (nothing big is encoded), animations over ``max_total_pixels`` with a small configured limit.
"""

from __future__ import annotations

import io
import struct
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from intake.settings import Settings
from intake.upload import inspect_upload
from ocr import OcrEngine, OcrOptions, read_document, render_pages
from ocr.decode import check_frames, decode_frame, fit_scale, open_image, upright_size
from ocr.errors import ImageTooLarge, TooManyPages
from ocr.types import OcrPage, OcrResult, PageTransform
from tests.api.badinputs import cjk_font_path, decompression_bomb, text_image
from tests.ocr.helpers import encode


@pytest.fixture(scope="module")
def cold_engine() -> OcrEngine:
    """Default options, models not loaded: the files here are refused before any OCR."""
    return OcrEngine(OcrOptions())


def _settings(**ocr: int) -> Settings:
    return Settings(ocr=OcrOptions(**ocr))


# --- builders ----------------------------------------------------------------------------------------


def tiff_claiming(sizes: list[tuple[int, int]]) -> bytes:
    """A little-endian 8-bit gray TIFF, one IFD per size; every page's one strip is the same 64 bytes,
    so a page may claim any size without the file holding its pixels."""
    strip = b"\x80" * 64
    out = bytearray(b"II*\x00" + struct.pack("<I", 8 + len(strip)) + strip)
    for i, (width, height) in enumerate(sizes):
        # (tag, type, value): 3 = SHORT, 4 = LONG
        tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8),
                (277, 3, 1), (278, 4, height), (279, 4, len(strip))]
        next_ifd = 0 if i == len(sizes) - 1 else len(out) + 2 + 12 * len(tags) + 4
        out += struct.pack("<H", len(tags))
        for tag, kind, value in tags:
            packed = struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value, 0)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        out += struct.pack("<I", next_ifd)
    return bytes(out)


def mpo_with_second_picture(width: int, height: int) -> bytes:
    """A two-picture MPO (as stereo cameras and some phones write) whose second JPEG's frame header
    is patched to claim ``width`` x ``height``."""
    pictures = [Image.new("RGB", (64, 48), "white"), Image.new("RGB", (64, 48), "gray")]
    buf = io.BytesIO()
    pictures[0].save(buf, "MPO", save_all=True, append_images=pictures[1:])
    data = bytearray(buf.getvalue())
    second = data.index(b"\xff\xd8\xff", 4)
    sof = data.index(b"\xff\xc0", second)  # baseline SOF0: length, precision, height, width
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def animation(fmt: str, frames: int, size: tuple[int, int] = (200, 200)) -> bytes:
    """An animated PNG or WebP of ``frames`` different frames."""
    images = []
    for i in range(frames):
        frame = Image.new("RGB", size, "white")
        frame.putpixel((i % size[0], i // size[0]), (0, 0, 0))  # no two frames alike (none merged)
        images.append(frame)
    buf = io.BytesIO()
    options = {"lossless": True, "method": 0} if fmt == "WEBP" else {}
    images[0].save(buf, fmt, save_all=True, append_images=images[1:], **options)
    return buf.getvalue()


# --- every frame, at upload and in the worker --------------------------------------------------------


def test_tiff_with_a_huge_later_page_is_refused_at_upload() -> None:
    """GIVEN a 3-page TIFF whose third page claims 20000x20000 px WHEN uploaded THEN 422 image_too_large."""
    with pytest.raises(ImageTooLarge) as err:
        inspect_upload(tiff_claiming([(8, 8), (8, 8), (20000, 20000)]), Settings())
    assert err.value.code == "image_too_large"
    assert err.value.pixels == 400_000_000


def test_tiff_with_a_huge_later_page_is_refused_in_the_worker(cold_engine: OcrEngine) -> None:
    with pytest.raises(ImageTooLarge) as err:
        read_document(tiff_claiming([(8, 8), (20000, 20000)]), cold_engine)
    assert err.value.pixels == 400_000_000


def test_tiff_pages_each_small_but_too_many_pixels_together_are_refused(cold_engine: OcrEngine) -> None:
    data = tiff_claiming([(1000, 1000)] * 4)  # 4 MP in all, 1 MP a page
    assert inspect_upload(data, Settings()).pages == 4
    with pytest.raises(ImageTooLarge) as err:
        inspect_upload(data, _settings(max_total_pixels=3_000_000))
    assert err.value.max_pixels == 3_000_000
    with pytest.raises(ImageTooLarge):
        read_document(data, OcrEngine(OcrOptions(max_total_pixels=3_000_000)))


def test_tiff_with_thousands_of_pages_is_refused_from_its_links_alone() -> None:
    """GIVEN a 3 MB TIFF of 30 000 one-pixel pages WHEN uploaded THEN too_many_pages with the real
    count, at once (Pillow's n_frames parses every page: seconds of the API's time)."""
    data = tiff_claiming([(1, 1)] * 30_000)
    started = time.perf_counter()
    with pytest.raises(TooManyPages) as err:
        inspect_upload(data, Settings())
    assert err.value.pages == 30_000
    assert time.perf_counter() - started < 3.0


def test_mpo_with_a_huge_second_picture_is_refused(cold_engine: OcrEngine) -> None:
    data = mpo_with_second_picture(20000, 20000)
    with pytest.raises(ImageTooLarge):
        inspect_upload(data, Settings())
    with pytest.raises(ImageTooLarge):
        read_document(data, cold_engine)


def test_mpo_is_one_page_its_primary_picture() -> None:
    """The second picture of an MPO (the other eye, a preview, a depth map) is not a page."""
    assert inspect_upload(mpo_with_second_picture(64, 48), Settings()).pages == 1


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animation_over_the_total_pixels_is_refused(fmt: str) -> None:
    """GIVEN 40 frames of 200x200 (1.6 MP in all, 40 kP each) and max_total_pixels 1 MP
    WHEN uploaded or read THEN image_too_large, from the headers."""
    data = animation(fmt, 40)
    with pytest.raises(ImageTooLarge) as err:
        inspect_upload(data, _settings(max_total_pixels=1_000_000))
    assert err.value.pixels == 40 * 200 * 200
    with pytest.raises(ImageTooLarge):
        read_document(data, OcrEngine(OcrOptions(max_total_pixels=1_000_000)))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animation_within_limits_is_one_page(fmt: str) -> None:
    """An animation's frames are not pages: it is read as its first frame."""
    info = inspect_upload(animation(fmt, 5), Settings())
    assert (info.media_type, info.pages) == (f"image/{fmt.lower()}", 1)


# --- Pillow's bomb guard -----------------------------------------------------------------------------


def _cached_result(width: int, height: int) -> OcrResult:
    page = OcrPage(index=0, width=width, height=height, source="ocr", lines=[], transform=PageTransform())
    return OcrResult(media_type="image/png", pages=[page], fingerprint="cached")


def test_cached_render_leaves_pils_bomb_guard_as_it_was() -> None:
    """GIVEN a cached OCR result WHEN its page is redrawn (even with a limit above Pillow's own)
    THEN Image.MAX_IMAGE_PIXELS is what it was, and a bomb is still refused by Pillow and by us."""
    before = Image.MAX_IMAGE_PIXELS
    data = encode(Image.new("RGB", (90, 60), "white"), "PNG")
    assert render_pages(data, _cached_result(90, 60))[0].shape == (60, 90, 3)
    assert render_pages(data, _cached_result(90, 60), max_image_pixels=10**12)[0].shape == (60, 90, 3)
    assert before == Image.MAX_IMAGE_PIXELS
    bomb = decompression_bomb()
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb))
    with pytest.raises(ImageTooLarge):
        render_pages(bomb, _cached_result(50_000, 50_000))


def test_pils_guard_within_a_call_never_exceeds_the_configured_limit() -> None:
    before = Image.MAX_IMAGE_PIXELS
    data = encode(Image.new("RGB", (90, 60), "white"), "PNG")
    with open_image(data, 250_000_000) as outer:
        assert Image.MAX_IMAGE_PIXELS is not None and 2 * Image.MAX_IMAGE_PIXELS <= 250_000_001
        with open_image(data, 10_000):  # a nested (or concurrent) call with a smaller limit
            assert Image.MAX_IMAGE_PIXELS is not None and 2 * Image.MAX_IMAGE_PIXELS <= 10_001
        assert check_frames(outer, 5, max_pixels=250_000_000, max_total_pixels=250_000_000) == 1
    assert before == Image.MAX_IMAGE_PIXELS


# --- awkward but valid: EXIF -------------------------------------------------------------------------


def _ifd(entries: list[tuple[int, int, int, bytes]], extra: bytes = b"") -> bytes:
    """An EXIF block: ``Exif\\0\\0`` + a little-endian TIFF header + one IFD of (tag, type, count, value)."""
    out = b"II*\x00" + struct.pack("<IH", 8, len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")[:4]
    return b"Exif\x00\x00" + out + struct.pack("<I", 0) + extra


def _short(value: int) -> bytes:
    return struct.pack("<H", value)


ORIENTATION = 0x0112
UNUSUAL_EXIF = {
    "orientation_0": _ifd([(ORIENTATION, 3, 1, _short(0))]),
    "orientation_9": _ifd([(ORIENTATION, 3, 1, _short(9))]),
    "orientation_65535": _ifd([(ORIENTATION, 3, 1, _short(65535))]),
    "orientation_as_text": _ifd([(ORIENTATION, 2, 2, b"6\x00")]),
    "orientation_as_long_2_31": _ifd([(ORIENTATION, 4, 1, struct.pack("<I", 2**31))]),
    "orientation_negative": _ifd([(ORIENTATION, 8, 1, struct.pack("<h", -3))]),
    # A tag of the wrong type beside a real orientation: Pillow's exif_transpose re-encodes the
    # block after turning the pixels and fails on it (struct.error).
    "wrong_tag_type_beside_orientation_6": _ifd(
        [(0x0107, 2, 6, struct.pack("<I", 38)), (ORIENTATION, 3, 1, _short(6))], b"abcde\x00"
    ),
    "exif_ifd_pointing_to_itself": _ifd([(ORIENTATION, 3, 1, _short(6)), (0x8769, 4, 1, struct.pack("<I", 8))]),
    "gps_ifd_past_the_end": _ifd([(ORIENTATION, 3, 1, _short(8)), (0x8825, 4, 1, struct.pack("<I", 0xFFFFFFF0))]),
    "count_of_4_billion": _ifd([(ORIENTATION, 3, 1, _short(6)), (0x010F, 2, 0xFFFFFFFF, struct.pack("<I", 30))]),
    "truncated_ifd": b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00\x12\x01",
    "not_tiff": b"Exif\x00\x00XX*\x00\x08\x00\x00\x00",
    "huge_description_2mb": _ifd([(ORIENTATION, 3, 1, _short(6)), (0x010E, 2, 2_000_000, struct.pack("<I", 38))],
                                 b"x" * 2_000_000),
}


EXIF_CASES = [
    (name, fmt)
    for name, exif in UNUSUAL_EXIF.items()
    for fmt in ("JPEG", "PNG", "WEBP")
    if fmt != "JPEG" or len(exif) < 65_000  # a JPEG APP1 segment holds at most 64 KB
]


@pytest.mark.parametrize(("name", "fmt"), EXIF_CASES)
def test_unusual_exif_still_decodes(name: str, fmt: str) -> None:
    """Whatever the EXIF says, the photo is accepted and decodes (orientation 1..8 applied, anything
    else ignored) to the size ``upright_size`` announced: the pixels are fine, only the metadata is
    odd. (Pillow's exif_transpose raised struct.error or SyntaxError on some of these.)"""
    data = encode(Image.new("RGB", (120, 80), "white"), fmt, exif=UNUSUAL_EXIF[name])
    info = inspect_upload(data, Settings())
    with open_image(data, 10**8) as im:
        width, height = upright_size(im)
        bgr = decode_frame(im, 0, fit_scale(width, height, 2000))
    assert info.pages == 1
    assert (bgr.shape[1], bgr.shape[0]) == (width, height)
    assert (width, height) in ((120, 80), (80, 120))


@pytest.mark.ocr
def test_photo_with_a_broken_exif_block_is_read(engine: OcrEngine) -> None:
    """GIVEN a page photo tagged orientation 6 whose EXIF has a mistyped tag WHEN read THEN it is
    turned as tagged and read (Pillow's exif_transpose raised struct.error here)."""
    page = Image.open(io.BytesIO(text_image(["门诊慢特病 诊断证明书", "姓名：张三 诊断：2型糖尿病", "医师签名"])))
    stored = page.convert("RGB").rotate(90, expand=True)  # displayed upright after EXIF 6 (turn 90° CW)
    data = encode(stored, "JPEG", exif=UNUSUAL_EXIF["wrong_tag_type_beside_orientation_6"], quality=92)
    doc = read_document(data, engine)
    assert "诊断证明书" in doc.ocr.text.replace(" ", "")


# --- awkward but valid: long thin strips -------------------------------------------------------------


def test_strips_keep_their_width() -> None:
    """A strip is not shrunk by its long side: 300x20000 stays, 1080x6000 keeps 667 px of width."""
    assert fit_scale(300, 20000, 2000) == 1.0
    assert fit_scale(20000, 300, 2000) == 1.0
    assert round(1080 * fit_scale(1080, 6000, 2000)) == 667
    assert fit_scale(4000, 3000, 2000) == 0.5  # ordinary pages as before
    assert fit_scale(1000, 3000, 2000) == pytest.approx(2000 / 3000)
    assert 200_000 * 20 * fit_scale(200_000, 20, 2000) ** 2 <= 4 * 2000 * 2000  # within the budget


def _receipt(width: int, height: int, rows: int) -> Image.Image:
    font_path = cjk_font_path()
    font = ImageFont.truetype(str(font_path), 24) if font_path else ImageFont.load_default()
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for i in range(rows):
        draw.text((16, 40 + i * (height - 100) // rows), f"项目{i:02d} 金额12.5", fill="black", font=font)
    return image


@pytest.mark.ocr
@pytest.mark.parametrize("turned", [False, True], ids=["240x12000", "12000x240"])
def test_long_thin_receipt_is_read(engine: OcrEngine, turned: bool) -> None:
    """GIVEN a 240x12000 till receipt (or the same lying sideways) WHEN read THEN every row is read:
    shrunk to 2000 px long its 24 px text was 4 px tall and read as nothing."""
    receipt = _receipt(240, 12000, 6)
    if turned:
        receipt = receipt.rotate(90, expand=True)
    data = encode(receipt, "PNG")
    doc = read_document(data, engine)
    text = doc.ocr.text.replace(" ", "")
    assert all(f"项目{i:02d}金额12.5" in text for i in range(6)), text
    assert np.array_equal(render_pages(data, doc.ocr)[0], doc.images[0])
