"""Import of a backlog that never went through the service: paper applications scanned at a 经办
counter, or an export of the old system's cases.

Input: a tree of application folders (``application.json`` plus files, as ``intake prescreen``
reads them; a folder without one that holds folders is descended into), or a CSV manifest naming
each application's fields and files (``MANIFEST_COLUMNS``; ``files`` separated by ``|``, relative to
the manifest's folder). Each application goes through the same flow as an upload
(``intake.local``: the same rows, jobs, case and audit events), either in this process or with its
documents on the low-priority ``backlog`` queue.

Idempotent and resumable: an application is keyed by its external reference (the folder's
``case_id``, or one derived from who applied for what, when) and its files' sha256
(``ImportRecord``). Importing the same tree again creates nothing; an application whose import was
interrupted is taken up where it stopped (submitted if it was not, its unread documents read).
A bad folder or row is one outcome with its reason and never stops the batch.

``watch`` imports the application folders dropped into a folder (a counter's scanner), each once
it holds ``application.json`` and nothing in it has changed for a few seconds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from intake import clock, lifecycle
from intake.application import APPLICATION_FILE, Application, SkippedFile, check_folder_application
from intake.errors import IntakeError
from intake.local import (
    FolderFiles,
    _Unread,
    case_id_for,
    read_folder_files,
    run_inline,
    store_folder,
    submit_folder,
)
from intake.models import ApplicationStatus, Document, ImportRecord
from intake.service import TERMINAL, documents_in_effect, get_application, latest_case

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("case_id", "applicant_name", "id_number", "disease", "region", "application_date", "files")
SUMMARY_COLUMNS = ("source", "status", "application_id", "case_id", "verdict", "problems", "documents", "pages",
                   "error")


@dataclass
class ImportOutcome:
    """What became of one folder or manifest row."""

    source: str
    status: str  # imported, already (imported before), resumed, queued, bad
    application_id: str | None = None
    case_id: str | None = None
    verdict: str | None = None
    problems: list[str] = field(default_factory=list)
    documents: int = 0
    pages: int = 0
    skipped: int = 0
    error: str | None = None  # a bad folder's reason, one line

    def row(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = " ".join(self.problems)
        return {key: data[key] for key in SUMMARY_COLUMNS}


# --- what to import ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One application to import: a folder, or a manifest row (``row``)."""

    source: str
    folder: Path | None = None
    row: dict[str, str] | None = None
    base: Path | None = None  # the manifest's folder: files are named relative to it


def discover(root: Path) -> list[Candidate]:
    """The applications under ROOT: ROOT itself if it is an application folder or a CSV manifest,
    else every sub-folder (sorted), descending into folders that hold folders but no application."""
    root = Path(root)
    if root.is_file():
        return list(_manifest_rows(root))
    if (root / APPLICATION_FILE).exists():
        return [Candidate(str(root), folder=root)]
    found: list[Candidate] = []
    for child in sorted(root.iterdir()) if root.is_dir() else []:
        if not child.is_dir() or child.name.startswith("."):
            continue
        if not (child / APPLICATION_FILE).exists() and any(p.is_dir() for p in child.iterdir()):
            found.extend(discover(child))
        else:
            found.append(Candidate(str(child), folder=child))  # without application.json: a bad folder
    return found


def _manifest_rows(path: Path) -> Iterator[Candidate]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle), start=2):
            yield Candidate(f"{path}:{n}", row={k.strip(): (v or "").strip() for k, v in row.items() if k},
                            base=path.parent)


