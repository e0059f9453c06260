"""The HTTP face of intake. For now: health and the reviewers' read of a stored report; the
apps' upload API and the queue come with the intake service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.orm import Session

from intake.settings import Settings, get_settings
from intake.store import latest_report, session_factory


def get_db(settings: Annotated[Settings, Depends(get_settings)]):  # type: ignore[no-untyped-def]
    with session_factory(settings.db.url)() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]

app = FastAPI(title="门诊慢特病 intake", version="0.1.0")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/cases/{case_id}/report")
def case_report(case_id: str, session: SessionDep) -> dict[str, Any]:
    """The latest pre-screening report of a case, as the JSON contract."""
    row = latest_report(session, case_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"no pre-screening report for case {case_id!r}")
    return row.report
