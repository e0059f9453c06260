"""The flow of an upload, run in this process without Redis: ``intake prescreen DIR`` and
``intake demo`` (and the import of a backlog folder) store what they read exactly as an upload
does — an application of the ``cli`` channel, its files in the file store, the same document and
case rows, the same audit events — and return the same report the API serves for it.

The only difference from the service is who runs the jobs: here ``intake.jobs`` are called in
turn, and the job that would enqueue the assessment runs it at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from intake import clock, jobs, lifecycle
from intake.application import Application as ApplicationData
from intake.application import load_application
from intake.channels import add_channel
from intake.models import Application as ApplicationRow
from intake.models import Channel, Role
from intake.prescreen import Prescreener, failed_document
from intake.report import Report
from intake.service import add_document, create_application, get_application, latest_case, submit

CLI_CHANNEL = "cli"


class InlineDispatch:
    """Runs the job that follows at once, in this process (no Redis)."""

    def __init__(self, ctx: jobs.WorkerContext) -> None:
        self.ctx = ctx

    def enqueue_assessment(self, application_id: str) -> bool:
        jobs.assess_application(application_id, self.ctx)
        return True

    def enqueue_callback(self, delivery_id: int) -> bool:
        jobs.deliver_callback(delivery_id, self.ctx)
        return True


def local_context(prescreener: Prescreener) -> jobs.WorkerContext:
    """A worker context on the prescreener's settings and loaded models, dispatching in-process."""
    ctx = jobs.WorkerContext(prescreener.settings)
    ctx.prescreener = prescreener
    ctx.dispatch = InlineDispatch(ctx)
    return ctx


def case_id_for(application: ApplicationData) -> str:
    """The folder's own case id, or a stable one derived from who applied for what, when."""
    if application.case_id:
        return application.case_id
    key = "|".join(
        [application.id_number, application.disease, application.region, application.application_date.isoformat()]
    )
    return "MTB-" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def cli_channel(session: Session) -> Channel:
    """The channel folders are submitted through; its API key is never shown, so nobody holds it."""
    channel = session.get(Channel, CLI_CHANNEL)
    if channel is None:
        add_channel(session, channel_id=CLI_CHANNEL, name="intake command line", role=Role.APP, actor=CLI_CHANNEL)
        session.flush()
        channel = session.get_one(Channel, CLI_CHANNEL)
    return channel


@dataclass(frozen=True)
class FolderResult:
    application_id: str
    report: dict[str, Any]  # the JSON contract, as GET /v1/applications/{id}/report serves it

    @property
    def model(self) -> Report:
        return Report.model_validate(self.report)


def prescreen_folder(ctx: jobs.WorkerContext, directory: Path, *, as_of: dt.date | None = None) -> FolderResult:
    """Submit DIR (application.json and the files beside it) and pre-screen it in-process.

    The folder comes from an operator, not an app, so its ``application_date`` is taken as the
    submission date; ``as_of`` assesses it as if submitted on another date (evaluation, re-scan)."""
    application, paths = load_application(directory)
    submitted_on = as_of or application.application_date
    files: list[tuple[str, bytes | OSError]] = []
    for path in paths:
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            files.append((path.name, exc))

    with ctx.sessions.begin() as session:
        channel = cli_channel(session)
        app = create_application(session, channel=channel, data=application, external_ref=case_id_for(application),
                                 callback_url=None)
        application_id = app.id
        for name, data in files:
            if isinstance(data, OSError):
                _unreadable(session, app=app, name=name, error=data)
                continue
            sha256 = ctx.files.put(data)
            add_document(session, app=app, actor=CLI_CHANNEL, filename=name, sha256=sha256, size=len(data),
                         media_type=None, max_files=max(len(files), 1))
    with ctx.sessions.begin() as session:
        app = get_application(session, application_id)
        submit(session, app=app, actor=CLI_CHANNEL, at=clock.start_of_day(submitted_on))
        document_ids = [d.id for d in app.documents]
    for document_id in document_ids:
        jobs.process_document(document_id, ctx)
    jobs.assess_application(application_id, ctx)  # a folder whose files were all unreadable from disk
    with ctx.sessions() as session:
        case = latest_case(session, get_application(session, application_id))
        assert case is not None, f"application {application_id} was not assessed"
        return FolderResult(application_id, case.report)


def _unreadable(session: Session, *, app: ApplicationRow, name: str, error: OSError) -> None:
    """A file of the folder that cannot be read from disk: a failed document with the reason."""
    sha256 = hashlib.sha256(f"unreadable:{name}:{error}".encode()).hexdigest()
    added = add_document(session, app=app, actor=CLI_CHANNEL, filename=name, sha256=sha256, size=0,
                         media_type=None, max_files=10**6)
    report = failed_document(name, sha256, f"文件无法读取：{error.strerror or '读取失败'}", "io_error", detail=error)
    lifecycle.fail_unread(session, added.document, report=report, actor=CLI_CHANNEL)