def _row_files(ctx: Any, candidate: Candidate) -> FolderFiles:
    """A manifest row as a folder would be read: its application and its files' bytes."""
    row, base = candidate.row or {}, candidate.base or Path()
    missing = [c for c in MANIFEST_COLUMNS if c not in row and c != "case_id"]
    if missing:
        raise ValueError(f"the manifest has no column {', '.join(missing)}; "
                         f"its columns are {', '.join(MANIFEST_COLUMNS)}")
    fields = {k: row[k] for k in MANIFEST_COLUMNS[:-1] if row.get(k)}
    try:
        application = Application.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"the row is invalid: {problems}") from None
    check_folder_application(application, clock.local_date())
    limit = ctx.settings.limits.max_file_bytes
    files: list[tuple[str, bytes | _Unread]] = []
    for name in (n.strip() for n in row["files"].split("|") if n.strip()):
        path = base / name
        try:
            if path.stat().st_size > limit:
                files.append((path.name, _Unread("文件过大，请压缩或拆分后重新上传。", "file_too_large",
                                                 f"{path.stat().st_size} bytes > {limit}")))
                continue
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            files.append((path.name, _Unread(f"文件无法读取：{exc.strerror or '读取失败'}", "io_error",
                                             f"{type(exc).__name__}: {exc}")))
    if not files:
        raise ValueError("the row names no files")
    return FolderFiles(application, tuple(files), ())


# --- one application ---------------------------------------------------------------------------------

def import_key(external_ref: str, folder: FolderFiles) -> str:
    """What makes an import the same one: the external reference and the files' content."""
    return hashlib.sha256("\n".join([external_ref, *folder.sha256s()]).encode()).hexdigest()


def import_one(ctx: Any, candidate: Candidate, *, local: bool = True) -> ImportOutcome:
    """Import one folder or row (in this process, or with its documents on the backlog queue);
    never raises for a bad folder: its outcome is ``bad`` with the reason."""
    try:
        files = read_folder_files(ctx, candidate.folder) if candidate.folder is not None else _row_files(ctx, candidate)
    except (IntakeError, ValueError, OSError) as exc:
        return ImportOutcome(candidate.source, "bad", error=_one_line(exc))
    external_ref = case_id_for(files.application)
    key = import_key(external_ref, files)
    skipped: list[SkippedFile] = list(files.skipped)
    with ctx.sessions.begin() as session:
        record = session.get(ImportRecord, key)
        if record is None:
            application_id, skipped = store_folder(ctx, session, files, external_ref=external_ref)
            session.add(ImportRecord(import_key=key, external_ref=external_ref, application_id=application_id,
                                     source=candidate.source))
            status = "imported"
        else:
            application_id, status = record.application_id, "already"
    with ctx.sessions() as session:
        app = get_application(session, application_id)
        draft, assessed = app.status == ApplicationStatus.DRAFT, latest_case(session, app) is not None
    if status == "already" and not assessed:
        status = "resumed"  # an earlier import stopped before its verdict
    if draft:
        submit_folder(ctx, application_id)
    if local:
        run_inline(ctx, application_id, skipped)
    elif not assessed:
        _enqueue_unread(ctx, application_id)
        status = "queued" if status == "imported" else status
    return _outcome(ctx, candidate.source, status, application_id, len(skipped))


def _enqueue_unread(ctx: Any, application_id: str) -> None:
    """Send the application's unfinished documents to the backlog queue (or its assessment, when
    every document is done): after the commit, as uploads are."""
    with ctx.sessions.begin() as session:
        app = get_application(session, application_id)
        pending = [d.id for d in documents_in_effect(app, app.round) if d.status not in TERMINAL]
        lifecycle.mark_queued(session, pending)
    for document_id in pending:
        ctx.queues.enqueue_backlog_document(document_id)
    if not pending:
        ctx.queues.enqueue_assessment(application_id)


def _outcome(ctx: Any, source: str, status: str, application_id: str, skipped: int) -> ImportOutcome:
    with ctx.sessions() as session:
        app = get_application(session, application_id)
        case = latest_case(session, app)
        documents = len(documents_in_effect(app, app.round))
        outcome = ImportOutcome(source, status, application_id, app.external_ref, documents=documents,
                                skipped=skipped)
        if case is not None:
            outcome.verdict, outcome.problems = case.verdict, list(case.problems)
            outcome.pages = sum(int(d.get("pages") or 0) for d in case.report.get("documents") or [])
        return outcome


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__


