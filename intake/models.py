"""Database tables (SQLAlchemy 2). The database is the source of truth; Redis only carries ids.

Changing a table means a new Alembic migration in ``intake/migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON}


class Role(StrEnum):
    APP = "app"  # a calling app (channel): uploads its own applications
    REVIEWER = "reviewer"  # 医保经办机构 staff: read cases
    OPERATOR = "operator"  # runs the service: dead letters, re-scans


class ApplicationStatus(StrEnum):
    DRAFT = "draft"  # created, documents being uploaded
    PRESCREENING = "prescreening"  # submitted; documents in the queue
    READY_FOR_REVIEW = "ready_for_review"
    NEEDS_SUPPLEMENT = "needs_supplement"  # 补正: the app may upload supplements and submit again


class DocumentStatus(StrEnum):
    RECEIVED = "received"  # stored and committed, not yet enqueued
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"  # read, but the file itself is bad (a document-level error with a reason)
    DEAD = "dead"  # every retry failed on a fault of ours: visible to operators, re-queueable


class ChannelRef(Protocol):
    """What code acting for a caller needs of it: a ``Channel`` row or the API's cached ``Caller``."""

    @property
    def id(self) -> str: ...

    @property
    def role(self) -> str: ...


class Channel(Base):
    """A caller with an API key: an app, or a reviewers' or operators' client."""

    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.APP)
    api_key_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # keys are random: sha256 suffices
    callback_secret: Mapped[str] = mapped_column(String(128))  # signs callbacks (HMAC-SHA256)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # its key no longer works


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_channel_ref", "channel_id", "external_ref"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"), index=True)
    external_ref: Mapped[str | None] = mapped_column(String(200))
    applicant_name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str] = mapped_column(String(32))
    disease: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100))
    application_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default=ApplicationStatus.DRAFT)
    round: Mapped[int] = mapped_column(Integer, default=0)  # submissions so far (1 = first, 2 = first 补正 …)
    # When the server received the current round's submission: recency and the review deadline are
    # measured from it, never from the app's application_date (kept as data).
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    callback_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    documents: Mapped[list[Document]] = relationship(back_populates="application", order_by="Document.created_at")


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("application_id", "sha256", name="uq_document_per_application"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))  # shown to people only, never used as a path
    media_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=0)  # the submission round it was uploaded for
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.RECEIVED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(Text)  # the technical cause, for operators only
    # 补正: a document is withdrawn, or replaced by a later upload, from this round on; earlier rounds
    # keep it (their reports are stored as they were).
    withdrawn_round: Mapped[int | None] = mapped_column(Integer)
    replaces_id: Mapped[str | None] = mapped_column(String(32))  # the document this upload replaces
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the document's part of the report
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    queued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # not re-sent before this
    last_fault: Mapped[str | None] = mapped_column(Text)  # our last fault on it, for operators
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(200))

    application: Mapped[Application] = relationship(back_populates="documents")


class Case(Base):
    """One assessment of an application: a new row per submission round, so history is kept."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("application_id", "round", name="uq_case_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(32))
    problems: Mapped[list[Any]]
    notice: Mapped[str] = mapped_column(Text)
    report: Mapped[dict[str, Any]]
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # the round's submission
    review_due: Mapped[dt.date | None] = mapped_column(Date)  # last working day of the review SLA
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """Append-only: every state change and who made it."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_application", "application_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))  # channel id, "worker:<name>", "reconciler", "cli"
    action: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[str | None] = mapped_column(String(32))
    document_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CallbackDelivery(Base):
    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OcrCacheEntry(Base):
    """OCR result (and seal finding) of a file, keyed by (sha256, OCR fingerprint)."""

    __tablename__ = "ocr_cache"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(300), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    result: Mapped[dict[str, Any]]
    seal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PrescreenReport(Base):
    """A report of the `intake prescreen` / `intake demo` commands (folders, not the service)."""

    __tablename__ = "prescreen_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(200), index=True)
    verdict: Mapped[str] = mapped_column(String(40))
    problems: Mapped[list[Any]]
    report: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
