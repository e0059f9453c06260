"""Database tables (SQLAlchemy 2). The database is the source of truth; Redis only carries ids.

Changing a table means a new Alembic migration in ``intake/migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


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
    APPROVED = "approved"  # a reviewer's final decision (intake.workspace.decisions)
    REJECTED = "rejected"  # a reviewer's final decision, with reason codes


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
    # 代办 (issue 14): the agent who applies for the applicant; all three set, or none.
    agent_name: Mapped[str | None] = mapped_column(String(100))
    agent_id_number: Mapped[str | None] = mapped_column(String(32))
    agent_relationship: Mapped[str | None] = mapped_column(String(50))
    # 复杂病例 (绥化: "複雜病例可能延長至5個工作日"): a reviewer marked the case complex, so its review
    # deadline is the policy's longer one, this round and every later one (intake.service.mark_complex).
    complex_case: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The review deadline of the current case (its current round, not superseded), kept here by
    # ``_current_deadlines`` so that the reviewers' queue reads its pages in deadline order from an
    # index over (region, status, review_due) instead of sorting every case of a region.
    review_due: Mapped[dt.date | None] = mapped_column(Date)
    # The current case's problem and reviewer-flag kinds as "|p:stale|f:identity_mismatch|" (see
    # ``queue_tags``), kept with ``review_due``: the queue's problem and flag filters read them on the
    # row its index walk is on, instead of searching every case's stored JSON.
    queue_tags: Mapped[str | None] = mapped_column(Text)
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
    """One assessment of an application: a new row per submission round, so history is kept. A
    re-scan that changes a round's result adds a row of the next ``revision`` and marks the old one
    ``superseded_by`` it (the old one is kept)."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("application_id", "round", "revision", name="uq_case_round_revision"),)

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
    # What the assessment was made with (intake.versions): policy, registry, catalogue, classifier, ocr.
    versions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0; +1 per applied re-scan
    superseded_by: Mapped[int | None] = mapped_column(Integer)  # the re-scan's case that replaced this one
    # 复审: the last day the qualification an approval of this case grants holds (None: 长期有效, or not
    # approved); set once, on approval (intake.service.record_qualification).
    qualification_valid_until: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # The codes of the report's reviewer flags, kept beside the report (set from it on every write, see
    # _case_flag_codes) so the reviewers' queue filters on them without parsing reports.
    flag_codes: Mapped[list[Any] | None] = mapped_column(JSON)

    @property
    def review_due_estimated(self) -> bool:
        """Whether ``review_due`` counted a day of a year without a holiday schedule file (Mon–Fri
        assumed, intake.workdays): read from the stored report, which every assessment path writes."""
        return bool((self.report or {}).get("review_due_estimated", False))

    def set_review_deadline(self, date: dt.date, estimated: bool) -> None:
        """Move the deadline (e.g. ``Policy.review_deadline(..., complex_case=True)``): the column and
        the stored report together, so the estimate flag never describes another date."""
        self.review_due = date
        self.report = {**(self.report or {}), "review_due": date.isoformat(), "review_due_estimated": estimated}


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
    # What the page pixels showed ({"version", "findings"}: classifiers.quality.PagePixels), so a
    # re-classification from this entry draws no page again; None until first analysed.
    pixels: Mapped[dict[str, Any] | None] = mapped_column(JSON)
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


