"""Re-scan of the backlog: after a policy, registry, catalogue, classifier or OCR change, re-assess
the selected applications and show exactly what changes, before anything changes for anyone.

Only what the change requires is redone, per application, from the versions its case recorded
(``intake.versions``):

- ``assessment``: a policy, the registry or the catalogue changed. The checks that depend on them
  (seal, hospital, recency, diagnosis: ``classifiers.pipeline.rule_checks``) are re-run on the
  fields already extracted and the seal finding cached with the OCR result, the signature check is
  judged again under the policy (``classifiers.signature.signature_under_policy``), then the round
  is assessed again (``intake.service.assess_reports``). No page is decoded.
- ``classification``: the classifiers changed. Each document is analysed again from its cached
  OCR result and seal finding (``Prescreener.analyse_file`` hits the OCR cache).
- ``ocr``: the OCR fingerprint changed, or ``force_ocr``: the documents are read again.

A document whose cache entry is gone, or whose signature areas a policy change asks to read again
(a type newly required to be signed), is taken one level deeper; the item says what was redone.

The result per application is a diff (old → new verdict, problems and reviewer flags that
appeared or disappeared, fields whose value changed, reviewer edits a new extraction disagrees
with). With ``dry_run`` nothing is written but the run's own progress; otherwise a changed
application gets a new case (a new ``revision`` of its round; the old one is kept, marked
``superseded_by``) and an audit event. Decided applications (approved or rejected by a reviewer)
are never changed: their diff is reported for information. A reviewer's field edits and re-typings
win over a new extraction (``assess_reports`` lays them over every assessment); where a new
extraction disagrees with one, the diff says so (``edit_conflicts``).

Progress lives in the database (``RescanRun``, ``RescanItem``): a run interrupted by Ctrl-C, a
killed worker or a restarted Redis resumes with its unfinished items only, and gives the same diff.
Large runs go through the rq workers on the low-priority ``backlog`` queue in batches
(``intake.jobs.rescan_batch``); small ones run in-process (``run_local``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, object_session, selectinload

from classifiers.types import DocumentChecks, SealFinding
from intake import clock
from intake.application import Application as ApplicationData
from intake.audit import audit
from intake.models import (
    Application,
    ApplicationStatus,
    CallbackDelivery,
    Case,
    Document,
    FieldEdit,
    OcrCacheEntry,
    RescanItem,
    RescanRun,
    ReviewDecision,
    utcnow,
)
from intake.report import FIELD_NAMES, DocumentReport, Report
from intake.service import (
    application_data,
    assess_reports,
    documents_in_effect,
    round_reports,
    worker_name,
)
from intake.versions import Versions, current_versions
from intake.workspace.overlay import References, fields_of, latest_edits

if TYPE_CHECKING:  # the OCR stack loads only where a re-scan is worked (the API only starts runs)
    from intake.prescreen import Prescreener

log = logging.getLogger(__name__)

# Shallowest first: what a re-scan of one application redid.
DEPTHS = ("none", "assessment", "classification", "ocr")
VERDICT_STATUSES = (ApplicationStatus.READY_FOR_REVIEW, ApplicationStatus.NEEDS_SUPPLEMENT)
DEFAULT_BATCH_SIZE = 50

# --- selection ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """Which applications a run re-scans; an empty criterion selects everything."""

    regions: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    diseases: tuple[str, ...] = ()
    submitted_from: dt.date | None = None  # China dates, inclusive
    submitted_to: dt.date | None = None
    ids: tuple[str, ...] = ()  # application ids or external references (case ids)

    def as_dict(self) -> dict[str, Any]:
        return {
            "regions": list(self.regions), "statuses": list(self.statuses), "verdicts": list(self.verdicts),
            "diseases": list(self.diseases), "ids": list(self.ids),
            "submitted_from": self.submitted_from.isoformat() if self.submitted_from else None,
            "submitted_to": self.submitted_to.isoformat() if self.submitted_to else None,
        }


def select_applications(session: Session, selection: Selection) -> list[str]:
    """Ids of the assessed applications the selection names, oldest first."""
    current = and_(Case.application_id == Application.id, Case.round == Application.round,
                   Case.superseded_by.is_(None))
    stmt = select(Application.id).join(Case, current)
    if selection.regions:
        stmt = stmt.where(Application.region.in_(selection.regions))
    if selection.statuses:
        stmt = stmt.where(Application.status.in_(selection.statuses))
    if selection.verdicts:
        stmt = stmt.where(Case.verdict.in_(selection.verdicts))
    if selection.diseases:
        stmt = stmt.where(Application.disease.in_(selection.diseases))
    if selection.submitted_from:
        stmt = stmt.where(Application.submitted_at >= clock.start_of_day(selection.submitted_from))
    if selection.submitted_to:
        end = clock.start_of_day(selection.submitted_to + dt.timedelta(days=1))
        stmt = stmt.where(Application.submitted_at < end)
    if selection.ids:
        stmt = stmt.where(or_(Application.id.in_(selection.ids), Application.external_ref.in_(selection.ids)))
    return list(session.scalars(stmt.order_by(Application.created_at, Application.id)).unique())


# --- reviewers' decisions and edits --------------------------------------------------------------------

DECIDED = (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)


def is_decided(session: Session, app: Application) -> str | None:
    """"approved" or "rejected" once a reviewer has decided the application (final decisions of the
    reviewer workspace, ``intake.workspace.decisions``), else None. A re-scan never changes it."""
    if app.status in DECIDED:
        return str(app.status)
    decision = session.scalars(
        select(ReviewDecision.decision).where(ReviewDecision.application_id == app.id,
                                              ReviewDecision.decision.in_([str(d) for d in DECIDED]))
        .order_by(ReviewDecision.id.desc())
    ).first()
    return decision


def edit_conflicts(session: Session, documents: Sequence[DocumentReport],
                   edits: dict[str, dict[str, FieldEdit]] | None = None) -> list[dict[str, Any]]:
    """Where a new extraction disagrees with a reviewer's edit (the edit wins: ``assess_reports``
    lays every edit over the extraction, ``intake.workspace.overlay``). ``edits``: the documents'
    latest edits when the caller has them (``latest_edits``)."""
    from intake.workspace.overlay import DOC_TYPE

    if edits is None:
        edits = latest_edits(session, [d.document_id for d in documents if d.document_id])
    conflicts = []
    for doc in documents:
        for name, edit in edits.get(doc.document_id or "", {}).items():
            extracted = (doc.doc_type.value if doc.doc_type else None) if name == DOC_TYPE else doc.fields.get(name)
            if extracted != edit.value:
                conflicts.append({"file": doc.file, "field": name, "edited": edit.value, "extracted": extracted})
    return conflicts


# --- one application ---------------------------------------------------------------------------------

def depth_needed(before: Versions | None, after: Versions, *, force_ocr: bool = False) -> str:
    """What a change of versions requires: none, assessment, classification or ocr."""
    if force_ocr:
        return "ocr"
    changed = after.changed(before)
    if "ocr" in changed:
        return "ocr"
    if "classifier" in changed:
        return "classification"
    return "assessment" if changed else "none"


@dataclass
class Redo:
    """An application's round re-made: the new report, what was redone, where edits disagreed."""

    report: Report
    redone: str
    documents: list[DocumentReport]  # with text: what the documents' rows get when applied
    edit_conflicts: list[dict[str, Any]]


