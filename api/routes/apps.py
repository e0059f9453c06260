"""The apps' API: applications, uploads, submission, status and report. An app sees only its own."""

from __future__ import annotations

import hashlib
import logging
from typing import Annotated

from fastapi import APIRouter, File, Header, HTTPException, UploadFile, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from api.deps import AppChannel, FilesDep, QueuesDep, SessionDep, SettingsDep
from api.idempotency import remember, replay
from api.schemas import ApplicationIn, ApplicationOut, CaseOut, DocumentOut, FileProblem, UploadOut, UploadRefused
from intake.application import Application as ApplicationData
from intake.errors import FileTooLarge
from intake.models import Application, Case
from intake.service import (
    add_document,
    create_application,
    get_application,
    request_digest,
    submit,
    unmark_queued,
)
from intake.upload import inspect_upload
from ocr.errors import OcrError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/applications", tags=["apps"])
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Makes a retried request safe: same key, same answer.")
]


def latest_case(session: SessionDep, app: Application) -> Case | None:
    return session.scalars(select(Case).where(Case.application_id == app.id).order_by(Case.round.desc())).first()


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
def create(body: ApplicationIn, channel: AppChannel, session: SessionDep, idempotency_key: IdempotencyKey = None):
    """Create an application (the applicant's details); then upload its documents and submit it."""
    digest = request_digest("create", body.model_dump_json())
    if (replayed := replay(session, channel, idempotency_key, digest)) is not None:
        return replayed
    data = ApplicationData(**body.model_dump(exclude={"external_ref", "callback_url"}))
    app = create_application(session, channel=channel, data=data, external_ref=body.external_ref,
                             callback_url=str(body.callback_url) if body.callback_url else None)
    out = ApplicationOut.of(app, None)
    remember(session, channel, idempotency_key, digest, 201, out.model_dump(mode="json"))
    if (replayed := _commit_or_replay(session, channel, idempotency_key, digest)) is not None:
        return replayed
    return out


@router.get("/{application_id}", response_model=ApplicationOut)
def status_of(application_id: str, channel: AppChannel, session: SessionDep):
    """Progress per document and, once reached, the verdict with its problems and notice."""
    app = get_application(session, application_id, channel=channel)
    return ApplicationOut.of(app, latest_case(session, app))


@router.post(
    "/{application_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadOut,
    responses={413: {"model": UploadRefused}, 415: {"model": UploadRefused}, 422: {"model": UploadRefused}},
)
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
    # A plain `def`: hashing, the fsync of the file store and the database are blocking work, which
    # FastAPI then runs in its threadpool instead of stalling every other request on the event loop.
    app = get_application(session, application_id, channel=channel)
    limits = settings.limits
    if len(files) > limits.max_files_per_request:
        raise HTTPException(422, f"at most {limits.max_files_per_request} files per request; send the rest in "
                                 f"another request")
    received: list[tuple[str, bytes, str]] = []
    for upload_file in files:
        # Read one byte past the limit: enough to know it is too large without holding a huge body.
        data = upload_file.file.read(limits.max_file_bytes + 1)
        # One hash of each file serves the request's digest, the duplicate check and the file store.
        received.append((upload_file.filename or "upload", data, hashlib.sha256(data).hexdigest()))
    digest = request_digest("upload/2", application_id, *[f"{name}:{sha256}" for name, _, sha256 in received])

    def digest_before_v2() -> str:  # how records stored before "upload/2" identify the same request
        return request_digest("upload", application_id, *[f"{name}:" + request_digest(data)
                                                          for name, data, _ in received])

    if (replayed := replay(session, channel, idempotency_key, digest, digest_before_v2)) is not None:
        return replayed

    problems: list[FileProblem] = []
    infos = []
    status_code = 422
    for name, data, _ in received:
        try:
            infos.append(inspect_upload(data, settings))
        except FileTooLarge as exc:
            problems.append(FileProblem(file=name, code="file_too_large", message=str(exc)))
            status_code = 413
        except OcrError as exc:
            problems.append(FileProblem(file=name, code=exc.code, message=str(exc)))
            if exc.code == "unsupported_type" and status_code != 413:
                status_code = 415
    if problems:
        # Nothing of this request is stored: the app fixes the named files and sends the request again.
        refused = UploadRefused(detail="some files cannot be accepted; nothing of this request was stored",
                                files=problems)
        return JSONResponse(refused.model_dump(), status_code=status_code)

    results = []
    for (name, data, sha256), info in zip(received, infos, strict=True):
        files_store.put(data, sha256)  # durable on disk before the row that points at it commits
        # Written "queued" in this one transaction; the enqueue right after the commit makes it true.
        results.append(add_document(session, app=app, actor=channel.id, filename=name, sha256=sha256,
                                    size=len(data), media_type=info.media_type,
                                    max_files=limits.max_files_per_application, queued=True))
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
            unmark_queued(session, list(not_sent))
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


@router.post("/{application_id}/submit", status_code=status.HTTP_202_ACCEPTED, response_model=ApplicationOut)
def submit_application(application_id: str, channel: AppChannel, session: SessionDep, queues: QueuesDep,
                      idempotency_key: IdempotencyKey = None):
    """Submit for pre-screening; after a needs_supplement verdict, upload the supplements and submit
    again (补正): the application is re-assessed with them and the earlier verdicts are kept."""
    digest = request_digest("submit", application_id)
    if (replayed := replay(session, channel, idempotency_key, digest)) is not None:
        return replayed
    app = get_application(session, application_id, channel=channel)
    submit(session, app=app, actor=channel.id)
    out = ApplicationOut.of(app, None)
    remember(session, channel, idempotency_key, digest, 202, out.model_dump(mode="json"))
    if (replayed := _commit_or_replay(session, channel, idempotency_key, digest)) is not None:
        return replayed
    queues.enqueue_assessment(app.id)  # assesses at once if every document is already read
    return out


@router.get("/{application_id}/report")
def report(application_id: str, channel: AppChannel, session: SessionDep) -> dict:
    """The latest pre-screening report (the JSON contract)."""
    app = get_application(session, application_id, channel=channel)
    case = latest_case(session, app)
    if case is None:
        raise HTTPException(404, f"application {application_id} has no verdict yet; its status is {app.status}")
    return case.report


@router.get("/{application_id}/cases", response_model=list[CaseOut])
def history(application_id: str, channel: AppChannel, session: SessionDep):
    """Every assessment of the application, oldest first (补正 rounds included)."""
    app = get_application(session, application_id, channel=channel)
    cases = session.scalars(select(Case).where(Case.application_id == app.id).order_by(Case.round)).all()
    return [CaseOut.of(c) for c in cases]
