"""The document pages a reviewer looks at: the pages *as normalised for OCR* (rotated, deskewed,
scaled), so that every box of the report (fields, the seal, a problem's evidence: normalised page
pixels) sits on its text. Boxes drawn over the original upload drift (a photo turned 90°, a deskew).

The pages are redrawn from the stored file and the cached OCR result (``ocr.document.render_pages``,
no OCR), encoded as WebP and kept on disk by (sha256, OCR fingerprint, page): a page is drawn once,
then served as a file. The OCR result is the one of the case's run (its fingerprint), else the
newest cached for the file. The OCR stack is imported only when a page is first drawn, so the API
process stays light until a reviewer opens a page (tests/api/test_api_imports.py).

The caller checks that the user may see the application (``access.visible_application``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.errors import NotFound
from intake.files import FileStore
from intake.models import Application, Document, OcrCacheEntry
from ocr.options import OcrOptions

MEDIA_TYPE = "image/webp"
MAX_WIDTH = 1600  # wide enough to read 8-pt print at full zoom, small enough to load at once
QUALITY = 80


@dataclass(frozen=True)
class PageSize:
    """A normalised page's size in pixels: the coordinate space of the report's boxes (an SVG
    ``viewBox`` over the shown image, whatever its displayed or encoded size)."""

    width: int
    height: int


def ocr_entry(session: Session, sha256: str, fingerprint: str | None) -> OcrCacheEntry | None:
    """The cached OCR result the report was made from: the run's, else the newest of the file."""
    if fingerprint:
        entry = session.get(OcrCacheEntry, (sha256, fingerprint))
        if entry is not None:
            return entry
    return session.scalars(select(OcrCacheEntry).where(OcrCacheEntry.sha256 == sha256)
                           .order_by(OcrCacheEntry.created_at.desc())).first()


def page_sizes(session: Session, sha256s: list[str], fingerprint: str | None) -> dict[str, list[PageSize]]:
    """sha256 -> its normalised pages' sizes (files without a cached OCR result are left out)."""
    sizes: dict[str, list[PageSize]] = {}
    for sha256 in dict.fromkeys(sha256s):
        entry = ocr_entry(session, sha256, fingerprint)
        if entry is not None:
            sizes[sha256] = [PageSize(int(p["width"]), int(p["height"])) for p in entry.result.get("pages", [])]
    return sizes


def version_of(fingerprint: str) -> str:
    """A short, URL-safe stand-in for an OCR fingerprint (part of a page's cache key and URL)."""
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


def page_image(session: Session, files: FileStore, cache_dir: Path, app: Application, document_id: str,
               page: int, fingerprint: str | None, options: OcrOptions | None = None) -> Path:
    """The WebP file of page ``page`` (0-based) of a document of ``app``, drawn now if not cached."""
    doc = session.get(Document, document_id)
    if doc is None or doc.application_id != app.id:
        raise NotFound(f"申请 {app.id} 中没有材料 {document_id}")
    entry = ocr_entry(session, doc.sha256, fingerprint)
    if entry is None or not 0 <= page < len(entry.result.get("pages", [])):
        raise NotFound("该页的图像暂不可用（材料尚未识别，或没有这一页）")
    path = cache_dir / doc.sha256[:2] / f"{doc.sha256}-{version_of(entry.fingerprint)}-{page}.webp"
    if not path.is_file():
        _write_atomically(path, _draw(files.get(doc.sha256), entry, page, options))
    return path


def _draw(data: bytes, entry: OcrCacheEntry, page: int, options: OcrOptions | None) -> bytes:
    import io

    from PIL import Image

    from ocr.document import render_pages
    from ocr.types import OcrResult

    ocr = OcrResult.model_validate(entry.result)
    # Only the page asked for is redrawn (render_pages draws the pages the result lists).
    one = ocr.model_copy(update={"pages": [ocr.pages[page]]})
    bgr = render_pages(data, one, options=options)[0]  # the limits the worker read it under
    image = Image.fromarray(bgr[:, :, ::-1])
    if image.width > MAX_WIDTH:
        image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "WEBP", quality=QUALITY, method=4)
    return out.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    # Two requests for one page at once each draw it; the rename lets a reader see a whole file only.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".drawing-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
