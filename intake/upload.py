"""What is checked when a file is uploaded, before it is accepted: cheap checks from the bytes
(type, size, page count, pixel count) so an app gets a clear 4xx answer at once. Everything that
needs decoding or OCR happens in the worker and ends as a document-level result.

A PDF's pages are counted in the ``ocr.sandbox`` child (no page is parsed, a few ms on a warm child),
under the same memory and time budgets as the worker's reading: over them it is refused at once
with ``too_complex``."""

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
        # Counted in the PDF sandbox, within the worker's parsing budgets: the PDF libraries never run
        # in the API process (nor NumPy), and a file that makes them blow up costs a child, not the API.
        from ocr.sandbox import ParseBudget, count_pages

        return UploadInfo(media_type, count_pages(data, max_pages=max_pages, budget=ParseBudget.of(settings.ocr)))
    from ocr.decode import check_frames, open_image  # OpenCV, Pillow, pillow-heif: only when an image arrives

    # Every frame's header, as the worker checks them again: a huge later TIFF page, MPO picture or
    # a long animation is refused here, with the frame pixel limit and the whole file's.
    limits = settings.ocr
    with open_image(data, limits.max_image_pixels, media_type=media_type) as image:
        pages = check_frames(
            image, max_pages, max_pixels=limits.max_image_pixels, max_total_pixels=limits.max_total_pixels
        )
        return UploadInfo(media_type, pages)
