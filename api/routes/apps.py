"""The apps' API: applications, uploads, submission, status and report. An app sees only its own."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Query, UploadFile, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError

from api.deps import AppChannel, Caller, FilesDep, QueuesDep, SessionDep, SettingsDep, require
from api.idempotency import remember, replay
from api.schemas import (
    ApplicationIn,
    ApplicationList,
    ApplicationOut,
    CaseOut,
    DocumentOut,
    FileProblem,
    QualificationDueOut,
    ReportOut,
    UploadOut,
    UploadRefused,
)
from classifiers.diagnosis import DiseaseCatalogue
from intake import clock, lifecycle
from intake.application import Application as ApplicationData
from intake.application import parse_application, validate_application
from intake.callbacks import check_callback_url
from intake.errors import (
    ApplicationInvalid,
    Conflict,
    FieldError,
    FileTooLarge,
    LimitExceeded,
    NotFound,
    ServiceUnavailable,
)
from intake.models import Application, ApplicationStatus, IdempotencyRecord, Role
from intake.names import display_name
from intake.policy import load_policies
from intake.service import (
    Added,
    add_document,
    cases_of,
    check_capacity,
    create_application,
    get_application,
    get_document,
    latest_case,
    list_applications,
    qualifications_due,
    request_digest,
    submit,
    withdraw_document,
)
from intake.settings import Settings
from intake.upload import UploadInfo, inspect_upload
from ocr.errors import OcrEngineError, OcrError, UnsupportedFileType

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/applications", tags=["apps"])
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Makes a retried request safe: same key, same answer.")
]


def _commit_or_replay(session: SessionDep, channel: AppChannel, key: str | None, digest: str) -> JSONResponse | None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        replayed = replay(session, channel, key, digest)
        if replayed is None:
            raise
        return replayed
    return None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApplicationOut)
def create(body: ApplicationIn, channel: AppChannel, session: SessionDep, settings: SettingsDep,
           idempotency_key: IdempotencyKey = None):
    """Create an application (the applicant's details); then upload its documents and submit it.
    Every field is checked at once (ID number, date, disease and region, callback address): a 422
    names each field that is wrong and what to write instead."""
    digest = request_digest("create", body.model_dump_json())
    if (replayed := replay(session, channel, idempotency_key, digest)) is not None:
        return replayed
    data = _checked_application(body, settings)
    app = create_application(session, channel=channel, data=data, external_ref=body.external_ref,
                             callback_url=str(body.callback_url) if body.callback_url else None)
    out = ApplicationOut.of(app, None)
    remember(session, channel, idempotency_key, digest, 201, out.model_dump(mode="json"))
    if (replayed := _commit_or_replay(session, channel, idempotency_key, digest)) is not None:
        return replayed
    return out


@cache
def _catalogue() -> DiseaseCatalogue:
    return DiseaseCatalogue.load()


def _checked_application(body: ApplicationIn, settings: Settings) -> ApplicationData:
    """The application of a create request, or ``ApplicationInvalid`` naming every bad field."""
    data = parse_application(body.model_dump(exclude={"external_ref", "callback_url"}))
    errors: list[FieldError] = []
    policies = load_policies(settings.policies_dir)
    checks = [lambda: validate_application(data, policies=policies, catalogue=_catalogue(), today=clock.local_date(),
                                           unknown_region=settings.unknown_region)]
    if body.callback_url is not None:
        url = str(body.callback_url)
        checks.append(lambda: check_callback_url(url, allow_private=settings.allow_private_callback_urls))
    for check in checks:
        try:
            check()
        except ApplicationInvalid as exc:
            errors += exc.errors
    if errors:
        raise ApplicationInvalid.of(errors)
    return data


@router.get("", response_model=ApplicationList)
def list_own(
    channel: AppChannel,
    session: SessionDep,
    status_: Annotated[ApplicationStatus | None, Query(alias="status", description="Only this status")] = None,
    external_ref: Annotated[str | None, Query(max_length=200, description="Only this reference of yours")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
):
    """Your applications, newest first (find one whose id was lost to a timeout by its external_ref)."""
    rows, total = list_applications(session, channel=channel, status=status_, external_ref=external_ref,
                                    limit=limit, offset=offset)
    return ApplicationList(total=total, limit=limit, offset=offset,
                           items=[ApplicationOut.of(app, None, with_documents=False) for app in rows])


@router.get("/{application_id}", response_model=ApplicationOut)
def status_of(application_id: str, channel: AppChannel, session: SessionDep):
    """Progress per document and, once reached, the verdict with its problems and notice."""
    app = get_application(session, application_id, channel=channel)
    return ApplicationOut.of(app, latest_case(session, app))


def _store_uploads(
    *, application_id: str, channel: AppChannel, session: SessionDep, settings: Settings, files_store: FilesDep,
    queues: QueuesDep, files: list[UploadFile], idempotency_key: str | None, replaces: str | None = None,
) -> JSONResponse:
    """Check, store and enqueue uploaded files: new documents, or the replacement of one (补正)."""
    # Hashing, the fsync of the file store and the database are blocking work: the routes calling
    # this are plain `def`, which FastAPI runs in its threadpool instead of on the event loop.
    app = get_application(session, application_id, channel=channel)
    limits = settings.limits
    if len(files) > limits.max_files_per_request:
        raise LimitExceeded(f"at most {limits.max_files_per_request} files per request; this one has {len(files)}: "
                            f"send the rest in another request")
    received: list[tuple[str, bytes, str]] = []
    for upload_file in files:
        # Read one byte past the limit: enough to know it is too large without holding a huge body.
        data = upload_file.file.read(limits.max_file_bytes + 1)
        # One hash of each file serves the request's digest, the duplicate check and the file store.
        received.append((upload_file.filename or "upload", data, hashlib.sha256(data).hexdigest()))
    kind = f"replace:{replaces}" if replaces else "upload/2"
    digest = request_digest(kind, application_id, *[f"{name}:{sha256}" for name, _, sha256 in received])

    def digest_before_v2() -> str:  # how records stored before "upload/2" identify the same request
        return request_digest("upload", application_id, *[f"{name}:" + request_digest(data)
                                                          for name, data, _ in received])

    if (replayed := replay(session, channel, idempotency_key, digest, digest_before_v2)) is not None:
        return replayed
    replaced = get_document(session, app=app, document_id=replaces) if replaces else None
    check_capacity(session, app=app, sha256s=[sha256 for _, _, sha256 in received],
                   max_files=limits.max_files_per_application)

    problems: list[FileProblem] = []
    infos: list[UploadInfo] = []
    status_code = 422
    for name, data, _ in received:
        shown = display_name(name)
        try:
            infos.append(inspect_upload(data, settings))
        except FileTooLarge as exc:
            problems.append(FileProblem(file=shown, code="file_too_large", message=str(exc)))
            status_code = 413
        except OcrEngineError as exc:  # our reader could not run: not the file's fault
            raise ServiceUnavailable(f"the file reader is unavailable for a moment ({exc.detail}); nothing of "
                                     f"this request was stored, retry it", what="file reader") from exc
        except OcrError as exc:
            problems.append(FileProblem(file=shown, code=exc.code, message=exc.message, detail=exc.detail or None))
            if isinstance(exc, UnsupportedFileType) and status_code != 413:
                status_code = 415
    if problems:
        # Nothing of this request is stored: the app fixes the named files and sends the request again.
        refused = UploadRefused(detail="some files cannot be accepted; nothing of this request was stored",
                                files=problems)
        return JSONResponse(refused.model_dump(), status_code=status_code)

    results: list[Added] = []
    for (name, data, sha256), info in zip(received, infos, strict=True):
        files_store.put(data, sha256)  # durable on disk before the row that points at it commits
        # Written "queued" in this one transaction; the enqueue right after the commit makes it true.
        results.append(add_document(session, app=app, actor=channel.id, filename=name, sha256=sha256,
                                    size=len(data), media_type=info.media_type,
                                    max_files=limits.max_files_per_application, queued=True, replaces=replaced))
    out = UploadOut(documents=[DocumentOut.of(r.document, duplicate=not r.created) for r in results])
    code = 201 if any(r.created for r in results) else 200
    body = out.model_dump(mode="json")
    remember(session, channel, idempotency_key, digest, code, body)
    if (replayed := _commit_or_replay(session, channel, idempotency_key, digest)) is not None:
        return replayed
    # Committed first, enqueued second: if Redis is down the upload still succeeds, the documents
    # go back to "received" and the reconciler enqueues them later.
    new_ids = [r.document.id for r in results if r.created]
    not_sent = {doc_id for doc_id in new_ids if not queues.enqueue_document(doc_id)}
    if not_sent:
        try:
            lifecycle.unmark_queued(session, list(not_sent))
            session.commit()
        except DBAPIError:  # still stored: the reconciler also re-sends "queued" documents Redis lacks
            session.rollback()
            log.warning("upload of %s stored but not enqueued, and left marked queued", application_id,
                        exc_info=True)
        else:
            # The live answer says what the database now says; the stored replay keeps its own copy.
            body = {**body, "documents": [{**d, "status": "received"} if d["id"] in not_sent else d
                                          for d in body["documents"]]}
    return JSONResponse(body, status_code=code)


_UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": UploadRefused}, 415: {"model": UploadRefused}, 422: {"model": UploadRefused},
}


@router.post("/{application_id}/documents", status_code=status.HTTP_201_CREATED, response_model=UploadOut,
             responses=_UPLOAD_RESPONSES)
def upload(
    application_id: str,
    channel: AppChannel,
    session: SessionDep,
    settings: SettingsDep,
    files_store: FilesDep,
    queues: QueuesDep,
    files: Annotated[list[UploadFile], File(description="One or more files: photos, scans or PDFs.")],
    idempotency_key: IdempotencyKey = None,
):
    """Upload documents (one or many). Checked at once: type (from the bytes), size, pages, pixels.
    The same bytes uploaded twice to one application are recognised and not stored twice."""
    return _store_uploads(application_id=application_id, channel=channel, session=session, settings=settings,
                          files_store=files_store, queues=queues, files=files, idempotency_key=idempotency_key)


@router.put("/{application_id}/documents/{document_id}", status_code=status.HTTP_201_CREATED,
            response_model=UploadOut, responses=_UPLOAD_RESPONSES)
def replace(
    application_id: str,
    document_id: str,
    channel: AppChannel,
    session: SessionDep,
    settings: SettingsDep,
    files_store: FilesDep,
    queues: QueuesDep,
    file: Annotated[UploadFile, File(description="The file that replaces the document (a clearer retake …).")],
    idempotency_key: IdempotencyKey = None,
):
    """Replace a document (补正, or before submitting): from the next submission on the new file counts
    and the old one no longer does; earlier rounds keep theirs."""
    return _store_uploads(application_id=application_id, channel=channel, session=session, settings=settings,
                          files_store=files_store, queues=queues, files=[file], idempotency_key=idempotency_key,
                          replaces=document_id)


@router.delete("/{application_id}/documents/{document_id}", response_model=DocumentOut)
def withdraw(application_id: str, document_id: str, channel: AppChannel, session: SessionDep):
    """Withdraw a document (补正, or before submitting): it no longer counts from the next submission
    on. Nothing is deleted: earlier rounds and their reports keep it."""
    app = get_application(session, application_id, channel=channel)
    doc = withdraw_document(session, app=app, document_id=document_id, actor=channel.id)
    session.commit()
    return DocumentOut.of(doc)


def _round_being_submitted(app: Application) -> int:
    # A retry of a submission that went through is the same round; a new one after 补正 is the next.
    return app.round + 1 if app.status in (ApplicationStatus.DRAFT, ApplicationStatus.NEEDS_SUPPLEMENT) else app.round


@router.post("/{application_id}/submit", status_code=status.HTTP_202_ACCEPTED, response_model=ApplicationOut)
def submit_application(application_id: str, channel: AppChannel, session: SessionDep, queues: QueuesDep,
                      idempotency_key: IdempotencyKey = None):
    """Submit for pre-screening; after a needs_supplement verdict, upload, replace or withdraw
    documents and submit again (补正) with a new Idempotency-Key: the application is re-assessed and
    the earlier verdicts are kept."""
    app = get_application(session, application_id, channel=channel)
    round_ = _round_being_submitted(app)
    digest = request_digest("submit", application_id, str(round_))

    def earlier_round(record: IdempotencyRecord) -> Conflict | None:
        used_for = record.response.get("round") if isinstance(record.response, dict) else None
        if record.request_sha256 == request_digest("submit", application_id, str(used_for)) and used_for != round_:
            return Conflict(f"this Idempotency-Key submitted round {used_for} of application {application_id}; "
                            f"submitting round {round_} (补正) needs a new key, so nothing was submitted")
        return None

    if (replayed := replay(session, channel, idempotency_key, digest, mismatch=earlier_round)) is not None:
        return replayed
    submit(session, app=app, actor=channel.id)
    out = ApplicationOut.of(app, None)
    remember(session, channel, idempotency_key, digest, 202, out.model_dump(mode="json"))
    if (replayed := _commit_or_replay(session, channel, idempotency_key, digest)) is not None:
        return replayed
    queues.enqueue_assessment(app.id)  # assesses at once if every document is already read
    return out


@router.get("/{application_id}/report", response_model=ReportOut)
def report(application_id: str, channel: AppChannel, session: SessionDep):
    """The latest pre-screening report (the JSON contract)."""
    app = get_application(session, application_id, channel=channel)
    case = latest_case(session, app)
    if case is None:
        raise NotFound(f"application {application_id} has no verdict yet; its status is {app.status}")
    return case.report


@router.get("/{application_id}/cases", response_model=list[CaseOut])
def history(application_id: str, channel: AppChannel, session: SessionDep):
    """Every assessment of the application, oldest first (补正 rounds included)."""
    app = get_application(session, application_id, channel=channel)
    return [CaseOut.of(c) for c in cases_of(session, app)]


AppOrOperator = Annotated[Caller, Depends(require(Role.APP, Role.OPERATOR))]


@router.get("/qualifications/due", response_model=list[QualificationDueOut])
def qualifications_due_for_review(
    channel: AppOrOperator,
    session: SessionDep,
    start: Annotated[dt.date, Query(alias="from", description="First valid-until date of the range (YYYY-MM-DD)")],
    end: Annotated[dt.date, Query(alias="to", description="Last valid-until date of the range (YYYY-MM-DD)")],
    region: Annotated[str | None, Query(max_length=100, description="Only this region (统筹区)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
):
    """复审: approved qualifications whose validity ends between ``from`` and ``to`` (inclusive), the
    soonest first, so the applicant can be reminded to apply again. An app sees its own applications;
    an operator every app's."""
    if end < start:
        raise ApplicationInvalid.of([FieldError("to", f"the range ends ({end}) before it starts ({start})")])
    rows = qualifications_due(session, start=start, end=end, region=region, channel=channel, limit=limit,
                              offset=offset)
    return [QualificationDueOut.of(app, case) for app, case in rows]
