"""The one place where errors become HTTP responses (the tree and its codes: ``intake.errors``).

Routes and dependencies raise typed errors; nothing raises ``HTTPException``. Every answer is
``{"detail": ...}`` with the message a person can act on; field errors come in the list form
FastAPI uses for request validation (``loc``, ``msg``, ``type``), so an app parses one shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from intake.errors import ApplicationInvalid, IntakeError, ServiceUnavailable, Unauthorized
from ocr.errors import OcrError, UnsupportedFileType

log = logging.getLogger(__name__)


def intake_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IntakeError)
    headers: dict[str, str] = {}
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, ApplicationInvalid) and exc.errors:
        body["detail"] = [{"loc": ["body", e.field], "msg": e.message, "type": "value_error"} for e in exc.errors]
    elif isinstance(exc, ServiceUnavailable):
        body["unavailable"] = exc.what
        headers["Retry-After"] = "5"
    elif isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def ocr_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OcrError)
    status_code = 415 if isinstance(exc, UnsupportedFileType) else 422
    return JSONResponse({"detail": str(exc), "code": exc.code}, status_code=status_code)


def concurrent_change(request: Request, exc: Exception) -> JSONResponse:
    # Two requests raced to create the same row (e.g. the same file uploaded twice at once).
    return JSONResponse(
        {"detail": "a concurrent request changed this application; nothing of this request was stored, retry it"},
        status_code=409,
    )


def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # Nothing of the request was committed; the same request (with its Idempotency-Key) is safe to retry.
    log.warning("database error on %s %s: %s", request.method, request.url.path, exc.__class__.__name__)
    return JSONResponse(
        {"detail": "the database is unavailable for a moment; nothing of this request was stored, retry it "
                   "(with the same Idempotency-Key)", "unavailable": "database"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(IntakeError, intake_error)
    app.add_exception_handler(OcrError, ocr_error)
    app.add_exception_handler(IntegrityError, concurrent_change)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(InterfaceError, database_unavailable)

