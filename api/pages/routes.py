"""The reviewers' web pages (server-rendered, ``api/templates``): the queue, the case page, its page
images, and the forms behind their buttons.

Every route calls the same ``intake.workspace`` functions as the JSON API (``api.routes.workspace``);
nothing here queries or decides on its own. A form's POST answers with a redirect (303) back to the
page, carrying a one-line message (``flash``); an error a reviewer can act on (a case claimed by
someone else, a missing reason) comes back the same way, while another region's case is a 404 page,
as an unknown one. Sessions and CSRF are ``api.pages_auth``'s (every POST here carries ``csrftoken``).

Search terms (names, ID numbers) never travel in a URL, so they never reach an access log: the
search box POSTs to ``/review/queue/search``, which keeps the term in the signed session cookie for
the queue page to apply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import FilesDep, QueuesDep, SessionDep, SettingsDep
from api.pages import view
from api.pages_auth import SIGN_IN_PATH, WorkspaceUser, session_user
from api.routes.login import page_context, templates
from api.routes.workspace import set_complex
from intake.errors import IntakeError, InvalidInput, NotFound
from intake.models import ApplicationStatus, User
from intake.reasons import REJECT_REASONS, RETAKE_REASONS
from intake.report import FIELD_NAMES
from intake.workspace import claims
from intake.workspace.access import current_case, is_supervisor, visible_application
from intake.workspace.casefile import CaseFile, case_file
from intake.workspace.decisions import Decision, Mark, decide, mark_document
from intake.workspace.edits import correct_field, correct_fields
from intake.workspace.overlay import DOC_TYPE, policies
from intake.workspace.page_images import MEDIA_TYPE, PageRef, cache_dir_of, document_pages, page_image
from intake.workspace.queue import ALL, ANY_FLAG, QueueFilter, queue

log = logging.getLogger(__name__)
router = APIRouter(tags=["workspace pages"], include_in_schema=False)
templates.env.globals.update(  # the sign-in page's environment, shared by every workspace page
    problem_label=view.problem_label, problem_kind=view.problem_kind, STATUS_LABELS=view.STATUS_LABELS,
    VERDICT_LABELS=view.VERDICT_LABELS, TYPE_LABELS=view.TYPE_LABELS, FIELD_LABELS=view.FIELD_LABELS,
    PROBLEM_LABELS=view.PROBLEM_LABELS, ACTION_LABELS=view.ACTION_LABELS, REJECT_REASONS=REJECT_REASONS,
    RETAKE_REASONS=RETAKE_REASONS, RETYPE_CHOICES=view.RETYPE_CHOICES, retype_value=view.retype_value,
    type_label=view.type_label,
    FIELD_NAMES=FIELD_NAMES,
    DECISION_LABELS=view.DECISION_LABELS, MARK_LABELS=view.MARK_LABELS, history_detail=view.history_detail,
    actor_label=view.actor_label,
)

QUEUE_PATH = "/review/queue"
PAGE_SIZE = 50
SEARCH_KEY = "queue_q"  # the queue's search term, kept in the session (never in a URL)
FLASH_KEY = "flash"
QUEUE_FILTERS = ("status", "verdict", "disease", "problem", "flag", "channel", "mine")


def _case_path(application_id: str) -> str:
    return f"/review/cases/{quote(application_id, safe='')}"


def _flash(request: Request, text: str, *, error: bool = False) -> None:
    request.session[FLASH_KEY] = {"text": text[:300], "error": error}


def _render(request: Request, template: str, user: User | None, *, status_code: int = 200, **extra: Any) -> Response:
    flash = request.session.pop(FLASH_KEY, None)
    return templates.TemplateResponse(request, template, page_context(request, user=user, flash=flash, **extra),
                                      status_code=status_code)


def _not_found(request: Request, user: User | None, message: str) -> Response:
    return _render(request, "error.html", user, status_code=404, title="未找到", message=message)


def _to_sign_in(request: Request) -> Response:
    target = request.url.path if request.method == "GET" else QUEUE_PATH
    return RedirectResponse(f"{SIGN_IN_PATH}?next={quote(target, safe='/')}", status_code=303)


def _back(request: Request, fallback: str, wanted: str | None) -> str:
    # Only a page of this workspace (never another site): as the sign-in page's `next`.
    if wanted and wanted.startswith("/review/") and not wanted.startswith("//") and "\\" not in wanted:
        return wanted
    return fallback


def _act(request: Request, session: Session, settings: Any, application_id: str, work: Callable[[Any, User], str],
         *, back: str | None = None) -> Response:
    """Run one form's work on a visible application and go back with what happened; an error the
    reviewer can act on is shown, nothing of it stored."""
    user = session_user(request, session, settings)
    if user is None:
        return _to_sign_in(request)
    target = _back(request, _case_path(application_id), back)
    try:
        app = visible_application(session, user, application_id)
    except NotFound as exc:
        return _not_found(request, user, str(exc))
    try:
        message = work(app, user)
        session.commit()
    except NotFound as exc:
        session.rollback()
        return _not_found(request, user, str(exc))
    except IntakeError as exc:
        session.rollback()
        _flash(request, str(exc), error=True)
    else:
        _flash(request, message)
    return RedirectResponse(target, status_code=303)


# --- the queue ----------------------------------------------------------------------------------------


@router.get("/review", include_in_schema=False)
def workspace_home() -> Response:
    return RedirectResponse(QUEUE_PATH, status_code=303)


@router.get(QUEUE_PATH, response_class=HTMLResponse)
def queue_page(
    request: Request, session: SessionDep, settings: SettingsDep,
    status: Annotated[str, Query(max_length=32)] = ApplicationStatus.READY_FOR_REVIEW.value,
    verdict: Annotated[str, Query(max_length=32)] = "",
    disease: Annotated[str, Query(max_length=100)] = "",
    problem: Annotated[str, Query(max_length=64)] = "",
    flag: Annotated[str, Query(max_length=64)] = "",
    channel: Annotated[str, Query(max_length=64)] = "",
    mine: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    user = session_user(request, session, settings)
    if user is None:
        return _to_sign_in(request)
    search = request.session.get(SEARCH_KEY) or ""
    f = QueueFilter(status=status or ALL, verdict=verdict or None, disease=disease.strip() or None,
                    problem=problem or None, flag=flag or None, channel=channel.strip() or None,
                    search=search or None, mine=mine)
    result = queue(session, user, f, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    filters = {"status": status, "verdict": verdict, "disease": disease, "problem": problem, "flag": flag,
               "channel": channel, "mine": "1" if mine else ""}
    kept = {k: v for k, v in filters.items() if v}

    def page_url(n: int) -> str:
        return f"{QUEUE_PATH}?{urlencode({**kept, 'page': n})}"

    more = result.total > result.cap  # counted only up to the cap: paging goes on while pages are full
    pages = max(1, -(-min(result.total, result.cap) // PAGE_SIZE), page + (1 if more and result.items else 0))
    # Supervisors reassign from the queue: whom each row's region may go to (one query for the page).
    assignees = claims.assignees(session, {i.region for i in result.items}) if is_supervisor(user) else {}
    return _render(
        request, "queue.html", user, result=result, filters=filters, search=search, page=page, pages=pages,
        more=more, count_cap=result.cap,
        prev_url=page_url(page - 1) if page > 1 else None, next_url=page_url(page + 1) if page < pages else None,
        here=f"{QUEUE_PATH}?{urlencode({**kept, 'page': page})}", query=urlencode(kept),
        statuses=[ALL, *(s.value for s in ApplicationStatus)], any_flag=ANY_FLAG, assignees=assignees,
    )


@router.post(f"{QUEUE_PATH}/search")
def queue_search(request: Request, session: SessionDep, settings: SettingsDep,
                 q: Annotated[str, Form(max_length=200)] = "", filters: Annotated[str, Form(max_length=1000)] = "",
                 ) -> Response:
    """Keep the search term in the session and show the queue with it (the term never in a URL)."""
    if session_user(request, session, settings) is None:
        return _to_sign_in(request)
    if q.strip():
        request.session[SEARCH_KEY] = q.strip()
    else:
        request.session.pop(SEARCH_KEY, None)
    kept = {k: v for k, v in parse_qsl(filters) if k in QUEUE_FILTERS}  # the filters in force, paging restarts
    return RedirectResponse(f"{QUEUE_PATH}?{urlencode(kept)}" if kept else QUEUE_PATH, status_code=303)


@router.post("/review/cases/{application_id}/claim")
def claim_case(application_id: str, request: Request, session: SessionDep, settings: SettingsDep,
               next: Annotated[str | None, Form(max_length=1000)] = None) -> Response:
    def work(app: Any, user: User) -> str:
        claims.claim(session, app, user)
        return f"已认领 {app.external_ref or app.id}"

    return _act(request, session, settings, application_id, work, back=next)


@router.post("/review/cases/{application_id}/release")
def release_case(application_id: str, request: Request, session: SessionDep, settings: SettingsDep,
                 next: Annotated[str | None, Form(max_length=1000)] = None) -> Response:
    def work(app: Any, user: User) -> str:
        claims.release(session, app, user)
        return f"已释放 {app.external_ref or app.id}，案件回到队列"

    return _act(request, session, settings, application_id, work, back=next)


@router.post("/review/cases/{application_id}/reassign")
def reassign_case(application_id: str, request: Request, session: SessionDep, settings: SettingsDep,
                  username: Annotated[str, Form(max_length=64)] = "",
                  next: Annotated[str | None, Form(max_length=1000)] = None) -> Response:
    """A supervisor gives the case to another reviewer of its region (``claims.reassign``)."""
    def work(app: Any, user: User) -> str:
        if not username:
            raise InvalidInput("请选择改派给谁")
        row = claims.reassign(session, app, user, username)
        who = session.get_one(User, row.user_id)
        return f"已将 {app.external_ref or app.id} 改派给{who.display_name}"

    return _act(request, session, settings, application_id, work, back=next)


@router.post("/review/cases/{application_id}/complex")
def complex_case(application_id: str, request: Request, session: SessionDep, settings: SettingsDep,
                 complex: Annotated[bool, Form()] = True) -> Response:
    """复杂病例 on or off, through the JSON API's own service path (``set_complex``)."""
    def work(app: Any, user: User) -> str:
        set_complex(session, app, user, complex)
        due = current_case(session, app).review_due
        shown = f"，审核截止改为 {due.isoformat()}" if due else ""
        return ("已标为复杂病例" if complex else "已取消复杂病例") + shown

    return _act(request, session, settings, application_id, work)


