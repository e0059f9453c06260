"""The HTTP API: apps upload and follow their applications; reviewers read cases; operators run the
service. Errors are mapped to status codes here, once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from api.deps import ReviewerChannel, SessionDep
from api.routes import apps, ops, review
from intake.db import REQUEST_THREADS
from intake.errors import ApplicationInvalid, IntakeError, NotFound
from intake.service import Conflict, LimitExceeded
from intake.store import latest_report
from intake.upload import FileTooLarge
from ocr.errors import OcrError

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # The plain-def routes run in anyio's threadpool (40 threads by default). Each holds a database
    # connection while it runs; more threads than the pool keeps open would make PostgreSQL open and
    # close a connection (a backend process) per request in every burst.
    anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
    yield


app = FastAPI(
    lifespan=lifespan,
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


@app.exception_handler(IntegrityError)
def concurrent_change(request: Request, exc: IntegrityError) -> JSONResponse:
    # Two requests raced to create the same row (e.g. the same file uploaded twice at once).
    return JSONResponse(
        {"detail": "a concurrent request changed this application; nothing of this request was stored, retry it"},
        status_code=409,
    )


@app.exception_handler(OperationalError)
@app.exception_handler(InterfaceError)
def database_unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
    # Nothing of the request was committed; the same request (with its Idempotency-Key) is safe to retry.
    log.warning("database error on %s %s: %s", request.method, request.url.path, exc.__class__.__name__)
    return JSONResponse(
        {"detail": "the database is unavailable for a moment; nothing of this request was stored, retry it "
                   "(with the same Idempotency-Key)"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


@app.get("/healthz", tags=["service"])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/cases/{case_id}/report", tags=["reviewers"])
def case_report(case_id: str, channel: ReviewerChannel, session: SessionDep) -> dict[str, Any]:
    """The latest report of an `intake prescreen` run (folders pre-screened from the command line)."""
    row = latest_report(session, case_id)
    if row is None:
        raise NotFound(f"no pre-screening report for case {case_id!r}")
    return row.report
