"""The file type comes from the bytes, whatever the upload was called."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ocr import sniff_media_type
from tests.ocr.helpers import encode, make_pdf

IMG = Image.new("RGB", (64, 48), "white")


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("TIFF", "image/tiff"),
        ("BMP", "image/bmp"),
        ("HEIF", "image/heic"),
    ],
)
def test_images_are_sniffed_from_their_bytes(fmt: str, expected: str) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    assert sniff_media_type(encode(IMG, fmt)) == expected


def test_multipage_tiff_is_a_tiff() -> None:
    buf = io.BytesIO()
    IMG.save(buf, "TIFF", save_all=True, append_images=[IMG, IMG])
    assert sniff_media_type(buf.getvalue()) == "image/tiff"


def test_pdf_is_found_even_after_leading_junk() -> None:
    pdf = make_pdf([["化验报告单"]])
    assert sniff_media_type(pdf) == "application/pdf"
    assert sniff_media_type(b"\x00junk from a mail gateway\r\n" + pdf) == "application/pdf"


def test_unknown_bytes_are_octet_stream() -> None:
    assert sniff_media_type(b"hello, this is a text file") == "application/octet-stream"
    assert sniff_media_type(b"") == "application/octet-stream"