class ImportRecord(Base):
    """One application brought in by ``intake import`` (intake.backlog): keyed by its external
    reference and its files' sha256, so importing the same tree twice creates nothing twice."""

    __tablename__ = "import_records"

    import_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(200), index=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    source: Mapped[str] = mapped_column(Text, default="")  # the folder or manifest row it came from
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RescanRun(Base):
    """One ``intake rescan`` (or operator API) run: what it selected and how far it got. The database
    holds its progress, so an interrupted run resumes without redoing finished items."""

    __tablename__ = "rescan_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    actor: Mapped[str] = mapped_column(String(200))
    selection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=True)
    force_ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running, done
    total: Mapped[int] = mapped_column(Integer, default=0)
    batch_size: Mapped[int] = mapped_column(Integer, default=50)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RescanItem(Base):
    """One application of a re-scan run: pending → running → done (or failed), with its diff."""

    __tablename__ = "rescan_items"
    __table_args__ = (
        UniqueConstraint("run_id", "application_id", name="uq_rescan_item"),
        Index("ix_rescan_items_run_state", "run_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("rescan_runs.id"))
    application_id: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    batch: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending, running, done, failed
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(200))
    redone: Mapped[str | None] = mapped_column(String(20))  # none, assessment, classification, ocr
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    decided: Mapped[bool] = mapped_column(Boolean, default=False)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    documents: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- the reviewers' workspace (issue 12; intake.users, intake.workspace) ---------------------------------


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _case_flag_codes(_mapper: Any, _connection: Any, case: Case) -> None:
    """Keep ``Case.flag_codes`` equal to the codes of the report's reviewer flags, whoever writes the row."""
    case.flag_codes = report_flag_codes(case.report)


def report_flag_codes(report: dict[str, Any] | None) -> list[Any]:
    """The codes of a stored report's reviewer flags."""
    return [flag.get("code") for flag in (report or {}).get("review_flags") or []]


@event.listens_for(Session, "before_flush")
def _current_deadlines(session: Session, _context: Any, _instances: Any) -> None:
    """Keep ``Application.review_due`` and ``queue_tags`` equal to its current case's, whichever code
    writes a case or moves its deadline (an assessment, a reviewer's revision, a re-scan, a complex
    mark)."""
    for case in [*session.new, *session.dirty]:
        if not isinstance(case, Case) or case.superseded_by is not None:
            continue
        app = session.get(Application, case.application_id)
        if app is None or case.round < app.round:
            continue
        if app.review_due != case.review_due:
            app.review_due = case.review_due
        # Read from the report: ``flag_codes`` is only filled by the before-insert/update hook, after this.
        tags = queue_tags(case.problems or [], report_flag_codes(case.report))
        if app.queue_tags != tags:
            app.queue_tags = tags


def queue_tags(problems: list[str], flags: list[str | None]) -> str:
    """A case's problem kinds (``p:``) and reviewer-flag kinds (``f:``) as one delimited string."""
    kinds = sorted({f"p:{str(c).partition(':')[0]}" for c in problems}
                   | {f"f:{str(c).partition(':')[0]}" for c in flags if c})
    return "|" + "|".join(kinds) + "|" if kinds else "|"


# The reviewers' queue (intake.workspace.queue): the current cases of some regions, by SLA deadline,
# read in index order (PostgreSQL's ascending order puts NULLs last, as the queue does).
Index("ix_applications_queue", Application.region, Application.status, Application.review_due, Application.id)
Index("ix_applications_region_due", Application.region, Application.review_due, Application.id)  # every status
# Searches: a whole ID number, a name or its beginning (a prefix LIKE needs the pattern operator class
# on PostgreSQL whatever the database's collation).
Index("ix_applications_id_number", Application.id_number)
Index("ix_applications_name", Application.applicant_name, postgresql_ops={"applicant_name": "varchar_pattern_ops"})
Index("ix_cases_current", Case.application_id, Case.round, Case.superseded_by)


class UserRole(StrEnum):
    REVIEWER = "reviewer"  # works the cases of their regions
    SUPERVISOR = "supervisor"  # a reviewer who also reassigns claims and reads the dashboard of their regions
    ADMIN = "admin"  # every region


class User(Base):
    """A person who signs in to the reviewers' workspace (not an app's channel)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default=UserRole.REVIEWER)
    regions: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 统筹区 names, as the policies name them
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id (argon2-cffi), never the password
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class UserToken(Base):
    """A user's personal API token for the workspace JSON API; random, so its SHA-256 suffices."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CaseClaim(Base):
    """Who works an application now: one row per application (the primary key), so two reviewers
    never hold one case; releasing deletes the row (the audit log keeps the history)."""

    __tablename__ = "case_claims"

    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FieldEdit(Base):
    """A reviewer's correction of one extracted field of a document (or of its type, ``field`` =
    "doc_type", and an `other` document's kind, ``field`` = "kind"). Kept apart from the extraction;
    the newest per (document, field) wins over it in every later assessment (intake.workspace.edits)."""

    __tablename__ = "field_edits"
    __table_args__ = (Index("ix_field_edits_document", "document_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    field: Mapped[str] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(Text)  # None: the field is cleared
    previous: Mapped[str | None] = mapped_column(Text)  # what the document said before this edit
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewDecision(Base):
    """A reviewer's decision on a round: approved, rejected (reason codes) or needs_supplement (the
    notice sent). One per round; approved and rejected are final."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        UniqueConstraint("application_id", "round", name="uq_review_decision_round"),
        Index("ix_review_decisions_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    round: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))  # the assessment the decision was made on
    decision: Mapped[str] = mapped_column(String(32))  # approved, rejected, needs_supplement
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # reason codes (intake.workspace.decisions)
    note: Mapped[str] = mapped_column(Text, default="")
    notice: Mapped[str | None] = mapped_column(Text)  # the notice sent with a supplement request
    prescreen_verdict: Mapped[str] = mapped_column(String(32))  # the pre-screen's verdict of the round
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocumentMark(Base):
    """A reviewer's mark on one document: accepted, or needs a retake (with reasons). The newest wins."""

    __tablename__ = "document_marks"
    __table_args__ = (Index("ix_document_marks_document", "document_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    mark: Mapped[str] = mapped_column(String(20))  # accepted, retake
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
