"""The reviewers' pages in a real browser: Debian's headless chromium driven by Playwright for
Python, against the app served by uvicorn (in a thread, on a free port) over a test database
(SQLite), the real Redis and cases made by really processing sample applications (real OCR, a real
rq worker) — once for the whole session, since OCR costs seconds a page.

No browser is downloaded (``playwright install`` cannot reach the network here): the browser is
``/usr/bin/chromium`` from the Debian package that ``scripts/setup.sh --test`` installs. Without it
the tests are skipped loudly on a developer's machine and fail in CI (``CI=true``).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import HTTPServer
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from redis import Redis

from api.app import app as fastapi_app
from api.deps import current_settings
from intake import jobs
from intake.jobs import WorkerContext, set_context
from intake.queue import Queues
from intake.settings import Settings
from tests.api.conftest import Service, _channels
from tests.api.test_pipeline import SAMPLES, _Receiver
from tests.api.test_workspace_auth import PASSWORD, make_user
from tests.api.test_workspace_cases import assessed
from tests.services import ensure_redis

C01 = SAMPLES / "c01_suihua_ready_diabetes"  # 绥化市, ready_for_review
C02 = SAMPLES / "c02_shennongjia_ready_hypertension_invoice"  # 神农架林区
C10 = SAMPLES / "c10_suihua_identity_mismatch"  # 绥化市: the discharge summary reads another name


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium is not installed (scripts/setup.sh --test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have {message}", pytrace=False)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    return found


class _AccessLog(logging.Handler):
    """Keeps what uvicorn's access log writes, for the test that no search term reaches it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@dataclass
class Cases:
    ready: str  # c01, with a callback URL: claimed, edited, re-typed, sent back for a supplement
    to_approve: str  # c01 again (its files read from the OCR cache): approved
    mismatch: str  # c10: needs_supplement for identity_mismatch; its name is corrected
    other_region: str  # c02, 神农架林区


@dataclass
class Web:
    service: Service  # the API harness over the same database (uploads, the worker)
    url: str  # where uvicorn serves the app
    access_log: _AccessLog
    callbacks: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    cases: Cases | None = None


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None: uvicorn leaves the process's logging (pytest's capture) alone.
    server = uvicorn.Server(uvicorn.Config(fastapi_app, log_config=None, access_log=True, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@contextmanager
def serving(db_url: str, root: Path, *, callbacks: bool = True) -> Iterator[tuple[Web, str | None]]:
    """The app served by uvicorn over ``db_url`` (files under ``root``), its worker context in
    place, and (``callbacks``) a receiver for the apps' callbacks: yields the harness and the
    receiver's hook URL. What it replaces (the settings override, the worker context) is put back
    afterwards, so that a module over PostgreSQL can run between the SQLite session's tests."""
    redis_url = ensure_redis()
    Redis.from_url(redis_url).flushdb()
    settings = Settings(
        db={"url": db_url},
        storage={"root": root / "files"},
        redis={"url": redis_url},
        queue={"retry_backoff_seconds": [0, 0, 0], "processing_timeout_seconds": 60},
        allow_private_callback_urls=True,  # the callback receiver listens on 127.0.0.1
    )
    keys, callback_secrets = _channels(settings)
    overrides = dict(fastapi_app.dependency_overrides)
    previous_context = jobs._context
    fastapi_app.dependency_overrides[current_settings] = lambda: settings
    # The worker's prescreener keeps its OCR cache in this same database: the case pages' images
    # are redrawn from it, as in a deployment.
    context = WorkerContext(settings)
    set_context(context)
    access_log = _AccessLog()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(access_log)
    access.setLevel(logging.INFO)
    receiver = None
    if callbacks:
        receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        _Receiver.received, _Receiver.failures_left = [], 0
    server, thread, url = _serve(settings)
    try:
        service = Service(settings, TestClient(fastapi_app), keys, callback_secrets, Queues(settings), context)
        web = Web(service=service, url=url, access_log=access_log,
                  callbacks=_Receiver.received if receiver else [])
        yield web, f"http://127.0.0.1:{receiver.server_port}/hook" if receiver else None
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if receiver is not None:
            receiver.shutdown()
        access.removeHandler(access_log)
        fastapi_app.dependency_overrides.clear()
        fastapi_app.dependency_overrides.update(overrides)
        set_context(previous_context)


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    chromium_path()  # no browser: skip (fail in CI) before seconds of OCR
    root = tmp_path_factory.mktemp("web")
    with serving(f"sqlite:///{root / 'intake.db'}", root) as (web, hook):
        service = web.service
        web.cases = Cases(
            ready=assessed(service, C01, callback_url=hook),
            to_approve=assessed(service, C01, external_ref="c01-second"),
            mismatch=assessed(service, C10),
            other_region=assessed(service, C02),
        )
        make_user(service, "suihua", name="王丽", regions=("绥化市",))
        make_user(service, "snj", name="李强", regions=("神农架林区",))
        yield web


@pytest.fixture(autouse=True)
def _web_in_place(request: pytest.FixtureRequest) -> None:
    """The session's app serves the session's database in every test that uses it: a module run
    between two of them on the same process (the API tests' ``service`` fixture, which drops the
    app's settings override when it ends) must not leave the server on another database."""
    if "web" not in request.fixturenames:
        return
    web: Web = request.getfixturevalue("web")
    settings = web.service.settings
    fastapi_app.dependency_overrides[current_settings] = lambda: settings
    set_context(web.service.context)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless chromium, for the SQLite session and the PostgreSQL module alike."""
    from playwright.sync_api import sync_playwright

    chromium_path()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"], headless=True)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(browser: object, web: Web, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """A new browser context (its own cookies) signed in as ``username``, on the queue page."""
    context = browser.new_context(base_url=web.url, viewport={"width": 1500, "height": 1000},  # type: ignore[attr-defined]
                                  locale="zh-CN")
    page = context.new_page()
    page.goto("/review/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/review/queue")
    return page


@pytest.fixture
def reviewer(browser: object, web: Web) -> Iterator[object]:
    """A 绥化市 reviewer's page, signed in."""
    page = sign_in(browser, web, "suihua")
    yield page
    page.context.close()