Readings = dict[str, tuple[SealFinding, float]]  # sha256 -> cached seal finding, how well its pages were read


def cached_readings(prescreener: Prescreener, sha256s: Iterable[str]) -> Readings:
    """The cached seal finding of each file and how well its pages were read (for the seal check),
    for those the OCR cache holds under the current fingerprint: one query for many files (a
    chunk of applications), not one per document."""
    wanted = sorted(set(sha256s))
    if not wanted:
        return {}
    with prescreener.sessions() as session:
        rows = session.execute(
            select(OcrCacheEntry.sha256, OcrCacheEntry.seal, OcrCacheEntry.result).where(
                OcrCacheEntry.sha256.in_(wanted), OcrCacheEntry.fingerprint == prescreener.fingerprint)
        ).all()
    return {row.sha256: (SealFinding.model_validate(row.seal), _read_confidence(row.result))
            for row in rows if row.seal is not None}


def _read_confidence(result: dict[str, Any]) -> float:
    from classifiers.seal import page_read_confidence
    from ocr.types import OcrResult

    return page_read_confidence(OcrResult.model_validate(result))


def recheck(doc: DocumentReport, prescreener: Prescreener, application: Application, *,
            seal: SealFinding, read_confidence: float | None,
            data: ApplicationData | None = None) -> DocumentReport | None:
    """A document's report with its policy-, registry- and catalogue-dependent checks run again on
    its stored fields and type (as extracted: reviewers' edits are laid over it by the assessment),
    and its signature check judged again under the policy; None when that needs the page's signature
    areas read again (``classifiers.signature.signature_under_policy``): the caller goes deeper.
    ``data``: ``application_data(application)``, when the caller has it already."""
    from classifiers.pipeline import rule_checks
    from classifiers.signature import signature_under_policy

    if doc.error is not None or doc.doc_type is None:
        return doc
    data = data or application_data(application)
    policy = prescreener.policies.for_region(application.region)
    ctx = policy.context_for(doc.doc_type, application_date=data.application_date,
                             applicant_name=data.applicant_name, id_number=data.id_number, disease=data.disease)
    signature = signature_under_policy(doc.checks.signature, required=ctx.signature_required,
                                       printed_name_ok=ctx.printed_signature_ok)
    if signature is None:
        return None
    fields = fields_of(doc)
    checks = rule_checks(doc.doc_type, fields, seal, ctx, registry=prescreener.registry,
                         catalogue=prescreener.catalogue, read_confidence=read_confidence)
    # A new report around new checks; the rest is shared with ``doc`` (a fresh reading of the row).
    return doc.model_copy(update={"checks": DocumentChecks(**checks, identity=doc.checks.identity,
                                                           quality=doc.checks.quality, signature=signature)})


