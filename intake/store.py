"""The database: SQLite by default, PostgreSQL supported (SQLAlchemy 2).

Two tables so far: the OCR cache, keyed by (sha256 of the file, OCR fingerprint) so that reading the
same bytes with the same models never runs OCR twice, and the pre-screening reports.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Engine, Integer, String, Text, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON}


class OcrCacheEntry(Base):
    __tablename__ = "ocr_cache"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    result: Mapped[dict[str, Any]]  # OcrResult as JSON
    seal: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # SealFinding as JSON
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class PrescreenReport(Base):
    __tablename__ = "prescreen_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(200), index=True)
    verdict: Mapped[str] = mapped_column(String(40))
    problems: Mapped[dict[str, Any]]  # {"codes": [...]}
    report: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


@cache
def get_engine(url: str, echo: bool = False) -> Engine:
    """One engine per database URL per process; creates the SQLite file's folder and the tables."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

    Base.metadata.create_all(engine)
    return engine


def session_factory(url: str, echo: bool = False) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url, echo), expire_on_commit=False)


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


def save_report(session: Session, *, report: dict[str, Any], source: str) -> PrescreenReport:
    row = PrescreenReport(
        case_id=report["case_id"],
        verdict=report["verdict"],
        problems={"codes": report["problems"]},
        report=report,
        source=source,
    )
    session.add(row)
    return row


def latest_report(session: Session, case_id: str) -> PrescreenReport | None:
    stmt = (
        select(PrescreenReport)
        .where(PrescreenReport.case_id == case_id)
        .order_by(PrescreenReport.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()
