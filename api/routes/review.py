"""The reviewers' API (医保经办机构): cases with everything pre-filled, and their history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import ReviewerChannel, SessionDep, SettingsDep
from api.schemas import AuditEventOut, CaseOut, ComplexMarkIn, ReviewApplicationOut, ReviewReportOut
from intake.errors import NotFound
from intake.models import ApplicationStatus
from intake.policy import load_policies
from intake.service import (
    audit_trail,
    case_report_by_reference,
    cases_of,
    get_application,
    latest_cases,
    mark_complex,
)

router = APIRouter(tags=["reviewers"])


@router.get("/v1/review/cases", response_model=list[CaseOut])
def cases(
    channel: ReviewerChannel,
    session: SessionDep,
    verdict: Annotated[ApplicationStatus | None, Query(description="Only this verdict")] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
):
    """The latest assessment of each application, newest first."""
    return [CaseOut.of(c) for c in latest_cases(session, verdict=verdict, region=region, limit=limit, offset=offset)]


@router.get("/v1/review/applications/{application_id}", response_model=ReviewApplicationOut)
def application(application_id: str, channel: ReviewerChannel, session: SessionDep):
    """One application as a reviewer opens it: the latest report, every round, the audit trail."""
    app = get_application(session, application_id)
    rounds = cases_of(session, app)
    if not rounds:
        raise NotFound(f"application {application_id} has not been assessed yet ({app.status})")
    return ReviewApplicationOut(
        application_id=app.id, status=app.status, channel=app.channel_id,
        report=ReviewReportOut.model_validate(rounds[-1].report),
        rounds=[CaseOut.of(c) for c in rounds],
        audit=[AuditEventOut.of(e) for e in audit_trail(session, app)],
    )


@router.get("/v1/cases/{case_id}/report", response_model=ReviewReportOut)
def case_report(case_id: str, channel: ReviewerChannel, session: SessionDep):
    """The latest report of a case by its reference: the case id of a folder pre-screened from the
    command line (``intake prescreen``, ``intake demo``), an app's external_ref, or an application id."""
    report = case_report_by_reference(session, case_id)
    if report is None:
        raise NotFound(f"no pre-screening report for case {case_id!r}")
    return JSONResponse(report)  # as stored: reports of older versions keep their own keys


@router.post("/v1/review/applications/{application_id}/complex", response_model=CaseOut)
def mark_complex_case(application_id: str, body: ComplexMarkIn, channel: ReviewerChannel, session: SessionDep,
                      settings: SettingsDep):
    """复杂病例: mark the application a complex case (or take the mark back). Its review deadline
    becomes the region's longer one (绥化市: 5 working days instead of 3), counted from the same
    submission, for this round and every later one; a region without a longer deadline keeps its own."""
    app = get_application(session, application_id)
    case = mark_complex(session, app, policies=load_policies(settings.policies_dir), actor=channel.id,
                        complex_case=body.complex)
    if case is None:
        raise NotFound(f"application {application_id} has not been assessed yet ({app.status})")
    session.commit()
    return CaseOut.of(case)