def refresh(ctx: Any, outcomes: list[ImportOutcome]) -> None:
    """Read the verdicts of queued imports again (once the workers have assessed them)."""
    for outcome in outcomes:
        if outcome.application_id and outcome.verdict is None:
            fresh = _outcome(ctx, outcome.source, outcome.status, outcome.application_id, outcome.skipped)
            outcome.verdict, outcome.problems, outcome.pages = fresh.verdict, fresh.problems, fresh.pages


def pending_documents(ctx: Any, application_ids: list[str]) -> int:
    """Documents of these applications not read yet (a queued import's progress)."""
    with ctx.sessions() as session:
        return len(session.scalars(select(Document.id).where(
            Document.application_id.in_(application_ids), Document.status.not_in(TERMINAL))).all())


def import_tree(ctx: Any, root: Path, *, local: bool = True,
                on_outcome: Callable[[ImportOutcome], None] | None = None) -> list[ImportOutcome]:
    """Import every application under ROOT (a tree of folders or a CSV manifest), one at a time."""
    outcomes = []
    for candidate in discover(root):
        outcome = import_one(ctx, candidate, local=local)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


# --- the closing summary -----------------------------------------------------------------------------

def summary(outcomes: list[ImportOutcome]) -> dict[str, Any]:
    """Counts by import status, by verdict and by kind of problem (missing, stale …), and the rows."""
    problems = Counter(code.partition(":")[0] for o in outcomes for code in o.problems)
    return {
        "applications": len(outcomes),
        "status": dict(Counter(o.status for o in outcomes)),
        "verdicts": dict(Counter(o.verdict for o in outcomes if o.verdict)),
        "problems": dict(sorted(problems.items())),
        "documents": sum(o.documents for o in outcomes),
        "pages": sum(o.pages for o in outcomes),
        "bad": [{"source": o.source, "error": o.error} for o in outcomes if o.status == "bad"],
        "rows": [o.row() for o in outcomes],
    }


def summary_csv(outcomes: list[ImportOutcome]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SUMMARY_COLUMNS)
    writer.writeheader()
    for outcome in outcomes:
        writer.writerow(outcome.row())
    return out.getvalue()


def summary_json(outcomes: list[ImportOutcome]) -> str:
    return json.dumps(summary(outcomes), ensure_ascii=False, indent=2)


# --- a watched folder --------------------------------------------------------------------------------

def _last_change(folder: Path) -> float:
    try:
        return max([folder.stat().st_mtime, *(p.stat().st_mtime for p in folder.iterdir())])
    except OSError:
        return time.time()


def complete_folders(directory: Path, *, settle_seconds: float, now: float | None = None) -> list[Path]:
    """Application folders under DIR that hold application.json and have not changed for
    ``settle_seconds`` (a scanner still writing one has touched it more recently)."""
    now = time.time() if now is None else now
    return [c.folder for c in discover(directory)
            if c.folder is not None and (c.folder / APPLICATION_FILE).is_file()
            and now - _last_change(c.folder) >= settle_seconds]


def watch(ctx: Any, directory: Path, *, local: bool = True, settle_seconds: float = 5.0,
          on_outcome: Callable[[ImportOutcome], None] | None = None, stop: threading.Event | None = None,
          poll_seconds: float = 1.0) -> list[ImportOutcome]:
    """Import the application folders dropped into DIR until ``stop`` is set (or Ctrl-C), each
    once it is complete. watchdog wakes the loop on any change; a slow poll catches the rest
    (network mounts send no events). Folders imported once are not looked at again."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    stop = stop or threading.Event()
    woken = threading.Event()

    class _Wake(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            woken.set()

    observer = Observer()
    observer.schedule(_Wake(), os.fspath(directory), recursive=True)
    observer.start()
    done: set[tuple[str, float]] = set()
    outcomes: list[ImportOutcome] = []
    try:
        while not stop.is_set():
            for folder in complete_folders(directory, settle_seconds=settle_seconds):
                mark = (str(folder), _last_change(folder))
                if mark in done:
                    continue
                done.add(mark)
                outcome = import_one(ctx, Candidate(str(folder), folder=folder), local=local)
                outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
            woken.wait(poll_seconds)
            woken.clear()
    finally:
        observer.stop()
        observer.join(timeout=5)
    return outcomes