def redo_application(prescreener: Prescreener, files: Any, app: Application, case: Case, *,
                     after: Versions, force_ocr: bool, readings: Readings | None = None,
                     edits: dict[str, dict[str, FieldEdit]] | None = None) -> Redo | None:
    """The application's current round made again at the depth the versions require (None when
    nothing it depends on changed). ``files``: the file store. ``app`` must belong to a session:
    reviewers' edits are read through it. ``readings`` (the OCR cache's findings for its files,
    ``cached_readings``) and ``edits`` (its documents' latest edits, ``latest_edits``): when the
    caller has read them for many applications at once."""
    depth = depth_needed(Versions.of(case.versions), after, force_ocr=force_ocr)
    if depth == "none":
        return None
    policy = prescreener.policies.for_region(app.region)
    reports = round_reports(app)
    if depth == "assessment" and readings is None:
        readings = cached_readings(prescreener, [doc.sha256 for doc in reports])
    data = application_data(app)
    deepest = depth
    documents: list[DocumentReport] = []
    extracted: list[DocumentReport] = []  # documents extracted anew (classification or OCR)
    for doc in reports:
        new, done = _redo_document(prescreener, files, app, doc, depth, force_ocr=force_ocr, readings=readings or {},
                                   data=data)
        if DEPTHS.index(done) > DEPTHS.index(deepest):
            deepest = done
        if done != "assessment":
            extracted.append(new)
        documents.append(new)
    session = object_session(app)
    conflicts = edit_conflicts(session, extracted, edits) if session is not None else []
    # The assessment sets each document's problems, flags and cleared_by and measures its recency
    # again (checks.recency): it works on copies, so ``documents`` stay as re-made (what a
    # document's row gets when the re-scan is applied).
    report = assess_reports(app, policy, [d.model_copy(update={"checks": d.checks.model_copy()}) for d in documents],
                            fingerprint=prescreener.fingerprint,
                            references=References(prescreener.registry, prescreener.catalogue), edits=edits)
    return Redo(report=report, redone=deepest, documents=documents, edit_conflicts=conflicts)


