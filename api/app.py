"""The HTTP API: apps upload and follow their applications; reviewers read cases; operators run the
service. Errors are mapped to status codes here, once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api import docs, pages_auth
from api.errors import install as install_error_handlers
from api.pages import routes as review_pages
from api.routes import apps, backlog, dashboard, login, ops, review, workspace
from intake.db import REQUEST_THREADS

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # A wrong setting or deployment file stops the process here, named, instead of surfacing later as
    # a notice that blames an applicant's documents.
    from intake.errors import ConfigurationError
    from intake.startup import startup_settings

    try:
        startup_settings()  # intake.settings.get_settings(), then check_configuration
    except ConfigurationError as exc:
        log.critical("error: %s", exc)
        raise
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
    docs_url=None,  # /docs and /redoc come from api.docs, with their assets served here (no CDN)
    redoc_url=None,
)
app.include_router(apps.router)
app.include_router(review.router)
app.include_router(ops.router)
app.include_router(backlog.router)  # re-scans and backlog imports
app.include_router(workspace.router)  # the reviewers' workspace: JSON API and sign-in page
app.include_router(login.router)
app.include_router(review_pages.router)  # the reviewers' queue and case pages
app.include_router(dashboard.router)  # the supervisors' dashboard page
pages_auth.install(app)  # sessions and CSRF on the workspace's paths only
docs.install(app)

install_error_handlers(app)


@app.get("/healthz", tags=["service"])
def healthz() -> dict[str, str]:
    return {"status": "ok"}
