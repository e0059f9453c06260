"""Request and response bodies of the reviewers' workspace JSON API (``/v1/workspace``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import AuditEventOut, ReviewDocumentReportOut, ReviewReportOut
from intake.models import Case, FieldEdit, ReviewDecision, User
from intake.workspace.casefile import CaseFile, DocumentView
from intake.workspace.dashboard import WeekRow
from intake.workspace.page_images import PageRef
from intake.workspace.queue import COUNT_CAP, QueueItem, QueuePage


class MeOut(BaseModel):
    username: str
    display_name: str
    role: str
    regions: list[str]

    @classmethod
    def of(cls, user: User) -> MeOut:
        return cls(username=user.username, display_name=user.display_name, role=user.role,
                   regions=list(user.regions or []))


class QueueItemOut(BaseModel):
    application_id: str
    external_ref: str | None
    applicant_name: str = Field(description="Masked: 张*明")
    id_number: str = Field(description="Masked: 2312**********3416")
    disease: str
    region: str
    channel: str
    status: str
    round: int
    verdict: str
    problems: list[str]
    review_flags: list[str]
    submitted_at: dt.datetime | None
    review_due: dt.date | None
    overdue: bool
    due_today: bool
    claimed_by: str | None
    claimed_by_name: str | None
    review_due_estimated: bool = Field(default=False, description="review_due assumed Mon–Fri for a year "
                                                                  "without a holiday schedule: an estimate")

    @classmethod
    def of(cls, item: QueueItem) -> QueueItemOut:
        return cls(**item.__dict__)


class QueuePageOut(BaseModel):
    total: int = Field(description="Cases that match, over all pages, counted up to total_cap + 1")
    total_cap: int = Field(default=COUNT_CAP, description="A total above this means more than this many")
    limit: int
    offset: int
    today: dt.date = Field(description="The date (China time) overdue and due_today are measured on")
    items: list[QueueItemOut]

    @classmethod
    def of(cls, page: QueuePage) -> QueuePageOut:
        return cls(total=page.total, total_cap=page.cap, limit=page.limit, offset=page.offset, today=page.today,
                   items=[QueueItemOut.of(i) for i in page.items])


class ClaimOut(BaseModel):
    application_id: str
    claimed_by: str | None
    claimed_by_name: str | None = None


class ReassignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="The reviewer who takes the case")


class FieldEditIn(BaseModel):
    field: str = Field(description="patient_name, gender, id_number, hospital_name, department, diagnosis or doc_date")
    value: str | None = Field(max_length=200, description="The corrected value; null clears the field")
    reason: str = Field(default="", max_length=500)


class RetypeIn(BaseModel):
    doc_type: str = Field(description="The document's right type, one of the six of GET /v1/workspace/reasons")
    kind: str | None = Field(default=None, description="With doc_type other only: what it is (other_kinds of "
                                                       "GET /v1/workspace/reasons, e.g. treatment_record), or null")
    reason: str = Field(default="", max_length=500)


class MarkIn(BaseModel):
    mark: Literal["accepted", "retake"]
    reasons: list[str] = Field(default=[], description="Retake reason codes (GET /v1/workspace/reasons)")
    note: str = Field(default="", max_length=2000)


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject", "request_supplement"]
    reasons: list[str] = Field(default=[], description="Reject reason codes (GET /v1/workspace/reasons)")
    note: str = Field(default="", max_length=2000)
    notice: str | None = Field(default=None, max_length=10000,
                               description="request_supplement: the notice sent to the applicant (default: the "
                                           "case's notice as it stands)")


class DecisionOut(BaseModel):
    application_id: str
    round: int
    decision: str
    reasons: list[str]
    note: str
    notice: str | None
    prescreen_verdict: str
    decided_by: str
    created_at: dt.datetime

    @classmethod
    def of(cls, row: ReviewDecision, username: str) -> DecisionOut:
        return cls(application_id=row.application_id, round=row.round, decision=row.decision, reasons=row.reasons,
                   note=row.note, notice=row.notice, prescreen_verdict=row.prescreen_verdict, decided_by=username,
                   created_at=row.created_at)


class ReasonsOut(BaseModel):
    reject: dict[str, str]
    retake: dict[str, str]
    doc_types: list[str]
    other_kinds: list[str] = Field(description="Kinds an `other` document may be re-typed with")
    editable_fields: list[str]


class FieldEditOut(BaseModel):
    id: int
    field: str
    value: str | None
    previous: str | None
    reason: str
    by: str
    at: dt.datetime

    @classmethod
    def of(cls, edit: FieldEdit, username: str) -> FieldEditOut:
        return cls(id=edit.id, field=edit.field, value=edit.value, previous=edit.previous, reason=edit.reason,
                   by=username, at=edit.created_at)


class MarkOut(BaseModel):
    mark: str
    reasons: list[str]
    note: str
    by: str
    at: dt.datetime


class PageOut(BaseModel):
    """A page as normalised for OCR: the boxes of ``report.field_sources`` and of the evidence are in
    its pixels (draw them over the image scaled to width × height, e.g. an SVG viewBox)."""

    number: int = Field(description="0-based, as `page` in field_sources and evidence")
    width: int
    height: int
    image_url: str = Field(description="The page image (WebP), same authentication as this API")

    @classmethod
    def of(cls, ref: PageRef) -> PageOut:
        return cls(number=ref.number, width=ref.size.width, height=ref.size.height, image_url=ref.url)


class WorkspaceDocumentOut(BaseModel):
    id: str
    filename: str
    round: int
    status: str
    media_type: str | None
    withdrawn_round: int | None
    in_effect: bool = Field(description="Assessed in the current round")
    report: ReviewDocumentReportOut | None = Field(
        description="Its part of the current report: fields with edits applied, field_sources (page, box, "
                    "confidence), checks, problems, review_flags")
    edits: list[FieldEditOut]
    mark: MarkOut | None
    pages: list[PageOut] = Field(default=[], description="Its pages with their size and image (none before "
                                                         "the document is read)")

    @classmethod
    def of(cls, view: DocumentView, usernames: dict[int, str],
           pages: list[PageRef] | None = None) -> WorkspaceDocumentOut:
        doc = view.document
        mark = view.mark
        return cls(
            id=doc.id, filename=doc.filename, round=doc.round, status=doc.status, media_type=doc.media_type,
            withdrawn_round=doc.withdrawn_round, in_effect=view.in_effect,
            report=ReviewDocumentReportOut.model_validate(view.report) if view.report else None,
            edits=[FieldEditOut.of(e, who) for e, who in view.edits],
            mark=MarkOut(mark=mark.mark, reasons=mark.reasons, note=mark.note, by=usernames.get(mark.user_id, ""),
                         at=mark.created_at) if mark else None,
            pages=[PageOut.of(p) for p in pages or []],
        )


class RoundOut(BaseModel):
    case_id: int
    round: int
    revision: int
    verdict: str
    problems: list[str]
    created_at: dt.datetime
    superseded_by: int | None

    @classmethod
    def of(cls, case: Case) -> RoundOut:
        return cls(case_id=case.id, round=case.round, revision=case.revision, verdict=case.verdict,
                   problems=case.problems, created_at=case.created_at, superseded_by=case.superseded_by)


class ApplicantOut(BaseModel):
    id: str
    external_ref: str | None
    applicant_name: str = Field(description="Whole: the case view is audited")
    id_number: str
    disease: str
    region: str
    channel: str
    status: str
    round: int
    application_date: dt.date
    submitted_at: dt.datetime | None
    complex_case: bool = Field(default=False, description="复杂病例: the region's longer review deadline applies")


class CaseDetailOut(BaseModel):
    application: ApplicantOut
    case_id: int
    verdict: str
    prescreen_verdict: str = Field(description="The verdict of the round's first, automatic assessment")
    review_due: dt.date | None
    review_due_estimated: bool = False
    overdue: bool
    due_today: bool
    open_for_review: bool = Field(description="Edits, marks and a decision are still possible")
    claimed_by: str | None
    claimed_by_name: str | None
    report: ReviewReportOut = Field(description="The current report: problems, evidence, review_flags, notice")
    documents: list[WorkspaceDocumentOut]
    rounds: list[RoundOut]
    decisions: list[DecisionOut]
    history: list[AuditEventOut]

    @classmethod
    def of(cls, f: CaseFile, pages: dict[str, list[PageRef]] | None = None) -> CaseDetailOut:
        """``pages``: document id -> its pages (``page_images.document_pages``)."""
        app, case = f.application, f.case
        pages = pages or {}
        return cls(
            application=ApplicantOut(
                id=app.id, external_ref=app.external_ref, applicant_name=app.applicant_name,
                id_number=app.id_number, disease=app.disease, region=app.region, channel=app.channel_id,
                status=app.status, round=app.round, application_date=app.application_date,
                submitted_at=app.submitted_at, complex_case=bool(app.complex_case)),
            case_id=case.id, verdict=case.verdict,
            prescreen_verdict=str(case.report.get("prescreen_verdict") or case.verdict),
            review_due=case.review_due, review_due_estimated=bool(case.report.get("review_due_estimated", False)),
            overdue=f.overdue, due_today=f.due_today, open_for_review=f.open_for_review,
            claimed_by=f.claimed_by.username if f.claimed_by else None,
            claimed_by_name=f.claimed_by.display_name if f.claimed_by else None,
            report=ReviewReportOut.model_validate(case.report),
            documents=[WorkspaceDocumentOut.of(v, f.usernames, pages.get(v.document.id)) for v in f.documents],
            rounds=[RoundOut.of(c) for c in f.rounds],
            decisions=[DecisionOut.of(d, f.usernames.get(d.user_id, "")) for d in f.decisions],
            history=[AuditEventOut.of(e) for e in f.history],
        )


class WeekRowOut(BaseModel):
    region: str
    week: str = Field(description="ISO week, e.g. 2026-W10")
    received: int
    prescreen: dict[str, int]
    decisions: dict[str, int]
    agreement: float | None
    median_hours_to_decision: float | None
    sla_met: float | None

    @classmethod
    def of(cls, row: WeekRow) -> WeekRowOut:
        return cls(**row.__dict__)


class DashboardOut(BaseModel):
    weeks: int
    rows: list[WeekRowOut]