def _redo_document(prescreener: Prescreener, files: Any, app: Application, doc: DocumentReport, depth: str, *,
                   force_ocr: bool, readings: Readings, data: ApplicationData) -> tuple[DocumentReport, str]:
    if doc.error is not None and doc.error_code in ("file_too_large", "io_error"):
        return doc, depth  # its bytes were never stored: nothing to read again
    if depth == "assessment":
        if doc.sha256 in readings:
            seal, read = readings[doc.sha256]
            rechecked = recheck(doc, prescreener, app, seal=seal, read_confidence=read, data=data)
            if rechecked is not None:
                return rechecked, "assessment"
        # The cached OCR result or seal finding is gone, or the signature areas must be read again.
        depth = "classification"
    if depth == "ocr" and force_ocr:
        with prescreener.sessions.begin() as session:
            entry = session.get(OcrCacheEntry, (doc.sha256, prescreener.fingerprint))
            if entry is not None:
                session.delete(entry)
    blob = files.get(doc.sha256)
    new = prescreener.analyse_file(doc.file, blob, data, prescreener.policies.for_region(app.region))
    new.document_id, new.round = doc.document_id, doc.round
    return new, depth if new.ocr_cached or depth == "ocr" else "ocr"


# --- the diff ----------------------------------------------------------------------------------------

def _codes(items: Iterable[Any]) -> list[str]:
    return [item["code"] if isinstance(item, dict) else str(item) for item in items]


def _added(new: list[str], old: list[str]) -> list[str]:
    seen = set(old)
    return [code for code in new if code not in seen]


