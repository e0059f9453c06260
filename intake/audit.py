"""The audit log: every state change, who made it and when (append-only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from intake.models import AuditEvent


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    application_id: str | None = None,
    document_id: str | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(actor=actor, action=action, application_id=application_id, document_id=document_id, detail=detail)
    )
