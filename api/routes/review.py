"""The reviewers' API (医保经办机构): cases with everything pre-filled, and their history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy import select

from api.deps import ReviewerChannel, SessionDep
from api.schemas import CaseOut
from intake.models import Application, AuditEvent, Case
from intake.service import get_application

router = APIRouter(prefix="/v1/review", tags=["reviewers"])


@router.get("/cases", response_model=list[CaseOut])
def cases(channel: ReviewerChannel, session: SessionDep, verdict: str | None = None, region: str | None = None,
          limit: int = 100):
    """The latest assessment of each application, newest first."""
    stmt = select(Case).join(Application, Application.id == Case.application_id).where(
        Case.round == Application.round
    )
    if verdict:
        stmt = stmt.where(Case.verdict == verdict)
    if region:
        stmt = stmt.where(Application.region == region)
    rows = session.scalars(stmt.order_by(Case.created_at.desc()).limit(min(limit, 1000))).all()
    return [CaseOut.of(c) for c in rows]


@router.get("/applications/{application_id}")
def application(application_id: str, channel: ReviewerChannel, session: SessionDep) -> dict[str, Any]:
    """One application as a reviewer opens it: the latest report, every round, the audit trail."""
    app = get_application(session, application_id)
    rounds = session.scalars(select(Case).where(Case.application_id == app.id).order_by(Case.round)).all()
    if not rounds:
        raise HTTPException(404, f"application {application_id} has not been assessed yet ({app.status})")
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.application_id == app.id).order_by(AuditEvent.id)
    ).all()
    return {
        "application_id": app.id,
        "status": app.status,
        "channel": app.channel_id,
        "report": rounds[-1].report,
        "rounds": [CaseOut.of(c).model_dump(mode="json") for c in rounds],
        "audit": [
            {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "document_id": e.document_id,
             "detail": e.detail}
            for e in events
        ],
    }
