"""Request and response bodies of the API (apart from the tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, Field

from intake.models import Application, AuditEvent, Case, Document, DocumentStatus
from intake.report import DocumentReport, Evidence, Report


class ApplicationIn(BaseModel):
    applicant_name: str = Field(min_length=1, max_length=100, examples=["张三"])
    id_number: str = Field(min_length=15, max_length=18, examples=["230102195703152419"])
    disease: str = Field(min_length=1, max_length=100, description="The claimed 病种", examples=["糖尿病"])
    region: str = Field(default="default", max_length=100, examples=["绥化市"])
    application_date: dt.date
    external_ref: str | None = Field(default=None, max_length=200, description="The app's own reference")
    callback_url: AnyHttpUrl | None = Field(default=None, description="Called when a verdict is reached")


class DocumentOut(BaseModel):
    id: str
    filename: str
    sha256: str
    media_type: str | None
    size_bytes: int
    round: int
    status: str
    error: str | None = None
    error_code: str | None = None
    doc_type: str | None = None
    duplicate: bool = False  # the same bytes were already on this application
    withdrawn_round: int | None = None  # 补正: no longer counts from this round on
    replaces: str | None = None  # the document this one replaced

    @classmethod
    def of(cls, doc: Document, *, duplicate: bool = False) -> DocumentOut:
        return cls(
            id=doc.id, filename=doc.filename, sha256=doc.sha256, media_type=doc.media_type,
            size_bytes=doc.size_bytes, round=doc.round, status=doc.status, error=doc.error,
            error_code=doc.error_code, doc_type=(doc.report or {}).get("doc_type"), duplicate=duplicate,
            withdrawn_round=doc.withdrawn_round, replaces=doc.replaces_id,
        )


class ApplicationOut(BaseModel):
    id: str
    external_ref: str | None
    status: str
    round: int
    applicant_name: str
    disease: str
    region: str
    application_date: dt.date  # as the app sent it: data, not the clock recency is measured on
    created_at: dt.datetime
    submitted_at: dt.datetime | None = None  # when the server received the current round
    review_due: dt.date | None = None  # the review deadline of the latest assessment
    progress: dict[str, int] | None = None  # documents per status
    documents: list[DocumentOut] | None = None
    # Documents every retry failed on (our fault): the application waits for an operator, not the app.
    dead_letters: list[str] = []
    verdict: str | None = None
    problems: list[str] | None = None
    notice: str | None = None

    @classmethod
    def of(cls, app: Application, case: Case | None, *, with_documents: bool = True) -> ApplicationOut:
        out = cls(
            id=app.id, external_ref=app.external_ref, status=app.status, round=app.round,
            applicant_name=app.applicant_name, disease=app.disease, region=app.region,
            application_date=app.application_date, created_at=app.created_at, submitted_at=app.submitted_at,
            review_due=case.review_due if case else None,
            verdict=case.verdict if case else None, problems=case.problems if case else None,
            notice=case.notice if case else None,
        )
        if with_documents:
            progress = {s.value: 0 for s in DocumentStatus}
            for doc in app.documents:
                progress[doc.status] += 1
            out.progress, out.documents = progress, [DocumentOut.of(d) for d in app.documents]
            out.dead_letters = [d.id for d in app.documents if d.status == DocumentStatus.DEAD]
        return out


class ApplicationList(BaseModel):
    total: int  # applications that match, over all pages
    limit: int
    offset: int
    items: list[ApplicationOut]


class ReviewDocumentReportOut(DocumentReport):
    """A document's part of the report as reviewers see it (no OCR text, no operator detail)."""

    text: str = Field(default="", exclude=True)
    error_detail: str | None = Field(default=None, exclude=True)


class ReviewReportOut(Report):
    """The pre-screening report as reviewers see it: the JSON contract of the README, with the
    reviewer flags (possible problems too weakly evidenced to tell the applicant)."""

    documents: list[ReviewDocumentReportOut]  # type: ignore[assignment]


class DocumentReportOut(ReviewDocumentReportOut):
    """A document's part of the report as the app sees it: no reviewer flags."""

    review_flags: list[str] = Field(default=[], exclude=True)


class ReportOut(Report):
    """The pre-screening report as the app sees it: what the applicant is told and its evidence,
    never the reviewer flags."""

    documents: list[DocumentReportOut]  # type: ignore[assignment]
    review_flags: list[Evidence] = Field(default=[], exclude=True)


class UploadOut(BaseModel):
    documents: list[DocumentOut]


class CaseOut(BaseModel):
    application_id: str
    round: int
    verdict: str
    problems: list[str]
    notice: str
    created_at: dt.datetime
    report: dict[str, Any] | None = None

    @classmethod
    def of(cls, case: Case, *, with_report: bool = False) -> CaseOut:
        return cls(
            application_id=case.application_id, round=case.round, verdict=case.verdict, problems=case.problems,
            notice=case.notice, created_at=case.created_at, report=case.report if with_report else None,
        )


class FileProblem(BaseModel):
    file: str
    code: str
    message: str  # for the applicant, in plain Chinese
    detail: str | None = None  # what exactly was found, for the app's developers


class UploadRefused(BaseModel):
    detail: str
    files: list[FileProblem]


class AuditEventOut(BaseModel):
    at: dt.datetime
    actor: str
    action: str
    document_id: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(at=event.at, actor=event.actor, action=event.action, document_id=event.document_id,
                   detail=event.detail)


class ReviewApplicationOut(BaseModel):
    application_id: str
    status: str
    channel: str
    report: ReviewReportOut  # the latest round's
    rounds: list[CaseOut]
    audit: list[AuditEventOut]
