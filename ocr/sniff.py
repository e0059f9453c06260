"""Decide what a file is from its bytes, never from its name."""

from __future__ import annotations

import filetype

PDF = "application/pdf"
OCTET_STREAM = "application/octet-stream"

# Image types we decode with Pillow (HEIC/HEIF through pillow-heif).
IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/tiff", "image/bmp", "image/heic", "image/heif"}
)
SUPPORTED_TYPES = IMAGE_TYPES | {PDF}


def sniff_media_type(data: bytes) -> str:
    """The media type of ``data`` from its magic bytes; ``application/octet-stream`` if unknown."""
    # Some PDF writers (and mail gateways) put junk before the header; readers accept the header
    # anywhere in the first 1 KB, so we do too.
    if b"%PDF-" in data[:1024]:
        return PDF
    kind = filetype.guess(data[:8192])
    if kind is None:
        return OCTET_STREAM
    return str(kind.mime)
