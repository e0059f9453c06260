"""Reviewers' accounts and sign-in: argon2 hashes, the sign-in page, sessions that expire, CSRF on
every form, personal API tokens and the `intake user` commands, through the real API on SQLite
and PostgreSQL (no OCR needed here)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from intake import clock
from intake.models import AuditEvent, User
from intake.users import add_user, disable_user, issue_token, set_password
from tests.api.conftest import Service

pytestmark = [pytest.mark.redis]

PASSWORD = "correct horse battery"


def make_user(service: Service, username: str, *, role: str = "reviewer", regions: tuple[str, ...] = ("绥化市",),
              password: str = PASSWORD, name: str | None = None) -> None:
    with service.sessions().begin() as session:
        add_user(session, username=username, display_name=name or username, role=role, regions=list(regions),
                 password=password, actor="test")


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(service: Service, username: str, password: str = PASSWORD, *, next_: str | None = None):  # type: ignore[no-untyped-def]
    page = service.client.get("/review/login")
    assert page.status_code == 200
    form = {"username": username, "password": password, "csrftoken": csrf_from(page.text)}
    if next_:
        form["next"] = next_
    return service.client.post("/review/login", data=form, follow_redirects=False)


def test_the_database_keeps_an_argon2_hash_never_the_password(service: Service) -> None:
    make_user(service, "wangli")
    with service.sessions()() as session:
        user = session.scalars(select(User).where(User.username == "wangli")).one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created")).all()
        assert events and all(PASSWORD not in json.dumps(e.detail, ensure_ascii=False) for e in events)


def test_sign_in_opens_a_session_and_sign_out_ends_it(service: Service) -> None:
    make_user(service, "wangli", name="王丽")
    assert service.client.get("/v1/workspace/me").status_code == 401
    answer = sign_in(service, "wangli", next_="/review/cases/x")
    assert answer.status_code == 303 and answer.headers["location"] == "/review/cases/x"
    cookie = answer.headers["set-cookie"]
    assert "mtb_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    me = service.client.get("/v1/workspace/me")
    assert me.status_code == 200 and me.json() == {"username": "wangli", "display_name": "王丽",
                                                    "role": "reviewer", "regions": ["绥化市"]}
    page = service.client.get("/review/login")  # signed in already: on to the workspace
    assert page.status_code == 303 or page.history
    token = service.client.cookies.get("csrftoken")
    out = service.client.post("/review/logout", data={"csrftoken": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/review/login"
    assert service.client.get("/v1/workspace/me").status_code == 401


def test_a_next_page_elsewhere_is_not_followed(service: Service) -> None:
    make_user(service, "wangli")
    answer = sign_in(service, "wangli", next_="https://evil.example/")
    assert answer.status_code == 303 and answer.headers["location"] == "/review/queue"


def test_wrong_password_unknown_user_and_disabled_user_get_one_generic_answer(service: Service) -> None:
    make_user(service, "wangli")
    make_user(service, "zhaoqiang")
    with service.sessions().begin() as session:
        disable_user(session, "zhaoqiang", actor="test")
    answers = [sign_in(service, "wangli", "wrong password!"), sign_in(service, "nobody"),
               sign_in(service, "zhaoqiang")]
    for answer in answers:
        assert answer.status_code == 401 and "用户名或密码不正确" in answer.text
        assert "mtb_session" not in answer.headers.get("set-cookie", "")
    assert service.client.get("/v1/workspace/me").status_code == 401
    with service.sessions()() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.sign_in_refused")).all()
        assert len(refused) == 3


def test_repeated_wrong_passwords_lock_the_username_for_a_while(service: Service) -> None:
    make_user(service, "wangli")
    for _ in range(5):
        assert sign_in(service, "wangli", "wrong password!").status_code == 401
    # Now even the right password is refused unheard, with a message saying when to come back …
    locked = sign_in(service, "wangli")
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text
    assert "mtb_session" not in locked.headers.get("set-cookie", "")
    make_user(service, "zhaoqiang")  # … for that username only
    assert sign_in(service, "zhaoqiang").status_code == 303
    # … until the window has passed.
    later = clock.now() + dt.timedelta(minutes=16)
    with clock.frozen(later):
        assert sign_in(service, "wangli").status_code == 303
    with service.sessions()() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "user.sign_in_throttled")) == 1


def test_a_session_ends_after_idle_time_and_after_its_maximum_age(service: Service) -> None:
    make_user(service, "wangli")
    service.settings.session.idle_seconds = 600
    service.settings.session.max_age_seconds = 3600
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    with clock.frozen(start):
        assert sign_in(service, "wangli").status_code == 303
    for minutes in (9, 18, 27, 36, 45, 54):  # active every 9 minutes: never idle for 10
        with clock.frozen(start + dt.timedelta(minutes=minutes)):
            assert service.client.get("/v1/workspace/me").status_code == 200, minutes
    with clock.frozen(start + dt.timedelta(minutes=61)):  # past the maximum age, however active
        assert service.client.get("/v1/workspace/me").status_code == 401
    with clock.frozen(start + dt.timedelta(hours=2)):
        assert sign_in(service, "wangli").status_code == 303
    with clock.frozen(start + dt.timedelta(hours=2, minutes=11)):  # idle for 11 minutes
        assert service.client.get("/v1/workspace/me").status_code == 401


def test_a_changed_password_or_a_disabled_account_ends_open_sessions(service: Service) -> None:
    make_user(service, "wangli")
    assert sign_in(service, "wangli").status_code == 303
    with service.sessions().begin() as session:
        set_password(session, "wangli", "another long password", actor="test")
    assert service.client.get("/v1/workspace/me").status_code == 401
    assert sign_in(service, "wangli", "another long password").status_code == 303
    with service.sessions().begin() as session:
        disable_user(session, "wangli", actor="test")
    assert service.client.get("/v1/workspace/me").status_code == 401


def test_a_form_post_without_its_csrf_token_is_refused(service: Service) -> None:
    make_user(service, "wangli")
    page = service.client.get("/review/login")
    refused = service.client.post("/review/login", data={"username": "wangli", "password": PASSWORD},
                                  follow_redirects=False)
    assert refused.status_code == 403 and "刷新" in refused.text
    forged = service.client.post("/review/login", data={"username": "wangli", "password": PASSWORD,
                                                        "csrftoken": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert service.client.get("/v1/workspace/me").status_code == 401  # neither signed anyone in
    assert csrf_from(page.text)
    assert sign_in(service, "wangli").status_code == 303
    # Signed in: a form (sign-out) and a script's POST (claim) without the token are refused too.
    assert service.client.post("/review/logout", data={}, follow_redirects=False).status_code == 403
    assert service.client.get("/v1/workspace/me").status_code == 200
    claim = service.client.post("/v1/workspace/cases/nope/claim", json={})
    assert claim.status_code == 403 and "CSRF" in claim.json()["detail"]
    with_header = service.client.post("/v1/workspace/cases/nope/claim",
                                      headers={"X-CSRFToken": service.client.cookies["csrftoken"]})
    assert with_header.status_code == 404  # past the CSRF check: an unknown case


def test_a_login_post_from_a_fresh_browser_without_cookies_is_refused(service: Service) -> None:
    make_user(service, "wangli")
    answer = service.client.post("/review/login", data={"username": "wangli", "password": PASSWORD},
                                 follow_redirects=False)
    assert answer.status_code == 403


def test_the_apps_api_is_untouched_by_sessions_and_csrf(service: Service) -> None:
    make_user(service, "wangli")
    assert sign_in(service, "wangli").status_code == 303  # the client now carries cookies
    created = service.client.post("/v1/applications", headers=service.headers("app-a"), json={
        "applicant_name": "张三", "id_number": "230102195703152419", "disease": "糖尿病", "region": "绥化市",
        "application_date": "2026-03-05"})
    assert created.status_code == 201, created.text
    assert "set-cookie" not in created.headers


def test_a_personal_token_authenticates_the_json_api_without_csrf(service: Service) -> None:
    make_user(service, "wangli")
    with service.sessions().begin() as session:
        token = issue_token(session, "wangli", label="省平台", actor="test").token
    bearer = {"Authorization": f"Bearer {token}"}
    assert service.client.get("/v1/workspace/me", headers=bearer).json()["username"] == "wangli"
    assert service.client.post("/v1/workspace/cases/nope/claim", headers=bearer).status_code == 404
    assert service.client.get("/v1/workspace/me", headers={"Authorization": "Bearer mtu_wrong"}).status_code == 401
    # A channel key is no user token.
    assert service.client.get("/v1/workspace/me",
                              headers={"Authorization": f"Bearer {service.keys['reviewer']}"}).status_code == 401
    with service.sessions().begin() as session:
        disable_user(session, "wangli", actor="test")
    assert service.client.get("/v1/workspace/me", headers=bearer).status_code == 401


def test_intake_user_commands(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.cli import app
    from intake.settings import get_settings

    monkeypatch.setenv("INTAKE_DB__URL", service.settings.db.url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        added = runner.invoke(app, ["user", "add", "liming", "--role", "supervisor", "--region", "绥化市",
                                    "--region", "六盘水市", "--name", "李明", "--password-stdin"],
                              input="a long enough password\n")
        assert added.exit_code == 0, added.output
        assert json.loads(added.stdout)["regions"] == ["绥化市", "六盘水市"]
        unknown = runner.invoke(app, ["user", "add", "x1", "--region", "火星市", "--password-stdin"],
                                input="a long enough password\n")
        assert unknown.exit_code == 2 and "火星市" in unknown.output
        short = runner.invoke(app, ["user", "add", "x2", "--region", "绥化市", "--password-stdin"], input="short\n")
        assert short.exit_code == 2
        again = runner.invoke(app, ["user", "add", "liming", "--region", "绥化市", "--password-stdin"],
                              input="a long enough password\n")
        assert again.exit_code == 2 and "exists" in again.output
        assert sign_in(service, "liming", "a long enough password").status_code == 303
        changed = runner.invoke(app, ["user", "passwd", "liming", "--password-stdin"], input="the new password\n")
        assert changed.exit_code == 0, changed.output
        assert service.client.get("/v1/workspace/me").status_code == 401  # the old session ended
        assert sign_in(service, "liming", "the new password").status_code == 303
        issued = runner.invoke(app, ["user", "token", "liming", "--label", "省平台"])
        token = json.loads(issued.stdout)["token"]
        assert token.startswith("mtu_")
        assert service.client.get("/v1/workspace/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        listed = json.loads(runner.invoke(app, ["user", "list", "--json"]).stdout)
        assert [(u["username"], u["role"]) for u in listed] == [("liming", "supervisor")]
        assert all("hash" not in key for key in listed[0])
        assert runner.invoke(app, ["user", "disable", "liming"]).exit_code == 0
        assert service.client.get("/v1/workspace/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert sign_in(service, "liming", "the new password").status_code == 401
        assert runner.invoke(app, ["user", "disable", "nobody"]).exit_code == 2
    finally:
        get_settings.cache_clear()
