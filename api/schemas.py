"""Request and response bodies of the API (apart from the tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, Field

from intake.models import Application, Case, Document, DocumentStatus


class ApplicationIn(BaseModel):
    applicant_name: str = Field(min_length=1, max_length=100, examples=["张三"])
    id_number: str = Field(min_length=15, max_length=18, examples=["230102195703152416"])
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

    @classmethod
    def of(cls, doc: Document, *, duplicate: bool = False) -> DocumentOut:
        return cls(
            id=doc.id, filename=doc.filename, sha256=doc.sha256, media_type=doc.media_type,
            size_bytes=doc.size_bytes, round=doc.round, status=doc.status, error=doc.error,
            error_code=doc.error_code, doc_type=(doc.report or {}).get("doc_type"), duplicate=duplicate,
        )


class ApplicationOut(BaseModel):
    id: str
    external_ref: str | None
    status: str
    round: int
    applicant_name: str
    disease: str
    region: str
    application_date: dt.date
    created_at: dt.datetime
    progress: dict[str, int]  # documents per status
    documents: list[DocumentOut]
    verdict: str | None = None
    problems: list[str] | None = None
    notice: str | None = None

    @classmethod
    def of(cls, app: Application, case: Case | None) -> ApplicationOut:
        progress = {s.value: 0 for s in DocumentStatus}
        for doc in app.documents:
            progress[doc.status] += 1
        return cls(
            id=app.id, external_ref=app.external_ref, status=app.status, round=app.round,
            applicant_name=app.applicant_name, disease=app.disease, region=app.region,
            application_date=app.application_date, created_at=app.created_at, progress=progress,
            documents=[DocumentOut.of(d) for d in app.documents],
            verdict=case.verdict if case else None, problems=case.problems if case else None,
            notice=case.notice if case else None,
        )


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
    message: str


class UploadRefused(BaseModel):
    detail: str
    files: list[FileProblem]
