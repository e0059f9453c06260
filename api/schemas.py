"""Request and response bodies of the API (apart from the tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, Field

from intake.models import Application, AuditEvent, Case, Document, DocumentStatus
from intake.report import DocumentReport, Evidence, Report


class AgentIn(BaseModel):
    """The agent (代办人) applying for the applicant: their ID card and a proof of relationship (户口本,
    出生证明 …) then become required materials."""

    name: str = Field(min_length=1, max_length=100, examples=["张小明"])
    id_number: str = Field(min_length=15, max_length=18, examples=["230102198503152411"])
    relationship: str = Field(min_length=1, max_length=50, description="To the applicant", examples=["子女"])


class ApplicationIn(BaseModel):
    applicant_name: str = Field(min_length=1, max_length=100, examples=["张三"])
    id_number: str = Field(min_length=15, max_length=18, examples=["230102195703152419"])
    disease: str = Field(min_length=1, max_length=100, description="The claimed 病种", examples=["糖尿病"])
    region: str = Field(default="default", max_length=100, examples=["绥化市"])
    application_date: dt.date
    external_ref: str | None = Field(default=None, max_length=200, description="The app's own reference")
    callback_url: AnyHttpUrl | None = Field(default=None, description="Called when a verdict is reached")
    agent: AgentIn | None = Field(default=None, description="代办: who applies for the applicant, if not themself")


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
    agent: AgentIn | None = None  # 代办人, when the application names one
    created_at: dt.datetime
    submitted_at: dt.datetime | None = None  # when the server received the current round
    review_due: dt.date | None = None  # the review deadline of the latest assessment
    # True when review_due counted a day of a year whose holiday schedule is not yet known (Mon–Fri
    # assumed): show it as an estimate.
    review_due_estimated: bool = False
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
            agent=AgentIn(name=app.agent_name, id_number=app.agent_id_number,
                          relationship=app.agent_relationship or "代办人")
            if app.agent_name and app.agent_id_number else None,
            review_due=case.review_due if case else None,
            review_due_estimated=case.review_due_estimated if case else False,
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
    review_due: dt.date | None = None  # last working day of the review SLA
    review_due_estimated: bool = False  # review_due assumed Mon–Fri for a year without a holiday schedule
    report: dict[str, Any] | None = None

    @classmethod
    def of(cls, case: Case, *, with_report: bool = False) -> CaseOut:
        return cls(
            application_id=case.application_id, round=case.round, verdict=case.verdict, problems=case.problems,
            notice=case.notice, created_at=case.created_at, report=case.report if with_report else None,
            review_due=case.review_due, review_due_estimated=case.review_due_estimated,
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


class ComplexMarkIn(BaseModel):
    """复杂病例: mark a case complex (the region's longer review deadline) or take the mark back."""

    complex: bool = True


class QualificationDueOut(BaseModel):
    """An approved qualification whose validity ends in the asked range: 复审 is due after ``valid_until``."""

    application_id: str
    external_ref: str | None
    channel_id: str
    applicant_name: str
    id_number: str
    disease: str
    region: str
    round: int = Field(description="The approved submission round")
    valid_until: dt.date = Field(description="The last day the qualification holds")

    @classmethod
    def of(cls, app: Application, case: Case) -> QualificationDueOut:
        assert case.qualification_valid_until is not None
        return cls(application_id=app.id, external_ref=app.external_ref, channel_id=app.channel_id,
                   applicant_name=app.applicant_name, id_number=app.id_number, disease=app.disease,
                   region=app.region, round=case.round, valid_until=case.qualification_valid_until)
