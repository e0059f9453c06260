"""Sign-in and sign-out of the reviewers' workspace (server-rendered, ``api/templates``).

A wrong username, a wrong password and a disabled account all get one message, after the same
argon2 work (``intake.users.authenticate``), so the page tells nobody which usernames exist. After
signing in, the browser goes to ``next`` when it is a workspace page, else to the queue.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import SessionDep, SettingsDep
from api.pages_auth import (
    SIGN_IN_PATH,
    TEMPLATES_DIR,
    csrf_token,
    end_session,
    session_user,
    start_session,
)
from intake.users import SignInThrottled, authenticate

router = APIRouter(tags=["workspace pages"], include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)
LANDING = "/review/queue"
WRONG = "用户名或密码不正确，或账户已停用。"
ROLE_LABELS = {"reviewer": "审核员", "supervisor": "科室负责人", "admin": "管理员"}


def page_context(request: Request, **extra: Any) -> dict[str, Any]:
    """What every workspace page's template gets: the CSRF token, the static files' URL, the user."""
    user = extra.get("user")
    return {"csrftoken": csrf_token(request), "static_url": "/review/static",
            "role_label": ROLE_LABELS.get(user.role, user.role) if user is not None else "", **extra}


def _safe_next(value: str | None) -> str:
    # Only a page of this workspace: never another site (open redirect) or a protocol-relative URL.
    if value and value.startswith("/review/") and not value.startswith("//") and "\\" not in value:
        return value
    return LANDING


@router.get(SIGN_IN_PATH, response_class=HTMLResponse)
def sign_in_page(request: Request, session: SessionDep, settings: SettingsDep, next: str | None = None) -> Response:
    if session_user(request, session, settings) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return templates.TemplateResponse(request, "login.html", page_context(
        request, user=None, error=None, notice=None, username="", next=_safe_next(next)))


@router.post(SIGN_IN_PATH, response_class=HTMLResponse)
def sign_in(request: Request, session: SessionDep, username: Annotated[str, Form(max_length=64)],
            password: Annotated[str, Form(max_length=1024)],
            next: Annotated[str | None, Form()] = None) -> Response:
    try:
        user = authenticate(session, username.strip(), password)
    except SignInThrottled as throttled:
        session.commit()  # audited
        return templates.TemplateResponse(request, "login.html", page_context(
            request, user=None, error=str(throttled), notice=None, username=username, next=_safe_next(next)),
            status_code=429)
    session.commit()  # the sign-in (or the refusal) is audited either way
    if user is None:
        return templates.TemplateResponse(request, "login.html", page_context(
            request, user=None, error=WRONG, notice=None, username=username, next=_safe_next(next)),
            status_code=401)
    start_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/review/logout")
def sign_out(request: Request) -> Response:
    end_session(request)
    return RedirectResponse(SIGN_IN_PATH, status_code=303)
