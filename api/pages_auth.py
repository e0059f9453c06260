"""Sign-in plumbing of the reviewers' workspace: session cookies, CSRF, and who the user is.

Only the workspace's paths (``/review/…`` pages and the ``/v1/workspace/…`` JSON API) go through it;
the apps' and operators' API never carries a session or a CSRF check.

- Sessions: Starlette's ``SessionMiddleware`` (an itsdangerous-signed cookie ``mtb_session``,
  HttpOnly, SameSite=Lax, Secure with ``INTAKE_SESSION__HTTPS_ONLY``). It holds the user id, the
  sign-in and last-seen times and a digest of the password hash: a session ends
  ``max_age_seconds`` after sign-in, after ``idle_seconds`` without a request, when the user is
  disabled, or when their password changes.
- CSRF: asgi-csrf (Datasette's double-submit cookie ``csrftoken``) on every POST of those paths: a
  form carries the token in its ``csrftoken`` field (templates get it from ``csrf_token``), a
  script sends it as ``X-CSRFToken``; a request with ``Authorization: Bearer`` (a personal API
  token, no cookie involved) is exempt. The sign-in form is checked even without cookies.
- The JSON API's user (``WorkspaceUser``): a personal token (``Authorization: Bearer mtu_…``) or
  the session cookie; 401 otherwise. Pages use ``session_user`` and send a visitor to sign in.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any

from asgi_csrf import asgi_csrf
from fastapi import Depends, FastAPI, Header, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import SessionDep, SettingsDep
from intake import clock
from intake.errors import Unauthorized
from intake.models import User
from intake.settings import SessionSettings, Settings, get_settings
from intake.users import password_stamp, user_by_token

SESSION_COOKIE = "mtb_session"
CSRF_FIELD = "csrftoken"  # asgi-csrf's form field; the header is X-CSRFToken
WORKSPACE_PREFIXES = ("/review/", "/v1/workspace/")
SIGN_IN_PATH = "/review/login"
SIGN_OUT_PATH = "/review/logout"
STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def session_secret(settings: SessionSettings) -> str:
    """The configured secret, or the one kept in ``secret_file`` (made once, readable by us only)."""
    if settings.secret:
        return settings.secret
    path = settings.secret_file
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        made = secrets.token_urlsafe(48)
        # Written whole under a private name, then linked into place: a process that starts at the
        # same moment either links first or reads the complete secret, never a half-written file.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(made)
        try:
            os.link(draft, path)
        except FileExistsError:  # another process made it first
            return path.read_text("ascii").strip()
        finally:
            draft.unlink()
        return made


def _in_workspace(path: str) -> bool:
    return path.startswith(WORKSPACE_PREFIXES) or path == "/review"


async def _csrf_refused(scope: Scope, send: Send, _reason: Any) -> None:
    json_api = scope["path"].startswith("/v1/")
    body = ('{"detail":"CSRF 校验失败：请刷新页面后重试（脚本请发送 X-CSRFToken 头）"}' if json_api else
            "<!doctype html><meta charset=utf-8><title>请刷新页面</title>"
            "<p>表单已过期或来源不明，为保护您的账户已拒绝提交。请返回并刷新页面后重试。</p>").encode()
    kind = b"application/json" if json_api else b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", kind)]})
    await send({"type": "http.response.body", "body": body})


class WorkspaceGuard:
    """Sessions and CSRF for the workspace's paths; every other request passes straight through.
    Built at the application's start-up, from the process's settings."""

    def __init__(self, app: ASGIApp) -> None:
        settings = get_settings().session
        secret = session_secret(settings)
        self.plain = app
        sessions = SessionMiddleware(app, secret_key=secret, session_cookie=SESSION_COOKIE,
                                     max_age=settings.max_age_seconds, same_site="lax",
                                     https_only=settings.https_only)
        self.guarded = asgi_csrf(sessions, signing_secret=secret + ":csrf",
                                 always_protect={SIGN_IN_PATH, SIGN_OUT_PATH},
                                 cookie_secure=settings.https_only, send_csrf_failed=_csrf_refused)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _in_workspace(scope["path"]):
            await self.guarded(scope, receive, send)
        else:
            await self.plain(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_middleware(WorkspaceGuard)
    app.mount("/review/static", StaticFiles(directory=STATIC_DIR), name="review-static")


def csrf_token(request: Request) -> str:
    """The token a page's forms carry (sets the CSRF cookie when the browser has none yet)."""
    return request.scope["csrftoken"]()


# --- who is signed in ---------------------------------------------------------------------------------


def start_session(request: Request, user: User) -> None:
    """After a successful sign-in: a fresh session (nothing of a previous one carried over)."""
    now = clock.now().timestamp()
    request.session.clear()
    request.session.update({"uid": user.id, "login": now, "seen": now, "pw": password_stamp(user)})


def end_session(request: Request) -> None:
    request.session.clear()


def session_user(request: Request, session: Session, settings: Settings) -> User | None:
    """The signed-in user of a page request, or None (and the session cleared) when it has ended."""
    data = request.session
    uid = data.get("uid")
    if not uid:
        return None
    now = clock.now().timestamp()
    limits = settings.session
    expired = (now - float(data.get("login", 0)) > limits.max_age_seconds
               or now - float(data.get("seen", 0)) > limits.idle_seconds)
    user = None if expired else session.get(User, uid)
    if user is None or user.disabled_at is not None or data.get("pw") != password_stamp(user):
        data.clear()
        return None
    data["seen"] = now
    return user


# Declared for OpenAPI (the Authorize button of /docs); auto_error=False: workspace_user says what to send.
user_token_scheme = HTTPBearer(scheme_name="UserToken", bearerFormat="mtu_…", auto_error=False,
                               description="A reviewer's personal API token (`intake user token USERNAME`).")
session_cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, scheme_name="Session", auto_error=False,
                                     description="The sign-in page's session cookie (POSTs then need X-CSRFToken).")


def workspace_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(user_token_scheme)],
    _cookie: Annotated[str | None, Depends(session_cookie_scheme)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> User:
    """The user of a workspace JSON request: a personal token, else the session cookie."""
    if authorization and authorization.strip() and bearer is None:
        raise Unauthorized("Authorization 头须为 Bearer <个人令牌>")
    if bearer is not None:
        user = user_by_token(session, bearer.credentials)
        if user is None:
            raise Unauthorized("个人令牌无效、已撤销或账户已停用")
        return user
    user = session_user(request, session, settings)
    if user is None:
        raise Unauthorized("请先登录（或发送 Authorization: Bearer <个人令牌>）")
    return user


WorkspaceUser = Annotated[User, Depends(workspace_user)]
