"""Decide what a file is from its bytes, never from its name; refuse files that are two things.

The rules (issue 10):

1. **The container is decided by the signature at the start of the file**, as decoders read it:
   JPEG ``FF D8 FF``; PNG its 8-byte signature (an APNG is a PNG); WebP ``RIFF....WEBP``; TIFF
   ``II*\\0`` / ``MM\\0*``; BMP ``BM`` followed by a DIB header size Pillow knows; HEIC/HEIF an ISO-BMFF
   ``ftyp`` box with a HEVC-HEIF brand. Text found further in (an EXIF, COM or XMP field that
   mentions ``%PDF-``) does not change what the file is.
2. **A PDF** starts with ``%PDF-`` and a version digit at offset 0 or, after junk, within the first
   1024 bytes: the window pdfium (our renderer), pdf.js and Acrobat search, and what mail gateways
   and scanner software that prepend a BOM, a blank line or a short banner rely on. The junk must not
   be another format's signature (see 4).
3. **Archives are refused**, whatever they hold: ZIP (so DOCX/XLSX/ODF/EPUB/JAR), RAR, 7z, gzip, …
   A ZIP whose first member is a PDF or an image is a ZIP. Everything else unknown is
   ``application/octet-stream`` and refused by the callers.
4. **Polyglots are refused** with ``AmbiguousFileType`` (HTTP 415), when a file is validly two things:

   * an image that also carries a complete PDF document: a ``%PDF-n.n`` header followed by an
     indirect object (``N G obj``) and ``%%EOF``, anywhere in the file (PDF readers look for the
     header near the start, and repairing readers such as MuPDF rebuild a document from its objects
     wherever they are);
   * a PDF whose leading junk is an image signature (an image header prepended to a PDF);
   * an image or PDF ending in a well-formed ZIP end-of-central-directory record whose central
     directory is in the file: ZIP readers read archives from the end (PNG + ZIP, JPEG + ZIP).
     Motion photos (a JPEG with an MP4 appended, as Android cameras write them) are not refused:
     an MP4 is no document container a reader would open instead.

``filetype`` names the formats we do not accept (for the error detail) and the archive and image
signatures of rule 3 and 4; our own checks are stricter where its are loose (PNG, BMP, PDF).
"""

from __future__ import annotations

import re
import struct

import filetype

from ocr.errors import AmbiguousFileType

PDF = "application/pdf"
OCTET_STREAM = "application/octet-stream"

# Image types we decode with Pillow (HEIC/HEIF through pillow-heif).
IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/tiff", "image/bmp", "image/heic", "image/heif"}
)
SUPPORTED_TYPES = IMAGE_TYPES | {PDF}

PDF_HEADER_WINDOW = 1024  # %PDF- may start this far in (pdfium's, pdf.js's and Acrobat's window)
_SNIFF_BYTES = 8192  # what the signature checks (and filetype) look at

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BMP_DIB_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_HEIC_BRANDS = frozenset({"heic", "heix", "heim", "heis"})
_HEIF_BRANDS = frozenset({"hevc", "hevx", "hevm", "hevs"})  # HEVC-coded HEIF that is not "heic"
_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
_PDF_OBJECT = re.compile(rb"\d{1,10}[\x00\t\n\f\r ]+\d{1,5}[\x00\t\n\f\r ]+obj\b")
_ZIP_EOCD = b"PK\x05\x06"
_ZIP_CENTRAL_HEADER = b"PK\x01\x02"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP_MAX_COMMENT = 0xFFFF


def sniff_media_type(data: bytes) -> str:
    """The media type of ``data`` from its structure (see the module docstring).

    ``application/octet-stream`` if unknown; another media type (``application/zip``,
    ``image/gif``, …) for formats we recognise but do not read. Raises ``AmbiguousFileType`` for a
    polyglot.
    """
    head = data[:_SNIFF_BYTES]
    image = _image_type(head)
    if image is not None:
        if carries_pdf(data):
            raise AmbiguousFileType(f"{image} that also holds a complete PDF document")
        media_type = image
    else:
        other = _other_signature(head)
        if pdf_header_offset(head) is None or (other is not None and not other.startswith("image/")):
            # Not a PDF, or an archive (or other container) that merely holds one: a ZIP's stored member.
            return other or OCTET_STREAM
        if other is not None:
            raise AmbiguousFileType(f"PDF behind a {other} signature")
        media_type = PDF
    if has_zip_directory(data):
        raise AmbiguousFileType(f"{media_type} with a ZIP archive appended")
    return media_type


