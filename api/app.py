"""The HTTP API: apps upload and follow their applications; reviewers read cases; operators run the
service. Errors are mapped to status codes here, once."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.deps import SessionDep
from api.routes import apps, ops, review
from intake.errors import ApplicationInvalid, IntakeError, NotFound
from intake.service import Conflict, LimitExceeded
from intake.store import latest_report
from intake.upload import FileTooLarge
from ocr.errors import OcrError

app = FastAPI(
    title="门诊慢特病 intake",
    version="1.0.0",
    description="Upload, pre-screening and review of 门诊慢特病 (outpatient chronic and special disease) "
    "benefit applications.",
)
app.include_router(apps.router)
app.include_router(review.router)
app.include_router(ops.router)

_STATUS: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (FileTooLarge, 413),
    (LimitExceeded, 422),
    (ApplicationInvalid, 422),
    (IntakeError, 400),
]


@app.exception_handler(IntakeError)
def intake_error(request: Request, exc: IntakeError) -> JSONResponse:
    code = next(status for kind, status in _STATUS if isinstance(exc, kind))
    return JSONResponse({"detail": str(exc)}, status_code=code)


@app.exception_handler(OcrError)
def ocr_error(request: Request, exc: OcrError) -> JSONResponse:
    code = 415 if exc.code == "unsupported_type" else 422
    return JSONResponse({"detail": str(exc), "code": exc.code}, status_code=code)


@app.get("/healthz", tags=["service"])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/cases/{case_id}/report", tags=["reviewers"])
def case_report(case_id: str, session: SessionDep) -> dict[str, Any]:
    """The latest report of an `intake prescreen` run (folders pre-screened from the command line)."""
    row = latest_report(session, case_id)
    if row is None:
        raise NotFound(f"no pre-screening report for case {case_id!r}")
    return row.report
