"""The HTTP API: apps upload and follow their applications; reviewers read cases; operators run the
service. Errors are mapped to status codes here, once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from api.deps import ReviewerChannel, SessionDep
from api.errors import install as install_error_handlers
from api.routes import apps, ops, review
from intake.db import REQUEST_THREADS
from intake.errors import NotFound
from intake.store import latest_report

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

install_error_handlers(app)


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
