"""Every bad input gives its own typed error, with a Chinese message an applicant can act on."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from ocr import OcrEngine, OcrOptions, read_document
from ocr.errors import (
    CorruptFile,
    EmptyFile,
    EncryptedPdf,
    ImageTooLarge,
    OcrError,
    TooManyPages,
    UnsupportedFileType,
)
from tests.ocr.helpers import encode, make_pdf


@pytest.fixture(scope="module")
def cold_engine() -> OcrEngine:
    """An engine whose models are never loaded: every error here must come before OCR."""
    return OcrEngine(OcrOptions())


def _has_chinese(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size but carries a tiny (invalid) body: a decompression bomb stand-in."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b"")
    )


def test_empty_file(cold_engine: OcrEngine) -> None:
    for data in (b"", b"   \n"):
        with pytest.raises(EmptyFile) as err:
            read_document(data, cold_engine)
        assert err.value.code == "empty_file"


def test_unsupported_type(cold_engine: OcrEngine) -> None:
    gif = encode(Image.new("RGB", (10, 10)), "GIF")
    for data in (b"just some text, not a document", gif, b"PK\x03\x04" + b"\x00" * 100):
        with pytest.raises(UnsupportedFileType) as err:
            read_document(data, cold_engine)
        assert err.value.code == "unsupported_type"


def test_truncated_jpeg_and_png_are_corrupt(cold_engine: OcrEngine) -> None:
    im = Image.effect_noise((400, 300), 60).convert("RGB")
    for fmt in ("JPEG", "PNG"):
        data = encode(im, fmt)
        with pytest.raises(CorruptFile) as err:
            read_document(data[: len(data) // 2], cold_engine)
        assert err.value.code == "corrupt_file"


def test_malformed_and_truncated_pdf_are_corrupt(cold_engine: OcrEngine) -> None:
    with pytest.raises(CorruptFile):
        read_document(b"%PDF-1.7\n this is not really a pdf", cold_engine)
    pdf = make_pdf([["第一页 化验报告单"] * 5, ["第二页"] * 5])
    with pytest.raises(CorruptFile):
        read_document(pdf[: len(pdf) // 3], cold_engine)


def test_encrypted_pdf(cold_engine: OcrEngine) -> None:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    c.drawString(72, 720, "private")
    c.showPage()
    c.save()
    with pytest.raises(EncryptedPdf) as err:
        read_document(buf.getvalue(), cold_engine)
    assert err.value.code == "encrypted_pdf"


def test_too_many_pages_pdf_and_tiff(cold_engine: OcrEngine) -> None:
    pdf = make_pdf([["页"]] * 4)
    with pytest.raises(TooManyPages) as err:
        read_document(pdf, cold_engine, max_pages=3)
    assert (err.value.pages, err.value.max_pages) == (4, 3)
    assert "4" in err.value.message and "3" in err.value.message
    im = Image.new("RGB", (50, 50), "white")
    buf = io.BytesIO()
    im.save(buf, "TIFF", save_all=True, append_images=[im] * 3)
    with pytest.raises(TooManyPages):
        read_document(buf.getvalue(), cold_engine, max_pages=2)


def test_huge_image_refused_from_header_before_decoding(cold_engine: OcrEngine) -> None:
    """GIVEN a PNG header claiming 20000x20000 px (400 MP) WHEN read THEN ImageTooLarge, no OOM."""
    with pytest.raises(ImageTooLarge) as err:
        read_document(_png_header_only(20000, 20000), cold_engine)
    assert err.value.code == "image_too_large"
    assert err.value.pixels == 400_000_000


def test_pixel_limit_is_configurable() -> None:
    small_limit = OcrEngine(OcrOptions(max_image_pixels=10_000))
    with pytest.raises(ImageTooLarge):
        read_document(encode(Image.new("RGB", (200, 100), "white"), "PNG"), small_limit)


def test_beyond_pils_own_bomb_limit_is_still_our_error() -> None:
    """A limit above PIL's default bomb guard (~179 MP) must not surface PIL's exception."""
    eng = OcrEngine(OcrOptions(max_image_pixels=250_000_000))
    with pytest.raises(OcrError):
        read_document(_png_header_only(15000, 15000), eng)  # 225 MP: allowed, body is corrupt


@pytest.mark.parametrize(
    "error",
    [
        EmptyFile(),
        UnsupportedFileType(),
        CorruptFile(),
        EncryptedPdf(),
        TooManyPages(pages=9, max_pages=5),
        ImageTooLarge(),
    ],
)
def test_every_error_has_code_and_chinese_message(error: OcrError) -> None:
    assert isinstance(error, OcrError)
    assert error.code and error.code != OcrError.code
    assert _has_chinese(error.message)
    assert str(error).startswith(error.message)