def _image_type(head: bytes) -> str | None:
    """The image type our decoders will read from these first bytes, or None."""
    kind = filetype.image_match(head)
    if kind is None:
        return _heif_type(head)
    mime = str(kind.mime)
    if mime in ("image/png", "image/apng"):
        # filetype checks 4 bytes; a PNG decoder checks all 8. An APNG is read as its still image.
        return "image/png" if head.startswith(_PNG_SIGNATURE) else None
    if mime == "image/bmp":
        # filetype takes any "BM" (a text file may start so); Pillow wants a known DIB header size.
        if len(head) >= 18 and struct.unpack_from("<I", head, 14)[0] in _BMP_DIB_HEADER_SIZES:
            return mime
        return None
    return mime if mime in IMAGE_TYPES else None


def _other_signature(head: bytes) -> str | None:
    """The media type filetype sees at the start of a file that is no image we read and no PDF at
    offset 0 (a ZIP, a GIF, an executable …); None for none, or a bare "BM" (see ``_image_type``)."""
    kind = filetype.guess(head)
    mime = str(kind.mime) if kind is not None else None
    return None if mime in (None, PDF, "image/bmp") else mime


def _heif_type(head: bytes) -> str | None:
    """HEIF with HEVC pictures that filetype does not call HEIC (e.g. ``mif1`` + ``heix``)."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box_size = struct.unpack_from(">I", head)[0]
    if box_size < 16 or box_size > len(head):
        return None
    brands = {head[8:12].decode("latin-1")} | {
        head[i : i + 4].decode("latin-1") for i in range(16, box_size - 3, 4)
    }
    if brands & _HEIC_BRANDS:
        return "image/heic"
    if brands & _HEIF_BRANDS:
        return "image/heif"
    return None


def pdf_header_offset(head: bytes) -> int | None:
    """Where a ``%PDF-n.n`` header starts within ``PDF_HEADER_WINDOW`` bytes, or None."""
    found = _PDF_HEADER.search(head, 0, PDF_HEADER_WINDOW + 8)
    return found.start() if found and found.start() <= PDF_HEADER_WINDOW else None


def carries_pdf(data: bytes) -> bool:
    """Whether ``data`` holds a complete PDF document: a header, then an object, then ``%%EOF``.

    A mention of ``%PDF-`` (an EXIF comment "converted from %PDF-1.4") is not a document.
    """
    header = _PDF_HEADER.search(data)
    if header is None:
        return False
    # The first header and the last %%EOF bound every document the bytes could hold: one pass.
    end = data.rfind(b"%%EOF")
    return end > header.end() and _PDF_OBJECT.search(data, header.end(), end) is not None


def has_zip_directory(data: bytes) -> bool:
    """Whether ``data`` ends as a ZIP archive does: an end-of-central-directory record in its last
    64 KiB whose central directory (at least one entry) lies in the file, where a ZIP reader finds
    it whatever comes first (self-extracting archives, polyglots)."""
    tail_start = max(0, len(data) - 22 - _ZIP_MAX_COMMENT)
    eocd = data.rfind(_ZIP_EOCD, tail_start)
    while eocd >= 0:
        if len(data) - eocd >= 22:
            entries, cd_size = struct.unpack_from("<HI", data, eocd + 10)
            if cd_size == 0xFFFFFFFF or entries == 0xFFFF:
                if eocd >= 20 and data[eocd - 20 : eocd - 16] == _ZIP64_LOCATOR:
                    return True  # ZIP64: the real sizes are in the ZIP64 record before
            elif entries and cd_size <= eocd and data.startswith(_ZIP_CENTRAL_HEADER, eocd - cd_size):
                return True
        eocd = data.rfind(_ZIP_EOCD, tail_start, eocd)
    return False