# --- the case page ------------------------------------------------------------------------------------


def _document_views(f: CaseFile, pages: dict[str, list[PageRef]]) -> list[dict[str, Any]]:
    """Each document with its pages and boxes, its checks and the problems and flags that name it."""
    report = f.case.report
    by_file: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for kind, items in (("p", report.get("evidence") or []), ("f", report.get("review_flags") or [])):
        for i, ev in enumerate(items):
            if ev.get("file"):
                by_file.setdefault(ev["file"], []).append((f"evidence:{kind}{i}", kind, ev))
    out = []
    for d in f.documents:
        rep = d.report
        evidence = by_file.get(rep["file"], []) if rep else []
        out.append({
            "view": d, "doc": d.document, "report": rep,
            "pages": view.page_views(rep, pages.get(d.document.id, []), [(k, ev) for k, _, ev in evidence]),
            "checks": view.check_rows(rep) if rep else [],
            "evidence": evidence,
        })
    return out


@router.get("/review/cases/{application_id}", response_class=HTMLResponse)
def case_page(application_id: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    user = session_user(request, session, settings)
    if user is None:
        return _to_sign_in(request)
    try:
        app = visible_application(session, user, application_id)
        f = case_file(session, app, user)  # audited: case.viewed
    except NotFound as exc:
        return _not_found(request, user, str(exc))
    fingerprint = str(f.case.report.get("fingerprint") or "") or None
    documents = _document_views(f, document_pages(session, app.id, [d.document for d in f.documents], fingerprint))
    assignees = claims.assignees(session, [app.region]).get(app.region, []) if is_supervisor(user) else []
    session.commit()
    evidence = [(f"evidence:p{i}", ev) for i, ev in enumerate(f.case.report.get("evidence") or [])]
    flags = [(f"evidence:f{i}", ev) for i, ev in enumerate(f.case.report.get("review_flags") or [])]
    doc_of_file = {d["report"]["file"]: d["doc"].id for d in documents if d["report"]}
    rules = policies().for_region(app.region).materials_for(app.disease, proxy=bool(f.case.report.get("agent")))
    material_labels = {name: rule.label for name, rule in rules.items()}
    held_by_me = f.claimed_by is not None and f.claimed_by.id == user.id
    return _render(request, "case.html", user, f=f, app=f.application, case=f.case, report=f.case.report,
                   documents=documents, evidence=evidence, flags=flags, doc_of_file=doc_of_file,
                   material_labels=material_labels,
                   held_by_me=held_by_me, here=_case_path(app.id), assignees=assignees,
                   filenames={d.document.id: d.document.filename for d in f.documents},
                   estimated=bool(f.case.report.get("review_due_estimated")))


@router.get("/review/cases/{application_id}/documents/{document_id}/pages/{page}")
def page_image_file(application_id: str, document_id: str, page: int, user: WorkspaceUser, session: SessionDep,
                    settings: SettingsDep, files: FilesDep) -> Response:
    """A document's page as normalised for OCR (WebP), the image the report's boxes are drawn on;
    404 for another region's application, as for an unknown one. Drawn once, then served from disk."""
    app = visible_application(session, user, application_id)
    try:
        fingerprint: str | None = str(current_case(session, app).report.get("fingerprint") or "") or None
    except NotFound:  # not assessed yet: the newest reading of the file
        fingerprint = None
    path = page_image(session, files, cache_dir_of(settings), app, document_id, page, fingerprint,
                      options=settings.ocr, max_bytes=settings.page_images.cache_max_bytes)
    session.close()
    return FileResponse(path, media_type=MEDIA_TYPE, headers={"Cache-Control": "private, max-age=86400"})


# --- a reviewer's work on the case --------------------------------------------------------------------


@router.post("/review/cases/{application_id}/documents/{document_id}/fields")
def edit_fields(
    application_id: str, document_id: str, request: Request, session: SessionDep, settings: SettingsDep,
    patient_name: Annotated[str | None, Form(max_length=200)] = None,
    gender: Annotated[str | None, Form(max_length=200)] = None,
    id_number: Annotated[str | None, Form(max_length=200)] = None,
    hospital_name: Annotated[str | None, Form(max_length=200)] = None,
    department: Annotated[str | None, Form(max_length=200)] = None,
    diagnosis: Annotated[str | None, Form(max_length=200)] = None,
    doc_date: Annotated[str | None, Form(max_length=200)] = None,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    sent = {"patient_name": patient_name, "gender": gender, "id_number": id_number, "hospital_name": hospital_name,
            "department": department, "diagnosis": diagnosis, "doc_date": doc_date}
    values = {k: v for k, v in sent.items() if v is not None}  # a field the form did not carry is left alone

    def work(app: Any, user: User) -> str:
        case = correct_fields(session, app, user, document_id, values, reason=reason)
        if case is None:
            return "字段没有变化"
        return f"已保存修改并重新评估：{view.VERDICT_LABELS.get(case.verdict, case.verdict)}"

    return _act(request, session, settings, application_id, work,
                back=f"{_case_path(application_id)}#doc-{quote(document_id, safe='')}")


@router.post("/review/cases/{application_id}/documents/{document_id}/type")
def retype_document(application_id: str, document_id: str, request: Request, session: SessionDep,
                    settings: SettingsDep, doc_type: Annotated[str, Form(max_length=64)],
                    reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    chosen, kind = view.retype_choice(doc_type)

    def work(app: Any, user: User) -> str:
        case = correct_field(session, app, user, document_id, DOC_TYPE, chosen, reason=reason, kind=kind)
        label = dict(view.RETYPE_CHOICES).get(doc_type, doc_type)
        return f"已改为{label}并重新评估：{view.VERDICT_LABELS.get(case.verdict, case.verdict)}"

    return _act(request, session, settings, application_id, work,
                back=f"{_case_path(application_id)}#doc-{quote(document_id, safe='')}")


@router.post("/review/cases/{application_id}/documents/{document_id}/mark")
def mark_page_document(application_id: str, document_id: str, request: Request, session: SessionDep,
                       settings: SettingsDep, mark: Annotated[str, Form(max_length=16)],
                       reasons: Annotated[list[str] | None, Form()] = None,
                       note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    def work(app: Any, user: User) -> str:
        try:
            chosen = Mark(mark)
        except ValueError:
            raise InvalidInput("标记须为“材料合格”或“需重拍”") from None
        mark_document(session, app, user, document_id, chosen, reasons=reasons or [], note=note)
        return "已标记：材料合格" if chosen == Mark.ACCEPTED else "已标记：需重拍"

    return _act(request, session, settings, application_id, work,
                back=f"{_case_path(application_id)}#doc-{quote(document_id, safe='')}")


DECIDED = {Decision.APPROVE: "已批准", Decision.REJECT: "已驳回", Decision.REQUEST_SUPPLEMENT: "已发送补正告知"}


@router.post("/review/cases/{application_id}/decision")
def decide_case(application_id: str, request: Request, session: SessionDep, settings: SettingsDep,
                queues: QueuesDep, decision: Annotated[str, Form(max_length=32)],
                reasons: Annotated[list[str] | None, Form()] = None,
                note: Annotated[str, Form(max_length=2000)] = "",
                notice: Annotated[str | None, Form(max_length=10000)] = None) -> Response:
    deliveries: list[int] = []

    def work(app: Any, user: User) -> str:
        try:
            chosen = Decision(decision)
        except ValueError:
            raise InvalidInput("请选择批准、驳回或要求补正") from None
        decided = decide(session, app, user, chosen, reasons=reasons or [], note=note,
                         notice=notice if chosen == Decision.REQUEST_SUPPLEMENT else None, policies=policies())
        deliveries.extend(decided.deliveries)
        return f"{DECIDED[chosen]}：{app.external_ref or app.id}"

    answer = _act(request, session, settings, application_id, work, back=QUEUE_PATH)
    for delivery_id in deliveries:  # after the commit; if Redis is down, the reconciler sends it later
        queues.enqueue_callback(delivery_id)
    if not deliveries and request.session.get(FLASH_KEY, {}).get("error"):
        return RedirectResponse(_case_path(application_id), status_code=303)  # stay on the case to fix it
    return answer
