"""What is checked when a file is uploaded, before it is accepted: cheap checks from the bytes
(type, size, page count, pixel count) so an app gets a clear 4xx answer at once. Everything that
needs decoding or OCR happens in the worker and ends as a document-level result."""

from __future__ import annotations

from dataclasses import dataclass

from intake.errors import FileTooLarge
from intake.settings import Settings
from ocr.errors import EmptyFile, UnsupportedFileType
from ocr.sniff import PDF, SUPPORTED_TYPES, sniff_media_type


@dataclass(frozen=True)
class UploadInfo:
    media_type: str
    pages: int


def inspect_upload(data: bytes, settings: Settings) -> UploadInfo:
    """Refuse what can never be read; raises ``FileTooLarge`` or an ``ocr.errors.OcrError``."""
    limit = settings.limits.max_file_bytes
    if len(data) > limit:
        raise FileTooLarge(len(data), limit)
    if not data or not data.strip():
        raise EmptyFile(f"{len(data)} bytes")
    media_type = sniff_media_type(data)
    if media_type not in SUPPORTED_TYPES:
        raise UnsupportedFileType(f"sniffed {media_type}")
    max_pages = settings.ocr.max_pages
    if media_type == PDF:
        from ocr.pdf import open_pdf  # imported here: keeps NumPy out of the API process until a PDF arrives

        doc = open_pdf(data, max_pages)
        try:
            pages = len(doc)
        finally:
            doc.close()
        return UploadInfo(media_type, pages)
    from ocr.decode import check_frames, open_image  # OpenCV, Pillow, pillow-heif: only when an image arrives

    with open_image(data, settings.ocr.max_image_pixels) as image:
        return UploadInfo(media_type, check_frames(image, max_pages))
