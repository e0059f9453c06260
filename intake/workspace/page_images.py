"""The document pages a reviewer looks at: the pages *as normalised for OCR* (rotated, deskewed,
scaled), so that every box of the report (fields, the seal, a problem's evidence: normalised page
pixels) sits on its text. Boxes drawn over the original upload drift (a photo turned 90°, a deskew).

The pages are redrawn from the stored file and the cached OCR result (``ocr.document.render_pages``,
no OCR), encoded as WebP and kept on disk by (sha256, OCR fingerprint, page): a page is drawn once,
then served as a file. The OCR result is the one of the case's run (its fingerprint), else the
newest cached for the file. The OCR stack is imported only when a page is first drawn, so the API
process stays light until a reviewer opens a page (tests/api/test_api_imports.py).

The disk cache is bounded (``PageImageSettings.cache_max_bytes``): after a page is drawn, the least
recently used files (by modification time, which serving a page from the cache refreshes, since
``atime`` is not kept on ``relatime``/``noatime`` mounts) are removed until the cache is back under
nine tenths of its cap, so that it is not trimmed again at the very next drawing.

The case page and the JSON case view (``api.schemas_workspace.CaseDetailOut``) take a document's
pages from the same two functions: ``page_sizes`` (the coordinate space of the boxes) and
``page_url`` (where the image is served).

The caller checks that the user may see the application (``access.visible_application``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.errors import NotFound
from intake.files import FileStore
from intake.models import Application, Document, OcrCacheEntry
from intake.settings import Settings
from ocr.options import OcrOptions

log = logging.getLogger(__name__)

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


def ocr_entries(session: Session, sha256s: Sequence[str], fingerprint: str | None) -> dict[str, OcrCacheEntry]:
    """``ocr_entry`` for many files at once, in two queries whatever their number (a case page
    must not cost a query per document): the run's results, then the newest of the files left."""
    wanted = list(dict.fromkeys(sha256s))
    found: dict[str, OcrCacheEntry] = {}
    if wanted and fingerprint:
        found = {e.sha256: e for e in session.scalars(
            select(OcrCacheEntry).where(OcrCacheEntry.sha256.in_(wanted), OcrCacheEntry.fingerprint == fingerprint))}
    rest = [s for s in wanted if s not in found]
    if rest:
        for entry in session.scalars(select(OcrCacheEntry).where(OcrCacheEntry.sha256.in_(rest))
                                     .order_by(OcrCacheEntry.created_at)):
            found[entry.sha256] = entry  # oldest first: the newest of each file stays
    return found


def page_sizes(session: Session, sha256s: Sequence[str], fingerprint: str | None) -> dict[str, list[PageSize]]:
    """sha256 -> its normalised pages' sizes (files without a cached OCR result are left out)."""
    return {sha256: [PageSize(int(p["width"]), int(p["height"])) for p in entry.result.get("pages", [])]
            for sha256, entry in ocr_entries(session, sha256s, fingerprint).items()}


@dataclass(frozen=True)
class PageRef:
    """One page of a document as the case page and the JSON case view give it."""

    number: int  # 0-based, as ``page`` in the report's field_sources and evidence
    size: PageSize
    url: str


def document_pages(session: Session, application_id: str, documents: Sequence[Document],
                   fingerprint: str | None) -> dict[str, list[PageRef]]:
    """document id -> its pages (size and image URL); a document not read yet has none."""
    sizes = page_sizes(session, [d.sha256 for d in documents], fingerprint)
    return {d.id: [PageRef(n, size, page_url(application_id, d.id, n, fingerprint))
                   for n, size in enumerate(sizes.get(d.sha256, []))] for d in documents}


def version_of(fingerprint: str) -> str:
    """A short, URL-safe stand-in for an OCR fingerprint (part of a page's cache key and URL)."""
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


def page_url(application_id: str, document_id: str, page: int, fingerprint: str | None) -> str:
    """Where page ``page`` (0-based) of a document is served (``api.pages.routes.page_image_file``);
    the fingerprint's version in the query makes a browser fetch it anew after a re-scan."""
    url = f"/review/cases/{quote(application_id, safe='')}/documents/{quote(document_id, safe='')}/pages/{page}"
    return f"{url}?v={version_of(fingerprint)}" if fingerprint else url


def cache_dir_of(settings: Settings) -> Path:
    """Where the page images are kept: the setting, else beside the stored files."""
    return settings.page_images.cache_dir or settings.storage.root / "page-images"


def page_image(session: Session, files: FileStore, cache_dir: Path, app: Application, document_id: str,
               page: int, fingerprint: str | None, options: OcrOptions | None = None,
               max_bytes: int | None = None) -> Path:
    """The WebP file of page ``page`` (0-based) of a document of ``app``, drawn now if not cached
    (then the cache is trimmed to ``max_bytes``, if given)."""
    doc = session.get(Document, document_id)
    if doc is None or doc.application_id != app.id:
        raise NotFound(f"申请 {app.id} 中没有材料 {document_id}")
    entry = ocr_entry(session, doc.sha256, fingerprint)
    if entry is None or not 0 <= page < len(entry.result.get("pages", [])):
        raise NotFound("该页的图像暂不可用（材料尚未识别，或没有这一页）")
    path = cache_dir / doc.sha256[:2] / f"{doc.sha256}-{version_of(entry.fingerprint)}-{page}.webp"
    if path.is_file():
        _touch(path)
        return path
    _write_atomically(path, _draw(files.get(doc.sha256), entry, page, options))
    if max_bytes is not None:
        trim_cache(cache_dir, max_bytes, keep=path)
    return path


TOUCH_AFTER_SECONDS = 3600  # a page served again within the hour keeps its place: one write an hour at most


def _touch(path: Path) -> None:
    """Mark a cached page as just used (its mtime: the order ``trim_cache`` removes in)."""
    try:
        if time.time() - path.stat().st_mtime > TOUCH_AFTER_SECONDS:
            os.utime(path)
    except OSError:  # removed by another process's trim meanwhile: drawn again next time
        pass


def trim_cache(cache_dir: Path, max_bytes: int, *, keep: Path | None = None) -> int:
    """Remove the least recently used page images while the cache holds more than ``max_bytes``,
    down to nine tenths of it; ``keep`` (the page just drawn) stays. Returns the bytes removed.
    Files being written (``.drawing-*``) are neither counted nor removed."""
    found: list[tuple[float, int, Path]] = []
    total = 0
    for sub in _subdirs(cache_dir):
        try:
            with os.scandir(sub) as it:
                for e in it:
                    if e.name.startswith(".") or not e.is_file(follow_symlinks=False):
                        continue
                    st = e.stat(follow_symlinks=False)
                    total += st.st_size
                    found.append((max(st.st_mtime, st.st_atime), st.st_size, Path(e.path)))
        except FileNotFoundError:
            continue
    if total <= max_bytes:
        return 0
    target, removed = max_bytes * 9 // 10, 0
    for _, size, path in sorted(found, key=lambda f: f[0]):
        if total <= target:
            break
        if keep is not None and path == keep:
            continue
        path.unlink(missing_ok=True)  # missing: another process trimmed it first
        total -= size
        removed += size
    log.info("page image cache trimmed: %d bytes removed, %d bytes kept", removed, total)
    return removed


def _subdirs(cache_dir: Path) -> list[str]:
    try:
        with os.scandir(cache_dir) as it:
            return [e.path for e in it if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


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