def diff_reports(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed between two reports of one round: verdict, problems, reviewer flags, fields."""
    old_problems, new_problems = list(before.get("problems") or []), list(after.get("problems") or [])
    old_flags, new_flags = _codes(before.get("review_flags") or []), _codes(after.get("review_flags") or [])
    old_docs = {d.get("document_id") or d["file"]: d for d in before.get("documents") or []}
    fields_changed = []
    for doc in after.get("documents") or []:
        old = old_docs.get(doc.get("document_id") or doc["file"])
        if old is None:
            continue
        for name in ("doc_type", *FIELD_NAMES):
            was = old.get(name) if name == "doc_type" else (old.get("fields") or {}).get(name)
            now = doc.get(name) if name == "doc_type" else (doc.get("fields") or {}).get(name)
            if was != now:
                fields_changed.append({"file": doc["file"], "field": name, "old": was, "new": now})
    return {
        "old_verdict": before.get("verdict"), "new_verdict": after.get("verdict"),
        "problems_added": _added(new_problems, old_problems), "problems_removed": _added(old_problems, new_problems),
        "flags_added": _added(new_flags, old_flags), "flags_removed": _added(old_flags, new_flags),
        "fields_changed": fields_changed,
    }


def change_kinds(diff: dict[str, Any]) -> list[str]:
    """The kinds of change in a diff: verdict, problems, review_flags, fields."""
    kinds = []
    if diff["old_verdict"] != diff["new_verdict"]:
        kinds.append("verdict")
    if diff["problems_added"] or diff["problems_removed"]:
        kinds.append("problems")
    if diff["flags_added"] or diff["flags_removed"]:
        kinds.append("review_flags")
    if diff["fields_changed"]:
        kinds.append("fields")
    return kinds


# --- runs --------------------------------------------------------------------------------------------

def start_run(session: Session, selection: Selection, *, dry_run: bool, force_ocr: bool = False, actor: str,
              batch_size: int = DEFAULT_BATCH_SIZE) -> RescanRun:
    """Record a run and its items (the selected applications, in batches); nothing is re-scanned yet."""
    ids = select_applications(session, selection)
    run = RescanRun(actor=actor, selection=selection.as_dict(), dry_run=dry_run, force_ocr=force_ocr,
                    total=len(ids), batch_size=batch_size, status="running" if ids else "done",
                    finished_at=None if ids else utcnow())
    session.add(run)
    session.flush()
    session.add_all(RescanItem(run_id=run.id, application_id=app_id, position=i, batch=i // batch_size,
                               state="pending", changed=False, decided=False, documents=0)
                    for i, app_id in enumerate(ids))
    audit(session, actor=actor, action="rescan.started", run_id=run.id, selected=len(ids), dry_run=dry_run,
          force_ocr=force_ocr, selection=selection.as_dict())
    return run


@dataclass(frozen=True)
class Progress:
    run_id: str
    total: int
    done: int
    failed: int
    status: str
    started_at: dt.datetime
    batches_open: list[int]

    @property
    def finished(self) -> bool:
        return self.done + self.failed >= self.total


def progress(session: Session, run_id: str) -> Progress:
    run = session.get_one(RescanRun, run_id)
    counts = dict(session.execute(
        select(RescanItem.state, func.count()).where(RescanItem.run_id == run_id).group_by(RescanItem.state)
    ).all())
    open_batches = session.scalars(
        select(RescanItem.batch).where(RescanItem.run_id == run_id, RescanItem.state.in_(("pending", "running")))
        .distinct().order_by(RescanItem.batch)
    ).all()
    return Progress(run_id, run.total, counts.get("done", 0), counts.get("failed", 0), run.status,
                    run.created_at, list(open_batches))


# Items are claimed, re-scanned and recorded in chunks: one transaction claims a chunk, one session
# reads what its applications need (a few queries for the chunk, not a few per application), one
# transaction records their results. A chunk is sized to take about FLUSH_SECONDS (one application
# at the OCR depth, dozens at the assessment depth), so commits stay few and progress stays fresh.
FLUSH_SECONDS = 1.0
MAX_CHUNK = 50


def _claim(session: Session, item: RescanItem, me: str, stale: dt.datetime) -> bool:
    """Take an item: pending, or running under a worker that is gone or took too long."""
    from intake.reconcile import _worker_gone

    if item.state in ("done", "failed"):
        return False
    claimed = item.claimed_at.replace(tzinfo=dt.UTC) if item.claimed_at and item.claimed_at.tzinfo is None \
        else item.claimed_at
    if item.state == "running" and item.worker != me and not (
            claimed is None or claimed < stale or _worker_gone(item.worker)):
        return False
    result = session.execute(
        update(RescanItem).where(RescanItem.id == item.id, RescanItem.state == item.state,
                                 RescanItem.claimed_at.is_(None) if item.claimed_at is None
                                 else RescanItem.claimed_at == item.claimed_at)
        .values(state="running", claimed_at=utcnow(), worker=me)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _claim_chunk(ctx: Any, item_ids: Sequence[int], me: str) -> list[int]:
    """Claim these items in one transaction; the ones taken, in order."""
    stale = utcnow() - dt.timedelta(seconds=ctx.settings.queue.processing_timeout_seconds)
    with ctx.sessions.begin() as session:
        items = {i.id: i for i in session.scalars(select(RescanItem).where(RescanItem.id.in_(item_ids)))}
        return [item_id for item_id in item_ids if item_id in items and _claim(session, items[item_id], me, stale)]


def _work(ctx: Any, run_id: str, item_ids: Sequence[int], me: str, *, queues: Any = None, batch: int | None = None,
          on_chunk: Callable[[], None] | None = None) -> str:
    """Re-scan these items chunk after chunk. With ``queues`` (an rq worker), hand the rest of
    ``batch`` back to the backlog queue as soon as uploads, assessments or callbacks are waiting."""
    left = list(item_ids)
    size = 1  # until a chunk has shown how long an item takes here
    while left:
        if len(left) < len(item_ids) and queues is not None and queues.urgent_waiting():
            queues.enqueue_rescan_batch(run_id, batch)
            return "yielded"
        chunk, left = left[:size], left[size:]
        started = time.perf_counter()
        claimed = _claim_chunk(ctx, chunk, me)
        if claimed:
            _record(ctx, run_id, _rescan_chunk(ctx, run_id, claimed), me)
            per_item = (time.perf_counter() - started) / len(claimed)
            size = max(1, min(MAX_CHUNK, int(FLUSH_SECONDS / max(per_item, 1e-4))))
        if on_chunk is not None:
            on_chunk()
    return "done"


def run_batch(ctx: Any, run_id: str, batch: int, *, queues: Any = None) -> str:
    """Re-scan one batch's unfinished items. With ``queues`` (an rq worker), hand the rest of the
    batch back to the backlog queue as soon as uploads, assessments or callbacks are waiting."""
    with ctx.sessions() as session:
        if session.get(RescanRun, run_id) is None:
            return "gone"
        item_ids = _open_items(session, run_id, batch)
    outcome = _work(ctx, run_id, item_ids, ctx.name, queues=queues, batch=batch)
    if outcome == "done":
        _finish_run_if_done(ctx, run_id)
    return outcome


def _open_items(session: Session, run_id: str, batch: int) -> list[int]:
    return list(session.scalars(
        select(RescanItem.id).where(RescanItem.run_id == run_id, RescanItem.batch == batch,
                                    RescanItem.state.in_(("pending", "running"))).order_by(RescanItem.position)
    ))


def _finish_run_if_done(ctx: Any, run_id: str) -> None:
    with ctx.sessions.begin() as session:
        left = session.scalar(select(func.count()).select_from(RescanItem).where(
            RescanItem.run_id == run_id, RescanItem.state.in_(("pending", "running"))))
        run = session.get(RescanRun, run_id)
        if run is not None and not left and run.status != "done":
            run.status, run.finished_at = "done", utcnow()
            audit(session, actor=ctx.name, action="rescan.finished", run_id=run_id, total=run.total)


@dataclass
class _Rescanned:
    """One claimed item re-scanned, not yet recorded."""

    item_id: int
    after: Versions | None = None
    redo: Redo | None = None
    decision: str | None = None
    case_id: int | None = None
    documents: int = 0
    before_report: dict[str, Any] = field(default_factory=dict)
    before_versions: dict[str, Any] | None = None
    error: str | None = None


def _rescan_chunk(ctx: Any, run_id: str, item_ids: Sequence[int]) -> list[_Rescanned]:
    """Re-scan claimed items, reading what their applications need with a few queries in all: the
    applications with their documents, their current cases, reviewers' decisions, the cached OCR
    findings, the versions per region."""
    prescreener = ctx.prescreener
    with ctx.sessions() as session:
        run = session.get_one(RescanRun, run_id)
        items = session.scalars(select(RescanItem).where(RescanItem.id.in_(item_ids))
                                .order_by(RescanItem.position)).all()
        apps = {a.id: a for a in session.scalars(
            select(Application).where(Application.id.in_([i.application_id for i in items]))
            .options(selectinload(Application.documents)))}
        cases = _current_cases(session, list(apps.values()))
        decisions = _decisions(session, list(apps.values()))
        after = {region: current_versions(prescreener, region) for region in {a.region for a in apps.values()}}
        shallow = [app for app in apps.values() if app.id in cases and depth_needed(
            Versions.of(cases[app.id].versions), after[app.region], force_ocr=run.force_ocr) == "assessment"]
        readings = cached_readings(prescreener, [d.sha256 for app in shallow
                                                 for d in documents_in_effect(app, app.round)])
        edits = latest_edits(session, [d.id for app in apps.values() for d in documents_in_effect(app, app.round)])
        done = []
        for item in items:
            app, case = apps[item.application_id], cases.get(item.application_id)
            outcome = _Rescanned(item.id, after=after[app.region], decision=decisions.get(app.id),
                                 case_id=case.id if case else None,
                                 documents=len(documents_in_effect(app, app.round)),
                                 before_report=case.report if case else {},
                                 before_versions=case.versions if case else None)
            try:
                outcome.redo = redo_application(prescreener, ctx.files, app, case, after=after[app.region],
                                                force_ocr=run.force_ocr, readings=readings, edits=edits) \
                    if case is not None else None
            except Exception as exc:  # one application must not stop the run
                log.exception("re-scan of %s failed", app.id)
                outcome.error = f"{type(exc).__name__}: {exc}"[:500]
            done.append(outcome)
        return done


def _record(ctx: Any, run_id: str, outcomes: Sequence[_Rescanned], me: str) -> None:
    """Record a chunk's results in one transaction; with a real run (not dry), apply each change in
    the transaction that marks its item done, so a crash leaves an item either undone or done,
    never half applied."""
    with ctx.sessions.begin() as session:
        run = session.get_one(RescanRun, run_id)
        items = {i.id: i for i in session.scalars(
            select(RescanItem).where(RescanItem.id.in_([o.item_id for o in outcomes])))}
        for outcome in outcomes:
            item = items[outcome.item_id]
            if item.state != "running" or item.worker != me:
                continue  # taken over by another worker after a timeout: its result counts
            _record_item(session, run, item, outcome)


def _record_item(session: Session, run: RescanRun, item: RescanItem, outcome: _Rescanned) -> None:
    item.finished_at = utcnow()
    if outcome.error is not None:
        item.state, item.error = "failed", outcome.error
        return
    item.documents = outcome.documents
    item.state = "done"
    redo, decision, after = outcome.redo, outcome.decision, outcome.after
    assert after is not None
    if redo is None:
        item.redone, item.changed, item.decided = "none", False, decision is not None
        item.diff = {"before_versions": outcome.before_versions, "after_versions": after.as_dict()}
        return
    after_report = redo.report.contract()
    diff = diff_reports(outcome.before_report, after_report)
    kinds = change_kinds(diff)
    changed = bool(kinds)
    item.redone, item.changed, item.decided = redo.redone, changed, decision is not None
    item.diff = {**diff, "kinds": kinds, "decision": decision, "edit_conflicts": redo.edit_conflicts,
                 "case_id": after_report.get("case_id"), "before_versions": outcome.before_versions,
                 "after_versions": after.as_dict(), "applied": False}
    if run.dry_run or not changed or decision is not None:
        return
    app = session.get_one(Application, item.application_id, with_for_update=True)
    old = _current_case(session, app)
    if old is None or old.id != outcome.case_id:
        item.state, item.error = "failed", "the application was assessed again during the re-scan; run it again"
        return
    new_case = _record_rescan(session, app, old, redo, versions=after, actor=f"rescan:{run.id}")
    item.diff = {**item.diff, "applied": True, "new_case": new_case.id}
    audit(session, actor=f"rescan:{run.id}", action="application.rescanned", application_id=app.id,
          run_id=run.id, redone=redo.redone, superseded=old.id, case=new_case.id,
          old_verdict=diff["old_verdict"], new_verdict=diff["new_verdict"],
          problems_added=diff["problems_added"], problems_removed=diff["problems_removed"])


def _current_case(session: Session, app: Application) -> Case | None:
    return session.scalars(
        select(Case).where(Case.application_id == app.id, Case.round == app.round, Case.superseded_by.is_(None))
        .order_by(Case.revision.desc())
    ).first()


def _current_cases(session: Session, apps: Sequence[Application]) -> dict[str, Case]:
    """``_current_case`` of many applications in one query."""
    rounds = {app.id: app.round for app in apps}
    current: dict[str, Case] = {}
    for case in session.scalars(select(Case).where(Case.application_id.in_(list(rounds)),
                                                   Case.superseded_by.is_(None))
                                .order_by(Case.application_id, Case.revision.desc())):
        if case.round == rounds[case.application_id] and case.application_id not in current:
            current[case.application_id] = case
    return current


def _decisions(session: Session, apps: Sequence[Application]) -> dict[str, str]:
    """``is_decided`` of many applications in one query: application id -> approved or rejected."""
    decided = {app.id: str(app.status) for app in apps if app.status in DECIDED}
    rest = [app.id for app in apps if app.id not in decided]
    if rest:
        for application_id, decision in session.execute(
                select(ReviewDecision.application_id, ReviewDecision.decision)
                .where(ReviewDecision.application_id.in_(rest),
                       ReviewDecision.decision.in_([str(d) for d in DECIDED]))
                .order_by(ReviewDecision.id)):
            decided[application_id] = decision  # the newest wins
    return decided


def _record_rescan(session: Session, app: Application, old: Case, redo: Redo, *, versions: Versions,
                   actor: str) -> Case:
    """The re-scan's case, the next revision of the round; the old one is kept and points to it."""
    report = redo.report
    new = Case(application_id=app.id, round=app.round, revision=old.revision + 1, verdict=report.verdict,
               problems=report.problems, notice=report.notice, report=report.contract(),
               submitted_at=old.submitted_at, review_due=dt.date.fromisoformat(report.review_due),
               versions=versions.as_dict())
    session.add(new)
    session.flush()
    old.superseded_by = new.id
    for doc_report in redo.documents:  # a later 补正 round is assessed on the re-made documents
        if doc_report.document_id and (row := session.get(Document, doc_report.document_id)) is not None:
            row.report = doc_report.model_dump(mode="json", exclude={"document_id", "round"})
    verdict_changed = old.verdict != new.verdict
    if app.status in VERDICT_STATUSES:
        app.status = ApplicationStatus(report.verdict)
    if verdict_changed and app.callback_url:
        session.add(CallbackDelivery(application_id=app.id, case_id=new.id, url=app.callback_url))
    return new


def run_result(session: Session, run_id: str) -> dict[str, Any]:
    """The run's report, the JSON contract: selected, unchanged, changed (one diff per application),
    versions before and after; plus totals by kind of change, failures and the run's state."""
    run = session.get_one(RescanRun, run_id)
    items = session.scalars(select(RescanItem).where(RescanItem.run_id == run_id)
                            .order_by(RescanItem.position)).all()
    changed, failed = [], []
    totals = {"verdict": 0, "problems": 0, "review_flags": 0, "fields": 0}
    redone = dict.fromkeys(DEPTHS, 0)
    before: dict[str, set[str]] = {}
    after: dict[str, set[str]] = {}
    unchanged = 0
    for item in items:
        diff = item.diff or {}
        for key, into in (("before_versions", before), ("after_versions", after)):
            for part, value in (diff.get(key) or {}).items():
                into.setdefault(part, set()).add(str(value))
        if item.state == "failed":
            failed.append({"application_id": item.application_id, "error": item.error})
            continue
        if item.state != "done":
            continue
        redone[item.redone or "none"] += 1
        if not item.changed:
            unchanged += 1
            continue
        for kind in diff.get("kinds", []):
            totals[kind] += 1
        changed.append({
            "application_id": item.application_id, "case_id": diff.get("case_id"),
            "old_verdict": diff["old_verdict"], "new_verdict": diff["new_verdict"],
            "problems_added": diff["problems_added"], "problems_removed": diff["problems_removed"],
            "decided": item.decided, "redone": item.redone,
            "flags_added": diff["flags_added"], "flags_removed": diff["flags_removed"],
            "fields_changed": diff["fields_changed"], "edit_conflicts": diff.get("edit_conflicts", []),
            "decision": diff.get("decision"), "applied": bool(diff.get("applied")), "kinds": diff.get("kinds", []),
        })
    done = sum(1 for item in items if item.state in ("done", "failed"))
    return {
        "run_id": run.id, "dry_run": run.dry_run, "status": run.status, "done": done, "total": run.total,
        "selected": run.total, "unchanged": unchanged, "changed": changed,
        "versions": {"before": {k: sorted(v) for k, v in before.items()},
                     "after": {k: sorted(v) for k, v in after.items()}},
        "totals": totals, "redone": redone, "failed": failed,
    }


def run_local(ctx: Any, run_id: str, *, on_item: Callable[[Progress], None] | None = None) -> dict[str, Any]:
    """Run (or resume) a whole run in this process, batch after batch; ``on_item`` sees progress
    after each chunk."""
    with ctx.sessions() as session:
        batches = progress(session, run_id).batches_open

    def report() -> None:
        if on_item is not None:
            with ctx.sessions() as session:
                on_item(progress(session, run_id))

    for batch in batches:
        with ctx.sessions() as session:
            item_ids = _open_items(session, run_id, batch)
        _work(ctx, run_id, item_ids, ctx.name, on_chunk=report)
    _finish_run_if_done(ctx, run_id)
    with ctx.sessions() as session:
        return run_result(session, run_id)


def release_claims(ctx: Any, run_id: str) -> None:
    """Put this process's running items back to pending (after Ctrl-C), so a resume takes them."""
    with ctx.sessions.begin() as session:
        session.execute(update(RescanItem).where(
            RescanItem.run_id == run_id, RescanItem.state == "running", RescanItem.worker == ctx.name)
            .values(state="pending", claimed_at=None, worker=None))


def enqueue_run(session: Session, queues: Any, run_id: str) -> int:
    """Send every batch with unfinished items to the backlog queue (again, on a resume: a batch
    that is already queued only finds its items done). The number of batches sent."""
    batches = progress(session, run_id).batches_open
    return sum(bool(queues.enqueue_rescan_batch(run_id, batch)) for batch in batches)


__all__ = ["Selection", "depth_needed", "diff_reports", "edit_conflicts", "enqueue_run", "is_decided", "progress",
           "release_claims", "run_batch", "run_local", "run_result", "select_applications", "start_run",
           "worker_name"]
