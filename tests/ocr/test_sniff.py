"""The file type comes from the bytes, whatever the upload was called."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from ocr import sniff_media_type
from ocr.errors import AmbiguousFileType, UnsupportedFileType
from ocr.sniff import SUPPORTED_TYPES, carries_pdf
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


# --- issue 10: the container from its structure, polyglots refused ----------------------------------

PDF_DOC = make_pdf([["诊断证明书"]])


def _verdict(data: bytes) -> str:
    """What the service does with ``data``: its media type if read, else the 415 error code."""
    try:
        media_type = sniff_media_type(data)
    except AmbiguousFileType as exc:
        return exc.code
    return media_type if media_type in SUPPORTED_TYPES else "unsupported_type"


def _jpeg(**options: object) -> bytes:
    return encode(IMG, "JPEG", **options)


def _exif_with_description(text: str) -> bytes:
    exif = Image.Exif()
    exif[0x010E] = text  # ImageDescription
    return exif.tobytes()


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buf.getvalue()


def _apng() -> bytes:
    frames = [Image.new("RGB", (32, 24), color) for color in ("white", "gray")]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def _mpo() -> bytes:
    buf = io.BytesIO()
    IMG.save(buf, "MPO", save_all=True, append_images=[IMG])
    return buf.getvalue()


def _motion_photo() -> bytes:
    """A JPEG with an MP4 after its end (Android "motion photo"): an MP4 is no document."""
    ftyp = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return _jpeg() + ftyp + b"\x00\x00\x00\x08mdat"


SNIFFING_TABLE: list[tuple[str, bytes, str]] = [
    # A JPEG is a JPEG, whatever its metadata text says.
    ("jpeg_comment_mentions_pdf", _jpeg(comment=b"scanned from %PDF-1.4 original"), "image/jpeg"),
    ("jpeg_exif_mentions_pdf", _jpeg(exif=_exif_with_description("%PDF-1.7 export")), "image/jpeg"),
    ("mpo_is_a_jpeg", _mpo(), "image/jpeg"),
    ("motion_photo_is_a_jpeg", _motion_photo(), "image/jpeg"),
    ("apng_is_a_png", _apng(), "image/png"),
    # Two things at once: refused.
    ("jpeg_hiding_a_pdf_in_its_comment", _jpeg(comment=PDF_DOC[:60000]), "ambiguous_type"),
    ("jpeg_with_a_pdf_appended", _jpeg() + PDF_DOC, "ambiguous_type"),
    ("pdf_behind_a_jpeg_signature", b"\xff\xd8\xff\xe0" + PDF_DOC, "ambiguous_type"),
    ("pdf_behind_a_png_signature", b"\x89PNG\r\n\x1a\n" + PDF_DOC, "ambiguous_type"),
    ("pdf_behind_a_gif_signature", b"GIF89a" + PDF_DOC, "ambiguous_type"),
    ("png_with_a_zip_appended", encode(IMG, "PNG") + _zip({"a.txt": b"hello"}), "ambiguous_type"),
    ("jpeg_with_a_zip_appended", _jpeg() + _zip({"a.pdf": PDF_DOC}), "ambiguous_type"),
    ("pdf_with_a_zip_appended", PDF_DOC + _zip({"a.txt": b"hello"}), "ambiguous_type"),
    # PDFs with junk before the header, within the 1 KB window PDF readers search.
    ("pdf_after_a_utf8_bom", b"\xef\xbb\xbf" + PDF_DOC, "application/pdf"),
    ("pdf_after_blank_lines", b"\r\n\r\n  \n" + PDF_DOC, "application/pdf"),
    ("pdf_after_a_gateway_banner", b"X-Scanned-By: gateway\r\n" * 40 + PDF_DOC, "application/pdf"),
    ("pdf_header_after_the_window", b"\x00" * 1100 + PDF_DOC, "unsupported_type"),
    # Archives are refused, whatever their first member.
    ("zip_holding_a_png", _zip({"page.png": encode(IMG, "PNG")}), "unsupported_type"),
    ("zip_holding_a_stored_pdf", _zip({"a.pdf": PDF_DOC}, zipfile.ZIP_STORED), "unsupported_type"),
    ("zip_holding_a_pdf", _zip({"a.pdf": PDF_DOC}), "unsupported_type"),
    ("docx", _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}), "unsupported_type"),
    ("text_starting_with_BM", b"BM is not a bitmap header\n" * 4, "unsupported_type"),
]


@pytest.mark.parametrize(("name", "data", "expected"), SNIFFING_TABLE, ids=[row[0] for row in SNIFFING_TABLE])
def test_sniffing_table(name: str, data: bytes, expected: str) -> None:
    assert _verdict(data) == expected


def test_mentioned_pdf_is_not_a_pdf_document() -> None:
    assert not carries_pdf(b"converted from %PDF-1.4 with %%EOF at the end")
    assert carries_pdf(b"junk %PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF")


def test_upload_refuses_a_polyglot_with_415_codes() -> None:
    """GIVEN a JPEG that carries a whole PDF, and a ZIP whose first member is a PDF
    WHEN uploaded THEN both are refused as unsupported types (415), the polyglot as ambiguous."""
    from intake.settings import Settings
    from intake.upload import inspect_upload

    with pytest.raises(AmbiguousFileType) as polyglot:
        inspect_upload(_jpeg(comment=PDF_DOC[:60000]), Settings())
    assert polyglot.value.code == "ambiguous_type"
    with pytest.raises(UnsupportedFileType) as archive:
        inspect_upload(_zip({"a.pdf": PDF_DOC}, zipfile.ZIP_STORED), Settings())
    assert archive.value.code == "unsupported_type"
