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
from intake.application import FolderFileChanged, SkippedFile, read_folder, read_folder_file
from intake.channels import add_channel
from intake.errors import ApplicationInvalid, FieldError, FileTooLarge
from intake.models import Application as ApplicationRow
from intake.models import Channel, Role
from intake.prescreen import Prescreener, failed_document
from intake.regions import disease_problem
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
    skipped: tuple[SkippedFile, ...] = ()  # entries of the folder that are not documents, and why

    @property
    def model(self) -> Report:
        return Report.model_validate(self.report)

    def cli_report(self) -> dict[str, Any]:
        """What ``intake prescreen --json`` prints: the report and the folder's ``skipped`` entries."""
        return {**self.report, "skipped": [entry.shown() for entry in self.skipped]}


@dataclass(frozen=True)
class _Unread:
    """A folder's file whose bytes are not stored: it becomes a failed document with ``message``."""

    message: str  # for the applicant, in plain Chinese
    code: str
    detail: str


def prescreen_folder(ctx: jobs.WorkerContext, directory: Path, *, as_of: dt.date | None = None) -> FolderResult:
    """Submit DIR (application.json and the files beside it) and pre-screen it in-process.

    The folder comes from an operator, not an app, so its ``application_date`` is taken as the
    submission date; ``as_of`` assesses it as if submitted on another date (evaluation, re-scan).
    Every entry of DIR ends as a document (failed with a reason if it cannot be read or is over
    ``limits.max_file_bytes``) or in ``FolderResult.skipped`` with a reason (``read_folder``)."""
    files = read_folder_files(ctx, directory)
    refuse_uncovered_disease(ctx, files.application, directory)
    with ctx.sessions.begin() as session:
        application_id, skipped = store_folder(ctx, session, files)
    submit_folder(ctx, application_id, as_of=as_of)
    return run_inline(ctx, application_id, skipped)


@dataclass(frozen=True)
class FolderFiles:
    """An application folder read from disk: its application, its files' bytes (or why they could
    not be read) and the entries that are no documents."""

    application: ApplicationData
    files: tuple[tuple[str, bytes | _Unread], ...]
    skipped: tuple[SkippedFile, ...]

    def sha256s(self) -> list[str]:
        """What identifies the folder's content: each readable file's sha256, or its unread reason."""
        return sorted(hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else f"{data.code}:{name}"
                      for name, data in self.files)


def read_folder_files(ctx: jobs.WorkerContext, directory: Path) -> FolderFiles:
    """Read DIR's application.json and files (``ApplicationInvalid`` for a folder that has none)."""
    folder = read_folder(directory)
    skipped = list(folder.skipped)
    limit = ctx.settings.limits.max_file_bytes
    files: list[tuple[str, bytes | _Unread]] = []
    for document in folder.documents:
        try:
            files.append((document.name, read_folder_file(document, max_bytes=limit)))
        except FolderFileChanged as exc:
            skipped.append(exc.skipped)
        except FileTooLarge as exc:
            message = (f"文件过大（{_size_text(exc.size)}），单个文件不能超过{_size_text(exc.limit)}，"
                       "请压缩或拆分后重新上传。")
            files.append((document.name, _Unread(message, "file_too_large", f"{exc.size} bytes > {exc.limit}")))
        except OSError as exc:
            files.append((document.name, _Unread(f"文件无法读取：{exc.strerror or '读取失败'}", "io_error",
                                                 f"{type(exc).__name__}: {exc}")))
    return FolderFiles(folder.application, tuple(files), tuple(skipped))


def store_folder(ctx: jobs.WorkerContext, session: Session, folder: FolderFiles, *,
                 external_ref: str | None = None) -> tuple[str, list[SkippedFile]]:
    """Create the application of the ``cli`` channel and its documents (files into the file store),
    in the caller's transaction; its id and the folder's skipped entries (with same-content twins)."""
    files, skipped = folder.files, list(folder.skipped)
    channel = cli_channel(session)
    app = create_application(session, channel=channel, data=folder.application,
                             external_ref=external_ref or case_id_for(folder.application), callback_url=None)
    for name, data in files:
        if isinstance(data, _Unread):
            _unreadable(session, app=app, name=name, unread=data)
            continue
        sha256 = ctx.files.put(data)
        added = add_document(session, app=app, actor=CLI_CHANNEL, filename=name, sha256=sha256, size=len(data),
                             media_type=None, max_files=max(len(files), 1))
        if not added.created:
            twin = added.document.filename
            skipped.append(SkippedFile(name, f"the same content as {twin}: counted as one document"))
    return app.id, skipped


def submit_folder(ctx: jobs.WorkerContext, application_id: str, *, as_of: dt.date | None = None) -> list[str]:
    """Submit a stored folder's application as of its own date (or ``as_of``); its document ids."""
    with ctx.sessions.begin() as session:
        app = get_application(session, application_id)
        submitted_on = as_of or app.application_date
        submit(session, app=app, actor=CLI_CHANNEL, at=clock.start_of_day(submitted_on))
        return [d.id for d in app.documents]


def run_inline(ctx: jobs.WorkerContext, application_id: str, skipped: list[SkippedFile] | None = None,
               ) -> FolderResult:
    """Run a submitted application's jobs in this process (documents already done are skipped by
    their job) and return its report."""
    with ctx.sessions() as session:
        document_ids = [d.id for d in get_application(session, application_id).documents]
    for document_id in document_ids:
        jobs.process_document(document_id, ctx)
    jobs.assess_application(application_id, ctx)  # a folder whose files were all unreadable from disk
    with ctx.sessions() as session:
        case = latest_case(session, get_application(session, application_id))
        assert case is not None, f"application {application_id} was not assessed"
        return FolderResult(application_id, case.report, tuple(sorted(skipped or [], key=lambda s: s.name)))


def refuse_uncovered_disease(ctx: jobs.WorkerContext, application: ApplicationData, directory: Path) -> None:
    """病种不在线上办理范围: a folder whose 病种 its region does not take is refused before anything
    is stored, with the message the API's 422 gives (``intake.regions.disease_problem``)."""
    policy = ctx.prescreener.policies.for_region(application.region)
    problem = disease_problem(policy, application.disease, ctx.prescreener.catalogue)
    if problem is not None:
        raise ApplicationInvalid(f"application.json: disease: {problem}", path=str(directory),
                                 errors=[FieldError("disease", problem)])


def _unreadable(session: Session, *, app: ApplicationRow, name: str, unread: _Unread) -> None:
    """A file of the folder whose bytes are not stored: a failed document with the reason."""
    sha256 = hashlib.sha256(f"{unread.code}:{name}:{unread.detail}".encode(errors="surrogatepass")).hexdigest()
    added = add_document(session, app=app, actor=CLI_CHANNEL, filename=name, sha256=sha256, size=0,
                         media_type=None, max_files=10**6)
    report = failed_document(added.document.filename, sha256, unread.message, unread.code, detail=unread.detail)
    lifecycle.fail_unread(session, added.document, report=report, actor=CLI_CHANNEL)


def _size_text(size: int) -> str:
    """A file size for the applicant: 20 MB, 1.5 MB, 800 KB, 120 字节."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} 字节"
