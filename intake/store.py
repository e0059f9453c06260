"""Store functions over the tables of ``intake.models`` (keyword-only arguments, no commits: the
caller owns the transaction).

The OCR cache is keyed by (sha256 of the file, OCR fingerprint) so that reading the same bytes with
the same models never runs OCR twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from intake.db import session_factory
from intake.models import OcrCacheEntry

__all__ = ["get_cached_ocr", "put_cached_ocr", "session_factory"]


def get_cached_ocr(session: Session, *, sha256: str, fingerprint: str) -> OcrCacheEntry | None:
    return session.get(OcrCacheEntry, (sha256, fingerprint))


def put_cached_ocr(
    session: Session,
    *,
    sha256: str,
    fingerprint: str,
    media_type: str,
    result: dict[str, Any],
    seal: dict[str, Any] | None,
) -> None:
    entry = session.get(OcrCacheEntry, (sha256, fingerprint))
    if entry is None:
        session.add(
            OcrCacheEntry(sha256=sha256, fingerprint=fingerprint, media_type=media_type, result=result, seal=seal)
        )
    else:  # a re-read with the same models: keep the newest
        entry.result, entry.seal, entry.media_type = result, seal, media_type
